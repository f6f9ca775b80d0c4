"""The `replay` backend: answers each conversation with a reply recorded earlier, from a JSONL file.

Each line is {"prompt": <the conversation's last user message>, "reply": <the text>}. A prompt with no
recorded reply fails that request (the stage rejects the row as llm_error), never a made-up answer. Useful
to re-run a recipe offline and deterministically on answers a real model gave once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field

from dsforge.pipelines.llm.backends.base import BaseBackend, OnDone, Request, timer
from dsforge.pipelines.llm.config import BackendFields, SamplingParams
from dsforge.pipelines.llm.generation import Generation


class ReplayConfig(BackendFields):
    backend: Literal["replay"] = "replay"
    model: str = Field("replay", description="the name lineage records for these answers")
    answers: str = Field(description="JSONL file of {prompt, reply} (absolute, or relative to the working folder)")


class ReplayBackend(BaseBackend):
    name = "replay"
    Config = ReplayConfig

    def __init__(self, config: ReplayConfig):
        super().__init__(config)
        path = Path(config.answers).expanduser()
        self.replies: dict[str, str] = {}
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                        self.replies[row["prompt"]] = row["reply"]
                    except (ValueError, KeyError, TypeError) as e:
                        raise ValueError(f"{path}: line {n}: expected {{\"prompt\": ..., \"reply\": ...}} ({e})") from None

    def run_requests(self, requests: list[Request], params: SamplingParams,
                     on_done: OnDone | None = None) -> list[Generation]:
        elapsed, out = timer(), []
        for pos, r in enumerate(requests):
            prompt = next((m["content"] for m in reversed(r.messages) if m["role"] == "user"), "")
            reply = self.replies.get(prompt)
            if reply is None:
                g = Generation("", "error", 0, 0, self.model_id, error="no recorded reply for this prompt")
            else:
                g = Generation(reply, "stop", len(prompt.split()), len(reply.split()), self.model_id)
            out.append(g)
            if on_done is not None:
                on_done(pos, g)
        self.account(out, elapsed())
        return out

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "model": self.model_id, "answers": Path(self.config.answers).name}
