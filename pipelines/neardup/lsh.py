"""MinHash signatures, LSH banding and duplicate clusters, vectorised with NumPy over batches of documents.

Why this file exists: datasketch builds one MinHash object per document and hashes shingle by shingle in
Python; datatrove does the same per document before writing to disk. Here

  1. shingle hashes come from shingles.py (Polars + NumPy, a whole batch at once);
  2. num_perm hash functions are applied to a block of ~4k shingles at once as one (perms x shingles)
     multiply-shift product (h_k(x) = (a_k * x mod 2^64) >> 32: uint64 arithmetic, 32-bit values) and the
     minimum per document is taken with np.minimum.reduceat along contiguous rows;
  3. each band's `rows` values are mixed into one 64-bit key; sorting the keys groups the documents
     that share a bucket (argsort per band, no Python dicts);
  4. candidate pairs (each bucket member with the bucket's first member) may be verified by the signature's
     Jaccard estimate, then connected components (union-find over all pairs, scipy's csgraph) give clusters.

What grows with N: the signature matrix (N x num_perm x 4 bytes), one band's keys during sorting (N x 16
bytes) and the candidate pairs. The datatrove path (minhash_datatrove.py) keeps signatures on disk instead.

`optimal_bands_rows` takes datasketch MinHashLSH's own choice of (bands, rows); `s_curve` is the
probability that a pair with Jaccard s becomes a candidate: 1 - (1 - s^rows)^bands.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dsforge.pipelines.neardup.shingles import ShingleHashes, mix64

BLOCK_SHINGLES = 4096  # shingles per hashing block: 128 perms x 4096 x 8 B = 4 MiB


@lru_cache(maxsize=64)
def optimal_bands_rows(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false-positive/false-negative areas under the S-curve: the
    (b, r) datasketch's MinHashLSH picks for the same threshold and weights, read from its public `b`/`r`."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(fp_weight, fn_weight))
    return int(lsh.b), int(lsh.r)


def s_curve(s: np.ndarray | float, bands: int, rows: int) -> np.ndarray:
    """Probability that two documents with Jaccard similarity s share at least one LSH bucket."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) ** rows) ** bands


