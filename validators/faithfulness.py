"""faithfulness: is a response supported by its source? For back-translation and summaries.

Two checks, cheapest first:
1. an embedding floor: the MiniLM cosine similarity of source and response must reach `min_similarity`
   (a summary of another text, or an instruction unrelated to its document, fails here without an LLM call);
2. an NLI-style judge prompt: "does the SOURCE support every claim in the RESPONSE?" answered as JSON
   {"verdict": "supported" | "unsupported", "reason": ...} (also "entailment"/"contradiction", yes/no).
With `grounded: true`, between the two: every name and number of the response (a capitalised word that does
not open a sentence, a word with a digit) must occur in the source, as a word, ignoring case and a
possessive 's. It needs no model, and it catches what a small model adds to a back-translated instruction
("the Battle of Waterloo" for a paragraph about the 1871 victory parade in Paris, "released in 2011" for
2009). With `focused: true`, after that: the response's other words must be the source's too, near each other
and named in its opening sentences (validators/focus.py: false premises joined from different sentences,
requests for what the source never says, questions about one closing sentence), rejected as
`faithfulness:too_broad`, `faithfulness:unsupported_words`, `faithfulness:off_focus` or `faithfulness:scattered`. With `keep_first_per`,
of the rows sharing a value (one text's candidate instructions) only the first that passes stays; the others
are rejected as `faithfulness:another_candidate_kept`.
Rows are also rejected as `faithfulness:low_similarity`, `faithfulness:ungrounded`, `faithfulness:unsupported` or
`faithfulness:unparsable` (raw text kept). Columns: faithful, faithfulness_similarity, faithfulness_reason.

Not here: claim-by-claim decomposition (ask the judge with a custom prompt_template for that).
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.llm.embedded import MissingModelError, embed
from dsforge.pipelines.core.fields import TextField, ValueField, ref
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.parse import extract_json
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Unusable, user
from dsforge.pipelines.core.row_text import text_of
from dsforge.pipelines.core.stage import StageContext, StageResult
from dsforge.validators.focus import DEFAULT_RULES, focus_problem, load_rules
from dsforge.validators.judge import SYSTEM_TEMPLATE
from dsforge.pipelines.llm.task import ONLY_SOURCES_HELP, on_sources

_YES = ("supported", "entailment", "entailed", "yes", "faithful", "true")
_NO = ("unsupported", "not supported", "contradiction", "contradicted", "no", "unfaithful", "false", "neutral",
       "not entailed", "hallucinated")


def parse_verdict(text: str) -> tuple[bool | None, str]:
    obj = extract_json(text)
    reason = ""
    if isinstance(obj, dict):
        reason = str(obj.get("reason", ""))[:500]
        v = str(obj.get("verdict", obj.get("label", obj.get("supported", "")))).strip().lower()
        if v in _NO or v.startswith(("unsupported", "not ")):
            return False, reason
        if v in _YES:
            return True, reason
    low = (text or "").lower()
    m = re.search(r"verdict\s*[:=]\s*\**\s*([a-z ]+)", low)
    word = m.group(1).strip() if m else low.strip().split("\n")[0].strip(" .!*")
    if any(word.startswith(n) for n in _NO):
        return False, reason
    if any(word.startswith(y) for y in _YES):
        return True, reason
    return None, reason


_TERM = re.compile(r"[^\W_][\w'’.-]*")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$|^\s*$")


def ungrounded_terms(source: str, response: str) -> list[str]:
    """Names and numbers of `response` that `source` never uses: capitalised words not opening a sentence,
    and words with a digit (`1860s`, `13th`), compared as words, ignoring case and a possessive 's."""
    words = {_bare(w) for w in _TERM.findall(source or "")}
    missing: list[str] = []
    for m in _TERM.finditer(response or ""):
        w = m.group(0).rstrip(".'’-")
        opens = _SENTENCE_END.search(response[:m.start()]) is not None
        if not (any(c.isdigit() for c in w) or (w[:1].isupper() and not opens)):
            continue
        if _bare(w) not in words and w not in missing:
            missing.append(w)
    return missing


def _bare(word: str) -> str:
    w = word.lower().rstrip(".'’-")
    return re.sub(r"['’]s$", "", w)


def _verdict(text: str, i: int) -> tuple[bool, str]:
    v, reason = parse_verdict(text)
    if v is None:
        raise Unusable("unparsable", f"could not read a verdict from: {text[:300]!r}")
    return v, reason


class FaithfulnessConfig(LLMConfig):
    source: ValueField = Field(ref("input"), description="field holding the source text: a column, metadata.KEY, prompt, ...")
    response_field: TextField = Field(ref("response"), description="field holding the text to check")
    min_similarity: float = Field(0.3, ge=-1, le=1, description="MiniLM cosine floor between source and response")
    grounded: bool = Field(False, description="reject responses whose names or numbers the source never uses (no model)")
    focused: bool = Field(False, description="reject responses with words the source lacks, words from distant "
                          "sentences, or none from its opening (no model; validators/focus.py)")
    focus_rules: str = Field(DEFAULT_RULES, description="YAML of task/function words and sentence windows for `focused`")
    use_judge: bool = Field(True, description="ask the LLM judge (NLI prompt) after the similarity floor")
    prompt_template: str = Field("faithfulness_nli_v1", description="prompt id or Jinja file (variables: source, response)")
    keep_first_per: ValueField | None = Field(None, description="of the rows sharing this value (e.g. "
                                              "metadata.backtranslated_from: one text's candidates), keep only the first that passes")
    on_fail: Literal["drop", "flag"] = "drop"
    only_sources: list[str] | None = Field(None, description=ONLY_SOURCES_HELP)
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=120))


