"""judge: an LLM judge with a configurable rubric (AI-as-a-judge, chapter 3 and 8 of the book).

Modes:
- score: pointwise 1-5 against `rubric`, with a short reason; keep rows scoring >= `threshold`.
- classify: one of `labels` (default good/bad); keep rows labelled `keep_label`.
- requirements: "does this example meet these requirements" — one yes/no per requirement; keep rows
  meeting at least `min_met` of them (default all).
- pairwise: compares `chosen` and `rejected` (preference rows) twice, with the order swapped, because
  judges favour a position. A verdict counts only when both orders agree; the stage reports the
  position-consistency rate and keeps `all`, only `consistent` rows, or rows where the judge consistently
  `agree`s with the label.

The judge is asked for JSON; parsing also accepts "Score: 4", "[[A]]", "Verdict: good" and similar.
A reply nothing can be read from is rejected as `judge:unparsable` with the raw text in the detail and
in `judge_raw` (never silently kept or dropped). Scores and reasons go to judge_* columns.

Not here: the backends (synth/llm.py), reference-based metrics, ensembles of judges.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import polars as pl
from jinja2 import Template
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.stage import ConfigError, StageContext, StageResult
from dsforge.synth.common import (
    ONLY_SOURCES_HELP, SynthConfig, SynthStage, error_text, extract_json, is_error, pass_through, split_by_sources,
    text_of,
)
from dsforge.synth.llm import SamplingParams

SYSTEM = "You are a strict, fair evaluator of training data for language models. Answer only in the format asked."

PROMPTS = {
    "score": """Rate the RESPONSE to the PROMPT from 1 (very poor) to 5 (excellent) on: {{ rubric }}

PROMPT:
{{ prompt }}

RESPONSE:
{{ response }}

Reply with JSON only: {"score": <1-5>, "reason": "<one short sentence>"}""",
    "classify": """Classify the RESPONSE to the PROMPT as one of: {{ labels | join(", ") }}.
Criteria: {{ rubric }}

PROMPT:
{{ prompt }}

RESPONSE:
{{ response }}

Reply with JSON only: {"label": "<one of {{ labels | join(", ") }}>", "reason": "<one short sentence>"}""",
    "requirements": """Check whether this example meets each requirement.

PROMPT:
{{ prompt }}

RESPONSE:
{{ response }}

REQUIREMENTS:
{% for r in requirements %}{{ loop.index }}. {{ r }}
{% endfor %}
Reply with JSON only: {"met": [<true or false for each requirement, in order>], "reason": "<one short sentence>"}""",
    "pairwise": """Which response answers the PROMPT better? Criteria: {{ rubric }}

PROMPT:
{{ prompt }}

RESPONSE A:
{{ a }}

RESPONSE B:
{{ b }}

