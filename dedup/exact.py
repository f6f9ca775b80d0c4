"""exact-dedup: drop rows whose normalised text is identical to an earlier row's.

Identity is defined by one or more logical fields (see records.field_text: instruction, prompt,
response, conversation, ...) after normalisation (unicode NFKC, case, whitespace, punctuation).
The first occurrence is kept; each dropped row names the id of the row it duplicates. Vectorised in
Polars: a 64-bit hash of the normalised key, then first-occurrence per hash (collisions are
astronomically rare at dataset sizes; the key text is compared too, so a collision never drops a row).

Not here: near-duplicates (minhash-dedup) and meaning-level duplicates (semantic-dedup).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.stage import Stage, StageConfig, StageContext, StageResult

Normalisation = Literal["unicode", "lower", "whitespace", "punctuation"]


class ExactDedupConfig(StageConfig):
    fields: list[str] = Field(["conversation"], description=f"logical fields that define identity: {', '.join(records.TEXT_FIELDS)}")
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


class ExactDedup(Stage):
    name = "exact-dedup"
    Config = ExactDedupConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: ExactDedupConfig = self.config
        parts = [normalised(records.field_text(f).fill_null(""), list(cfg.normalize)) for f in cfg.fields]
        key = pl.concat_str(parts, separator="\x1f").alias("__key")
        keyed = df.with_columns(key).with_columns(pl.col("__key").hash().alias("__h"))
        # The first id per (hash, key) is the row everyone else in the group duplicates.
        first = pl.col("id").first().over(["__h", "__key"]).alias("__first")
        keyed = keyed.with_columns(first)
        dup = pl.col("id") != pl.col("__first")
        helpers = ["__key", "__h", "__first"]
        kept = keyed.filter(~dup).drop(helpers)
        dropped = keyed.filter(dup)
        groups = dropped["__first"].n_unique()
        rejected = self.reject(dropped, "duplicate", pl.format("same text as {}", pl.col("__first"))).drop(helpers)
        return StageResult(kept=kept, rejected=rejected, stats={"duplicate_groups": groups})
