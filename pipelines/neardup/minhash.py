"""MinHash near-duplicates over any text column: the parameters, signatures, LSH band keys and clusters.

Shared by the minhash-dedup stage (dedup/minhash.py), the split stage (keeps near-duplicates on one side)
and inspect (near-duplicate density). Built on shingles.py (n-gram hashes of a batch) and lsh.py (NumPy
MinHash and banding); everything here is per row or over small keys, never over the texts of all shards.

Not here: which row of a cluster to keep (dedup/clusters.py) or the datatrove engine (dedup/).
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.neardup import lsh
from dsforge.pipelines.neardup.shingles import normalise, shingle_hashes
from dsforge.pipelines.core.stage import StageConfig


class MinhashConfig(StageConfig):
    """How texts are shingled and hashed, and when two count as near-duplicates."""

    field: TextField = Field(ref("conversation"), description="text field to compare (pipelines/core/fields.py)")
    shingle: Literal["word", "char"] = Field("word", description="n-grams of words or of characters")
    ngram: int = Field(5, ge=1, le=64, description="shingle size in words (or characters)")
    num_perm: int = Field(128, ge=2, le=1024, description="MinHash permutations (signature length)")
    threshold: float = Field(0.8, gt=0.0, lt=1.0, description="Jaccard similarity that counts as a duplicate")
    bands: int | None = Field(None, ge=1, description="LSH bands (with rows); default: derived from threshold")
    rows: int | None = Field(None, ge=1, description="rows per band (with bands); default: derived from threshold")
    false_positive_weight: float = Field(0.5, ge=0, le=1, description="weight of false positives when deriving bands/rows")
    verify: bool = Field(True, description="drop candidate pairs whose estimated Jaccard is below threshold (in-process)")
    batch_rows: int = Field(10_000, ge=1, description="in-process: rows shingled and hashed per batch")

    @model_validator(mode="after")
    def _bands_rows(self):
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they come from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def lsh_params(self) -> tuple[int, int]:
        if self.bands is not None:
            return self.bands, self.rows
        return lsh.optimal_bands_rows(self.threshold, self.num_perm, self.false_positive_weight,
                                      1.0 - self.false_positive_weight)


def minhash_signatures(texts: pl.Series, cfg: MinhashConfig, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Signatures uint32[N, num_perm] and a mask of rows that have shingles, batch by batch; plus timings."""
    sig = np.empty((len(texts), cfg.num_perm), dtype=np.uint32)
    active = np.zeros(len(texts), dtype=bool)
    t_shingle = t_hash = 0.0
    for start in range(0, len(texts), cfg.batch_rows):
        t0 = time.perf_counter()
        sh = shingle_hashes(texts.slice(start, cfg.batch_rows), cfg.ngram, cfg.shingle, seed)
        t1 = time.perf_counter()
        sig[start:start + len(sh.counts)] = lsh.signatures(sh, cfg.num_perm, seed)
        active[start:start + len(sh.counts)] = sh.counts > 0
        t_shingle += t1 - t0
        t_hash += time.perf_counter() - t1
    return sig, active, {"shingle_s": round(t_shingle, 3), "minhash_s": round(t_hash, 3)}


def minhash_keys(df: pl.DataFrame, cfg: MinhashConfig, seed: int) -> pl.DataFrame:
    """Per row of one shard: id, whether it has shingles, its LSH band keys (b0..) and, to verify candidate
    pairs and estimate similarities, its signature. What `lsh_labels` needs, and nothing of the row's text."""
    bands, rows = cfg.lsh_params()
    texts = df.select(cfg.field.expr().fill_null("").alias("t"))["t"]
    sig, active, _ = minhash_signatures(texts, cfg, seed)
    return pl.DataFrame({"id": df["id"], "active": active}).with_columns(
        *[pl.Series(f"b{b}", lsh.band_keys(sig, b, rows)) for b in range(bands)],
        pl.Series("sig", sig, dtype=pl.Array(pl.UInt32, cfg.num_perm)))


def lsh_labels(keys: pl.LazyFrame, cfg: MinhashConfig, n: int, active: np.ndarray,
               cluster=None) -> tuple[np.ndarray, dict]:
    """Cluster label per row (-1: none) over all shards' keys: candidate pairs band by band (one band in
    memory at a time), verified with the signatures of the rows in them only, then clustered by
    `cluster(left, right)` (default: connected components; dedup passes its `linkage` rule)."""
    bands, _ = cfg.lsh_params()
    pairs = lsh.candidate_pairs_from_keys(n, bands, lambda b: keys.select(f"b{b}").collect()[f"b{b}"].to_numpy(), active)
    left, right = pairs.left, pairs.right
    if cfg.verify and len(left):
        ok = pair_similarity(keys, cfg, left, right) >= cfg.threshold
        left, right = left[ok], right[ok]
    labels = cluster(left, right) if cluster is not None else lsh.components(n, left, right)
    return labels, {"candidates": pairs.candidates, "verified": int(len(left))}


SIGNATURE_BUDGET = 256 * 2**20  # bytes of signatures `pair_similarity` holds at once, whatever the row count


def pair_similarity(keys: pl.LazyFrame, cfg: MinhashConfig, left: np.ndarray, right: np.ndarray,
                    window: int = 65536) -> np.ndarray:
    """The MinHash estimate (fraction of equal signature values) of each pair of row positions, read from
    the keys' `sig` column: the same figure as `lsh.estimated_jaccard`, but the permutations are counted in
    blocks small enough that the signatures held at once stay under SIGNATURE_BUDGET, and the keys are read
    one window of rows at a time (only windows that hold a row of a pair)."""
    if not len(left):
        return np.zeros(0, dtype=np.float32)
    need = np.unique(np.concatenate([left, right]))
    li, ri = np.searchsorted(need, left), np.searchsorted(need, right)
    per_block = int(max(1, min(cfg.num_perm, SIGNATURE_BUDGET // (4 * len(need)))))
    equal = np.zeros(len(left), dtype=np.int32)
    for lo in range(0, cfg.num_perm, per_block):
        hi = min(lo + per_block, cfg.num_perm)
        sub = np.empty((len(need), hi - lo), dtype=np.uint32)
        done = 0
        while done < len(need):
            start = int(need[done]) // window * window
            stop = int(np.searchsorted(need, start + window))
            block = keys.select("sig").slice(start, window).collect()["sig"].to_numpy().reshape(-1, cfg.num_perm)
            sub[done:stop] = block[need[done:stop] - start, lo:hi]
            done = stop
        for s in range(0, len(left), window):
            equal[s:s + window] += (sub[li[s:s + window]] == sub[ri[s:s + window]]).sum(axis=1)
    return (equal / cfg.num_perm).astype(np.float32)


def jaccard_exact(a: str, b: str, ngram: int = 5, shingle: str = "word") -> float:
    """True Jaccard of two texts' shingle sets under the same normalisation (for tests and measurements)."""
    sh = shingle_hashes(normalise(pl.Series([a, b])), ngram, shingle, normalised=True)
    x, y = set(sh.hashes[: sh.counts[0]].tolist()), set(sh.hashes[sh.counts[0]:].tolist())
    return len(x & y) / len(x | y) if x | y else 1.0
