"""judge: an LLM judge with a configurable rubric (AI-as-a-judge, chapter 3 and 8 of the book).

Modes:
- score: pointwise 1-5 against `rubric`, with a short reason; keep rows scoring >= `threshold`.
- classify: one of `labels` (default good/bad); keep rows labelled `keep_label`.
- requirements: "does this example meet these requirements" — one yes/no per requirement; keep rows
  meeting at least `min_met` of them (default all).
- pairwise: compares `chosen_response` and `rejected_response` (preference rows) twice, with the order
  swapped, because judges favour a position. A verdict counts only when both orders agree; the stage
  reports the position-consistency rate and keeps `all`, only `consistent` rows, or rows where the judge
  consistently `agree`s with the label. `judge_preferred` names the reply the judge picked:
  chosen_response, rejected_response, tie or inconsistent.

The judge is asked for JSON; parsing also accepts "Score: 4", "[[A]]", "Verdict: good" and similar, read
from the reply without the lines it copies from the row (a small model that echoes the row has given no
verdict, and a number in the row's text is not a score). A reply with no verdict is `unscored`: rejected
as `judge:unscored` (on_fail: drop) or kept with judge_verdict "unscored" (on_fail: flag), never given a
score. Every reply is kept verbatim in `judge_raw`; judge_verdict says pass, fail or unscored.

Prompts: judge_{score,classify,requirements,pairwise}_v1 and the system prompt judge_system_v1
(pipelines/llm/prompts/); `prompt_template` replaces the mode's prompt with your own file (same variables).
Not here: the backends (pipelines/llm/), the two-order pairwise reading (pairwise.py), reference-based
metrics, ensembles of judges.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import polars as pl
from pydantic import Field, model_validator

from dsforge.pipelines.core import records
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.parse import extract_json, parse_score, reason_of, without_echo
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, PromptTemplate, Unusable
from dsforge.pipelines.core.row_text import text_of
from dsforge.pipelines.core.stage import ConfigError, StageContext, StageResult
from dsforge.validators.pairwise import judge_pairs
from dsforge.pipelines.llm.task import ONLY_SOURCES_HELP, on_sources

SYSTEM_TEMPLATE = "judge_system_v1"

SCHEMAS = {  # structured output for backends that support it (openai-compatible servers, vLLM)
    "score": {"type": "object", "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5},
                                               "reason": {"type": "string"}}, "required": ["score", "reason"]},
    "pairwise": {"type": "object", "properties": {"winner": {"enum": ["A", "B", "tie"]}, "reason": {"type": "string"}},
                 "required": ["winner", "reason"]},
}

def parse_label(text: str, labels: list[str]) -> tuple[str | None, str]:
    obj = extract_json(text)
    if isinstance(obj, dict):
        v = str(obj.get("label", obj.get("verdict", obj.get("class", "")))).strip().lower()
        for lab in labels:
            if v == lab.lower():
                return lab, reason_of(text, obj)
    low = (text or "").lower()
    m = re.search(r"(?:label|verdict|class(?:ification)?|answer)\s*[:=]\s*\**\s*([\w-]+)", low)
    if m:
        for lab in labels:
            if m.group(1) == lab.lower():
                return lab, reason_of(text)
    hits = [lab for lab in labels if re.search(rf"\b{re.escape(lab.lower())}\b", low)]
    if len(hits) == 1:
        return hits[0], reason_of(text)
    return None, ""


def parse_requirements(text: str, n: int) -> tuple[list[bool] | None, str]:
    obj = extract_json(text)
    met = obj.get("met") if isinstance(obj, dict) else obj if isinstance(obj, list) else None
    if isinstance(met, list) and len(met) == n:
        vals = [_as_bool(x) for x in met]
        if all(v is not None for v in vals):
            return vals, reason_of(text, obj)
    lines = re.findall(r"^\s*(\d+)[.):]\s*.*?\b(yes|no|true|false|met|not met)\b", text or "", re.I | re.M)
    if len(lines) == n:
        return [v.lower() in ("yes", "true", "met") for _, v in lines], reason_of(text)
    return None, ""


def _as_bool(x: Any) -> bool | None:
    if isinstance(x, bool):
        return x
    s = str(x).strip().lower()
    return True if s in ("yes", "true", "1", "met") else False if s in ("no", "false", "0", "not met") else None


class JudgeConfig(LLMConfig):
    mode: Literal["score", "classify", "requirements", "pairwise"] = Field("score", description="how the judge answers")
    rubric: str = Field("helpfulness, correctness, and clarity", description="what the judge looks at")
    labels: list[str] = Field(["good", "bad"], description="classify: the labels")
    keep_label: str = Field("good", description="classify: rows with this label are kept")
    requirements: list[str] = Field([], description="requirements: the checklist")
    min_met: int | None = Field(None, ge=0, description="requirements: keep rows meeting at least this many (default all)")
    threshold: float = Field(4.0, ge=1, le=5, description="score: keep rows scoring at least this")
    keep: Literal["all", "consistent", "agree"] = Field(
        "agree", description="pairwise: keep all rows, rows with an order-consistent verdict, or those agreeing with the label")
    prompt_field: TextField = Field(ref("prompt"), description="field shown as the PROMPT (pipelines/core/fields.py)")
    response_field: TextField = Field(ref("answer"), description="field shown as the RESPONSE")
    prompt_template: str | None = Field(None, description="a prompt id or Jinja file replacing judge_<mode>_v1 (same variables)")
    on_fail: Literal["drop", "flag"] = Field("drop", description="drop rows below the bar, or keep them flagged")
    only_sources: list[str] | None = Field(None, description=ONLY_SOURCES_HELP)
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=160))

    @model_validator(mode="after")
    def _mode_needs(self) -> "JudgeConfig":
        """What a mode needs is checked with the recipe (`dsforge validate`), not after ingest."""
        if self.mode == "requirements" and not self.requirements:
            raise ValueError("mode requirements needs a `requirements:` list, e.g. requirements: [\"answers in "
                             "English\", \"cites the source\"]")
        if self.min_met is not None and self.requirements and self.min_met > len(self.requirements):
            raise ValueError(f"min_met {self.min_met} is more than the {len(self.requirements)} requirements")
        if self.mode == "classify" and self.keep_label not in self.labels:
            raise ValueError(f"keep_label {self.keep_label!r} is not one of labels {self.labels}")
        return self


class Judge(LLMStage[JudgeConfig]):
    """Score, classify or requirement-check rows with an LLM judge; pairwise mode checks position bias."""

    name = "judge"
    mode = "rows"
    Config = JudgeConfig
    # Row-wise: each row's prompt needs only the row, so slices go to every model worker; the rates (mean
    # score, position consistency) are recomputed over all rows from summed counts (combine_stats).
    batch_size = 64

    def format_input(self, row: dict[str, Any], template: PromptTemplate) -> Messages:
        cfg = self.config
        return [{"role": "system", "content": self._system.render()},
                {"role": "user", "content": template.render(
                    prompt=text_of(row, cfg.prompt_field), response=text_of(row, cfg.response_field),
                    rubric=cfg.rubric, labels=cfg.labels, requirements=cfg.requirements)}]

    def parse_output(self, text: str, row: dict[str, Any]) -> tuple[float | None, str | None, bool, str]:
        """(score, label, meets the bar, reason) for the pointwise modes."""
        cfg = self.config
        echo = (text_of(row, cfg.prompt_field), text_of(row, cfg.response_field))
        if cfg.mode == "score":
            s, reason = parse_score(text, echo=echo)
            label, ok = None, s is not None and s >= cfg.threshold
        elif cfg.mode == "classify":
            label, reason = parse_label(without_echo(text, echo), cfg.labels)
            s, ok = None, label == cfg.keep_label
        else:
            met, reason = parse_requirements(without_echo(text, echo), len(cfg.requirements))
            s = float(sum(met)) if met is not None else None
            label = None if met is None else ",".join("y" if m else "n" for m in met)
            ok = met is not None and sum(met) >= self._need()
        if s is None and label is None:
            raise Unusable("unscored", f"no {cfg.mode} verdict in the reply (kept in judge_raw): {text[:300]!r}")
        return s, label, ok, reason

    def _need(self) -> int:
        cfg = self.config
        return len(cfg.requirements) if cfg.min_met is None else cfg.min_met

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return on_sources(df, self.config.only_sources, lambda rows: self._judge(rows, ctx), {"rows": 0, "kept": 0})

    def _judge(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        self._system = load_template(SYSTEM_TEMPLATE, ctx.base_dir)
        template = cfg.prompt_template or f"judge_{cfg.mode}_v1"
        rows = list(df.iter_rows(named=True))
        if cfg.mode == "pairwise":
            return self._pairwise(df, rows, template, ctx)
        asked = self.ask(ctx, rows, template=template, params=self._params())
        scores, labels, reasons, raws, keep, why, verdicts = [], [], [], [], [], [], []
        for answer in asked:
            o = answer.first
            raws.append(o.text)
            if not o.ok:
                scores.append(None), labels.append(None), reasons.append(None), keep.append(False)
                why.append((f"judge:{o.problem[0]}", o.problem[1]))
                verdicts.append("unscored" if o.problem[0] == "unscored" else "error")
                continue
            s, label, ok, reason = o.value
            scores.append(s), labels.append(label), reasons.append(reason or None), keep.append(ok)
            verdicts.append("pass" if ok else "fail")
            if ok:
                why.append(None)
            elif cfg.mode == "score":
                why.append(("judge:below_threshold", f"score {s:g} < threshold {cfg.threshold:g}: {reason}"))
            elif cfg.mode == "classify":
                why.append(("judge:rejected_classify", f"label {label!r} != {cfg.keep_label!r}: {reason}"))
            else:
                why.append(("judge:rejected_requirements",
                            f"met {s:g} of {len(cfg.requirements)} requirements (need {self._need()}): {reason}"))
        out = df.with_columns(
            pl.Series("judge_score", scores, dtype=pl.Float64), pl.Series("judge_label", labels, dtype=pl.String),
            pl.Series("judge_reason", reasons, dtype=pl.String), pl.Series("judge_raw", raws, dtype=pl.String),
            pl.Series("judge_verdict", verdicts, dtype=pl.String))
        stats = {"rows": df.height, "mode": cfg.mode, "kept": sum(keep),
                 "unscored": verdicts.count("unscored"), **self.take_usage()}
        valid = [s for s in scores if s is not None]
        if valid:
            stats.update(mean_score=round(sum(valid) / len(valid), 3), scored=len(valid), score_sum=sum(valid))
        out = records.append_lineage(out, self.name, self._lineage(asked.lineage))
        return self._result(out, keep, why, stats)

    def combine_stats(self, merged: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
        """Rates over every row of the step, from the counts each slice reports."""
        if merged.get("scored"):
            merged["mean_score"] = round(merged["score_sum"] / merged["scored"], 3)
        if "judged" in merged:
            merged["position_consistency_rate"] = (
                round(merged["consistent"] / merged["judged"], 4) if merged["judged"] else None)
        modes = {p["mode"] for p in parts if "mode" in p}
        if modes:
            merged["mode"] = modes.pop()
        return merged

    def _lineage(self, info: dict[str, Any]) -> dict[str, Any]:
        return {**info, "system_template": self._system.lineage(), "mode": self.config.mode, "rubric": self.config.rubric}

    def _params(self) -> SamplingParams:
        """The sampling params, with a JSON schema for the verdict where the backend can enforce one."""
        cfg = self.config
        schema = SCHEMAS.get(cfg.mode)
        if schema and cfg.sampling.json_schema is None and cfg.model.backend in ("openai", "vllm", "vllm-server"):
            return cfg.sampling.model_copy(update={"json_schema": schema})
        return cfg.sampling

    def _result(self, out: pl.DataFrame, keep: list[bool], why: list, stats: dict[str, Any]) -> StageResult:
        cfg = self.config
        mask = pl.Series(keep, dtype=pl.Boolean)
        if cfg.on_fail == "flag":
            failed = {"judge:llm_error", "judge:budget_reached"}
            bad = pl.Series([w is not None and w[0] in failed for w in why])
            return StageResult(kept=out.filter(~bad), rejected=self.reject(
                out.filter(bad), pl.Series([w[0] for w in why if w and w[0] in failed], dtype=pl.String),
                pl.Series([w[1] for w in why if w and w[0] in failed], dtype=pl.String)), stats=stats)
        rej = [w for w in why if w is not None]
        return StageResult(kept=out.filter(mask), stats=stats, rejected=self.reject(
            out.filter(~mask), pl.Series([w[0] for w in rej], dtype=pl.String), pl.Series([w[1] for w in rej], dtype=pl.String)))

    def _pairwise(self, df: pl.DataFrame, rows: list[dict[str, Any]], template: str, ctx: StageContext) -> StageResult:
        cfg = self.config
        if any(r.get("kind") != "preference" for r in rows):
            raise ConfigError("judge: pairwise mode needs preference rows (chosen_response and rejected_response); "
                              f"got kinds {sorted({str(r.get('kind')) for r in rows})}")
        pairs = [(text_of(r, cfg.prompt_field), r["chosen_response"], r["rejected_response"]) for r in rows]
        verdicts, asked = judge_pairs(self, ctx, pairs, template=template, params=self._params(),
                                      system=self._system, rubric=cfg.rubric)
        prefs, consistent, reasons, raws, keep, why = [], [], [], [], [], []
        for v in verdicts:
            raws.append(json.dumps([o.text for o in v.outputs], ensure_ascii=False))
            if v.winner is None:
                prefs.append(None), consistent.append(None), reasons.append(None), keep.append(False)
                why.append((f"judge:{v.problem[0]}", v.problem[1]))
                continue
            # a = chosen_response, b = rejected_response
            pref = {"a": "chosen_response", "b": "rejected_response"}.get(v.winner, v.winner)
            same = v.winner != "inconsistent"
            prefs.append(pref), consistent.append(same), reasons.append(v.reason or None)
            ok = cfg.keep == "all" or (cfg.keep == "consistent" and same) or (
                cfg.keep == "agree" and pref == "chosen_response")
            keep.append(ok)
            if ok:
                why.append(None)
            elif not same:
                first = {"A": "chosen_response", "B": "rejected_response"}.get(v.order_ab, "tie")
                second = {"A": "rejected_response", "B": "chosen_response"}.get(v.order_ba, "tie")
                why.append(("judge:position_inconsistent",
                            f"order chosen_response-first says {first}, rejected_response-first says {second}"))
            else:
                why.append(("judge:disagrees_with_label", f"judge prefers {pref} in both orders: {v.reason}"))
        out = df.with_columns(
            pl.Series("judge_preferred", prefs, dtype=pl.String), pl.Series("judge_consistent", consistent, dtype=pl.Boolean),
            pl.Series("judge_reason", reasons, dtype=pl.String), pl.Series("judge_raw", raws, dtype=pl.String))
        judged = [c for c in consistent if c is not None]
        stats = {"rows": df.height, "mode": "pairwise", "judged": len(judged), "consistent": sum(judged),
                 "position_consistency_rate": round(sum(judged) / len(judged), 4) if judged else None,
                 "agree_with_label": sum(1 for p in prefs if p == "chosen_response"), **self.take_usage()}
        out = records.append_lineage(out, self.name, self._lineage(asked.lineage))
        return self._result(out, keep, why, stats)
