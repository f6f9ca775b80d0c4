"""Duplicate clusters -> which row to keep, and an audit trail a person can check.

Shared by minhash-dedup and semantic-dedup so both keep the same row for the same cluster. The keep rule
is deterministic: rows are ordered by the rule's key and ties go to the earlier input row.

    first             the earliest row in input order
    longest           the longest text in the deduplicated field (characters)
    best_score        the highest value of `score_column` (nulls lose)
    preferred_source  the row whose `source` comes first in `preferred_sources` (others after, in input order)

Outputs: kept rows carry `<column>` (cluster id, null when the row has no duplicate) and
`<column>_size`; rejected rows carry the same plus a detail naming the kept row and why it was kept; a
clusters table (cluster id, size, kept id, why, members, similarity to the kept row) goes to the stage's
work folder as Parquet. Not here: finding the clusters (lsh.py, semantic.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.stage import Stage, StageConfig, StageResult

KeepRule = Literal["first", "longest", "best_score", "preferred_source"]


class KeepConfig(StageConfig):
    """Config fields of the keep rule (mixed into dedup stage configs)."""

    keep: KeepRule = Field("first", description="which row of a duplicate cluster survives: first, longest, best_score, preferred_source")
    score_column: str = Field("score", description="column read by keep=best_score (higher wins)")
    preferred_sources: list[str] = Field([], description="for keep=preferred_source: sources in order of preference")


def _rank_columns(df: pl.DataFrame, cfg: KeepConfig, text: pl.Expr) -> list[pl.Expr]:
    """Sort keys (ascending = better) for the keep rule; the row position breaks ties."""
    if cfg.keep == "longest":
        return [(-text.fill_null("").str.len_chars().cast(pl.Int64)).alias("__k")]
    if cfg.keep == "best_score":
        if cfg.score_column not in df.columns:
            raise ValueError(f"keep=best_score reads column {cfg.score_column!r}, which the table does not have "
                             f"(columns: {', '.join(df.columns)}); set score_column")
        col = pl.col(cfg.score_column).cast(pl.Float64)
        return [col.is_null().alias("__k0"), (-col).fill_null(0.0).alias("__k")]
    if cfg.keep == "preferred_source":
        if not cfg.preferred_sources:
            raise ValueError("keep=preferred_source needs preferred_sources: [source, ...]")
        order = {s: i for i, s in enumerate(cfg.preferred_sources)}
        return [pl.col("source").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("__k")]
    return []


def _why(cfg: KeepConfig) -> pl.Expr:
    if cfg.keep == "longest":
        return pl.format("longest text ({} chars)", pl.col("__len"))
    if cfg.keep == "best_score":
        return pl.format("highest {} ({})", pl.lit(cfg.score_column), pl.col(cfg.score_column).cast(pl.String).fill_null("null"))
    if cfg.keep == "preferred_source":
        return pl.format("preferred source {}", pl.col("source"))
    return pl.lit("first in input order")


def pick_kept(df: pl.DataFrame, labels: np.ndarray, cfg: KeepConfig, text: pl.Expr) -> np.ndarray:
    """Row position of the kept row of each row's cluster (a row in no cluster keeps itself)."""
    n = df.height
    kept = np.arange(n)
    if not (labels >= 0).any():
        return kept
    ranked = pl.DataFrame({"__row": np.arange(n), "__c": labels})
    if rank := _rank_columns(df, cfg, text):
        ranked = ranked.hstack(df.select(*rank))
    ranked = ranked.filter(pl.col("__c") >= 0)
    keys = [c for c in ranked.columns if c.startswith("__k")] + ["__row"]
    best = ranked.sort(["__c", *keys]).group_by("__c", maintain_order=True).first().select("__c", "__row")
    table = np.full(int(labels.max()) + 1, -1, dtype=np.int64)
    table[best["__c"].to_numpy()] = best["__row"].to_numpy()
    in_cluster = np.flatnonzero(labels >= 0)
    kept[in_cluster] = table[labels[in_cluster]]
    return kept


def split_clusters(stage: Stage, df: pl.DataFrame, labels: np.ndarray, kept_pos: np.ndarray, cfg: KeepConfig,
                   text: pl.Expr, column: str, similarity: np.ndarray | None, similarity_name: str,
                   work_dir: Path | None, reason: str = "near_duplicate") -> tuple[StageResult, pl.DataFrame]:
    """Kept rows, rejected rows (with detail) and the clusters audit table; writes <column>-clusters.parquet."""
    n = df.height
    in_cluster = labels >= 0
    # cluster ids numbered by the kept row's position: stable for a given input and rule
    kept_of_cluster = np.where(in_cluster, kept_pos, -1)
    uniq = np.unique(kept_of_cluster[in_cluster])
    cid = np.full(n, -1, dtype=np.int64)
    cid[in_cluster] = np.searchsorted(uniq, kept_of_cluster[in_cluster])
    sizes = np.bincount(cid[in_cluster], minlength=len(uniq)) if len(uniq) else np.zeros(0, np.int64)
    sim = similarity if similarity is not None else np.full(n, np.nan)
    work = df.with_columns(
        pl.Series(column, np.where(in_cluster, cid, 0)).cast(pl.Int64),
        pl.Series(f"{column}_size", np.where(in_cluster, sizes[cid] if len(uniq) else 0, 1)).cast(pl.Int64),
        pl.Series("__kept_id", df["id"].to_numpy()[kept_pos] if n else []).cast(pl.String),
        pl.Series("__sim", sim).cast(pl.Float64),
        pl.Series("__in", in_cluster),
        text.fill_null("").str.len_chars().alias("__len"),
    ).with_columns(pl.when(pl.col("__in")).then(pl.col(column)).otherwise(None).alias(column))
    is_kept = kept_pos == np.arange(n)
    why_rows = work.filter(pl.Series(is_kept & in_cluster)).select(
        pl.col(column), pl.col("id").alias("kept_id"), _why(cfg).alias("why"))
    work = work.join(why_rows.select(column, pl.col("why").alias("__why")), on=column, how="left", maintain_order="left")
    helpers = ["__kept_id", "__sim", "__in", "__len", "__why"]
    kept = work.filter(pl.Series(is_kept)).drop(helpers)
    dropped = work.filter(pl.Series(~is_kept))
    detail = pl.format(
        "duplicate of {} (cluster {}, {} rows, {} {}); kept {}: {} (keep={})",
        pl.col("__kept_id"), pl.col(column), pl.col(f"{column}_size"), pl.lit(similarity_name),
        pl.col("__sim").round(3), pl.col("__kept_id"), pl.col("__why"), pl.lit(cfg.keep))
    rejected = stage.reject(dropped, reason, detail).drop(helpers)
    clusters = (
        work.filter(pl.col("__in"))
        .group_by(column, maintain_order=False)
        .agg(pl.len().alias("size"), pl.col("__kept_id").first().alias("kept_id"), pl.col("__why").first().alias("why"),
             pl.col("id").alias("members"), pl.col("__sim").alias(similarity_name.lower().replace(".", "").replace(" ", "_")))
        .sort(column)
        .rename({column: "cluster"})
    )
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        clusters.write_parquet(Path(work_dir) / f"{column}-clusters.parquet")
    return StageResult(kept=kept, rejected=rejected), clusters


def text_of(field: str) -> pl.Expr:
    return records.field_text(field)
