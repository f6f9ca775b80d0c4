"""quality-filter: heuristic quality rules — datatrove's web-text filters plus Self-Instruct's instruction rules.

Web-text filters (datatrove, all offline), each off unless given; `{}` means datatrove's own thresholds:

    gopher_quality:    {min_doc_words: 50, max_avg_word_length: 10, max_symbol_word_ratio: 0.1, ...}
    gopher_repetition: {dup_line_frac: 0.3, top_n_grams: [[2, 0.2], [3, 0.18], [4, 0.16]], ...}
    c4:                {filter_curly_bracket: true, min_num_sentences: 5, ...}   # decision only, lines are not cut
    fineweb:           {line_punct_thr: 0.12, short_line_thr: 0.67, char_duplicates_ratio: 0.01, ...}

They were tuned on web pages of hundreds of words; on a 20-word answer an n-gram fraction is noise, so
they only judge texts with at least `doc_filters_min_words` words, and skip mostly-CJK texts (their word
and stop-word lists are English) and code (repeated `#include` lines are not spam). The C4 bad-words list would be downloaded, so it is not offered.

Self-Instruct rules (Wang et al. 2022, section 2.3), for rows with an instruction; word lists live in
data/filters/self_instruct.yaml:

    instruction_too_short / instruction_too_long   fewer than 3 / more than max_instruction_words (off by
                                                   default) words (CJK: characters / 2)
    empty_response, placeholder_response           "", "N/A", "<nooutput>", "无" ...
    refusal_response                               "I'm sorry, as an AI ...", "作为一个AI语言模型"
    response_copies_input                          the response repeats the input or the instruction
    needs_unseen_input                             "describe the attached image", "the following link" (not for
                                                   prompts that grant tools or are about code)
    conflicting_response                           same prompt as an earlier row, different response (off by
                                                   default: conflicting=keep_first turns it on)

Each rejected row says which rule fired, with the number or the words that made it fire. The first rule
that fires wins (cheapest first). Not here: model-based quality scores (validators/ judges do that).
"""

from __future__ import annotations

import inspect
import re
from functools import lru_cache
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import Field, field_validator

from dsforge.filters.markup import CODE_PROMPT, looks_like_code
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.readers import resolve_path
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult, Verdicts

DATATROVE = {
    "gopher_quality": ("datatrove.pipeline.filters.gopher_quality_filter", "GopherQualityFilter"),
    "gopher_repetition": ("datatrove.pipeline.filters.gopher_repetition_filter", "GopherRepetitionFilter"),
    "c4": ("datatrove.pipeline.filters.c4_filters", "C4QualityFilter"),
    "fineweb": ("datatrove.pipeline.filters.fineweb_quality_filter", "FineWebQualityFilter"),
}
FORMULA = re.compile(r"\d\s*[-+*/^=×÷]|[-+*/^=×÷]\s*\d")  # "29*68=", "Factorize x^4+4.": a formula is many words
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _datatrove_class(key: str):
    import importlib

    module, cls = DATATROVE[key]
    return getattr(importlib.import_module(module), cls)


