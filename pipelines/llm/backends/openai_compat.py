"""Any OpenAI-compatible chat-completions endpoint: OpenAI, `vllm serve`, llama.cpp server, SGLang, ...

Why: at scale the model runs elsewhere (a vLLM server with data/tensor parallelism over many GPUs, or a
paid API); this backend keeps it busy with `concurrency` requests in flight (asyncio + a semaphore) and
survives a flaky endpoint: 408/409/429/5xx, timeouts and dropped connections are retried with exponential
backoff (honouring Retry-After), up to `max_retries`. A row that still fails comes back as
finish_reason "error" (stages reject it); a wrong key or unknown model stops the run with a clear message.

The API key is read from the environment variable named by `api_key_env` at call time and handed only to
the `openai` client: it is never stored on this object's public fields, never in `describe()` (lineage),
never in errors (they are scrubbed), so it cannot reach logs or run directories.

Each completion is its own request (n=1, seed = seed + i), so the cache can keep completions separately.
json_schema becomes `response_format={"type": "json_schema", ...}` (OpenAI, vLLM, SGLang and llama.cpp
accept it). Left out: streaming, tool calls, the Batch API.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from typing import Any

from dsforge.pipelines.core.errors import DsforgeError
from dsforge.pipelines.llm.backends.base import BaseBackend, OnDone, Request
from dsforge.pipelines.llm.config import OpenAIConfig, SamplingParams
from dsforge.pipelines.llm.generation import Generation
from dsforge.pipelines.core.redact import redact_text, redact_url, url_secrets

RETRY_STATUS = {408, 409, 429}


class BackendFatalError(DsforgeError, RuntimeError):
    """An error no retry can fix (bad key, unknown model): the run stops with what to do next."""

    hint = "fix the backend settings as the message says (docs/backends.md), then run again: finished steps are reused"


def _public_url(url: str | None) -> str | None:
    """The endpoint as it may be recorded (pipelines/core/redact.py: no user-info, query values or opaque path
    segments)."""
    return redact_url(url)


def run_coroutine(coro):
    """asyncio.run, also from code that already runs inside an event loop (Jupyter, async flows)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=target, name="dsforge-openai")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class OpenAIBackend(BaseBackend):
    name = "openai"

    def __init__(self, config: OpenAIConfig):
        super().__init__(config)
        try:
            import openai  # noqa: F401
        except ImportError as e:  # pragma: no cover - openai is a core dependency
            raise ImportError("the openai backend needs the `openai` package: pip install openai") from e
        if not config.base_url and not os.environ.get(config.api_key_env):
            raise BackendFatalError(
                f"openai backend: no base_url and ${config.api_key_env} is not set. Export the key "
                f"(export {config.api_key_env}=...) or point base_url at a local server "
                "(e.g. `vllm serve MODEL` then base_url: http://localhost:8000/v1)")
        self.base_url = config.base_url

    @property
    def requests_per_call(self) -> int | None:
        """All requests at once (`concurrency` of them in flight); with a budget, one wave of `concurrency`
        per call, so the budget is checked before the next wave is sent."""
        return self.config.concurrency if self.config.budget_usd is not None else None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id,
                "base_url": _public_url(self.base_url) or "https://api.openai.com/v1"}

    # ---- secrets
    def _key(self) -> str:
        # Local servers (vLLM, llama.cpp) accept any key; the client refuses an empty one.
        return os.environ.get(self.config.api_key_env) or "EMPTY"

    def _scrub(self, text: str) -> str:
        """A backend's error text as it may be recorded: the key, whatever the URL hides, and every URL
        or query fragment in it scrubbed (servers echo the request URL, `?api-key=` included)."""
        key = os.environ.get(self.config.api_key_env)
        return redact_text(text, [*([key] if key else []), *url_secrets(self.base_url)]) or ""

    # ---- requests
    def run_requests(self, requests: list[Request], params: SamplingParams,
                     on_done: OnDone | None = None) -> list[Generation]:
        if not requests:
            return []
        started = time.perf_counter()
        try:
            return run_coroutine(self._run_all(requests, params, on_done))
        finally:
            self.usage.seconds += time.perf_counter() - started

    async def _run_all(self, requests: list[Request], params: SamplingParams, on_done: OnDone | None):
        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=self.base_url, api_key=self._key(), timeout=self.config.timeout,
                             max_retries=0)  # retries are ours: backoff, counting, scrubbed errors
        sem = asyncio.Semaphore(self.config.concurrency)

        async def one(pos: int, req: Request) -> Generation:
            async with sem:
                g = await self._call(client, req, params)
            self.account([g], 0.0)
            if on_done is not None:
                on_done(pos, g)
            return g

        tasks = [asyncio.ensure_future(one(p, r)) for p, r in enumerate(requests)]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await client.close()

    def _kwargs(self, req: Request, params: SamplingParams) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.model_id, "messages": req.messages, "temperature": params.temperature,
                              "top_p": params.top_p, "max_tokens": params.max_tokens, "n": 1}
        seed = req.seed(params)
        if seed is not None:
            kw["seed"] = seed
        if params.stop:
            kw["stop"] = params.stop
        if params.json_schema is not None:
            kw["response_format"] = {"type": "json_schema",
                                     "json_schema": {"name": "response", "schema": params.json_schema, "strict": True}}
        return kw

    async def _call(self, client, req: Request, params: SamplingParams) -> Generation:
        import openai

        kwargs = self._kwargs(req, params)
        last = "no attempt made"
        for attempt in range(self.config.max_retries + 1):
            retry_after = None
            try:
                resp = await client.chat.completions.create(**kwargs)
                return self._parse(resp)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
                raise BackendFatalError(
                    f"openai backend: the endpoint {_public_url(self.base_url) or 'api.openai.com'} refused the key "
                    f"(HTTP {e.status_code}). Check ${self.config.api_key_env}.") from None
            except openai.NotFoundError as e:
                raise BackendFatalError(
                    f"openai backend: model {self.model_id!r} not found at "
                    f"{_public_url(self.base_url) or 'api.openai.com'} (HTTP 404: {self._scrub(str(e))[:300]}). "
                    "List the server's models with `curl BASE_URL/models`.") from None
            except openai.APIStatusError as e:
                last = f"HTTP {e.status_code}: {self._scrub(str(e))[:500]}"
                if e.status_code not in RETRY_STATUS and e.status_code < 500:
                    return self._error(req, params, last)  # e.g. 400 prompt too long: this row only
                retry_after = _retry_after(e)
            except openai.APIConnectionError as e:  # includes APITimeoutError
                kind = "timeout" if isinstance(e, openai.APITimeoutError) else "connection error"
                last = f"{kind} after {self.config.timeout:g}s limit: {self._scrub(str(e))[:300]}"
            if attempt == self.config.max_retries:
                break
            self.usage.extra["retries"] = self.usage.extra.get("retries", 0) + 1
            wait = min(self.config.retry_backoff * 2 ** attempt, self.config.retry_backoff_max)
            wait = wait * random.uniform(0.5, 1.0)
            if retry_after is not None:
                wait = min(max(wait, retry_after), self.config.retry_backoff_max)
            await asyncio.sleep(wait)
        return self._error(req, params, f"gave up after {self.config.max_retries + 1} attempts: {last}")

    def _error(self, req: Request, params: SamplingParams, message: str) -> Generation:
        return Generation(text="", finish_reason="error", prompt_tokens=0, completion_tokens=0,
                          model=self.model_id, error=self._scrub(message))

    def _parse(self, resp) -> Generation:
        choice = resp.choices[0]
        usage = getattr(resp, "usage", None)
        if usage is None:
            self.warn_once("usage", "the endpoint returns no token usage; token counts and cost read 0")
        return Generation(text=choice.message.content or "", finish_reason=choice.finish_reason or "stop",
                          prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                          completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                          model=resp.model or self.model_id)


def _retry_after(e) -> float | None:
    try:
        value = e.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, ValueError):
        return None
