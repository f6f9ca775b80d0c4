"""Near-duplicate primitives shared by dedup, split and inspect: shingles, MinHash + LSH, clusters."""