class Faithfulness(LLMStage[FaithfulnessConfig]):
    """Reject responses not supported by their source (embedding floor + NLI-style judge)."""

    name = "faithfulness"
    mode = "table"
    Config = FaithfulnessConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return on_sources(df, self.config.only_sources, lambda rows: self._check(rows, ctx), {"rows": 0, "kept": 0})

    def _check(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        rows = list(df.iter_rows(named=True))
        sources = [s or "" for s in cfg.source.texts(df)]
        answers = [text_of(r, cfg.response_field) for r in rows]
        sims = np.full(len(rows), np.nan)
        stats: dict = {"rows": df.height}
        try:
            if rows:  # each distinct source once: candidates for one paragraph share it
                distinct = list(dict.fromkeys(sources))
                at = {text: i for i, text in enumerate(distinct)}
                a, b = embed(distinct), embed(answers)
                sims = (a[[at[text] for text in sources]] * b).sum(axis=1)
        except MissingModelError as e:
            stats["warning"] = f"{e}; similarity floor skipped"
        verdicts: list = [None] * len(rows)
        reasons: list = [None] * len(rows)
        why: list = [None] * len(rows)
        ask = []
        for i in range(len(rows)):
            if not sources[i].strip():
                why[i] = ("faithfulness:no_source", f"empty source in {cfg.source}")
            elif not np.isnan(sims[i]) and sims[i] < cfg.min_similarity:
                why[i] = ("faithfulness:low_similarity", f"similarity {sims[i]:.3f} < min_similarity {cfg.min_similarity}")
                verdicts[i] = False
            elif cfg.grounded and (missing := ungrounded_terms(sources[i], answers[i])):
                why[i] = ("faithfulness:ungrounded", f"not in the source: {', '.join(missing[:8])}")
                verdicts[i] = False
            elif cfg.focused and (problem := focus_problem(sources[i], answers[i], load_rules(cfg.focus_rules))):
                why[i] = (f"faithfulness:{problem[0]}", problem[1])
                verdicts[i] = False
            elif cfg.use_judge:
                ask.append(i)
            else:
                verdicts[i] = True
        if ask:
            system = load_template(SYSTEM_TEMPLATE, ctx.base_dir)
            asked = self.ask(ctx, ask, template=cfg.prompt_template, parse_output=_verdict,
                             format_input=lambda i, t: user(t.render(source=sources[i], response=answers[i]),
                                                            system.render()))
            for i, answer in zip(ask, asked):
                o = answer.first
                if not o.ok:
                    why[i] = (f"faithfulness:{o.problem[0]}", o.problem[1])
                    continue
                verdicts[i], reason = o.value
                reasons[i] = reason or None
                if not verdicts[i]:
                    why[i] = ("faithfulness:unsupported", f"judge: {reason or o.text[:200]}")
            lineage = {**asked.lineage, "system_template": system.lineage(), "check": "nli"}
        if cfg.keep_first_per is not None:
            first: dict[str, str] = {}
            for i, group in enumerate(cfg.keep_first_per.texts(df)):
                if why[i] is None and group is not None:
                    if group in first:
                        why[i] = ("faithfulness:another_candidate_kept", f"{first[group]} passed first for {group}")
                    else:
                        first[group] = rows[i]["id"]
        out = df.with_columns(
            pl.Series("faithful", verdicts, dtype=pl.Boolean),
            pl.Series("faithfulness_similarity", [None if np.isnan(s) else float(s) for s in sims], dtype=pl.Float64),
            pl.Series("faithfulness_reason", reasons, dtype=pl.String))
        if cfg.use_judge and ask:
            out = records.append_lineage(out, self.name, lineage)
        keep = [w is None for w in why]
        stats.update(kept=sum(keep), judged=len(ask), low_similarity=sum(1 for w in why if w and w[0].endswith("low_similarity")),
                     ungrounded=sum(1 for w in why if w and w[0].endswith("ungrounded")),
                     unsupported=sum(1 for w in why if w and w[0].endswith(":unsupported")),
                     unfocused=sum(1 for w in why if w and w[0].split(":")[1] in ("too_broad", "unsupported_words", "scattered", "off_focus")),
                     **self.take_usage())
        if cfg.on_fail == "flag":
            return StageResult(kept=out, stats=stats)
        mask = pl.Series(keep, dtype=pl.Boolean)
        rej = [w for w in why if w]
        return StageResult(kept=out.filter(mask), stats=stats, rejected=self.reject(
            out.filter(~mask), pl.Series([w[0] for w in rej], dtype=pl.String), pl.Series([w[1] for w in rej], dtype=pl.String)))