def permutations(num_perm: int, seed: int) -> np.ndarray:
    """Random odd 64-bit multipliers: h_k(x) = (a_k * x mod 2^64) >> 32 is multiply-shift hashing
    (Dietzfelbinger et al. 1997), a universal family; x is already a 64-bit hash of the shingle."""
    rng = np.random.default_rng(seed)
    return (rng.integers(1, 1 << 63, size=num_perm, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)


def signatures(sh: ShingleHashes, num_perm: int = 128, seed: int = 0) -> np.ndarray:
    """MinHash signatures uint32[N, num_perm]; rows of documents without shingles are all 0xFFFFFFFF.

    Blocks of ~BLOCK_SHINGLES shingles (whole documents) are hashed as one (num_perm x block) product;
    np.minimum.reduceat takes each document's minimum along contiguous rows. The shift to 32 bits is
    applied after the minimum (it is monotonic), so the inner loop is one multiply and one reduce."""
    a = permutations(num_perm, seed)[:, None]
    counts = sh.counts
    n = len(counts)
    sig = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    docs = np.flatnonzero(counts)  # documents that have shingles, in order
    if not len(docs):
        return sig
    cnt = counts[docs]
    ends = np.cumsum(cnt)
    starts = ends - cnt
    buf = np.empty((num_perm, BLOCK_SHINGLES), dtype=np.uint64)
    x = sh.hashes
    i = 0
    while i < len(docs):
        base = starts[i]
        j = max(int(np.searchsorted(ends, base + BLOCK_SHINGLES, side="right")), i + 1)
        xs = x[base:ends[j - 1]]
        v = buf[:, : len(xs)] if len(xs) <= buf.shape[1] else np.empty((num_perm, len(xs)), np.uint64)
        np.multiply(a, xs[None, :], out=v)
        low = np.minimum.reduceat(v, starts[i:j] - base, axis=1)
        low >>= np.uint64(32)
        sig[docs[i:j]] = low.T
        i = j
    return sig


def band_keys(sig: np.ndarray, band: int, rows: int) -> np.ndarray:
    """One 64-bit key per document for one band (its `rows` signature values mixed together)."""
    cols = sig[:, band * rows:(band + 1) * rows].astype(np.uint64)
    key = np.full(len(sig), ((band + 1) * 0x9E3779B97F4A7C15) % (1 << 64), dtype=np.uint64)
    for c in range(rows):
        key ^= cols[:, c] + np.uint64(0x9E3779B97F4A7C15) + (key << np.uint64(6)) + (key >> np.uint64(2))
        key = mix64(key)
    return key


@dataclass
class CandidatePairs:
    left: np.ndarray  # int64 row positions; left < right
    right: np.ndarray
    candidates: int  # before verification


def candidate_pairs(sig: np.ndarray, bands: int, rows: int, active: np.ndarray | None = None) -> CandidatePairs:
    """Pairs (member, first member of its bucket) over all bands, deduplicated. `active`: bool mask of rows
    that take part (documents with shingles)."""
    return candidate_pairs_from_keys(len(sig), bands, lambda band: band_keys(sig, band, rows), active)


def candidate_pairs_from_keys(n: int, bands: int, keys_of_band, active: np.ndarray | None = None) -> CandidatePairs:
    """The same from band keys alone (`keys_of_band(b)` -> uint64[n]): one band in memory at a time, and the
    pairs deduplicated band by band (a pair found in several bands is held once)."""
    idx = np.arange(n) if active is None else np.flatnonzero(active)
    codes = np.zeros(0, dtype=np.int64)  # lo * n + hi of every pair so far, sorted and unique
    for band in range(bands):
        keys = keys_of_band(band)
        keys = keys if active is None else keys[idx]
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        del keys
        new_group = np.ones(len(sk), dtype=bool)
        new_group[1:] = sk[1:] != sk[:-1]
        del sk
        if new_group.all():
            continue
        leader = order[np.maximum.accumulate(np.where(new_group, np.arange(len(new_group)), 0))]
        members = ~new_group
        left, right = idx[leader[members]], idx[order[members]]
        del order, leader
        codes = np.union1d(codes, np.minimum(left, right).astype(np.int64) * n + np.maximum(left, right))
    return CandidatePairs(codes // n, codes % n, len(codes))


def estimated_jaccard(sig: np.ndarray, left: np.ndarray, right: np.ndarray, block: int = 65536) -> np.ndarray:
    """Fraction of equal signature values for each pair (the MinHash estimate of their Jaccard)."""
    out = np.empty(len(left), dtype=np.float32)
    for s in range(0, len(left), block):
        out[s:s + block] = (sig[left[s:s + block]] == sig[right[s:s + block]]).mean(axis=1)
    return out


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cluster label per row (-1: in no pair) from pairs: the union-find of all pairs (connected components)."""
    labels = np.full(n, -1, dtype=np.int64)
    if not len(left):
        return labels
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, lab = connected_components(graph, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[left] = touched[right] = True
    labels[touched] = lab[touched]
    return labels


def representatives(n: int, left: np.ndarray, right: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Cluster label per row (-1: none) without chains: rows are visited in `order` (best first); a row not
    yet in a cluster starts one and takes each row it is paired with that is not in one yet (greedy star
    clustering). So every member is paired with its cluster's first row, which is the best in the cluster."""
    labels = np.full(n, -1, dtype=np.int64)
    if not len(left):
        return labels
    from scipy.sparse import csr_matrix

    ones = np.ones(2 * len(left), dtype=np.int8)
    graph = csr_matrix((ones, (np.concatenate([left, right]), np.concatenate([right, left]))), shape=(n, n))
    indptr, indices = graph.indptr, graph.indices
    visited = np.zeros(n, dtype=bool)
    for r in order[np.diff(indptr)[order] > 0]:
        if visited[r]:
            continue
        visited[r] = True  # also when alone: a later (worse) row must not take it
        nb = indices[indptr[r]:indptr[r + 1]]
        nb = nb[~visited[nb]]
        if len(nb):
            visited[nb] = True
            labels[r] = labels[nb] = r
    return labels
