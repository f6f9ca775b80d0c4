"""repetition-filter: repeated lines, paragraphs and n-grams inside one row (Gopher-style ratios).

Why: a document that says the same thing over and over (boilerplate, looping LLM output, scraped menus)
teaches repetition. Rae et al. 2021 (Gopher, table A1) drop a document when any of these exceed a limit:

    duplicate line / paragraph fraction              0.30 / 0.30   (share of lines that repeat an earlier one)
    duplicate line / paragraph character fraction    0.20 / 0.20   (share of characters in repeated ones)
    top 2/3/4-gram character fraction                0.20/0.18/0.16 (characters covered by the most common n-gram)
    duplicate 5..10-gram character fraction          0.15 .. 0.10  (characters in n-grams seen before)

The measures are datatrove's own functions (find_duplicates, find_top_duplicate, find_all_duplicate, as in
its GopherRepetitionFilter), so numbers match datatrove's filter. `action: drop_repeats` instead removes the
second and later copies of repeated lines/paragraphs from the field (lineage records what was removed) and
drops the row only if it still fails. The n-gram checks skip texts under `min_words` words (default 50, as
Gopher only scores documents of 50+ words): on a short answer the "most common 2-gram" covers 20% of the
characters even when nothing repeats. Words come from datatrove's tokenizer for the language (spaCy for
English, ~8 s to load once) or `tokenizer: whitespace` (fast, no punctuation tokens).
Defaults for instruction data (issue 27, bench/decisions.py): Gopher's ratios were set for web pages. On
real instruction sets they dropped correct answers: worked maths solutions repeat their expressions
(dup 5-gram 0.15-0.35 on CHAMP's GPT-3.5 solutions, the seed task "Roger has 5 tennis balls ..." at top
2-gram 0.23), code repeats `}` and statements, a tool-use prompt repeats its tool description, a code-fix
answer repeats the code it fixes. So the defaults measure the answer, skip code, keep the line and
paragraph checks and keep one n-gram check that only looping text fails: repeated 10-grams covering more
than 30% of the characters. Gopher's full set is `top_ngram_fracs: {2: 0.2, 3: 0.18, 4: 0.16}` and
`dup_ngram_fracs: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}` with `field: conversation`.
Not here: duplicates across rows (exact-dedup, minhash-dedup).
"""

from __future__ import annotations

import json
import re
from typing import Literal

import polars as pl
from pydantic import Field, model_validator

from dsforge.pipelines.core import fields, records
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

PARAGRAPH = re.compile(r"\n{2,}")
LINE = re.compile(r"\n+")
WRITABLE = fields.TEXT_COLUMNS


class RepetitionFilterConfig(StageConfig):
    field: TextField = Field(ref("answer"), description="text field (pipelines/core/fields.py); drop_repeats needs a column. "
                             "The answer: what the model learns to write (a prompt that repeats a tool description "
                             "or the code to fix is not looping output)")
    action: Literal["drop_row", "drop_repeats"] = Field(
        "drop_row", description="drop the row, or remove repeated lines/paragraphs (then drop only if still failing)")
    dup_line_frac: float | None = Field(0.30, description="max share of lines that repeat an earlier line")
    dup_para_frac: float | None = Field(0.30, description="max share of paragraphs that repeat an earlier one")
    dup_line_char_frac: float | None = Field(0.20, description="max share of characters in repeated lines")
    dup_para_char_frac: float | None = Field(0.20, description="max share of characters in repeated paragraphs")
    top_ngram_fracs: dict[int, float] = Field({}, description="n -> max character share of the most common n-gram "
                                              "(Gopher: {2: 0.20, 3: 0.18, 4: 0.16}; off for instruction data)")
    dup_ngram_fracs: dict[int, float] = Field({10: 0.30}, description="n -> max character share of repeated n-grams "
                                              "(Gopher: {5: 0.15, 6: 0.14, ..., 10: 0.10})")
    skip_code: bool = Field(True, description="leave code alone (fenced, or >= 30% code-like lines): closing "
                            "braces and repeated statements are not looping text")
    min_words: int = Field(50, ge=0, description="n-gram checks apply only to texts with at least this many words "
                           "(Gopher's ratios are meaningless on a one-line answer; line/paragraph checks always apply)")
    tokenizer: Literal["datatrove", "whitespace"] = Field("datatrove", description="word splitting for n-gram ratios")
    language: str = Field("en", description="language of datatrove's word tokenizer")

    @model_validator(mode="after")
    def _writable(self) -> "RepetitionFilterConfig":
        if self.action == "drop_repeats" and self.field.sort != "column":
            raise ValueError(f"action drop_repeats rewrites a stored text column, and field {self.field!r} is "
                             f"computed from several: set field to one of {', '.join(WRITABLE)} (e.g. field: response)")
        return self


