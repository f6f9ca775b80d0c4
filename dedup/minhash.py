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
Clusters are chains of verified pairs by default, so a dropped row can be under the threshold from the
kept row (e.g. est. Jaccard 0.65 at threshold 0.8, through a row between them: the clusters table shows
it); `linkage: representative` drops a row only when its own pair with the kept row passed (clusters.py).

`answers_must_match` (default, in-process engine): a pair is a duplicate only when the rows' answers are
alike too, and a row answered differently from a row alike with it is shared context (answers.py: T0's
questions about one passage were 189 false duplicates in 1,000 rows).

Not here: exact duplicates (exact.py) and meaning-level duplicates (semantic.py).
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from dsforge.dedup.answers import ANSWER_COLUMNS, AnswerCheckConfig, answer_keys, answer_pairs
from dsforge.dedup.clusters import KeepConfig, cluster_labels, cluster_meta, cluster_verdicts, pick_kept
from dsforge.pipelines.neardup import lsh
from dsforge.pipelines.neardup.minhash import MinhashConfig, lsh_labels, minhash_keys, minhash_signatures, pair_similarity
from dsforge.pipelines.core.stage import Stage, StageContext, StageResult, Verdicts, apply_verdicts


class MinhashDedupConfig(MinhashConfig, KeepConfig, AnswerCheckConfig):
    engine: Literal["in-process", "datatrove"] = Field("in-process", description="in-process (NumPy) or datatrove (on disk)")
    tasks: int = Field(4, ge=1, description="datatrove: input shards / signature tasks")
    workers: int = Field(1, ge=1, description="datatrove: parallel worker processes")
    signatures: Literal["numpy", "datatrove"] = Field(
        "numpy", description="datatrove engine: signature step from our NumPy hashing, or datatrove's own (slow)")
    seed: int | None = Field(None, description="hash seed (default: the recipe seed)")
    cluster_column: str = Field("dup_cluster", description="column that receives the cluster id")
    answer_threshold: float = Field(0.5, ge=0.0, le=1.0, description="estimated Jaccard of the answers (word "
                                    "n-grams; an answer shorter than ngram words is one shingle), answers.py")
    short_answer_threshold: float = Field(0.95, gt=0.0, le=1.0, description="text Jaccard a pair needs when "
                                          "both answers are shorter than ngram words (a name, a yes: weak evidence)")

    @model_validator(mode="after")
    def _checks(self):
        if self.linkage == "representative" and (self.engine == "datatrove" or not self.verify):
            raise ValueError("linkage=representative needs every pair checked against the threshold: use "
                             "engine=in-process with verify=true (datatrove gives clusters, not pairs)")
        if self.engine == "datatrove" and self.shingle != "word":
            raise ValueError("engine=datatrove supports shingle=word only (datatrove hashes word n-grams); "
                             "use engine=in-process for character shingles")
        return self


class MinhashDedup(Stage[MinhashDedupConfig]):
    """Drop near-duplicates (MinHash + LSH), keeping one row per cluster by a deterministic rule.

    Keyed (stage.py) with the in-process engine: each shard computes its signatures and band keys in a
    worker; `decide` reads one band's keys at a time over all shards, verifies candidate pairs with the
    signatures of the rows in them only, and finds connected components. The datatrove engine needs the
    whole table (it runs datatrove's own pipeline over it)."""

    name = "minhash-dedup"
    mode = "keyed"
    Config = MinhashDedupConfig
    version = "5"  # 4: a number changes the task; 5: so does a final answer (dedup/answers.py rules 4-5)

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
        text = cfg.field.expr()
        keys = cluster_meta(df, cfg, text).hstack(minhash_keys(df, cfg, self._seed(ctx)).drop("id"))
        if cfg.answers_must_match:
            keys = keys.hstack(answer_keys(df, cfg.ngram, cfg.answer_perm, self._seed(ctx) + 1))
        return keys

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> Verdicts:
        cfg = self.config
        started = time.perf_counter()
        bands, rows = cfg.lsh_params()
        meta_cols = ["id", "source", "__len", "active", "__part"] + ([cfg.score_column] if cfg.keep == "best_score" else [])
        meta = keys.select(meta_cols).collect()
        active = meta["active"].to_numpy()
        n = meta.height
        answer_stats: dict = {}

        def cluster(a, b):
            if cfg.answers_must_match:
                ok, st = answer_pairs(keys.select(ANSWER_COLUMNS).collect(), a, b, n, cfg.answer_threshold,
                                      cfg.ngram, cfg.short_answer_threshold,
                                      lambda x, y: pair_similarity(keys, cfg, x, y))
                a, b = a[ok], b[ok]
                answer_stats.update(st)
            return cluster_labels(meta, a, b, cfg)

        labels, pairs = lsh_labels(keys, cfg, n, active, cluster=cluster)
        kept_pos = pick_kept(meta, labels, cfg)
        similarity = np.ones(n, dtype=np.float64)  # of each dropped row to its kept row, for the audit
        moved = np.flatnonzero(kept_pos != np.arange(n))
        if len(moved):
            similarity[moved] = pair_similarity(keys, cfg, moved, kept_pos[moved])
        v = cluster_verdicts(self.name, meta.drop("active"), labels, kept_pos, cfg, cfg.cluster_column, similarity,
                             "est. Jaccard", ctx.work_dir)
        v.stats.update(engine=cfg.engine, bands=bands, rows=rows, num_perm=cfg.num_perm, threshold=cfg.threshold,
                       candidate_pairs=pairs["candidates"], verified_pairs=pairs["verified"],
                       **answer_stats, empty_rows=int((~active).sum()),
                       decide_s=round(time.perf_counter() - started, 3),
                       clusters_file=f"{cfg.cluster_column}-clusters.parquet")
        return v

    def _datatrove(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        from dsforge.dedup.minhash_datatrove import datatrove_clusters

        cfg = self.config
        seed = self._seed(ctx)
        bands, rows = cfg.lsh_params()
        text = cfg.field.expr()
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
        result.stats = {"answers_must_match": "off: the datatrove engine gives clusters, not pairs",
                        "engine": cfg.engine, "bands": bands, "rows": rows, "num_perm": cfg.num_perm,
                        "threshold": cfg.threshold, **v.stats, "seconds": round(time.perf_counter() - started, 3),
                        **stats, "clusters_file": f"{cfg.cluster_column}-clusters.parquet"}
        return result
