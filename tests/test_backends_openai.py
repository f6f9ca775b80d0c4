"""The openai backend against a real HTTP server on 127.0.0.1 speaking the chat-completions protocol.

The server (stdlib ThreadingHTTPServer, one thread per request) echoes the last user message and obeys
commands in it: `fail429:K` / `fail500:K` fail the first K attempts, `slow:S` sleeps S seconds, `bad:`
answers 400. It counts requests per message and the most requests ever in flight at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.ingest import Ingest
from dsforge.pipelines.core.recipe import Recipe, Step
from dsforge.pipelines.core.runner import run_recipe
from dsforge.pipelines.core.shards import read_table
from dsforge.pipelines.core.stage import Stage, StageConfig, StageResult
from dsforge.pipelines.llm.backends.openai_compat import BackendFatalError
from dsforge.pipelines.llm.config import BackendConfig, OpenAIConfig, SamplingParams, parse_backend_config
from dsforge.pipelines.llm.seam import (BudgetExceeded, generate_rows, generation_lineage,
                               open_backend, usage_stats)

KEY_ENV = "DSFORGE_TEST_LLM_KEY"
SECRET = "sk-dsforge-test-9f3c1e77a2b4d5"


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.bodies: list[dict] = []
        self.auth: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def reset(self, delay: float = 0.0) -> None:
        with self.lock:
            self.hits.clear()
            self.bodies.clear()
            self.auth.clear()
            self.max_in_flight = 0
            self.delay = delay


class ChatHandler(BaseHTTPRequestHandler):
    server: ChatServer

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, obj: dict, headers: dict | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            pass

    def do_POST(self):
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        content = body["messages"][-1]["content"]
        with srv.lock:
            srv.hits[content] += 1
            attempt = srv.hits[content]
            srv.bodies.append(body)
            srv.auth.add(self.headers.get("Authorization", ""))
            srv.in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        try:
            time.sleep(srv.delay)
            if self.headers.get("Authorization") != f"Bearer {SECRET}":
                return self._send(401, {"error": {"message": "Incorrect API key provided", "type": "auth"}})
            if body["model"] == "missing":
                return self._send(404, {"error": {"message": "model not found", "type": "not_found"}})
            if m := re.match(r"fail(429|500):(\d+)", content):
                if attempt <= int(m.group(2)):
                    return self._send(int(m.group(1)), {"error": {"message": "injected", "type": "x"}},
                                      {"Retry-After": "0"} if m.group(1) == "429" else None)
            if m := re.match(r"slow:([\d.]+)", content):
                time.sleep(float(m.group(1)))
            if content.startswith("bad:"):
                return self._send(400, {"error": {"message": "prompt is too long", "type": "invalid_request"}})
            words = f"echo seed={body.get('seed')}: {content}".split()
            finish = "length" if len(words) > body["max_tokens"] else "stop"
            text = " ".join(words[:body["max_tokens"]])
            if body.get("response_format"):
                text = json.dumps({"echo": content, "format": body["response_format"]["type"]})
            prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
            return self._send(200, {
                "id": f"cmpl-{attempt}", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": finish,
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                          "total_tokens": prompt_tokens + len(text.split())},
            })
        finally:
            with srv.lock:
                srv.in_flight -= 1


@pytest.fixture(scope="module")
def server():
    srv = ChatServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture()
def api(server, tmp_path, monkeypatch):
    """Open an openai backend on the test server (key from the environment, cache in tmp)."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    server.reset()

    def _open(**kw):
        cfg = {"backend": "openai", "model": "echo-1", "base_url": server.url, "api_key_env": KEY_ENV,
               "cache_dir": str(tmp_path / "llm"), "retry_backoff": 0.01, "max_retries": 3, **kw}
        return open_backend(parse_backend_config(cfg))

    return _open


