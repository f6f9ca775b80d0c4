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

from dsforge.pipelines.stage import StageContext, StageResult
from dsforge.synth.common import (
    SynthConfig, SynthStage, error_text, input_rows, is_error, load_template, new_row, prompt_of, reject_row,
    rejects_frame, row_meta, rows_frame, strip_text, user,
)
from dsforge.synth.llm import BackendConfig, SamplingParams


class DialogueConfig(SynthConfig):
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


class Dialogue(SynthStage[DialogueConfig]):
    """Simulate multi-turn user/assistant conversations from seed instructions or topics."""

    name = "dialogue"
    creates_rows = True
    Config = DialogueConfig
    batch_size = 32

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        user_t = load_template(cfg.user_template, ctx.base_dir)
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

        for _ in range(2 * cfg.turns[1] + 1):
            # assistant turns
            todo = live("assistant")
            if todo:
                gens = self.generate(ctx, [self._assistant_view(c["messages"]) for c in todo], desc="assistant turns")
                for c, outs in zip(todo, gens):
                    self._take(c, "assistant", outs[0], strip_text(outs[0].text), cfg.allow_truncated)
            # user turns
            todo = live("user")
            if todo:
                gens = self.generate(ctx, [user(user_t.render(topic=c["topic"], messages=c["messages"]))
                                           for c in todo], user_params, "user_backend", cfg.user_model,
                                     desc="user turns")
                for c, outs in zip(todo, gens):
                    text = re.sub(r"^\s*(User|Human)\s*:\s*", "", outs[0].text or "", flags=re.I)
                    self._take(c, "user", outs[0], strip_text(text), cfg.allow_truncated)
            if not live("assistant") and not live("user"):
                break
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

    @staticmethod
    def _take(c: dict[str, Any], role: str, g, text: str, allow_truncated: bool) -> None:
        turn = len(c["messages"]) + 1
        if is_error(g):
            c["problem"] = ("llm_error", f"{role} turn {turn}: {error_text(g)}", g.text)
        elif not text:
            c["problem"] = ("empty_turn", f"{role} turn {turn} is empty", g.text)
        elif g.finish_reason == "length" and not allow_truncated:
            c["problem"] = ("truncated", f"{role} turn {turn} hit max_tokens", g.text)
        elif role == "user" and re.match(r"^\s*assistant\s*:", text, re.I):
            c["problem"] = ("role_confusion", f"user turn {turn} speaks as the assistant", g.text)
        else:
            c["messages"].append({"role": role, "content": text})


def _next_role(c: dict[str, Any]) -> str | None:
    msgs = c["messages"]
    if not msgs:
        return "user"
    if msgs[-1]["role"] == "user":
        return "assistant"
    users = sum(m["role"] == "user" for m in msgs)
    return "user" if users < c["want"] else None
