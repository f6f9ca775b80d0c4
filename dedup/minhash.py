"""minhash-dedup: near-duplicate removal with MinHash + LSH, with an auditable cluster table.

Two engines, one config:
  engine: in-process   NumPy over batches (lsh.py): fast, but signatures for all N rows live in memory.
  engine: datatrove    datatrove's 3 MinHash steps (signatures -> buckets -> clusters) on disk with its
                       LocalPipelineExecutor (tasks/workers), for inputs whose signatures do not fit in RAM.
Either way the clusters go through the same keep rule (clusters.py), so the same rows survive whatever
the engine, up to the hash functions each engine uses.

bands/rows: give both, or give `threshold` and they are derived with datasketch's optimisation of the
false-positive/false-negative areas under the S-curve 1-(1-s^rows)^bands. `verify` drops candidate pairs
whose signature estimate of Jaccard is below the threshold (fewer false positives; in-process only).

Not here: exact duplicates (exact.py) and meaning-level duplicates (semantic.py).
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from dsforge.dedup import lsh
from dsforge.dedup.clusters import KeepConfig, pick_kept, split_clusters
from dsforge.dedup.shingles import normalise, shingle_hashes
from dsforge.pipelines import records
from dsforge.pipelines.stage import Stage, StageContext, StageResult


class MinhashDedupConfig(KeepConfig):
    field: str = Field("conversation", description=f"logical text field to compare: {', '.join(records.TEXT_FIELDS)}")
    shingle: Literal["word", "char"] = Field("word", description="n-grams of words or of characters")
    ngram: int = Field(5, ge=1, le=64, description="shingle size in words (or characters)")
    num_perm: int = Field(128, ge=2, le=1024, description="MinHash permutations (signature length)")
    threshold: float = Field(0.8, gt=0.0, lt=1.0, description="Jaccard similarity that counts as a duplicate")
    bands: int | None = Field(None, ge=1, description="LSH bands (with rows); default: derived from threshold")
    rows: int | None = Field(None, ge=1, description="rows per band (with bands); default: derived from threshold")
    false_positive_weight: float = Field(0.5, ge=0, le=1, description="weight of false positives when deriving bands/rows")
    verify: bool = Field(True, description="drop candidate pairs whose estimated Jaccard is below threshold (in-process)")
    engine: Literal["in-process", "datatrove"] = Field("in-process", description="in-process (NumPy) or datatrove (on disk)")
    tasks: int = Field(4, ge=1, description="datatrove: input shards / signature tasks")
    workers: int = Field(1, ge=1, description="datatrove: parallel worker processes")
    signatures: Literal["numpy", "datatrove"] = Field(
        "numpy", description="datatrove engine: signature step from our NumPy hashing, or datatrove's own (slow)")
    batch_rows: int = Field(10_000, ge=1, description="in-process: rows shingled and hashed per batch")
    seed: int | None = Field(None, description="hash seed (default: the recipe seed)")
    cluster_column: str = Field("dup_cluster", description="column that receives the cluster id")

    @model_validator(mode="after")
    def _bands_rows(self):
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they come from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if self.engine == "datatrove" and self.shingle != "word":
            raise ValueError("engine=datatrove supports shingle=word only (datatrove hashes word n-grams); "
                             "use engine=in-process for character shingles")
        return self

    def lsh_params(self) -> tuple[int, int]:
        if self.bands is not None:
            return self.bands, self.rows
        return lsh.optimal_bands_rows(self.threshold, self.num_perm, self.false_positive_weight,
                                      1.0 - self.false_positive_weight)


def minhash_signatures(texts: pl.Series, cfg: MinhashDedupConfig, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
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


def in_process_clusters(texts: pl.Series, cfg: MinhashDedupConfig, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """(cluster label per row or -1, signatures, stats) with the NumPy engine."""
    bands, rows = cfg.lsh_params()
    sig, active, stats = minhash_signatures(texts, cfg, seed)
    t0 = time.perf_counter()
    pairs = lsh.candidate_pairs(sig, bands, rows, active)
    left, right = pairs.left, pairs.right
    if cfg.verify and len(left):
        ok = lsh.estimated_jaccard(sig, left, right) >= cfg.threshold
        left, right = left[ok], right[ok]
    t1 = time.perf_counter()
    labels = lsh.components(len(texts), left, right)
    stats.update(band_s=round(t1 - t0, 3), cluster_s=round(time.perf_counter() - t1, 3),
                 candidate_pairs=pairs.candidates, verified_pairs=int(len(left)), empty_rows=int((~active).sum()))
    return labels, sig, stats


class MinhashDedup(Stage):
    """Drop near-duplicates (MinHash + LSH), keeping one row per cluster by a deterministic rule."""

    name = "minhash-dedup"
    Config = MinhashDedupConfig
    version = "1"

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: MinhashDedupConfig = self.config
        seed = ctx.seed if cfg.seed is None else cfg.seed
        bands, rows = cfg.lsh_params()
        text = records.field_text(cfg.field)
        texts = df.select(text.fill_null("").alias("t"))["t"]
        started = time.perf_counter()
        if cfg.engine == "datatrove":
            from dsforge.dedup.minhash_datatrove import datatrove_clusters

            labels, stats = datatrove_clusters(texts, cfg, seed, ctx.work_dir / "datatrove")
            sig = None
        else:
            labels, sig, stats = in_process_clusters(texts, cfg, seed)
        kept_pos = pick_kept(df, labels, cfg, text)
        # similarity of each dropped row to its kept row, from MinHash signatures (for datatrove: computed
        # here for the clustered rows only, which are few)
        similarity = np.ones(df.height, dtype=np.float64)
        moved = np.flatnonzero(kept_pos != np.arange(df.height))
        if len(moved):
            if sig is None:
                rows_needed = np.unique(np.concatenate([moved, kept_pos[moved]]))
                sub, _, _ = minhash_signatures(texts.gather(rows_needed), cfg, seed)
                at = np.searchsorted(rows_needed, moved), np.searchsorted(rows_needed, kept_pos[moved])
                similarity[moved] = lsh.estimated_jaccard(sub, *at)
            else:
                similarity[moved] = lsh.estimated_jaccard(sig, moved, kept_pos[moved])
        result, clusters = split_clusters(self, df, labels, kept_pos, cfg, text, cfg.cluster_column, similarity,
                                          "est. Jaccard", ctx.work_dir)
        result.stats = {
            "engine": cfg.engine, "bands": bands, "rows": rows, "num_perm": cfg.num_perm, "threshold": cfg.threshold,
            "clusters": clusters.height, "rows_in_clusters": int(clusters["size"].sum()) if clusters.height else 0,
            "removed": result.rejected.height, "seconds": round(time.perf_counter() - started, 3), **stats,
            "clusters_file": f"{cfg.cluster_column}-clusters.parquet",
        }
        return result


def jaccard_exact(a: str, b: str, ngram: int = 5, shingle: str = "word") -> float:
    """True Jaccard of two texts' shingle sets under the same normalisation (for tests and measurements)."""
    sh = shingle_hashes(normalise(pl.Series([a, b])), ngram, shingle, normalised=True)
    x, y = set(sh.hashes[: sh.counts[0]].tolist()), set(sh.hashes[sh.counts[0]:].tolist())
    return len(x & y) / len(x | y) if x | y else 1.0
