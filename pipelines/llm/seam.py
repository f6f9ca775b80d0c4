"""The one seam between prompt logic and LLM backends: `Backend.generate(conversations, params)`.

Stages that need a model (synthesis, AI judges) build chat messages, call `generate` once per batch,
and parse the text. Backends (openai-compatible endpoint, in-process transformers, vLLM offline) only
turn messages into text; they know nothing of records or stages. `open_backend(config)` picks one
(config.py: one config class per backend).

Everything a generated row needs for lineage is in `Generation` and `Backend.describe()`; API keys are
never part of either.

    backend = open_backend({"backend": "transformers", "model": "smollm2"})   # answers cached on disk
    out = generate_rows(backend, [[{"role": "user", "content": "Hi"}]], SamplingParams(max_tokens=32))
    out[0][0].text, backend.usage.cache_hits

The backends live in backends/ (each engine's module imported lazily: opening an openai backend never
imports torch), or in another installed package (entry-point group `dsforge.backends`, plugins.py); the
response cache in cache.py; `Generation`, `UsageCounter` and the `Backend` protocol in generation.py.
Stages do not call this module directly: they use the LLM-stage base (task.py), which calls
`generate_rows` for them. Not here: prompt files (prompt.py) and parsing (parse.py).
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any, Literal

from dsforge.pipelines.llm.backends.base import BaseBackend
from dsforge.pipelines.llm.cache import CachedBackend, ResponseCache
from dsforge.pipelines.llm.config import BackendConfig, SamplingParams, parse_backend_config, plugin_backend_class
from dsforge.pipelines.llm.generation import Backend, Generation, Messages, UsageCounter
from dsforge.pipelines.core.stage import ConfigError

__all__ = ["Backend", "BudgetExceeded", "Generation", "Messages", "UsageCounter", "generate_rows",
           "generation_lineage", "open_backend", "usage_stats"]

log = logging.getLogger("dsforge")


# ---------------------------------------------------------------- opening a backend

_MODULES = {
    "transformers": ("dsforge.pipelines.llm.backends.transformers_local", "TransformersBackend"),
    "openai": ("dsforge.pipelines.llm.backends.openai_compat", "OpenAIBackend"),
    "vllm": ("dsforge.pipelines.llm.backends.vllm_offline", "VLLMBackend"),
    "vllm-server": ("dsforge.pipelines.llm.backends.vllm_server", "VLLMServerBackend"),
}


def open_backend(config: BackendConfig | dict[str, Any] | None = None) -> Backend:
    """Open the backend a config names, wrapped in the on-disk response cache unless `cache: false`.

    Heavy imports (torch, vllm, openai) happen here, not at import time of this module. A name not in
    `_MODULES` is a backend of an installed package (entry-point group `dsforge.backends`, plugins.py).
    """
    config = parse_backend_config(config)
    if config.backend in _MODULES:
        module, cls = _MODULES[config.backend]
        backend = getattr(importlib.import_module(module), cls)(config)
    else:
        backend = plugin_backend_class(config.backend)(config)
    if not config.cache:
        return backend
    if not isinstance(backend, BaseBackend):
        raise ConfigError(f"backend {config.backend!r}: {type(backend).__name__} does not subclass BaseBackend "
                          "(llm/backends/base.py), which the response cache needs; set `cache: false` or subclass it")
    return CachedBackend(backend, ResponseCache(config.cache_dir))


# ---------------------------------------------------------------- running many rows


class BudgetExceeded(RuntimeError):
    """The estimated cost reached the budget. Raised after the in-flight batch finished; `partial` holds
    the generations of every finished batch (in order, for the first len(partial) conversations), and
    every answer is in the response cache, so re-running with a higher budget pays only for the rest."""

    def __init__(self, spent: float, budget: float, partial: list[list[Generation]]):
        super().__init__(f"LLM budget reached: spent ~${spent:.4f} of ${budget:.4f} after "
                         f"{len(partial)} conversations. Raise budget_usd (answers so far are cached) and re-run.")
        self.spent, self.budget, self.partial = spent, budget, partial


def generate_rows(backend: Backend, conversations: list[Messages], params: SamplingParams, *,
                  chunk_size: int | None = None, budget_usd: float | None = None,
                  progress: bool | None = None, desc: str = "generate",
                  errors: Literal["raise", "reject"] = "raise") -> list[list[Generation]]:
    """Generate for many conversations, with a progress bar (completions, tokens/s, cost so far).

    The one place that splits work into calls: `chunk_size`, else the backend's `requests_per_call`
    (None for every shipped backend without a budget: the whole list goes to the engine in one call, and
    the engine batches it its own way). The budget (default: the backend config's `budget_usd`) counts the
    estimated cost of fresh calls made by this backend object (cache hits are free); it is checked before
    each call, and BudgetExceeded carries the finished part.

    errors="reject": a call that raises gives "error" generations for its conversations (stages reject
    those rows) instead of an exception; if every call fails, the first error is raised (a setup problem).
    """
    from tqdm.auto import tqdm

    config = getattr(backend, "config", None)
    if budget_usd is None and config is not None:
        budget_usd = config.budget_usd
    per_call = getattr(backend, "requests_per_call", None)
    chunk = chunk_size or (max(1, per_call // params.n) if per_call else None) or max(1, len(conversations))
    usage = backend.usage
    start_tokens, started = usage.completion_tokens, time.perf_counter()
    out: list[list[Generation]] = []
    failures: list[str] = []
    disable = None if progress is None else not progress
    with tqdm(total=len(conversations) * params.n, desc=desc, unit=" completions", disable=disable) as bar:
        def tick(_pos: int, _g: Generation) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            bar.set_postfix({"tok/s": f"{(usage.completion_tokens - start_tokens) / elapsed:.1f}",
                             "cost": f"${usage.cost_usd:.4f}", "cached": usage.cache_hits}, refresh=False)
            bar.update(1)

        for start in range(0, len(conversations), chunk):
            if budget_usd is not None and usage.cost_usd >= budget_usd:
                raise BudgetExceeded(usage.cost_usd, budget_usd, out)
            part = conversations[start:start + chunk]
            try:
                got = _generate(backend, part, params, tick)
                if len(got) != len(part):
                    raise RuntimeError(f"backend returned {len(got)} results for {len(part)} conversations")
            except Exception as e:
                if errors == "raise":
                    raise
                msg = f"{type(e).__name__}: {e}"[:500]
                failures.append(msg)
                log.warning("%s: backend call failed for %d prompts: %s", desc, len(part), msg)
                got = [[Generation("", "error", 0, 0, getattr(backend, "model_id", "?"), error=msg)] * params.n
                       for _ in part]
            out.extend(got)
    if failures and len(failures) == -(-len(conversations) // chunk):
        raise RuntimeError(f"{desc}: every backend call failed; first error: {failures[0]}")
    return out


def _generate(backend: Backend, part: list[Messages], params: SamplingParams, tick) -> list[list[Generation]]:
    """backend.generate with per-request progress where the backend reports it (BaseBackend does)."""
    if isinstance(backend, BaseBackend):
        return backend.generate(part, params, on_done=tick)
    got = backend.generate(part, params)
    for gs in got:
        for g in gs:
            tick(0, g)
    return got


def generation_lineage(backend: Backend, params: SamplingParams, template_id: str | None = None,
                       **extra: Any) -> dict[str, Any]:
    """The lineage `info` for generated rows: backend, model id, sampling params, prompt template id.
    Built from `describe()` (which never holds secrets) and the params; no API key, no headers."""
    info: dict[str, Any] = dict(backend.describe())
    info["sampling"] = params.model_dump(mode="json", exclude_none=True)
    if template_id is not None:
        info["template"] = template_id
    info.update(extra)
    return info


def usage_stats(backend: Backend, since: dict[str, Any] | None = None) -> dict[str, Any]:
    """The backend's counters as flat stage stats. Pass the dict taken before a batch as `since` to get
    that batch's share (the runner adds batch stats up, so per-batch deltas sum to the stage total)."""
    u = backend.usage
    now = {"llm_calls": u.calls, "llm_cache_hits": u.cache_hits, "llm_prompt_tokens": u.prompt_tokens,
           "llm_completion_tokens": u.completion_tokens, "llm_cost_usd": round(u.cost_usd, 6),
           "llm_errors": u.extra.get("errors", 0)}
    if since:
        now = {k: (round(v - since.get(k, 0), 6) if isinstance(v, float) else v - since.get(k, 0))
               for k, v in now.items()}
    return now