def conv(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


def test_echo_roundtrip_tokens_seeds_and_finish(api, server):
    b = api()
    [[a, c], [long, _]] = b.generate([conv("hello there"), conv("one two three four five six")],
                                  SamplingParams(n=2, seed=5, max_tokens=6))
    assert (a.text, c.text) == ("echo seed=5: hello there", "echo seed=6: hello there")
    assert a.finish_reason == "stop" and a.prompt_tokens == 4 and a.completion_tokens == 4
    assert a.model == "echo-1" and not a.cached
    assert long.finish_reason == "length" and long.completion_tokens == 6
    assert b.usage.calls == 4 and b.usage.prompt_tokens == 4 + 4 + 8 + 8
    assert all(body["n"] == 1 and body["max_tokens"] == 6 for body in server.bodies)
    assert server.auth == {f"Bearer {SECRET}"}  # the key really was sent


def test_concurrency_limit_is_respected_and_used(api, server):
    # four requests in flight at once (never five) shows the limit is used and kept, without timing anything
    server.reset(delay=0.3)
    b = api(concurrency=4)
    out = b.generate([conv(f"row {i}") for i in range(16)], SamplingParams(max_tokens=8))
    assert [gs[0].text.split(": ")[1] for gs in out] == [f"row {i}" for i in range(16)]  # order kept
    assert server.max_in_flight == 4


def test_retries_on_429_and_500_then_gives_up(api, server):
    b = api(max_retries=2)
    out = b.generate([conv("fail429:2 a"), conv("fail500:1 b"), conv("fail500:9 c"), conv("bad: d")],
                     SamplingParams(max_tokens=8))
    ok429, ok500, dead, bad = (gs[0] for gs in out)
    assert ok429.text.endswith("fail429:2 a") and server.hits["fail429:2 a"] == 3
    assert ok500.finish_reason == "stop" and server.hits["fail500:1 b"] == 2
    assert dead.finish_reason == "error" and "HTTP 500" in dead.error and server.hits["fail500:9 c"] == 3
    assert bad.finish_reason == "error" and "HTTP 400" in bad.error and server.hits["bad: d"] == 1  # no retry
    assert b.usage.extra["retries"] == 2 + 1 + 2 and b.usage.extra["errors"] == 2
    # errors are not cached: the next run asks again (and succeeded rows come from the cache)
    again = b.generate([conv("fail500:9 c"), conv("fail429:2 a")], SamplingParams(max_tokens=8))
    assert server.hits["fail500:9 c"] == 6 and server.hits["fail429:2 a"] == 3 and again[1][0].cached


def test_timeout_is_retried_then_reported(api, server):
    b = api(timeout=0.3, max_retries=1)
    started = time.perf_counter()
    [[g]] = b.generate([conv("slow:3 x")], SamplingParams(max_tokens=8))
    assert g.finish_reason == "error" and "timeout" in g.error
    assert server.hits["slow:3 x"] == 2 and time.perf_counter() - started < 2.5


def test_cache_makes_rerun_free(api, server):
    convs = [conv(f"q{i}") for i in range(6)]
    params = SamplingParams(max_tokens=8, n=2, seed=1)
    first = api().generate(convs, params)
    assert sum(server.hits.values()) == 12
    b = api()  # a new process: same cache folder
    second = b.generate(convs, params)
    assert sum(server.hits.values()) == 12 and b.usage.cache_hits == 12 and b.usage.calls == 0
    assert [[g.text for g in gs] for gs in second] == [[g.text for g in gs] for gs in first]
    api().generate(convs[:1], params.model_copy(update={"temperature": 0.1}))
    assert sum(server.hits.values()) == 14  # other params: a miss
    nocache = api(cache=False)
    nocache.generate(convs[:1], params)
    assert sum(server.hits.values()) == 16


def test_budget_stops_after_the_batch_and_keeps_partial(api, server):
    b = api(price_per_million_output=1_000_000.0)  # $1 per output token
    convs = [conv(f"item {i}") for i in range(12)]  # "echo seed=0: item i" = 4 tokens = $4 each
    with pytest.raises(BudgetExceeded) as e:
        generate_rows(b, convs, SamplingParams(max_tokens=8), chunk_size=4, budget_usd=10.0, progress=False)
    assert len(e.value.partial) == 4 and e.value.spent == pytest.approx(16.0)
    assert sum(server.hits.values()) == 4 and "budget_usd" in str(e.value)
    b2 = api(price_per_million_output=1_000_000.0, budget_usd=100.0)
    out = generate_rows(b2, convs, SamplingParams(max_tokens=8), chunk_size=4, progress=False)
    assert len(out) == 12 and b2.usage.cache_hits == 4 and b2.usage.cost_usd == pytest.approx(32.0)
    assert sum(server.hits.values()) == 12


def test_json_schema_becomes_response_format(api, server):
    schema = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}
    [[g]] = api().generate([conv("structured")], SamplingParams(max_tokens=50, json_schema=schema))
    assert json.loads(g.text) == {"echo": "structured", "format": "json_schema"}
    assert server.bodies[-1]["response_format"]["json_schema"]["schema"] == schema


