"""paraphrase: n rewrites of each instruction (MetaMath-style rephrasing), keeping or regenerating the response.

Rephrasing multiplies prompts without changing what they ask, which teaches a model to be robust to wording
(Yu et al. 2023 rephrase each question and keep its answer). A rewrite is kept only if it is non-empty, was
not cut off by max_tokens, differs from the original, is not a near copy (ROUGE-L >= `max_similarity`) and
is not a duplicate of another rewrite of the same row. The original rows pass through; new rows record their
source row id in lineage and `metadata.paraphrase_of`.

Not here: answer-side augmentation (MetaMath's FOBAR/self-verification) or checking that the meaning was
kept (run an AI judge from validators/ after this stage for that).
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.stage import StageContext, StageResult
from dsforge.synth.common import (
    SynthConfig, SynthStage, error_text, first_paragraph, input_rows, is_error, load_template,
    new_row, reject_row, rejects_frame, rouge_l, row_meta, rows_frame, user,
)


class ParaphraseConfig(SynthConfig):
    n: int = Field(2, ge=1, description="rewrites asked for per instruction")
    response: Literal["keep", "regenerate"] = Field("keep", description="keep the original response or answer anew")
    max_similarity: float = Field(0.95, gt=0, le=1, description="reject rewrites with ROUGE-L >= this vs the original")
    keep_originals: bool = True
    template: str = "paraphrase_v1"
    respond_template: str = "respond_v1"


class Paraphrase(SynthStage[ParaphraseConfig]):
    """n rephrasings of each instruction; near copies and truncated rewrites are rejected."""

    name = "paraphrase"
    creates_rows = True
    Config = ParaphraseConfig
    batch_size = 64

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        template = load_template(cfg.template, ctx.base_dir)
        params = cfg.sampling.model_copy(update={"n": cfg.n})
        src = [r for r in input_rows(df) if (r.get("instruction") or "").strip()]
        gens = self.generate(ctx, [user(template.render(text=r["instruction"])) for r in src], params)
        info = self.lineage_base(ctx, template, params)
        rows: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        for row, outs in zip(src, gens):
            seen = {row["instruction"].strip().lower()}
            for j, g in enumerate(outs):
                new_id = f"{row['id']}:para{j}"
                text = first_paragraph(g.text, ["Rephrased request:", "Rephrased question:", "Request:"])
                base = {**{k: row.get(k) for k in ("source", "kind", "input", "response")}, "id": new_id,
                        "instruction": text, "lineage": row.get("lineage")}
                problem = None
                if is_error(g):
                    problem = ("llm_error", error_text(g))
                elif not text:
                    problem = ("empty", "the model returned no rewrite")
                elif g.finish_reason == "length":
                    problem = ("truncated", "the rewrite hit max_tokens")
                elif text.lower() in seen:
                    problem = ("duplicate", "identical to the original or to another rewrite of it")
                elif (sim := rouge_l(text, row["instruction"])) >= cfg.max_similarity:
                    problem = ("too_similar", f"ROUGE-L {sim:.2f} >= {cfg.max_similarity} vs the original")
                if problem:
                    rejected.append(reject_row(base, self.name, problem[0],
                                               f"rewrite {j} of {row['id']}: {problem[1]}", g.text))
                    continue
                seen.add(text.lower())
                meta = {**row_meta(row), "paraphrase_of": row["id"]}
                rows.append(new_row(id=new_id, source=row["source"], kind="instruction", stage=self.name,
                                    info={**info, "sources": [row["id"]], "rouge_l": round(sim, 4)},
                                    parent_lineage=row.get("lineage"), metadata=meta, instruction=text,
                                    input=row.get("input") or "", response=row.get("response")))
        if cfg.response == "regenerate" and rows:
            rows = self._regenerate(ctx, rows, rejected)
        out = rows_frame(rows)
        stats = {"rewrites_asked": len(src) * cfg.n, "rewrites_kept": len(rows)}
        return self.account_sources(df, StageResult(kept=records.concat([df, out]) if cfg.keep_originals else out,
                                                    rejected=rejects_frame(rejected),
                                                    stats={**stats, **self.take_usage()}))

    def _regenerate(self, ctx: StageContext, rows: list[dict[str, Any]], rejected: list) -> list[dict[str, Any]]:
        return self.answer_instructions(ctx, rows, rejected, self.config.respond_template)
