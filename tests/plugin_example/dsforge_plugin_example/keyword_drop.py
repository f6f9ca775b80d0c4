"""keyword-drop: drop rows whose text mentions any of a list of words (the example of docs/architecture.md)."""

from __future__ import annotations

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult


class KeywordDropConfig(StageConfig):            # unknown keys are an error
    words: list[str] = Field(description="drop rows whose prompt contains any of these")
    field: TextField = ref("prompt")             # checked at recipe load; the default as a ref too


class KeywordDrop(Stage[KeywordDropConfig]):
    """Drop rows that mention any of a list of words."""
    name = "keyword-drop"
    Config = KeywordDropConfig
    mode = "rows"                                # rows are independent: slices go to parallel workers
    batch_size = 10_000                          # at most 10k rows per slice

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        text = self.config.field.expr().str.to_lowercase()
        hit = pl.any_horizontal([text.str.contains(w.lower(), literal=True) for w in self.config.words])
        hit = hit.fill_null(False)                # a row with no prompt is kept, never lost
        return StageResult(kept=df.filter(~hit),
                           rejected=self.reject(df.filter(hit), "keyword", "mentions a banned word"))
