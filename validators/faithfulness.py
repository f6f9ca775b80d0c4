"""faithfulness: is a response supported by its source? For back-translation and summaries.

Two checks, cheapest first:
1. an embedding floor: the MiniLM cosine similarity of source and response must reach `min_similarity`
   (a summary of another text, or an instruction unrelated to its document, fails here without an LLM call);
2. an NLI-style judge prompt: "does the SOURCE support every claim in the RESPONSE?" answered as JSON
   {"verdict": "supported" | "unsupported", "reason": ...} (also "entailment"/"contradiction", yes/no).
Rows are rejected as `faithfulness:low_similarity`, `faithfulness:unsupported` or
`faithfulness:unparsable` (raw text kept). Columns: faithful, faithfulness_similarity, faithfulness_reason.

Not here: claim-by-claim decomposition (ask the judge with a custom prompt_template for that).
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import polars as pl
from jinja2 import Template
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.embedded import MissingModelError
from dsforge.pipelines.stage import StageContext, StageResult
from dsforge.synth.common import (
    ONLY_SOURCES_HELP, SynthConfig, SynthStage, error_text, extract_json, is_error, pass_through, split_by_sources,
    text_of,
)
from dsforge.synth.llm import SamplingParams
from dsforge.validators.execute import column_or_meta
from dsforge.validators.judge import SYSTEM

NLI_PROMPT = """SOURCE:
{{ source }}

RESPONSE:
{{ response }}

Is every claim in the RESPONSE supported by the SOURCE? Ignore style; judge only facts.
Reply with JSON only: {"verdict": "supported" or "unsupported", "reason": "<one short sentence>"}"""

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


class FaithfulnessConfig(SynthConfig):
    source: str = Field("input", description="column, meta:KEY or logical field holding the source text")
    response_field: str = Field("response", description="logical field holding the text to check")
    min_similarity: float = Field(0.3, ge=-1, le=1, description="MiniLM cosine floor between source and response")
    use_judge: bool = Field(True, description="ask the LLM judge (NLI prompt) after the similarity floor")
    prompt_template: str | None = Field(None, description="a Jinja file replacing the NLI prompt (source, response)")
    on_fail: Literal["drop", "flag"] = "drop"
    only_sources: list[str] | None = Field(None, description=ONLY_SOURCES_HELP)
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=120))


class Faithfulness(SynthStage):
    """Reject responses not supported by their source (embedding floor + NLI-style judge)."""

    name = "faithfulness"
    Config = FaithfulnessConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        df, passed = split_by_sources(df, self.config.only_sources)
        if df.height == 0:  # nothing in scope: no model is loaded
            return StageResult(kept=passed, stats={"rows": 0, "kept": 0})
        return pass_through(self._check(df, ctx), passed)

    def _check(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: FaithfulnessConfig = self.config
        rows = list(df.iter_rows(named=True))
        if cfg.source in records.TEXT_FIELDS:
            sources = [text_of(r, cfg.source) if cfg.source != "conversation" else "" for r in rows]
        else:
            sources = [s or "" for s in column_or_meta(df, cfg.source).to_list()]
        answers = [text_of(r, cfg.response_field) for r in rows]
        sims = np.full(len(rows), np.nan)
        stats: dict = {"rows": df.height}
        try:
            from dsforge.validators.embeddings import embed

            if rows:
                a, b = embed(sources), embed(answers)
                sims = (a * b).sum(axis=1)
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
            elif cfg.use_judge:
                ask.append(i)
            else:
                verdicts[i] = True
        if ask:
            tmpl = Template(ctx.resolve(cfg.prompt_template).read_text() if cfg.prompt_template else NLI_PROMPT)
            convs = [[{"role": "system", "content": SYSTEM},
                      {"role": "user", "content": tmpl.render(source=sources[i], response=answers[i])}] for i in ask]
            for i, gl in zip(ask, self.generate(ctx, convs)):
                g = gl[0]
                if is_error(g):
                    why[i] = ("faithfulness:llm_error", error_text(g))
                    continue
                v, reason = parse_verdict(g.text)
                verdicts[i], reasons[i] = v, reason or None
                if v is None:
                    why[i] = ("faithfulness:unparsable", f"could not read a verdict from: {g.text[:300]!r}")
                elif not v:
                    why[i] = ("faithfulness:unsupported", f"judge: {reason or g.text[:200]}")
        out = df.with_columns(
            pl.Series("faithful", verdicts, dtype=pl.Boolean),
            pl.Series("faithfulness_similarity", [None if np.isnan(s) else float(s) for s in sims], dtype=pl.Float64),
            pl.Series("faithfulness_reason", reasons, dtype=pl.String))
        if cfg.use_judge and ask:
            out = records.append_lineage(out, self.name, {**self.lineage_base(ctx), "check": "nli"})
        keep = [w is None for w in why]
        stats.update(kept=sum(keep), judged=len(ask), low_similarity=sum(1 for w in why if w and w[0].endswith("low_similarity")),
                     unsupported=sum(1 for w in why if w and w[0].endswith("unsupported")), **self.take_usage())
        if cfg.on_fail == "flag":
            return StageResult(kept=out, stats=stats)
        mask = pl.Series(keep, dtype=pl.Boolean)
        rej = [w for w in why if w]
        return StageResult(kept=out.filter(mask), stats=stats, rejected=self.reject(
            out.filter(~mask), pl.Series([w[0] for w in rej], dtype=pl.String), pl.Series([w[1] for w in rej], dtype=pl.String)))
