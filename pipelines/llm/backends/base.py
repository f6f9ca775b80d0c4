"""What every backend shares: requests are (conversation, completion index) pairs, usage is counted once.

A backend implements `run_requests(requests, params, on_done)`; `generate` (the public seam) expands each
conversation into `params.n` requests and regroups the answers. Completion i of a conversation is sampled
with seed `params.seed + i`, so each completion is reproducible on its own and can be cached on its own
(llm/cache.py calls `run_requests` with only the requests it has no answer for).
`on_done(position, generation)` is called as soon as a request finishes, so the cache can keep it even
if a later request in the same batch crashes the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsforge.pipelines.llm.config import BackendConfig, SamplingParams
from dsforge.pipelines.llm.generation import Generation, Messages, UsageCounter

OnDone = Callable[[int, Generation], None]


@dataclass(frozen=True)
class Request:
    messages: Messages
    index: int = 0  # completion index within the conversation (0 .. n-1)

    def seed(self, params: SamplingParams) -> int | None:
        return None if params.seed is None else params.seed + self.index


class BaseBackend:
    name = "base"

    def __init__(self, config: BackendConfig):
        self.config = config
        self.model_id = config.model
        self.usage = UsageCounter()
        self._warned: set[str] = set()

    @property
    def requests_per_call(self) -> int | None:
        """How many requests this backend wants in one `run_requests` call; None = all of them.

        Each engine decides how many it runs at once *inside* a call (transformers: `batch_size` rows per
        `generate`, after sorting all of them by length; openai: `concurrency` in flight; vllm: all, its
        scheduler batches them), so the default is None: callers hand over everything and chunk nothing."""
        return None

    # ---- the public seam
    def generate(self, conversations: list[Messages], params: SamplingParams,
                 on_done: OnDone | None = None) -> list[list[Generation]]:
        """`on_done(position, generation)` per finished request (position in the conversations x n list)."""
        requests = [Request(c, i) for c in conversations for i in range(params.n)]
        flat = self.run_requests(requests, params, on_done)
        return [flat[k * params.n:(k + 1) * params.n] for k in range(len(conversations))]

    def run_requests(self, requests: list[Request], params: SamplingParams,
                     on_done: OnDone | None = None) -> list[Generation]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id}

    def cache_identity(self) -> dict[str, Any]:
        """What, besides messages and params, decides an answer (part of the cache key)."""
        return {"backend": self.name, "model": self.model_id}

    def close(self) -> None:
        """Free the engine (weights, KV cache, connections). Stages call it from their own `close()`."""

    # ---- shared bookkeeping
    def account(self, generations: list[Generation], seconds: float) -> None:
        """Count fresh (not cached) generations: calls, tokens, estimated cost, time."""
        u = self.usage
        u.calls += len(generations)
        p = sum(g.prompt_tokens for g in generations)
        c = sum(g.completion_tokens for g in generations)
        u.prompt_tokens += p
        u.completion_tokens += c
        u.cost_usd += (p * self.config.price_per_million_input + c * self.config.price_per_million_output) / 1e6
        u.seconds += seconds
        errors = sum(g.finish_reason == "error" for g in generations)
        if errors:
            u.extra["errors"] = u.extra.get("errors", 0) + errors

    def warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            import logging

            logging.getLogger("dsforge").warning("%s backend: %s", self.name, message)
            self.usage.extra.setdefault("warnings", []).append(message)


def timer() -> Callable[[], float]:
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