def test_fatal_errors_stop_with_clear_message(api, server, monkeypatch):
    with pytest.raises(BackendFatalError, match="model 'missing' not found"):
        api(model="missing").generate([conv("x")], SamplingParams(max_tokens=4))
    monkeypatch.setenv(KEY_ENV, "sk-wrong-key-123456")
    with pytest.raises(BackendFatalError, match=f"Check \\${KEY_ENV}") as e:
        api().generate([conv("y")], SamplingParams(max_tokens=4))
    assert "sk-wrong-key-123456" not in str(e.value)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(BackendFatalError, match="not set"):
        open_backend(OpenAIConfig(model="m", api_key_env=KEY_ENV))


def test_works_inside_a_running_event_loop(api, server):
    b = api()

    async def inside():
        return b.generate([conv("from a loop")], SamplingParams(max_tokens=8))

    assert asyncio.run(inside())[0][0].text.endswith("from a loop")


class EchoGenConfig(StageConfig):
    model: BackendConfig
    sampling: SamplingParams = SamplingParams(max_tokens=8)


class EchoGen(Stage[EchoGenConfig]):
    """A minimal generating stage, written as docs/backends.md tells stage authors to."""
    name = "echo-gen"
    Config = EchoGenConfig
    mode = "rows"
    batch_size = 3

    def process(self, df, ctx):
        backend = open_backend(self.config.model)
        before = usage_stats(backend)
        gens = generate_rows(backend, [conv(p) for p in df["instruction"].to_list()], self.config.sampling,
                             progress=False)
        out = df.with_columns(pl.Series("response", [g[0].text for g in gens]))
        out = records.append_lineage(out, self.name, generation_lineage(backend, self.config.sampling, "echo/v1"))
        logging.getLogger("dsforge").info("echo-gen used %s", backend.describe())
        return StageResult(kept=out, stats=usage_stats(backend, since=before))


def test_api_key_never_reaches_run_dir_lineage_or_logs(api, server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(KEY_ENV, SECRET)
    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"prompt {i}", "input": "", "output": "to be replaced"}) + "\n" for i in range(7)))
    model = OpenAIConfig(model="echo-1", base_url=server.url, api_key_env=KEY_ENV,
                          cache_dir=str(tmp_path / "cache"))
    recipe = Recipe(name="echo", base_dir=tmp_path, steps=[
        Step("ingest", Ingest({"inputs": [{"path": str(data), "mapping": "alpaca"}]})),
        Step("echo-gen", EchoGen({"model": model})),
    ])
    caplog.set_level(logging.DEBUG)  # openai and httpx log requests at DEBUG
    summary = run_recipe(recipe, out_root=tmp_path / "runs", progress=False)
    assert summary["status"] == "ok" and server.auth == {f"Bearer {SECRET}"}
    run_dir = tmp_path / "runs"
    kept = read_table(next(run_dir.glob("*/stages/01-echo-gen")))
    assert kept["response"].to_list() == [f"echo seed=0: prompt {i}" for i in range(7)]
    info = json.loads(kept["lineage"][0][-1]["info"])
    assert info == {"backend": "openai", "model": "echo-1", "base_url": server.url, "template": "echo/v1",
                    "sampling": {"temperature": 0.7, "top_p": 1.0, "max_tokens": 8, "n": 1, "seed": 0}}
    stats = json.loads(next(run_dir.glob("*/stages/01-echo-gen/stats.json")).read_text())
    assert stats["stage_stats"]["llm_calls"] == 7
    assert any("echo-gen used" in r.getMessage() for r in caplog.records) and len(caplog.records) > 5
    secret = SECRET.encode()
    for f in [*run_dir.rglob("*"), *(tmp_path / "cache").rglob("*")]:
        if f.is_file():
            assert secret not in f.read_bytes(), f"API key leaked into {f}"
    assert SECRET not in caplog.text
