"""The one seam between prompt logic and LLM backends: `Backend.generate(conversations, params)`.

Stages that need a model (synthesis, AI judges) build chat messages, call `generate` once per batch,
and parse the text. Backends (openai-compatible endpoint, in-process transformers, vLLM offline) only
turn messages into text; they know nothing of records or stages. `open_backend(BackendConfig)` picks one.

Everything a generated row needs for lineage is in `Generation` and `Backend.describe()`; API keys are
never part of either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from pydantic import Field

from dsforge.pipelines.stage import StageConfig

Messages = list[dict[str, str]]


class SamplingParams(StageConfig):
    """Sampling parameters shared by every backend (a backend ignores what it cannot do, and says so)."""

    temperature: float = Field(0.7, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(512, ge=1)
    n: int = Field(1, ge=1, description="completions per conversation")
    seed: int | None = 0
    stop: list[str] | None = None
    json_schema: dict[str, Any] | None = Field(None, description="structured output where the backend supports it")


class BackendConfig(StageConfig):
    """Which model answers. Recipes write it under a stage's `model:` key."""

    backend: Literal["transformers", "openai", "vllm"] = "transformers"
    model: str = Field("smollm2", description="'smollm2' (embedded), a local folder, or the endpoint's model name")
    base_url: str | None = Field(None, description="openai backend: e.g. http://localhost:8000/v1")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    concurrency: int = Field(8, ge=1, description="openai backend: requests in flight")
    timeout: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(5, ge=0)
    batch_size: int = Field(8, ge=1, description="transformers backend: conversations per forward batch")
    device: str | None = Field(None, description="transformers backend: cuda, cpu, ... (default: cuda if present)")
    cache: bool = Field(True, description="reuse responses from the on-disk cache")
    cache_dir: str | None = Field(None, description="default: $DSFORGE_CACHE/llm")
    price_per_million_input: float = 0.0
    price_per_million_output: float = 0.0
    budget_usd: float | None = Field(None, description="stop cleanly when the estimated cost reaches this")


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop", "length", "error", ...
    prompt_tokens: int
    completion_tokens: int
    model: str
    cached: bool = False

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
