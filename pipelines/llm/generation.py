"""What a backend returns and counts: `Generation` (one completion), `UsageCounter`, and the `Backend` protocol.

Its own module so that the seam (seam.py), the backends (backends/) and the response cache (cache.py) all
import these types from below them, and none of them imports another in a circle. Not here: opening a
backend or running many rows (seam.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from dsforge.pipelines.llm.config import SamplingParams

Messages = list[dict[str, str]]


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop", "length", "error", ...
    prompt_tokens: int
    completion_tokens: int
    model: str
    cached: bool = False
    error: str | None = None  # set when finish_reason == "error" (the row failed after all retries)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class UsageCounter:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    name: str
    model_id: str
    usage: UsageCounter

    def generate(self, conversations: list[Messages], params: SamplingParams) -> list[list[Generation]]:
        """One list of `params.n` generations per conversation, in order."""
        ...

    def describe(self) -> dict[str, Any]:
        """What lineage records about this backend (never secrets)."""
        ...

    def close(self) -> None:
        """Free the engine; the stage that opened the backend calls this from its own `close()`."""
        ...
