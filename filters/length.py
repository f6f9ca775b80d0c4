"""length-filter: keep rows whose chosen text field is within character, word and token limits.

Token counts use a real tokenizer (default: the embedded SmolLM2), loaded only when a token limit is
set. Each rejected row says which limit it broke and by how much, e.g.
`length-filter:too_short` / "response: 0 chars < min_chars 1".

Not here: per-row truncation to a token budget (chat-format's max_tokens, pipelines/stages/token_budget.py, does that).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult


class LengthFilterConfig(StageConfig):
    field: TextField = Field(ref("conversation"), description="text field measured (pipelines/core/fields.py)")
    min_chars: int | None = Field(None, ge=0)
    max_chars: int | None = Field(None, ge=0)
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=0)
    min_tokens: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=0)
    tokenizer: str = Field("smollm2", description="tokenizer for token limits: 'smollm2' or a local folder")


def count_tokens(texts: list[str | None], tokenizer_spec: str) -> list[int]:
    from dsforge.pipelines.llm.embedded import load_tokenizer

    tok = load_tokenizer(tokenizer_spec)
    enc = tok([t or "" for t in texts], add_special_tokens=False)["input_ids"]
    return [len(ids) for ids in enc]


class LengthFilter(Stage[LengthFilterConfig]):
    name = "length-filter"
    mode = "rows"
    Config = LengthFilterConfig
    batch_size = 20000

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        text = cfg.field.expr().fill_null("")
        measured = df.with_columns(
            text.str.len_chars().alias("__chars"),
            text.str.count_matches(r"\S+").alias("__words"),
        )
        if cfg.min_tokens is not None or cfg.max_tokens is not None:
            texts = df.select(text.alias("t"))["t"].to_list()
            measured = measured.with_columns(pl.Series("__tokens", count_tokens(texts, cfg.tokenizer), dtype=pl.Int64))
        checks = []  # (broken?, reason, detail) in order of precedence
        for unit in ("chars", "words", "tokens"):
            lo, hi = getattr(cfg, f"min_{unit}"), getattr(cfg, f"max_{unit}")
            col = pl.col(f"__{unit}")
            if lo is not None:
                checks.append((col < lo, "too_short", pl.format(f"{cfg.field}: {{}} {unit} < min_{unit} {lo}", col)))
            if hi is not None:
                checks.append((col > hi, "too_long", pl.format(f"{cfg.field}: {{}} {unit} > max_{unit} {hi}", col)))
        if not checks:
            return StageResult(kept=df, stats={"note": "no limits set"})
        reason, detail = pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)
        for broken, r, d in reversed(checks):  # first broken check wins
            reason = pl.when(broken).then(pl.lit(f"{self.name}:{r}")).otherwise(reason)
            detail = pl.when(broken).then(d).otherwise(detail)
        measured = measured.with_columns(reason.alias("__reason"), detail.alias("__detail"))
        helpers = [c for c in measured.columns if c.startswith("__")]
        bad = pl.col("__reason").is_not_null()
        kept = measured.filter(~bad).drop(helpers)
        dropped = measured.filter(bad)
        rejected = self.reject(dropped, pl.col("__reason"), pl.col("__detail")).drop(helpers)
        return StageResult(kept=kept, rejected=rejected)
