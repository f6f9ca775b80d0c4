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

from dsforge.pipelines.core import records
from dsforge.pipelines.core.generated import input_rows, new_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.llm.parse import first_paragraph
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, PromptTemplate, Unusable, user
from dsforge.pipelines.core.stage import StageContext, StageResult
from dsforge.synth.respond import answer_instructions
from dsforge.synth.similarity import rouge_l


class ParaphraseConfig(LLMConfig):
    n: int = Field(2, ge=1, description="rewrites asked for per instruction")
    response: Literal["keep", "regenerate"] = Field("keep", description="keep the original response or answer anew")
    max_similarity: float = Field(0.95, gt=0, le=1, description="reject rewrites with ROUGE-L >= this vs the original")
    keep_originals: bool = True
    template: str = "paraphrase_v1"
    respond_template: str = "respond_v1"


class Paraphrase(LLMStage[ParaphraseConfig]):
    """n rephrasings of each instruction; near copies and truncated rewrites are rejected."""

    name = "paraphrase"
    mode = "rows"
    creates_rows = True
    Config = ParaphraseConfig
    batch_size = 64

    def format_input(self, row: dict[str, Any], template: PromptTemplate) -> Messages:
        return user(template.render(text=row["instruction"]))

    def parse_output(self, text: str, row: dict[str, Any]) -> str:
        rewrite = first_paragraph(text, ["Rephrased request:", "Rephrased question:", "Request:"])
        if not rewrite:
            raise Unusable("empty", "the model returned no rewrite")
        return rewrite

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        src = [r for r in input_rows(df) if (r.get("instruction") or "").strip()]
        asked = self.ask(ctx, src, template=cfg.template, n=cfg.n, truncated="reject")
        rows: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        for row, answer in zip(src, asked):
            seen = {row["instruction"].strip().lower()}
            for j, out in enumerate(answer.outputs):
                new_id = f"{row['id']}:para{j}"
                text = out.value or ""
                base = {**{k: row.get(k) for k in ("source", "kind", "input", "response")}, "id": new_id,
                        "instruction": text, "lineage": row.get("lineage")}
                if out.ok and text.lower() in seen:
                    out.problem = ("duplicate", "identical to the original or to another rewrite of it")
                elif out.ok and (sim := rouge_l(text, row["instruction"])) >= cfg.max_similarity:
                    out.problem = ("too_similar", f"ROUGE-L {sim:.2f} >= {cfg.max_similarity} vs the original")
                if not out.ok:
                    rejected.append(self.reject_output(base, out, f"rewrite {j} of {row['id']}"))
                    continue
                seen.add(text.lower())
                meta = {**row_meta(row), "paraphrase_of": row["id"]}
                rows.append(new_row(id=new_id, source=row["source"], kind="instruction", stage=self.name,
                                    info={**asked.lineage, "sources": [row["id"]], "rouge_l": round(sim, 4)},
                                    parent_lineage=row.get("lineage"), metadata=meta, instruction=text,
                                    input=row.get("input") or "", response=row.get("response")))
        if cfg.response == "regenerate" and rows:
            rows = answer_instructions(self, ctx, rows, rejected, cfg.respond_template)
        out = rows_frame(rows)
        stats = {"rewrites_asked": len(src) * cfg.n, "rewrites_kept": len(rows)}
        return self.account_sources(df, StageResult(kept=records.concat([df, out]) if cfg.keep_originals else out,
                                                    rejected=rejects_frame(rejected),
                                                    stats={**stats, **self.take_usage()}))
