"""Duplicate clusters -> which row to keep, and an audit trail a person can check.

Shared by minhash-dedup and semantic-dedup so both keep the same row for the same cluster. The keep rule
is deterministic: rows are ordered by the rule's key and ties go to the earlier input row.

    first             the earliest row in input order
    longest           the longest text in the deduplicated field (characters)
    best_score        the highest value of `score_column` (nulls lose)
    preferred_source  the row whose `source` comes first in `preferred_sources` (others after, in input order)

Which rows form a cluster (`linkage`), from the pairs a stage found similar (>= its threshold):

    components        (default) every chain of similar pairs is one cluster (single linkage). A row can be
                      dropped although it is below the threshold from the kept row, through a row between
                      them (a ~ b ~ c); its similarity to the kept row is in the clusters table.
    representative    rows in keep-rule order; each row not yet in a cluster keeps itself and takes every
                      row paired with it that is not in a cluster yet. A dropped row is always >= threshold
                      from its kept row (its own pair with it); fewer rows are dropped than with components.

Works on `cluster_meta` (id, source, text length, score: a few bytes per row), never on whole rows, so
the keyed dedup stages decide over every shard's rows at once. Outputs are verdicts (stage.py): kept rows
carry `<column>` (cluster id, null when the row has no duplicate) and `<column>_size`; rejected rows carry
the same plus a detail naming the kept row and why it was kept; a clusters table (cluster id, size, kept
id, why, members, similarity to the kept row) goes to the stage's work folder as Parquet.
Not here: finding the clusters (lsh.py, semantic.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from dsforge.pipelines.core.fields import FieldError, ValueField, ref
from dsforge.pipelines.core.stage import StageConfig, Verdicts

KeepRule = Literal["first", "longest", "best_score", "preferred_source"]


class KeepConfig(StageConfig):
    """Config fields of the keep rule (mixed into dedup stage configs)."""

    keep: KeepRule = Field("first", description="which row of a duplicate cluster survives: first, longest, best_score, preferred_source")
    score_column: ValueField = Field(ref("score", text_only=False),
                                     description="column (or metadata.KEY) read by keep=best_score (higher wins)")
    preferred_sources: list[str] = Field([], description="for keep=preferred_source: sources in order of preference")
    linkage: Literal["components", "representative"] = Field(
        "components", description="components: chains of similar pairs are one cluster; representative: a row "
        "is dropped only when it is itself similar to the kept row (see dedup/clusters.py)")

    @model_validator(mode="after")
    def _sources_given(self):
        if self.keep == "preferred_source" and not self.preferred_sources:
            raise ValueError("keep=preferred_source needs preferred_sources: [source, ...]")
        return self


def cluster_meta(df: pl.DataFrame, cfg: KeepConfig, text: pl.Expr) -> pl.DataFrame:
    """The per-row facts the keep rule and the audit need: id, source, text length (and the score)."""
    cols = [pl.col("id"), pl.col("source"), text.fill_null("").str.len_chars().cast(pl.Int64).alias("__len")]
    if cfg.keep == "best_score":
        try:
            cfg.score_column.check(df)
        except FieldError as e:
            raise FieldError(f"keep=best_score reads score_column: {e}") from None
        cols.append(cfg.score_column.expr().cast(pl.Float64, strict=False))
    return df.select(cols)


def _rank_columns(cfg: KeepConfig) -> list[pl.Expr]:
    """Sort keys (ascending = better) for the keep rule over cluster_meta; the row position breaks ties."""
    if cfg.keep == "longest":
        return [(-pl.col("__len")).alias("__k")]
    if cfg.keep == "best_score":
        col = pl.col(cfg.score_column).cast(pl.Float64)
        return [col.is_null().alias("__k0"), (-col).fill_null(0.0).alias("__k")]
    if cfg.keep == "preferred_source":
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


def keep_order(meta: pl.DataFrame, cfg: KeepConfig) -> np.ndarray:
    """Row positions, best first by the keep rule (ties: input order)."""
    ranked = pl.DataFrame({"__row": np.arange(meta.height)})
    if rank := _rank_columns(cfg):
        ranked = ranked.hstack(meta.select(*rank))
    return ranked.sort([c for c in ranked.columns if c.startswith("__k")] + ["__row"])["__row"].to_numpy()


def cluster_labels(meta: pl.DataFrame, left: np.ndarray, right: np.ndarray, cfg: KeepConfig) -> np.ndarray:
    """Cluster label per row (-1: none) from the similar pairs, by the config's `linkage`."""
    from dsforge.pipelines.neardup import lsh

    if cfg.linkage == "representative":
        return lsh.representatives(meta.height, left, right, keep_order(meta, cfg))
    return lsh.components(meta.height, left, right)


