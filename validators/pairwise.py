"""The pairwise AI judge: which of two responses is better, asked twice with the order swapped.

Judges favour whichever answer comes first (position bias) often enough that one verdict is noise, so
every pair is asked as (a, b) and as (b, a), and a winner counts only when both orders name the same
response. Used by the judge stage (mode pairwise, on preference rows) and by preference-pairs (on
generated responses); the prompt is theirs to choose, the reading (parse.parse_winner) is one.

Not here: what a stage keeps or rejects given the verdicts (each stage says that).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsforge.pipelines.llm.config import BackendConfig, SamplingParams
from dsforge.pipelines.llm.parse import parse_winner
from dsforge.pipelines.llm.task import Asked, LLMStage, Output, PromptTemplate, Unusable, user
from dsforge.pipelines.core.stage import StageContext


@dataclass
class PairVerdict:
    """Both readings of one pair. `winner`: "a", "b", "tie" (both orders say tie) or "inconsistent" (the
    orders disagree); None when a reply failed or could not be read (`problem` says which)."""

    order_ab: str | None  # "A", "B" or "tie" as the judge wrote it with a first
    order_ba: str | None  # the same with b first
    winner: str | None
    reason: str
    outputs: tuple[Output, Output]

    @property
    def problem(self) -> tuple[str, str] | None:
        return next((o.problem for o in self.outputs if not o.ok), None)

    @property
    def raw(self) -> str:
        return f"[order a,b]\n{self.outputs[0].raw}\n[order b,a]\n{self.outputs[1].raw}"


def _winner(text: str, item) -> tuple[str, str]:
    verdict, reason = parse_winner(text)
    if verdict is None:
        raise Unusable("unparsable", f"could not read a winner (A, B or tie) from: {text[:300]!r}")
    return verdict, reason


def judge_pairs(stage: LLMStage, ctx: StageContext, pairs: list[tuple[str, str, str]], *, template: str,
                params: SamplingParams | None = None, key: str = "backend", model: BackendConfig | None = None,
                system: PromptTemplate | None = None, rubric: str | None = None) -> tuple[list[PairVerdict], Asked]:
    """A verdict per (prompt, a, b), from two calls each; and the Asked (lineage, template) of the calls.

    The template gets `prompt`, `a`, `b` (and `rubric` when given); `system` is an optional system prompt."""
    items = [(p, x, y) for p, a, b in pairs for x, y in ((a, b), (b, a))]
    extra = {} if rubric is None else {"rubric": rubric}

    def messages(item, t: PromptTemplate):
        p, x, y = item
        return user(t.render(prompt=p, a=x, b=y, **extra), system=system.render() if system else None)

    asked = stage.ask(ctx, items, template=template, format_input=messages, parse_output=_winner, params=params,
                      n=1, key=key, model=model, desc="judge")
    verdicts = []
    for i in range(len(pairs)):
        o1, o2 = asked.answers[2 * i].first, asked.answers[2 * i + 1].first
        if not (o1.ok and o2.ok):
            verdicts.append(PairVerdict(None, None, None, "", (o1, o2)))
            continue
        (v1, r1), (v2, r2) = o1.value, o2.value
        w1 = {"A": "a", "B": "b"}.get(v1, "tie")
        w2 = {"A": "b", "B": "a"}.get(v2, "tie")  # second order: A is b
        verdicts.append(PairVerdict(v1, v2, w1 if w1 == w2 else "inconsistent", r1 or r2, (o1, o2)))
    return verdicts, asked
