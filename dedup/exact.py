"""exact-dedup: drop rows whose normalised text is identical to an earlier row's.

Identity is defined by one or more fields (pipelines/core/fields.py: prompt, answer, conversation, a text column
or metadata.KEY; the default, conversation, covers a preference row's rejected answer too) after normalisation (unicode NFKC, case, whitespace, punctuation).
The first occurrence is kept; each dropped row names the id of the row it duplicates. Vectorised in
Polars. Keyed (stage.py): each shard hashes its normalised keys to 128 bits (two independent 64-bit
hashes; a false match needs a collision of both, about 1 in 10^19 at a billion rows), then one pass
over the hashes alone — never the rows — finds the first occurrence of each.

Not here: near-duplicates (minhash-dedup) and meaning-level duplicates (semantic-dedup).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult, Verdicts

Normalisation = Literal["unicode", "lower", "whitespace", "punctuation"]


class ExactDedupConfig(StageConfig):
    fields: list[TextField] = Field([ref("conversation")], min_length=1,
                                    description="fields that define identity (prompt, answer, conversation, a column, metadata.KEY)")
    normalize: list[Normalisation] = Field(["unicode", "lower", "whitespace"], description="normalisations applied before comparing")


def normalised(expr: pl.Expr, steps: list[str]) -> pl.Expr:
    if "unicode" in steps:
        expr = expr.str.normalize("NFKC")
    if "lower" in steps:
        expr = expr.str.to_lowercase()
    if "punctuation" in steps:
        expr = expr.str.replace_all(r"[\p{P}\p{S}]+", " ")
    if "whitespace" in steps:
        expr = expr.str.replace_all(r"\s+", " ").str.strip_chars()
    return expr


class ExactDedup(Stage[ExactDedupConfig]):
    name = "exact-dedup"
    mode = "keyed"
    Config = ExactDedupConfig
    partition_key = "h1"  # rows are duplicates only if their hashes are equal: decide per hash bucket

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return self.process_keyed(df, ctx)

    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        parts = [normalised(f.expr().fill_null(""), list(cfg.normalize)) for f in cfg.fields]
        key = pl.concat_str(parts, separator="\x1f")
        return df.select("id", key.hash(seed=0).alias("h1"), key.hash(seed=0x9E3779B9).alias("h2"))

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> Verdicts:
        """keys arrive in input order; the first id per hash pair is the row the others duplicate."""
        first = keys.select("id", "h1", "h2").collect().with_columns(pl.col("id").first().over(["h1", "h2"]).alias("__first"))
        dup = first.filter(pl.col("id") != pl.col("__first"))
        table = dup.select("id", pl.lit("exact-dedup:duplicate").alias("reason"),
                           pl.format("same text as {}", pl.col("__first")).alias("detail"))
        return Verdicts(table, stats={"duplicate_groups": dup["__first"].n_unique()})