def _check_kwargs(key: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    allowed = set(inspect.signature(_datatrove_class(key).__init__).parameters) - {"self", "exclusion_writer", "language"}
    unknown = set(params) - allowed
    if unknown:
        raise ValueError(f"{key}: unknown threshold(s) {sorted(unknown)}; datatrove accepts {sorted(allowed)}")
    return params


class QualityFilterConfig(StageConfig):
    field: TextField = Field(ref("answer"), description="text the web filters judge (pipelines/core/fields.py; documents use text)")
    gopher_quality: dict[str, Any] | None = Field(None, description="datatrove GopherQualityFilter args; {} = defaults")
    gopher_repetition: dict[str, Any] | None = Field(None, description="datatrove GopherRepetitionFilter args")
    c4: dict[str, Any] | None = Field(None, description="datatrove C4QualityFilter args")
    fineweb: dict[str, Any] | None = Field(None, description="datatrove FineWebQualityFilter args")
    doc_filters_min_words: int = Field(50, ge=0, description="web filters only judge texts with this many words")
    doc_filters_skip_cjk: bool = Field(True, description="web filters skip texts that are mostly CJK")
    doc_filters_skip_code: bool = Field(True, description="web filters skip code (fenced, or >= 30% code-like lines)")
    self_instruct: bool = Field(True, description="apply the Self-Instruct rules to rows with an instruction")
    min_instruction_words: int | None = Field(3, ge=0)
    max_instruction_words: int | None = Field(None, ge=0, description="off by default: a 180-word word problem or a "
                                              "prompt holding an article is long, not broken (Self-Instruct's 150 "
                                              "was for generated instructions)")
    copy_check: bool = Field(True, description="response equal to the input or instruction")
    placeholder_check: bool = Field(True)
    refusal_check: bool = Field(True)
    unseen_input_check: bool = Field(True)
    conflicting: Literal["keep_first", "drop_all", "off"] = Field(
        "off", description="same prompt, different responses: keep the first, drop all, or allow (default: a "
        "second haiku or tool call for a repeated prompt is no contradiction)")
    word_lists: str = Field("data:filters/self_instruct.yaml", description="YAML with placeholders/refusals/unseen_inputs")

    @field_validator("gopher_quality", "gopher_repetition", "c4", "fineweb")
    @classmethod
    def _known_args(cls, v, info):
        return _check_kwargs(info.field_name, v)


@lru_cache(maxsize=8)
def load_word_lists(path: str) -> dict[str, re.Pattern | None]:
    p = resolve_path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise FileNotFoundError(f"quality-filter: word list {path} not found (looked at {p})") from None
    out: dict[str, re.Pattern | None] = {}
    for key in ("placeholders", "refusals", "unseen_inputs", "tool_use"):
        pats = data.get(key) or []
        if key == "placeholders":
            out[key] = re.compile(r"^(?:" + "|".join(pats) + r")$", re.I) if pats else None
        else:
            out[key] = re.compile("|".join(f"(?:{x})" for x in pats), re.I | re.M) if pats else None
    return out


def _n_words(s: str) -> int:
    """Words, counting CJK text as one word per two characters (CJK has no spaces)."""
    cjk = len(CJK.findall(s))
    return len(re.findall(r"[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+", s)) + (cjk + 1) // 2


def _squash(s: str) -> str:
    return s.strip().strip("\"'“”‘’「」").strip()


def _norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", (s or "").lower())).strip()


def self_instruct_problem(row: dict[str, Any], cfg: QualityFilterConfig, lists: dict[str, re.Pattern | None]
                          ) -> tuple[str, str] | None:
    """(reason, detail) of the first Self-Instruct rule the row breaks, or None."""
    instr = row.get("instruction")
    if not instr:
        return None
    inp, resp = row.get("input") or "", row.get("response")
    n = _n_words(instr)
    if cfg.min_instruction_words is not None and n < cfg.min_instruction_words and not FORMULA.search(instr):
        return "instruction_too_short", f"instruction: {n} words < {cfg.min_instruction_words}"
    if cfg.max_instruction_words is not None and n > cfg.max_instruction_words:
        return "instruction_too_long", f"instruction: {n} words > {cfg.max_instruction_words}"
    # Prompts that grant tools can reach links; code prompts handle URLs and files as data ("fetch JSON from
    # the following URL", "check this link: https://..." as a test string).
    exempt = (lists["tool_use"] is not None and lists["tool_use"].search(instr)) or CODE_PROMPT.search(instr)
    if cfg.unseen_input_check and lists["unseen_inputs"] is not None and not exempt:
        # A long instruction holds its material (an article to summarise): only its first and last lines
        # say what to do, and "the images" inside a news story are not missing (issue 27).
        lines = [ln for ln in instr.splitlines() if ln.strip()]
        task = instr if len(instr) < 600 or len(lines) < 3 else lines[0][:300] + "\n" + lines[-1][-300:]
        m = lists["unseen_inputs"].search(task) or (lists["unseen_inputs"].search(inp) if len(inp) < 300 else None)
        if m:
            return "needs_unseen_input", f"prompt refers to something the model cannot see: {m.group(0)!r}"
    if row.get("kind") not in ("instruction", "scored") or resp is None:
        return None
    r = resp.strip()
    if not r:
        return "empty_response", "response is empty"
    core = r.strip(" .!。！\"'")
    if cfg.placeholder_check and lists["placeholders"] is not None and lists["placeholders"].match(core or r):
        return "placeholder_response", f"response is a placeholder: {r[:40]!r}"
    if cfg.refusal_check and lists["refusals"] is not None and (m := lists["refusals"].search(r[:300])):
        return "refusal_response", f"response opens with a refusal: {m.group(0)!r}"
    if cfg.copy_check:  # exact but for outer spaces and quotes: "fix the indentation/punctuation" tasks
        nr = _squash(r)   # differ from their input in nothing else
        if nr and inp and nr == _squash(inp):
            return "response_copies_input", "response is the same as the input"
        if nr and nr == _squash(instr):
            return "response_copies_input", "response is the same as the instruction"
    return None


def _web_problem(text: str, filters: list[tuple[str, Any]], cfg: QualityFilterConfig) -> tuple[str, str] | None:
    from datatrove.data import Document

    if not text or len(text.split()) < cfg.doc_filters_min_words:
        return None
    if cfg.doc_filters_skip_cjk and len(CJK.findall(text)) > 0.3 * len(text.replace(" ", "")):
        return None
    if cfg.doc_filters_skip_code and looks_like_code(text):
        return None
    for key, flt in filters:
        doc = Document(text=text, id="x")
        res = flt.filter(doc)
        ok, why = (res, None) if not isinstance(res, tuple) else res
        if not ok:
            return key, f"{cfg.field}: datatrove {type(flt).__name__} -> {why or 'rejected'}"
    return None


class QualityFilter(Stage[QualityFilterConfig]):
    """Drop rows that fail heuristic quality rules: datatrove's web-text filters and Self-Instruct's rules.

    Keyed (stage.py): the per-row rules run per shard in workers; only the conflict check needs every
    row, and it needs just two hashes per row (the prompt's and the response's), never the rows."""

    name = "quality-filter"
    mode = "keyed"
    Config = QualityFilterConfig
    partition_key = "prompt_h"  # conflicts are between rows with the same prompt hash
    version = "3"

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return self.process_keyed(df, ctx)

    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        lists = load_word_lists(str(ctx.resolve(cfg.word_lists)))
        filters = []
        for key in DATATROVE:
            params = getattr(cfg, key)
            if params is not None:
                args = {k: (tuple(tuple(x) for x in v) if k in ("top_n_grams", "dup_n_grams") else v) for k, v in params.items()}
                filters.append((key, _datatrove_class(key)(**args)))
        text = pl.coalesce(cfg.field.expr(), pl.col("text")).alias("__t")
        rows = df.select("id", "kind", "instruction", "input", "response", text).to_dicts()
        reasons: list[str | None] = []
        details: list[str | None] = []
        prompt_h: list[int | None] = []
        answer_h: list[int | None] = []
        for row in rows:
            prob = self_instruct_problem(row, cfg, lists) if cfg.self_instruct else None
            if prob is None and filters:
                prob = _web_problem(row["__t"], filters, cfg)
            reasons.append(f"{self.name}:{prob[0]}" if prob else None)
            details.append(prob[1] if prob else None)
            eligible = prob is None and row.get("instruction") and row.get("response") is not None
            prompt_h.append(_h(_norm(row["instruction"]) + "\x00" + _norm(row.get("input"))) if eligible else None)
            answer_h.append(_h(_norm(row["response"])) if eligible else None)
        return pl.DataFrame({"id": df["id"], "reason": pl.Series(reasons, dtype=pl.String),
                             "detail": pl.Series(details, dtype=pl.String),
                             "prompt_h": pl.Series(prompt_h, dtype=pl.UInt64),
                             "answer_h": pl.Series(answer_h, dtype=pl.UInt64)})

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> Verdicts:
        cfg = self.config
        keys = keys.select("id", "reason", "detail", "prompt_h", "answer_h").collect()
        verdicts = keys.select("id", "reason", "detail")
        if cfg.conflicting != "off":
            elig = keys.filter(pl.col("prompt_h").is_not_null()).with_columns(
                pl.col("answer_h").n_unique().over("prompt_h").alias("__answers"),
                pl.col("answer_h").first().over("prompt_h").alias("__head"),
                pl.col("id").implode().over("prompt_h").alias("__ids"))
            elig = elig.filter(pl.col("__answers") > 1)
            if cfg.conflicting == "keep_first":  # the first row stays, and so do exact copies of its answer
                elig = elig.filter(pl.col("answer_h") != pl.col("__head"))
            others = pl.col("__ids").list.set_difference(pl.concat_list(pl.col("id"))).list.head(3).list.join(", ")
            conflicts = elig.select("id", pl.lit(f"{self.name}:conflicting_response").alias("__r"),
                                    pl.format("same prompt as {} with a different response", others).alias("__d"))
            verdicts = verdicts.join(conflicts, on="id", how="left").select(
                "id", pl.coalesce("__r", "reason").alias("reason"), pl.coalesce("__d", "detail").alias("detail"))
        verdicts = verdicts.filter(pl.col("reason").is_not_null())
        counts = verdicts.group_by("reason").len().iter_rows()
        return Verdicts(verdicts, stats={"rejected_" + r.split(":")[1]: n for r, n in counts})


def _h(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
