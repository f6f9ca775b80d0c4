"""preference-pairs: several responses per prompt, a pairwise AI judge asked twice with the order swapped, and
a (prompt, chosen_response, rejected_response) row only when both verdicts agree (NVIDIA Nemotron-4 practice).

AI judges prefer whichever answer comes first (position bias) often enough that a single verdict is noise.
Asking twice, A/B then B/A, and keeping the pair only when the same response wins both times removes most of
that noise. Responses come from `model` with `responses` completions per prompt (use temperature > 0 so they
differ); the judge is `judge` (default: the same model) with its own sampling (default greedy).

Kept rows are kind `preference` with instruction/input from the prompt row, `chosen_response`,
`rejected_response`, and lineage holding both raw verdicts. Rejected: `identical_responses`,
`unparsed_verdict`, `tie`, `inconsistent` (position bias: A won both times), each with the judge's raw text.
Not here: reward-model scoring of single responses (validators/) or a prompt's existing response as a
candidate (use `include_existing`).
"""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.llm.config import BackendConfig, SamplingParams
from dsforge.pipelines.llm.parse import strip_text
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, PromptTemplate, Unusable, user
from dsforge.pipelines.core.row_text import prompt_of
from dsforge.pipelines.core.stage import StageContext, StageResult
from dsforge.validators.pairwise import judge_pairs

class PreferencePairsConfig(LLMConfig):
    responses: int = Field(2, ge=2, description="responses generated per prompt")
    include_existing: bool = Field(False, description="also use the row's own response as a candidate")
    max_pairs: int = Field(1, ge=1, description="pairs judged per prompt (of all response pairs)")
    judge: BackendConfig | None = Field(None, description="judge model (default: the same as `model`)")
    judge_sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=256))
    respond_template: str = "respond_v1"
    judge_template: str = "pairwise_judge_v1"
    source: str | None = None


class PreferencePairs(LLMStage[PreferencePairsConfig]):
    """Generate responses, judge pairs in both orders, keep (prompt, chosen_response, rejected_response) when
    the verdicts agree."""

    name = "preference-pairs"
    mode = "rows"
    creates_rows = True
    Config = PreferencePairsConfig
    batch_size = 32

    def format_input(self, row: dict[str, Any], template: PromptTemplate) -> Messages:
        """The prompt as the user asked it: the instruction through the respond template, or a conversation's
        first user turn as it is."""
        if row.get("kind") == "conversation":
            return [m for m in row["messages"] if m["role"] != "assistant"][:1]
        return user(template.render(instruction=prompt_of(row), input=""))

    def parse_output(self, text: str, row: dict[str, Any]) -> str:
        response = strip_text(text)
        if not response:
            raise Unusable("empty", "the model wrote no response")
        return response

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        rows = [r for r in input_rows(df) if prompt_of(r).strip()]
        rejected: list[dict[str, Any]] = [
            reject_row(dict(r), self.name, "no_prompt", f"{r['id']}: empty prompt")
            for r in input_rows(df) if not prompt_of(r).strip()]
        responses = self.ask(ctx, rows, template=cfg.respond_template, n=cfg.responses, truncated="reject",
                             desc="responses")
        jobs = []  # (row, base, k, a, b)
        for r, answer in zip(rows, responses):
            cands = [o.value for o in answer.usable]
            if cfg.include_existing and (r.get("response") or "").strip():
                cands.append(r["response"].strip())
            uniq = list(dict.fromkeys(cands))
            base = {**{k: r.get(k) for k in ("instruction", "input", "lineage")}, "id": f"{r['id']}:pref",
                    "source": cfg.source or r["source"], "kind": "preference"}
            if len(uniq) < 2:
                why = "identical_responses" if cands else "no_responses"
                raw = "\n---\n".join(o.raw for o in answer.outputs)
                rejected.append(reject_row(base, self.name, why, f"{r['id']}: {len(uniq)} distinct usable "
                                           f"responses of {len(answer.outputs)} (need 2; truncated ones are not used)",
                                           raw))
                continue
            for k, (a, b) in enumerate(itertools.islice(itertools.combinations(uniq, 2), cfg.max_pairs)):
                jobs.append((r, base, k, a, b))
        verdicts, judged = judge_pairs(self, ctx, [(prompt_of(r), a, b) for r, _, _, a, b in jobs],
                                       template=cfg.judge_template, params=cfg.judge_sampling, key="judge_backend",
                                       model=cfg.judge)
        info = {**responses.lineage, "judge": judged.lineage}
        kept = []
        counts = {"pairs_judged": len(jobs), "agreed": 0, "inconsistent": 0, "tie": 0, "unparsed": 0}
        for (r, base, k, a, b), v in zip(jobs, verdicts):
            row = {**base, "id": f"{base['id']}{k}", "chosen_response": a, "rejected_response": b}
            where = f"{r['id']} pair {k}"
            if v.winner is None:
                reason = "unparsed_verdict" if v.problem[0] == "unparsable" else v.problem[0]
                counts["unparsed"] += int(reason == "unparsed_verdict")
                rejected.append(reject_row(row, self.name, reason, f"{where}: {v.problem[1]}", v.raw))
            elif v.winner == "tie":
                counts["tie"] += 1
                rejected.append(reject_row(row, self.name, "tie", f"{where}: both verdicts are ties", v.raw))
            elif v.winner == "inconsistent":
                counts["inconsistent"] += 1
                rejected.append(reject_row(row, self.name, "inconsistent",
                                           f"{where}: verdicts disagree when the order is swapped "
                                           f"(a,b -> {v.order_ab}; b,a -> {v.order_ba})", v.raw))
            else:
                counts["agreed"] += 1
                chosen, rej = (a, b) if v.winner == "a" else (b, a)
                kept.append(new_row(id=row["id"], source=row["source"], kind="preference", stage=self.name,
                                    info={**info, "sources": [r["id"]],
                                          "verdicts": {"order_ab": v.order_ab, "order_ba": v.order_ba,
                                                       "winner": v.winner}},
                                    parent_lineage=r.get("lineage"), metadata={**row_meta(r), "prompt_row": r["id"]},
                                    instruction=r.get("instruction") or prompt_of(r), input=r.get("input") or "",
                                    chosen_response=chosen, rejected_response=rej))
        stats = {"prompts": len(rows), **counts, **self.take_usage()}
        return self.account_sources(df, StageResult(kept=rows_frame(kept), rejected=rejects_frame(rejected),
                                                    stats=stats))