Reply with JSON only: {"winner": "A" or "B" or "tie", "reason": "<one short sentence>"}""",
}

SCHEMAS = {  # structured output for backends that support it (openai-compatible servers, vLLM)
    "score": {"type": "object", "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5},
                                               "reason": {"type": "string"}}, "required": ["score", "reason"]},
    "pairwise": {"type": "object", "properties": {"winner": {"enum": ["A", "B", "tie"]}, "reason": {"type": "string"}},
                 "required": ["winner", "reason"]},
}

# `"score": 4` of a reply cut off before its JSON closed counts too (the quote after the key).
_SCORE_PAT = re.compile(r"(?:score|rating)[\"']?\s*[:=]?\s*\**\s*([1-5](?:\.\d+)?)\b|\b([1-5])\s*/\s*5\b", re.I)
_REASON = re.compile(r"reason(?:ing)?\s*[:=]\s*(.+)", re.I | re.S)


def _reason(text: str, obj: Any) -> str:
    if isinstance(obj, dict) and obj.get("reason"):
        return str(obj["reason"]).strip()[:500]
    m = _REASON.search(text or "")
    return (m.group(1) if m else "").strip().splitlines()[0][:500] if m else ""


def parse_score(text: str) -> tuple[float | None, str]:
    obj = extract_json(text)
    if isinstance(obj, dict):
        v = obj.get("score", obj.get("rating"))
        try:
            if v is not None and 1 <= float(v) <= 5:
                return float(v), _reason(text, obj)
        except (TypeError, ValueError):
            pass
    found = [m.group(1) or m.group(2) for m in _SCORE_PAT.finditer(text or "")]
    if found:
        return float(found[-1]), _reason(text, None)
    stripped = (text or "").strip()
    if re.fullmatch(r"[1-5](\.0)?", stripped):
        return float(stripped), ""
    return None, ""


def parse_label(text: str, labels: list[str]) -> tuple[str | None, str]:
    obj = extract_json(text)
    if isinstance(obj, dict):
        v = str(obj.get("label", obj.get("verdict", obj.get("class", "")))).strip().lower()
        for lab in labels:
            if v == lab.lower():
                return lab, _reason(text, obj)
    low = (text or "").lower()
    m = re.search(r"(?:label|verdict|class(?:ification)?|answer)\s*[:=]\s*\**\s*([\w-]+)", low)
    if m:
        for lab in labels:
            if m.group(1) == lab.lower():
                return lab, _reason(text, None)
    hits = [lab for lab in labels if re.search(rf"\b{re.escape(lab.lower())}\b", low)]
    if len(hits) == 1:
        return hits[0], _reason(text, None)
    return None, ""


def parse_requirements(text: str, n: int) -> tuple[list[bool] | None, str]:
    obj = extract_json(text)
    met = obj.get("met") if isinstance(obj, dict) else obj if isinstance(obj, list) else None
    if isinstance(met, list) and len(met) == n:
        vals = [_as_bool(x) for x in met]
        if all(v is not None for v in vals):
            return vals, _reason(text, obj)
    lines = re.findall(r"^\s*(\d+)[.):]\s*.*?\b(yes|no|true|false|met|not met)\b", text or "", re.I | re.M)
    if len(lines) == n:
        return [v.lower() in ("yes", "true", "met") for _, v in lines], _reason(text, None)
    return None, ""


def _as_bool(x: Any) -> bool | None:
    if isinstance(x, bool):
        return x
    s = str(x).strip().lower()
    return True if s in ("yes", "true", "1", "met") else False if s in ("no", "false", "0", "not met") else None


def parse_winner(text: str) -> tuple[str | None, str]:
    obj = extract_json(text)
    if isinstance(obj, dict):
        w = str(obj.get("winner", obj.get("better", ""))).strip().upper()
        if w in ("A", "B"):
            return w, _reason(text, obj)
        if w in ("TIE", "EQUAL", "NONE"):
            return "tie", _reason(text, obj)
    m = re.search(r"\[\[(A|B|C|tie)\]\]", text or "", re.I) or re.search(
        r"(?:winner|better(?: response)?|answer|verdict)\s*(?:is)?\s*[:=]?\s*\**\s*(?:response\s+)?\b(A|B|tie)\b", text or "", re.I)
    if m:
        w = m.group(1).upper()
        return ("tie" if w in ("TIE", "C") else w), _reason(text, None)
    if re.fullmatch(r"\s*(A|B)\s*\.?\s*", text or ""):
        return text.strip().strip(".").upper(), ""
    return None, ""


class JudgeConfig(SynthConfig):
    mode: Literal["score", "classify", "requirements", "pairwise"] = Field("score", description="how the judge answers")
    rubric: str = Field("helpfulness, correctness, and clarity", description="what the judge looks at")
    labels: list[str] = Field(["good", "bad"], description="classify: the labels")
    keep_label: str = Field("good", description="classify: rows with this label are kept")
    requirements: list[str] = Field([], description="requirements: the checklist")
    min_met: int | None = Field(None, ge=0, description="requirements: keep rows meeting at least this many (default all)")
    threshold: float = Field(4.0, ge=1, le=5, description="score: keep rows scoring at least this")
    keep: Literal["all", "consistent", "agree"] = Field(
        "agree", description="pairwise: keep all rows, rows with an order-consistent verdict, or those agreeing with the label")
    prompt_field: str = Field("prompt", description="logical field shown as the PROMPT")
    response_field: str = Field("answer", description="logical field shown as the RESPONSE")
    prompt_template: str | None = Field(None, description="a Jinja file replacing the shipped prompt (same variables)")
    on_fail: Literal["drop", "flag"] = Field("drop", description="drop rows below the bar, or keep them flagged")
    only_sources: list[str] | None = Field(None, description=ONLY_SOURCES_HELP)
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=160))


class Judge(SynthStage):
    """Score, classify or requirement-check rows with an LLM judge; pairwise mode checks position bias."""

    name = "judge"
    Config = JudgeConfig
    # Whole table at once, so rates (position consistency, mean score) are over all rows; answers are cached,
    # so an interrupted run re-asks nothing.
    batch_size = None

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        df, passed = split_by_sources(df, self.config.only_sources)
        if df.height == 0:  # nothing in scope: no model is loaded
            return StageResult(kept=passed, stats={"rows": 0, "kept": 0})
        return pass_through(self._judge(df, ctx), passed)

    def _judge(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: JudgeConfig = self.config
        if cfg.mode == "requirements" and not cfg.requirements:
            raise ConfigError("judge: mode requirements needs a `requirements:` list")
        if cfg.mode == "classify" and cfg.keep_label not in cfg.labels:
            raise ConfigError(f"judge: keep_label {cfg.keep_label!r} is not one of labels {cfg.labels}")
        text = (ctx.resolve(cfg.prompt_template).read_text() if cfg.prompt_template else PROMPTS[cfg.mode])
        tmpl = Template(text)
        rows = list(df.iter_rows(named=True))
        if cfg.mode == "pairwise":
            return self._pairwise(df, rows, tmpl, ctx)
        convs = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": tmpl.render(
            prompt=text_of(r, cfg.prompt_field), response=text_of(r, cfg.response_field), rubric=cfg.rubric,
            labels=cfg.labels, requirements=cfg.requirements)}] for r in rows]
        gens = self.generate(ctx, convs, self._params())
        scores, labels, reasons, raws, keep, why = [], [], [], [], [], []
        need = len(cfg.requirements) if cfg.min_met is None else cfg.min_met
        for g in (gl[0] for gl in gens):
            raw = g.text
            raws.append(raw)
            if is_error(g):
                scores.append(None), labels.append(None), reasons.append(None), keep.append(False)
                why.append(("judge:llm_error", error_text(g)))
                continue
            if cfg.mode == "score":
                s, reason = parse_score(raw)
                ok, label = (s is not None and s >= cfg.threshold), None
            elif cfg.mode == "classify":
                label, reason = parse_label(raw, cfg.labels)
                s, ok = None, label == cfg.keep_label
            else:
                met, reason = parse_requirements(raw, len(cfg.requirements))
                s = float(sum(met)) if met is not None else None
                label = None if met is None else ",".join("y" if m else "n" for m in met)
                ok = met is not None and sum(met) >= need
            parsed = s is not None or label is not None
            scores.append(s), labels.append(label), reasons.append(reason or None), keep.append(ok)
            if not parsed:
                why.append(("judge:unparsable", f"could not read a {cfg.mode} verdict from: {raw[:300]!r}"))
            elif not ok:
                if cfg.mode == "score":
                    what = f"score {s:g} < threshold {cfg.threshold:g}"
                elif cfg.mode == "classify":
                    what = f"label {label!r} != {cfg.keep_label!r}"
                else:
                    what = f"met {s:g} of {len(cfg.requirements)} requirements (need {need})"
                why.append((f"judge:{'below_threshold' if cfg.mode == 'score' else 'rejected_' + cfg.mode}",
                            f"{what}: {reason}"))
            else:
                why.append(None)
        out = df.with_columns(
            pl.Series("judge_score", scores, dtype=pl.Float64), pl.Series("judge_label", labels, dtype=pl.String),
            pl.Series("judge_reason", reasons, dtype=pl.String), pl.Series("judge_raw", raws, dtype=pl.String))
        stats = {"rows": df.height, "mode": cfg.mode, "kept": sum(keep),
                 "unparsable": sum(1 for w in why if w and w[0] == "judge:unparsable"), **self.take_usage()}
        valid = [s for s in scores if s is not None]
        if valid:
            stats["mean_score"] = round(sum(valid) / len(valid), 3)
        out = records.append_lineage(out, self.name, {**self.lineage_base(ctx), "mode": cfg.mode, "rubric": cfg.rubric})
        return self._result(out, keep, why, stats)

    def _params(self) -> SamplingParams:
        """The sampling params, with a JSON schema for the verdict where the backend can enforce one."""
        cfg: JudgeConfig = self.config
        schema = SCHEMAS.get(cfg.mode)
        if schema and cfg.sampling.json_schema is None and cfg.model.backend in ("openai", "vllm"):
            return cfg.sampling.model_copy(update={"json_schema": schema})
        return cfg.sampling

    def _result(self, out: pl.DataFrame, keep: list[bool], why: list, stats: dict[str, Any]) -> StageResult:
        cfg = self.config
        mask = pl.Series(keep, dtype=pl.Boolean)
        if cfg.on_fail == "flag":
            bad = pl.Series([w is not None and w[0] == "judge:llm_error" for w in why])
            return StageResult(kept=out.filter(~bad), rejected=self.reject(
                out.filter(bad), "llm_error", pl.Series([w[1] for w in why if w and w[0] == "judge:llm_error"], dtype=pl.String)),
                stats=stats)
        rej = [w for w in why if w is not None]
        return StageResult(kept=out.filter(mask), stats=stats, rejected=self.reject(
            out.filter(~mask), pl.Series([w[0] for w in rej], dtype=pl.String), pl.Series([w[1] for w in rej], dtype=pl.String)))

    def _pairwise(self, df: pl.DataFrame, rows: list[dict[str, Any]], tmpl: Template, ctx: StageContext) -> StageResult:
        cfg: JudgeConfig = self.config
        if any(r.get("kind") != "preference" for r in rows):
            raise ConfigError("judge: pairwise mode needs preference rows (chosen and rejected); "
                              f"got kinds {sorted({str(r.get('kind')) for r in rows})}")
        convs = []
        for r in rows:
            p = text_of(r, cfg.prompt_field)
            for a, b in ((r["chosen"], r["rejected"]), (r["rejected"], r["chosen"])):
                convs.append([{"role": "system", "content": SYSTEM},
                              {"role": "user", "content": tmpl.render(prompt=p, a=a, b=b, rubric=cfg.rubric)}])
        gens = self.generate(ctx, convs, self._params())
        prefs, consistent, reasons, raws, keep, why = [], [], [], [], [], []
        for i in range(len(rows)):
            g1, g2 = gens[2 * i][0], gens[2 * i + 1][0]
            raws.append(json.dumps([g1.text, g2.text], ensure_ascii=False))
            if is_error(g1) or is_error(g2):
                prefs.append(None), consistent.append(None), reasons.append(None), keep.append(False)
                why.append(("judge:llm_error", error_text(g1 if is_error(g1) else g2)))
                continue
            (w1, r1), (w2, r2) = parse_winner(g1.text), parse_winner(g2.text)
            if w1 is None or w2 is None:
                prefs.append(None), consistent.append(None), reasons.append(None), keep.append(False)
                why.append(("judge:unparsable", f"could not read a winner from: {(g1.text if w1 is None else g2.text)[:300]!r}"))
                continue
            # order 1: A = chosen; order 2: A = rejected
            v1 = {"A": "chosen", "B": "rejected", "tie": "tie"}[w1]
            v2 = {"A": "rejected", "B": "chosen", "tie": "tie"}[w2]
            same = v1 == v2
            pref = v1 if same else "inconsistent"
            prefs.append(pref), consistent.append(same), reasons.append(r1 or r2 or None)
            ok = cfg.keep == "all" or (cfg.keep == "consistent" and same) or (cfg.keep == "agree" and pref == "chosen")
            keep.append(ok)
            if ok:
                why.append(None)
            elif not same:
                why.append(("judge:position_inconsistent", f"order chosen-first says {v1}, rejected-first says {v2}"))
            else:
                why.append(("judge:disagrees_with_label", f"judge prefers {pref} in both orders: {r1 or r2}"))
        out = df.with_columns(
            pl.Series("judge_preferred", prefs, dtype=pl.String), pl.Series("judge_consistent", consistent, dtype=pl.Boolean),
            pl.Series("judge_reason", reasons, dtype=pl.String), pl.Series("judge_raw", raws, dtype=pl.String))
        judged = [c for c in consistent if c is not None]
        stats = {"rows": df.height, "mode": "pairwise", "judged": len(judged), "consistent": sum(judged),
                 "position_consistency_rate": round(sum(judged) / len(judged), 4) if judged else None,
                 "agree_with_label": sum(1 for p in prefs if p == "chosen"), **self.take_usage()}
        out = records.append_lineage(out, self.name, {**self.lineage_base(ctx), "mode": "pairwise", "rubric": cfg.rubric})
        return self._result(out, keep, why, stats)
