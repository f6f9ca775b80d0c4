"""Answering generated instructions: the second step of self-instruct (`respond: separate`), topic-tree and
paraphrase (`response: regenerate`), with the shipped `respond_v1` prompt or the stage's own.

Not here: judging the answers (validators/), or answering conversations turn by turn (dialogue.py).
"""

from __future__ import annotations

from typing import Any

from dsforge.pipelines.core.generated import add_to_lineage
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.prompt import PromptTemplate
from dsforge.pipelines.llm.task import LLMStage, Unusable, user
from dsforge.pipelines.core.stage import StageContext


def respond_input(row: dict[str, Any], template: PromptTemplate):
    return user(template.render(instruction=row["instruction"], input=row.get("input") or ""))


def non_empty(text: str, row: dict[str, Any]) -> str:
    if not text.strip():
        raise Unusable("empty_response", "the model wrote no response")
    return text.strip()


def answer_instructions(stage: LLMStage, ctx: StageContext, rows: list[dict[str, Any]], rejected: list[dict[str, Any]],
                        template_id: str, params: SamplingParams | None = None) -> list[dict[str, Any]]:
    """Fill `response` of each row (one answer per row) and add the template to its lineage; rows the model
    leaves empty, or whose call failed, go to `rejected` with the raw text."""
    asked = stage.ask(ctx, rows, template=template_id, format_input=respond_input, parse_output=non_empty,
                      params=params, n=1, desc="responses")
    out = []
    for row, answer in zip(rows, asked):
        o = answer.first
        if not o.ok:
            rejected.append(stage.reject_output(row, o, f"{row['id']}: no response"))
            continue
        row["response"] = o.value
        add_to_lineage(row, respond_template=asked.template.lineage())
        out.append(row)
    return out