def pick_kept(meta: pl.DataFrame, labels: np.ndarray, cfg: KeepConfig) -> np.ndarray:
    """Row position of the kept row of each row's cluster (a row in no cluster keeps itself)."""
    n = meta.height
    kept = np.arange(n)
    if not (labels >= 0).any():
        return kept
    ranked = pl.DataFrame({"__row": np.arange(n), "__c": labels})
    if rank := _rank_columns(cfg):
        ranked = ranked.hstack(meta.select(*rank))
    ranked = ranked.filter(pl.col("__c") >= 0)
    keys = [c for c in ranked.columns if c.startswith("__k")] + ["__row"]
    best = ranked.sort(["__c", *keys]).group_by("__c", maintain_order=True).first().select("__c", "__row")
    table = np.full(int(labels.max()) + 1, -1, dtype=np.int64)
    table[best["__c"].to_numpy()] = best["__row"].to_numpy()
    in_cluster = np.flatnonzero(labels >= 0)
    kept[in_cluster] = table[labels[in_cluster]]
    return kept


def cluster_verdicts(stage: str, meta: pl.DataFrame, labels: np.ndarray, kept_pos: np.ndarray, cfg: KeepConfig,
                     column: str, similarity: np.ndarray | None, similarity_name: str, work_dir: Path | None,
                     reason: str = "near_duplicate") -> Verdicts:
    """Verdicts for the rows in clusters (cluster id and size on each; a reason and detail on the dropped)
    plus the clusters audit table, written to <work_dir>/<column>-clusters.parquet."""
    n = meta.height
    in_cluster = labels >= 0
    # cluster ids numbered by the kept row's position: stable for a given input and rule
    kept_of_cluster = np.where(in_cluster, kept_pos, -1)
    uniq = np.unique(kept_of_cluster[in_cluster])
    cid = np.full(n, -1, dtype=np.int64)
    cid[in_cluster] = np.searchsorted(uniq, kept_of_cluster[in_cluster])
    sizes = np.bincount(cid[in_cluster], minlength=len(uniq)) if len(uniq) else np.zeros(0, np.int64)
    sim = similarity if similarity is not None else np.full(n, np.nan)
    rows = np.flatnonzero(in_cluster)
    work = meta[rows.tolist()].with_columns(
        pl.Series(column, cid[rows]).cast(pl.Int64),
        pl.Series(f"{column}_size", sizes[cid[rows]] if len(uniq) else []).cast(pl.Int64),
        pl.Series("__kept_id", meta["id"].to_numpy()[kept_pos[rows]] if len(rows) else []).cast(pl.String),
        pl.Series("__sim", sim[rows]).cast(pl.Float64),
        pl.Series("__is_kept", kept_pos[rows] == rows),
    )
    why = work.filter(pl.col("__is_kept")).select(column, _why(cfg).alias("__why"))
    work = work.join(why, on=column, how="left", maintain_order="left")
    detail = pl.format(
        "duplicate of {} (cluster {}, {} rows, {} {}); kept {}: {} (keep={})",
        pl.col("__kept_id"), pl.col(column), pl.col(f"{column}_size"), pl.lit(similarity_name),
        pl.col("__sim").round(3), pl.col("__kept_id"), pl.col("__why"), pl.lit(cfg.keep))
    table = work.select(
        "id", pl.when(~pl.col("__is_kept")).then(pl.lit(f"{stage}:{reason}")).alias("reason"),
        pl.when(~pl.col("__is_kept")).then(detail).alias("detail"), column, f"{column}_size",
        *(["__part"] if "__part" in meta.columns else []))  # the runner's input part of each row, kept along
    clusters = (
        work.group_by(column, maintain_order=False)
        .agg(pl.len().alias("size"), pl.col("__kept_id").first().alias("kept_id"), pl.col("__why").first().alias("why"),
             pl.col("id").alias("members"), pl.col("__sim").alias(similarity_name.lower().replace(".", "").replace(" ", "_")))
        .sort(column)
        .rename({column: "cluster"})
    )
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        clusters.write_parquet(Path(work_dir) / f"{column}-clusters.parquet")
    stats = {"clusters": clusters.height, "rows_in_clusters": int(clusters["size"].sum()) if clusters.height else 0,
             "removed": int((~work["__is_kept"]).sum()) if work.height else 0}
    return Verdicts(table, defaults={column: None, f"{column}_size": 1}, stats=stats)

