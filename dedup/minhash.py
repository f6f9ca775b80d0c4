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
from dsforge.dedup.clusters import KeepConfig, cluster_meta, cluster_verdicts, pick_kept
from dsforge.dedup.shingles import normalise, shingle_hashes
from dsforge.pipelines import records
from dsforge.pipelines.stage import Stage, StageContext, StageResult, Verdicts, apply_verdicts


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


class MinhashDedup(Stage[MinhashDedupConfig]):
    """Drop near-duplicates (MinHash + LSH), keeping one row per cluster by a deterministic rule.

    Keyed (stage.py) with the in-process engine: each shard computes its signatures and band keys in a
    worker; `decide` reads one band's keys at a time over all shards, verifies candidate pairs with the
    signatures of the rows in them only, and finds connected components. The datatrove engine needs the
    whole table (it runs datatrove's own pipeline over it)."""

    name = "minhash-dedup"
    Config = MinhashDedupConfig
    version = "2"

    def distributable(self) -> bool:
        return self.config.engine == "in-process"

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        if self.distributable():
            return self.process_keyed(df, ctx)
        return self._datatrove(df, ctx)

    def _seed(self, ctx: StageContext) -> int:
        return ctx.seed if self.config.seed is None else self.config.seed

    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        text = records.field_text(cfg.field)
        return cluster_meta(df, cfg, text).hstack(minhash_keys(df, cfg, self._seed(ctx)).drop("id"))

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> Verdicts:
        cfg = self.config
        started = time.perf_counter()
        bands, rows = cfg.lsh_params()
        meta_cols = ["id", "source", "__len", "active"] + ([cfg.score_column] if cfg.keep == "best_score" else [])
        meta = keys.select(meta_cols).collect()
        active = meta["active"].to_numpy()
        n = meta.height
        labels, pairs = lsh_labels(keys, cfg, n, active)
        kept_pos = pick_kept(meta, labels, cfg)
        similarity = np.ones(n, dtype=np.float64)  # of each dropped row to its kept row, for the audit
        moved = np.flatnonzero(kept_pos != np.arange(n))
        if len(moved):
            need, sub = _signatures_of(keys, cfg)(np.concatenate([moved, kept_pos[moved]]))
            similarity[moved] = lsh.estimated_jaccard(sub, np.searchsorted(need, moved),
                                                      np.searchsorted(need, kept_pos[moved]))
        v = cluster_verdicts(self.name, meta.drop("active"), labels, kept_pos, cfg, cfg.cluster_column, similarity,
                             "est. Jaccard", ctx.work_dir)
        v.stats.update(engine=cfg.engine, bands=bands, rows=rows, num_perm=cfg.num_perm, threshold=cfg.threshold,
                       candidate_pairs=pairs["candidates"], verified_pairs=pairs["verified"], empty_rows=int((~active).sum()),
                       decide_s=round(time.perf_counter() - started, 3),
                       clusters_file=f"{cfg.cluster_column}-clusters.parquet")
        return v

    def _datatrove(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        from dsforge.dedup.minhash_datatrove import datatrove_clusters

        cfg = self.config
        seed = self._seed(ctx)
        bands, rows = cfg.lsh_params()
        text = records.field_text(cfg.field)
        texts = df.select(text.fill_null("").alias("t"))["t"]
        started = time.perf_counter()
        labels, stats = datatrove_clusters(texts, cfg, seed, ctx.work_dir / "datatrove")
        meta = cluster_meta(df, cfg, text)
        kept_pos = pick_kept(meta, labels, cfg)
        # similarity of each dropped row to its kept row, from MinHash signatures of the clustered rows only
        similarity = np.ones(df.height, dtype=np.float64)
        moved = np.flatnonzero(kept_pos != np.arange(df.height))
        if len(moved):
            need = np.unique(np.concatenate([moved, kept_pos[moved]]))
            sub, _, _ = minhash_signatures(texts.gather(need), cfg, seed)
            similarity[moved] = lsh.estimated_jaccard(sub, np.searchsorted(need, moved),
                                                      np.searchsorted(need, kept_pos[moved]))
        v = cluster_verdicts(self.name, meta, labels, kept_pos, cfg, cfg.cluster_column, similarity, "est. Jaccard",
                             ctx.work_dir)
        result = apply_verdicts(self, df, v)
        result.stats = {"engine": cfg.engine, "bands": bands, "rows": rows, "num_perm": cfg.num_perm,
                        "threshold": cfg.threshold, **v.stats, "seconds": round(time.perf_counter() - started, 3),
                        **stats, "clusters_file": f"{cfg.cluster_column}-clusters.parquet"}
        return result


def minhash_keys(df: pl.DataFrame, cfg: MinhashDedupConfig, seed: int) -> pl.DataFrame:
    """Per row of one shard: id, whether it has shingles, its LSH band keys (b0..) and, to verify candidate
    pairs and estimate similarities, its signature. What `lsh_labels` needs, and nothing of the row's text."""
    bands, rows = cfg.lsh_params()
    texts = df.select(records.field_text(cfg.field).fill_null("").alias("t"))["t"]
    sig, active, _ = minhash_signatures(texts, cfg, seed)
    return pl.DataFrame({"id": df["id"], "active": active}).with_columns(
        *[pl.Series(f"b{b}", lsh.band_keys(sig, b, rows)) for b in range(bands)],
        pl.Series("sig", sig, dtype=pl.Array(pl.UInt32, cfg.num_perm)))


def lsh_labels(keys: pl.LazyFrame, cfg: MinhashDedupConfig, n: int, active: np.ndarray) -> tuple[np.ndarray, dict]:
    """Cluster label per row (-1: none) over all shards' keys: candidate pairs band by band (one band in
    memory at a time), verified with the signatures of the rows in them only, then connected components."""
    bands, _ = cfg.lsh_params()
    pairs = lsh.candidate_pairs_from_keys(n, bands, lambda b: keys.select(f"b{b}").collect()[f"b{b}"].to_numpy(), active)
    left, right = pairs.left, pairs.right
    if cfg.verify and len(left):
        need, sub = _signatures_of(keys, cfg)(np.concatenate([left, right]))
        ok = lsh.estimated_jaccard(sub, np.searchsorted(need, left), np.searchsorted(need, right)) >= cfg.threshold
        left, right = left[ok], right[ok]
    return lsh.components(n, left, right), {"candidates": pairs.candidates, "verified": int(len(left))}


def _signatures_of(keys: pl.LazyFrame, cfg: MinhashDedupConfig):
    """A function: row positions -> (sorted unique positions, their signatures), reading only those rows."""

    def fetch(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        need = np.unique(positions)
        sub = (keys.select("sig").with_row_index("__pos").filter(pl.col("__pos").is_in(pl.Series(need).implode()))
               .select("sig").collect(engine="streaming"))
        return need, sub["sig"].to_numpy().astype(np.uint32).reshape(len(need), cfg.num_perm)

    return fetch


def jaccard_exact(a: str, b: str, ngram: int = 5, shingle: str = "word") -> float:
    """True Jaccard of two texts' shingle sets under the same normalisation (for tests and measurements)."""
    sh = shingle_hashes(normalise(pl.Series([a, b])), ngram, shingle, normalised=True)
    x, y = set(sh.hashes[: sh.counts[0]].tolist()), set(sh.hashes[sh.counts[0]:].tolist())
    return len(x & y) / len(x | y) if x | y else 1.0
