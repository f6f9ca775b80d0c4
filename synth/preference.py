"""preference-pairs: several responses per prompt, a pairwise AI judge asked twice with the order swapped, and
a (prompt, chosen, rejected) row only when both verdicts agree (NVIDIA Nemotron-4 practice).

AI judges prefer whichever answer comes first (position bias) often enough that a single verdict is noise.
Asking twice, A/B then B/A, and keeping the pair only when the same response wins both times removes most of
that noise. Responses come from `model` with `responses` completions per prompt (use temperature > 0 so they
differ); the judge is `judge` (default: the same model) with its own sampling (default greedy).

Kept rows are kind `preference` with instruction/input from the prompt row, `chosen`, `rejected`, and lineage
holding both raw verdicts. Rejected: `identical_responses`, `unparsed_verdict`, `tie`, `inconsistent`
(position bias: A won both times), each with the judge's raw text. Not here: reward-model scoring of single
responses (validators/) or a prompt's existing response as a candidate (use `include_existing`).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines.stage import StageContext, StageResult
from dsforge.synth.common import (
    SynthConfig, SynthStage, error_text, input_rows, is_error, load_template, new_row, prompt_of, reject_row,
    rejects_frame, row_meta, rows_frame, strip_text, user,
)
from dsforge.synth.llm import BackendConfig, SamplingParams

_VERDICT = re.compile(r"verdict\s*[:=]?\s*\**\s*\[*\s*(A|B|tie)\b", re.I)


def parse_verdict(text: str) -> str | None:
    """'A', 'B' or 'tie' from the last "Verdict: X" (or a bare A/B/tie on the last line); None if absent."""
    found = _VERDICT.findall(text or "")
    if found:
        v = found[-1]
        return "tie" if v.lower() == "tie" else v.upper()
    lines = [ln.strip().strip("[]*.") for ln in (text or "").strip().splitlines() if ln.strip()]
    if lines and lines[-1].upper() in ("A", "B", "TIE"):
        return "tie" if lines[-1].upper() == "TIE" else lines[-1].upper()
    return None


class PreferencePairsConfig(SynthConfig):
    responses: int = Field(2, ge=2, description="responses generated per prompt")
    include_existing: bool = Field(False, description="also use the row's own response as a candidate")
    max_pairs: int = Field(1, ge=1, description="pairs judged per prompt (of all response pairs)")
    judge: BackendConfig | None = Field(None, description="judge model (default: the same as `model`)")
    judge_sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=256))
    respond_template: str = "respond_v1"
    judge_template: str = "pairwise_judge_v1"
    source: str | None = None


class PreferencePairs(SynthStage[PreferencePairsConfig]):
    """Generate responses, judge pairs in both orders, keep (prompt, chosen, rejected) when verdicts agree."""

    name = "preference-pairs"
    creates_rows = True
    Config = PreferencePairsConfig
    batch_size = 32

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        resp_t = load_template(cfg.respond_template, ctx.base_dir)
        judge_t = load_template(cfg.judge_template, ctx.base_dir)
        params = cfg.sampling.model_copy(update={"n": cfg.responses})
        rows = [r for r in input_rows(df) if prompt_of(r).strip()]
        rejected: list[dict[str, Any]] = [
            reject_row(dict(r), self.name, "no_prompt", f"{r['id']}: empty prompt")
            for r in input_rows(df) if not prompt_of(r).strip()]
        convs = [user(resp_t.render(instruction=prompt_of(r), input="")) if r.get("kind") != "conversation"
                 else [m for m in r["messages"] if m["role"] != "assistant"][:1] for r in rows]
        gens = self.generate(ctx, convs, params, desc="responses")
        jobs = []  # (row, a, b)
        for r, outs in zip(rows, gens):
            cands = [strip_text(g.text) for g in outs if not is_error(g) and strip_text(g.text)
                     and g.finish_reason != "length"]
            if cfg.include_existing and (r.get("response") or "").strip():
                cands.append(r["response"].strip())
            uniq = list(dict.fromkeys(cands))
            base = {**{k: r.get(k) for k in ("instruction", "input", "lineage")}, "id": f"{r['id']}:pref",
                    "source": cfg.source or r["source"], "kind": "preference"}
            if len(uniq) < 2:
                why = "identical_responses" if cands else "no_responses"
                raw = "\n---\n".join(g.text if not is_error(g) else error_text(g) for g in outs)
                rejected.append(reject_row(base, self.name, why, f"{r['id']}: {len(uniq)} distinct usable "
                                           f"responses of {len(outs)} (need 2; truncated ones are not used)", raw))
                continue
            for k, (a, b) in enumerate(itertools.islice(itertools.combinations(uniq, 2), cfg.max_pairs)):
                jobs.append((r, base, k, a, b))
        judge_convs = []
        for r, _, _, a, b in jobs:
            judge_convs.append(user(judge_t.render(prompt=prompt_of(r), a=a, b=b)))
            judge_convs.append(user(judge_t.render(prompt=prompt_of(r), a=b, b=a)))
        verdicts = self.generate(ctx, judge_convs, cfg.judge_sampling, "judge_backend", cfg.judge, desc="judge")
        info = {**self.lineage_base(ctx, resp_t, params),
                "judge": self.lineage_base(ctx, judge_t, cfg.judge_sampling, "judge_backend", cfg.judge)}
        kept = []
        counts = {"pairs_judged": len(jobs), "agreed": 0, "inconsistent": 0, "tie": 0, "unparsed": 0}
        for j, (r, base, k, a, b) in enumerate(jobs):
            g1, g2 = verdicts[2 * j][0], verdicts[2 * j + 1][0]
            v1, v2 = parse_verdict(g1.text), parse_verdict(g2.text)  # v2 is about (b, a)
            raw = f"[order a,b]\n{g1.text if not is_error(g1) else error_text(g1)}\n[order b,a]\n" \
                  f"{g2.text if not is_error(g2) else error_text(g2)}"
            row = {**base, "id": f"{base['id']}{k}", "chosen": a, "rejected": b}
            if v1 is None or v2 is None:
                counts["unparsed"] += 1
                rejected.append(reject_row(row, self.name, "unparsed_verdict",
                                           f"{r['id']} pair {k}: no 'Verdict: A/B/tie' (got {v1}, {v2})", raw))
                continue
            # Map both verdicts to which response won: first order A=a, second order A=b.
            w1 = {"A": "a", "B": "b"}.get(v1, "tie")
            w2 = {"A": "b", "B": "a"}.get(v2, "tie")
            if w1 == "tie" and w2 == "tie":
                counts["tie"] += 1
                rejected.append(reject_row(row, self.name, "tie", f"{r['id']} pair {k}: both verdicts are ties", raw))
                continue
            if w1 != w2:
                counts["inconsistent"] += 1
                rejected.append(reject_row(row, self.name, "inconsistent",
                                           f"{r['id']} pair {k}: verdicts disagree when the order is swapped "
                                           f"(a,b -> {v1}; b,a -> {v2})", raw))
                continue
            counts["agreed"] += 1
            chosen, rej = (a, b) if w1 == "a" else (b, a)
            kept.append(new_row(id=row["id"], source=row["source"], kind="preference", stage=self.name,
                                info={**info, "sources": [r["id"]],
                                      "verdicts": {"order_ab": v1, "order_ba": v2, "winner": w1}},
                                parent_lineage=r.get("lineage"), metadata={**row_meta(r), "prompt_row": r["id"]},
                                instruction=r.get("instruction") or prompt_of(r), input=r.get("input") or "",
                                chosen=chosen, rejected=rej))
        stats = {"prompts": len(rows), **counts, **self.take_usage()}
        return self.account_sources(df, StageResult(kept=rows_frame(kept), rejected=rejects_frame(rejected),
                                                    stats=stats))
