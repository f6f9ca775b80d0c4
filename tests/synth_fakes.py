"""A scripted LLM backend for synthesis tests: answers come from a function of the prompt, so parsing,
filters, lineage and rejects can be checked against known answers without a model."""

from __future__ import annotations

from typing import Any, Callable

from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.seam import Generation, UsageCounter


class ScriptedBackend:
    """Implements the seam.Backend protocol. `script(prompt, messages, index)` returns the text (or a
    Generation, or raises to simulate a failing call); `index` counts completions of one conversation."""

    name = "scripted"

    def __init__(self, script: Callable[[str, list[dict[str, str]], int], Any], model_id: str = "scripted-1",
                 requests_per_call: int | None = None):
        self.script = script
        self.requests_per_call = requests_per_call  # as a real backend declares it (None: all in one call)
        self.model_id = model_id
        self.usage = UsageCounter()
        self.prompts: list[str] = []
        self.conversations: list[list[dict[str, str]]] = []

    def generate(self, conversations, params: SamplingParams):
        out = []
        for conv in conversations:
            prompt = conv[-1]["content"]
            self.prompts.append(prompt)
            self.conversations.append(conv)
            gens = []
            for i in range(params.n):
                r = self.script(prompt, conv, i)
                if isinstance(r, Generation):
                    gens.append(r)
                else:
                    gens.append(Generation(r, "stop", len(prompt.split()), len(r.split()), self.model_id))
                self.usage.calls += 1
            out.append(gens)
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": "scripted", "model": self.model_id}
