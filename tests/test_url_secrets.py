"""Issue 29: secrets in endpoint URLs are scrubbed before anything is recorded (recipe.yaml, stats.json,
the -v log, rejects' detail), including a server's echo of the request URL; a key typed into
`api_key_env` is refused and never repeated.

A real HTTP server on 127.0.0.1 answers every request with HTTP 400 whose message quotes the request
path and an `api-key=` echo, as real gateways do; the `judge` stage runs against it through the runner.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dsforge.pipelines.stages.ingest import Ingest
from dsforge.pipelines.core.recipe import Recipe, Step
from dsforge.pipelines.core.redact import RedactingFilter, redact_text, redact_url, url_secrets
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.runner import run_recipe
from dsforge.pipelines.core.stage import ConfigError

SUB_KEY = "SUBkey7f3a9c21d4e8b6"
CLIENT_SECRET = "CLIENTsecret9d8c7b6a5"
PATH_KEY = "sk-live-4f9a8cAB12cd34EF56gh"
API_KEY = "APIkey55e1d2c3b4a9"
ENV_KEY = "sk-envkey-0a1b2c3d4e5f6a7b"


class EchoingHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": {"message": f"bad deployment in {self.path} (api-key={API_KEY} "
                                                f"subscription-key={SUB_KEY})", "type": "invalid_request"}})
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


@pytest.fixture()
def echo_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), EchoingHandler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("url,expected", [
    (f"https://gw.example.com/v1?subscription-key={SUB_KEY}", "https://gw.example.com/v1?subscription-key=***"),
    (f"https://login.example.com:8443/v1?client_secret={CLIENT_SECRET}&api-version=2024-02-01",
     "https://login.example.com:8443/v1?client_secret=***&api-version=***"),
    (f"https://api.example.com/{PATH_KEY}/v1", "https://api.example.com/***/v1"),
    (f"https://me:{CLIENT_SECRET}@api.example.com/v1?api-key={API_KEY}#frag", "https://***@api.example.com/v1?api-key=***"),
    ("http://localhost:8000/v1", "http://localhost:8000/v1"),
    ("https://r.openai.azure.com/openai/deployments/gpt-4o-mini-2024-07-18/chat/completions",
     "https://r.openai.azure.com/openai/deployments/gpt-4o-mini-2024-07-18/chat/completions"),
])
def test_redact_url_keeps_scheme_host_port_and_plain_path_only(url, expected):
    assert redact_url(url) == expected


def test_redact_text_scrubs_urls_fragments_and_echoed_values():
    base = f"https://gw.example.com/{PATH_KEY}/v1?api-key={API_KEY}"
    echo = f"HTTP 400: bad deployment in /{PATH_KEY}/v1/chat/completions (api-key={API_KEY}) see {base}"
    clean = redact_text(echo, url_secrets(base))
    assert PATH_KEY not in clean and API_KEY not in clean and "gw.example.com" in clean
    assert "HTTP 400: bad deployment in /***/v1/chat/completions (api-key=***)" in clean


@pytest.mark.parametrize("mistake", [ENV_KEY, "AKIAIOSFODNN7EXAMPLE", "hf_abcdefghijklmnopqrstuvwxyz", "my key"])
def test_a_key_typed_into_api_key_env_is_refused_and_not_repeated(mistake):
    with pytest.raises(ConfigError) as err:
        stage_class("judge").parse_config({"model": {"backend": "openai", "model": "m", "api_key_env": mistake}})
    message = str(err.value)
    assert "api_key_env must name an environment variable" in message
    if mistake != "my key":
        assert mistake not in message


def test_url_secrets_reach_no_file_log_or_reject(echo_server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("DSFORGE_TEST_URL_KEY", ENV_KEY)
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"q{i}", "input": "", "output": f"a{i}"}) + "\n"
                            for i in range(3)))
    base = (f"http://{echo_server}/{PATH_KEY}/v1?subscription-key={SUB_KEY}&client_secret={CLIENT_SECRET}"
            f"&api-key={API_KEY}")
    model = {"backend": "openai", "model": "gpt-x", "base_url": base, "api_key_env": "DSFORGE_TEST_URL_KEY",
             "cache": False, "max_retries": 0}
    recipe = Recipe(name="secrets", base_dir=tmp_path, steps=[
        Step("ingest", Ingest({"inputs": [{"path": str(data), "mapping": "alpaca"}]})),
        Step("judge", stage_class("judge")({"model": model})),
    ])
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())  # what the CLI puts on every handler (-v included)
    summary = run_recipe(recipe, out_root=tmp_path / "runs", progress=False)
    assert summary["status"] == "ok", summary
    import polars as pl

    run_dir = next((tmp_path / "runs").glob("secrets-*"))
    rejected = pl.read_parquet(run_dir / "rejected.parquet")
    assert len(rejected) == 3 and rejected["reason"].str.ends_with("llm_error").all(), rejected
    assert "bad deployment in /***/v1" in rejected["detail"][0] and "api-key=***" in rejected["detail"][0]
    assert f"http://{echo_server}/***/v1?subscription-key=***" in (run_dir / "recipe.yaml").read_text()
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)  # httpx logged the URL
    for secret in (SUB_KEY, CLIENT_SECRET, PATH_KEY, API_KEY, ENV_KEY):
        for f in run_dir.rglob("*"):
            if f.is_file():
                assert secret.encode() not in f.read_bytes(), f"{secret} leaked into {f}"
        assert secret not in caplog.text, secret


def test_cli_verbose_log_and_run_dir_hold_no_url_secret(echo_server, tmp_path):
    """`dsforge -v stage judge` as a user runs it: stderr (the -v log, httpx's request lines included)
    and every file of the run hold none of the URL's secrets."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"instruction": "q", "input": "", "output": "a"}) + "\n")
    base = f"http://{echo_server}/{PATH_KEY}/v1?subscription-key={SUB_KEY}&client_secret={CLIENT_SECRET}"
    model = json.dumps({"backend": "openai", "model": "gpt-x", "base_url": base, "api_key_env": "DSFORGE_TEST_URL_KEY",
                        "cache": False, "max_retries": 0})
    dsforge = str(Path(sys.executable).with_name("dsforge"))
    env = {**os.environ, "DSFORGE_TEST_URL_KEY": ENV_KEY}
    out = subprocess.run([dsforge, "-v", "stage", "judge", "--input", str(data), "--out", str(tmp_path / "runs"),
                          "--param", f"model={model}"], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HTTP Request: POST" in out.stderr and f"http://{echo_server}/***/v1" in out.stderr
    for secret in (SUB_KEY, CLIENT_SECRET, PATH_KEY, API_KEY, ENV_KEY):
        assert secret not in out.stdout + out.stderr, secret
        for f in (tmp_path / "runs").rglob("*"):
            if f.is_file():
                assert secret.encode() not in f.read_bytes(), f"{secret} leaked into {f}"
