"""dialogue: multi-turn conversations between a simulated user and an assistant (UltraChat, Ding et al. 2023).

Each input row seeds one conversation: an instruction row's prompt is the first user turn; a document row's
text (or a `topic` in metadata) is a topic, and the simulated user writes the opener. Then the assistant
answers (the plain conversation goes to the model), and the simulated user (the same or another model,
prompted with prompts/dialogue_user_v1.jinja and the transcript) writes the next turn, until the row's
number of user turns, drawn per row from `turns` = [min, max] with the run's seed. All rows advance turn by
turn together, so each turn is one batched call.

A conversation with an empty, failed or cut-off turn, or a user turn that echoes the assistant's labels, is
rejected with the transcript so far and the raw text. Not here: UltraChat's post-filtering of dialogues.
"""

from __future__ import annotations

import random
import re
from typing import Any

import polars as pl
from pydantic import Field, field_validator

from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.llm.config import BackendConfig, SamplingParams
from dsforge.pipelines.llm.parse import strip_text
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, Output, PromptTemplate, Unusable, user
from dsforge.pipelines.core.row_text import prompt_of
from dsforge.pipelines.core.stage import StageContext, StageResult


class DialogueConfig(LLMConfig):
    turns: list[int] = Field(default_factory=lambda: [2, 3], description="[min, max] user turns per conversation")
    system: str | None = Field(None, description="system prompt of the assistant (recorded in messages)")
    user_model: BackendConfig | None = Field(None, description="model playing the user (default: `model`)")
    user_sampling: SamplingParams | None = Field(None, description="sampling of the user model (default: `sampling`)")
    allow_truncated: bool = Field(False, description="keep turns cut off by max_tokens (else reject the dialogue)")
    user_template: str = "dialogue_user_v1"
    source: str = "dialogue"

    @field_validator("turns")
    @classmethod
    def _range(cls, v: list[int]) -> list[int]:
        if len(v) != 2 or not 1 <= v[0] <= v[1]:
            raise ValueError("turns must be [min, max] with 1 <= min <= max")
        return v


class Dialogue(LLMStage[DialogueConfig]):
    """Simulate multi-turn user/assistant conversations from seed instructions or topics."""

    name = "dialogue"
    mode = "rows"
    creates_rows = True
    Config = DialogueConfig
    batch_size = 32

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        user_params = cfg.user_sampling or cfg.sampling
        rows = input_rows(df)
        rng = random.Random(f"{ctx.seed}:{rows[0]['id'] if rows else ''}")
        convs: list[dict[str, Any]] = []
        for r in rows:
            topic = row_meta(r).get("topic") or (r.get("text") if r.get("kind") == "document" else None)
            opener = None if r.get("kind") == "document" else prompt_of(r).strip() or None
            convs.append({"row": r, "topic": (topic or "")[:300], "want": rng.randint(*cfg.turns),
                          "messages": [{"role": "user", "content": opener}] if opener else [],
                          "problem": None})
        rejected: list[dict[str, Any]] = []

        def live(need_role: str) -> list[dict[str, Any]]:
            return [c for c in convs if c["problem"] is None and _next_role(c) == need_role]

        truncated = "keep" if cfg.allow_truncated else "reject"
        for _ in range(2 * cfg.turns[1] + 1):
            # assistant turns: the plain conversation, no prompt file
            todo = live("assistant")
            if todo:
                asked = self.ask(ctx, todo, template=None, truncated=truncated, desc="assistant turns",
                                 format_input=lambda c, _t: self._assistant_view(c["messages"]),
                                 parse_output=_assistant_turn)
                for c, answer in zip(todo, asked):
                    _take(c, "assistant", answer.first)
            # user turns
            todo = live("user")
            if todo:
                asked = self.ask(ctx, todo, template=cfg.user_template, params=user_params, key="user_backend",
                                 model=cfg.user_model, truncated=truncated, desc="user turns", parse_output=_user_turn)
                for c, answer in zip(todo, asked):
                    _take(c, "user", answer.first)
            if not live("assistant") and not live("user"):
                break
        user_t = load_template(cfg.user_template, ctx.base_dir)
        info = {**self.lineage_base(ctx), "user_template": user_t.lineage(),
                "user_backend": self.backend(ctx, "user_backend", cfg.user_model).describe()
                if cfg.user_model or "user_backend" in ctx.extras else "same as backend",
                "user_sampling": user_params.model_dump(mode="json", exclude_none=True)}
        kept = []
        for i, c in enumerate(convs):
            r = c["row"]
            msgs = ([{"role": "system", "content": cfg.system}] if cfg.system else []) + c["messages"]
            base = {"id": f"{r['id']}:dialogue", "source": cfg.source, "kind": "conversation", "messages": msgs,
                    "lineage": r.get("lineage")}
            if c["problem"]:
                rejected.append(reject_row(base, self.name, c["problem"][0], f"{r['id']}: {c['problem'][1]}",
                                           c["problem"][2]))
                continue
            kept.append(new_row(id=base["id"], source=cfg.source, kind="conversation", stage=self.name,
                                info={**info, "sources": [r["id"]], "user_turns": c["want"]},
                                parent_lineage=r.get("lineage"), metadata={**row_meta(r), "seed_row": r["id"],
                                                                           "topic": c["topic"] or None},
                                messages=msgs))
        stats = {"conversations": len(kept), "turn_range": cfg.turns, **self.take_usage()}
        return self.account_sources(df, StageResult(kept=rows_frame(kept), rejected=rejects_frame(rejected),
                                                    stats=stats))

    def _assistant_view(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        sys = [{"role": "system", "content": self.config.system}] if self.config.system else []
        return sys + messages

    def format_input(self, c: dict[str, Any], template: PromptTemplate) -> Messages:
        """The simulated user's prompt: the topic and the transcript so far."""
        return user(template.render(topic=c["topic"], messages=c["messages"]))


def _assistant_turn(text: str, c: Any) -> str:
    turn = strip_text(text)
    if not turn:
        raise Unusable("empty_turn", "the turn is empty")
    return turn


def _user_turn(text: str, c: Any) -> str:
    turn = _assistant_turn(re.sub(r"^\s*(User|Human)\s*:\s*", "", text or "", flags=re.I), c)
    if re.match(r"^\s*assistant\s*:", turn, re.I):
        raise Unusable("role_confusion", "the user turn speaks as the assistant")
    return turn


def _take(c: dict[str, Any], role: str, out: Output) -> None:
    """Append a usable turn, or mark the conversation failed with the reason and the raw text."""
    if out.ok:
        c["messages"].append({"role": role, "content": out.value})
    else:
        c["problem"] = (out.problem[0], f"{role} turn {len(c['messages']) + 1}: {out.problem[1]}", out.raw)


def _next_role(c: dict[str, Any]) -> str | None:
    msgs = c["messages"]
    if not msgs:
        return "user"
    if msgs[-1]["role"] == "user":
        return "assistant"
    users = sum(m["role"] == "user" for m in msgs)
    return "user" if users < c["want"] else None