def _words(text: str, cfg: RepetitionFilterConfig) -> list[str]:
    if cfg.tokenizer == "whitespace":
        return text.split()
    from datatrove.utils.text import split_into_words

    return split_into_words(text, cfg.language)


def first_failure(text: str, cfg: RepetitionFilterConfig) -> tuple[str, float, float] | None:
    """(measure, value, limit) of the first Gopher check the text fails, in Gopher's order; None if it passes."""
    from datatrove.pipeline.filters.gopher_repetition_filter import (
        find_all_duplicate, find_duplicates, find_top_duplicate, get_n_grams)

    if not text or not text.strip():
        return None
    if cfg.skip_code:
        from dsforge.pipelines.core.code_text import looks_like_code

        if looks_like_code(text):
            return None
    paragraphs = PARAGRAPH.split(text.strip())
    dup, dup_chars = find_duplicates(paragraphs)
    checks = [("dup_para_frac", dup / len(paragraphs), cfg.dup_para_frac),
              ("dup_para_char_frac", dup_chars / len(text), cfg.dup_para_char_frac)]
    lines = LINE.split(text)
    dup, dup_chars = find_duplicates(lines)
    checks += [("dup_line_frac", dup / len(lines), cfg.dup_line_frac),
               ("dup_line_char_frac", dup_chars / len(text), cfg.dup_line_char_frac)]
    for name, value, limit in checks:
        if limit is not None and value > limit:
            return name, value, limit
    if len(text.split()) < cfg.min_words:
        return None
    words = _words(text, cfg)
    for n, limit in sorted(cfg.top_ngram_fracs.items()):
        grams = get_n_grams(words, n)
        if grams and (value := find_top_duplicate(grams) / len(text)) > limit:
            return f"top_{n}_gram_char_frac", value, limit
    for n, limit in sorted(cfg.dup_ngram_fracs.items()):
        if (value := find_all_duplicate(words, n) / len(text)) > limit:
            return f"dup_{n}_gram_char_frac", value, limit
    return None


def drop_repeats(text: str) -> tuple[str, int, int]:
    """Text without second and later copies of paragraphs and then of non-empty lines; (text, paras, lines removed)."""
    seen, paras, removed_p = set(), [], 0
    for p in PARAGRAPH.split(text.strip()):
        key = p.strip()
        if key and key in seen:
            removed_p += 1
            continue
        seen.add(key)
        paras.append(p)
    seen_l, removed_l, out_paras = set(), 0, []
    for p in paras:
        lines = []
        for line in p.split("\n"):
            key = line.strip()
            if key and key in seen_l:
                removed_l += 1
                continue
            seen_l.add(key)
            lines.append(line)
        out_paras.append("\n".join(lines))
    return "\n\n".join(out_paras), removed_p, removed_l


class RepetitionFilter(Stage[RepetitionFilterConfig]):
    """Drop rows (or their repeated lines/paragraphs) whose Gopher repetition ratios are too high."""

    name = "repetition-filter"
    mode = "rows"
    Config = RepetitionFilterConfig
    batch_size = 10_000
    version = "2"

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        texts = df.select(cfg.field.expr().alias("t"))["t"].to_list()
        new_texts, changes, fails = [], [], []
        for text in texts:
            text = text or ""
            change = None
            if cfg.action == "drop_repeats" and first_failure(text, cfg) is not None:
                cleaned, rp, rl = drop_repeats(text)
                if rp or rl:
                    change = json.dumps({"removed_paragraphs": rp, "removed_lines": rl,
                                         "chars_before": len(text), "chars_after": len(cleaned)})
                    text = cleaned
            new_texts.append(text)
            changes.append(change)
            fails.append(first_failure(text, cfg))
        failed = pl.Series([f is not None for f in fails], dtype=pl.Boolean)
        detail = pl.Series([f"{f[0]} {f[1]:.3f} > {f[2]} (field {cfg.field})" if f else None for f in fails], dtype=pl.String)
        reason = pl.Series([f"{self.name}:{f[0]}" if f else None for f in fails], dtype=pl.String)
        out = df
        if cfg.action == "drop_repeats":
            changed = pl.Series("__changed", changes, dtype=pl.String)
            edited = pl.col("__changed").is_not_null()
            out = df.with_columns(changed, pl.Series("__new", new_texts, dtype=pl.String))
            with_entry = records.append_lineage(out, self.name, pl.col("__changed").fill_null("{}"))["lineage"]
            out = out.with_columns(
                pl.when(edited).then(pl.col("__new")).otherwise(pl.col(cfg.field)).alias(cfg.field),
                pl.when(edited).then(with_entry).otherwise(pl.col("lineage")).alias("lineage"),
            ).drop("__changed", "__new")
        rejected = self.reject(out.filter(failed), pl.lit(reason.filter(failed)), pl.lit(detail.filter(failed)))
        stats = {"failed": int(failed.sum()), "edited": sum(c is not None for c in changes)}
        return StageResult(kept=out.filter(~failed), rejected=rejected, stats=stats)
