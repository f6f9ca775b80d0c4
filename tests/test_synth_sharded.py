"""Synthesis spread over model workers, and resumed mid-step.

The model is a fake served one (tests/served_fake.py): an OpenAI-compatible HTTP server whose reply is a
pure function of the request, reached by every worker process through the openai backend and its
response cache, as a real `vllm serve` would be. Inputs are the 175 shipped Self-Instruct seed tasks and
the 48 Wikipedia paragraphs. self-instruct runs its rounds in the driver with each round's generation on
the workers; back-translation and the judge are row-wise (slices of 32 and 64 rows on any worker).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import read_table
from served_fake import start

DSFORGE = Path(sys.executable).with_name("dsforge")


@pytest.fixture(scope="module")
def server():
    srv = start()
    yield srv
    srv.shutdown()
    srv.server_close()


def chain(url: str, cache: Path) -> dict:
    model = {"backend": "openai", "model": "fake-1", "base_url": url, "cache_dir": str(cache), "concurrency": 4}
    return {"name": "sharded-synth", "seed": 0,
            "inputs": [{"path": "data:seed_tasks.jsonl", "mapping": "seed-tasks", "source": "seeds"},
                       {"path": "data:wiki_passages.jsonl", "mapping": "document", "source": "wiki"}],
            "stages": [
                {"stage": "self-instruct", "model": model, "num_instructions": 16, "prompts_per_round": 6,
                 "max_prompts": 30, "sampling": {"temperature": 0.7, "max_tokens": 64, "seed": 0}},
                {"stage": "backtranslate-instructions", "model": model, "only_sources": ["wiki"],
                 "source": "backtranslated", "threshold": 3, "num_examples": 1},
                {"stage": "judge", "model": model, "threshold": 3, "on_fail": "drop"}]}


def steps(summary: dict) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Each step's kept and rejected rows, in the order the step wrote them."""
    out = {}
    for d in sorted((Path(summary["run_dir"]) / "stages").iterdir()):
        rej = sorted((d / "rejected").glob("part-*.parquet"))
        out[d.name] = (read_table(d), pl.concat([pl.read_parquet(f) for f in rej], how="diagonal_relaxed"))
    return out


def stage_stats(summary: dict, step: str) -> dict:
    folder = next(d for d in (Path(summary["run_dir"]) / "stages").iterdir() if d.name.endswith(f"-{step}"))
    return json.loads((folder / "stats.json").read_text())["stage_stats"]


def test_one_worker_and_two_workers_give_the_same_rows(tmp_path, server):
    server.reset()
    one = run_recipe(build_recipe(chain(server.url, tmp_path / "cache1")), tmp_path / "one",
                     executor=ExecutorSpec(workers=1))
    sent_one = server.sent()
    server.reset()
    two = run_recipe(build_recipe(chain(server.url, tmp_path / "cache2")), tmp_path / "two",
                     executor=ExecutorSpec(workers=2))
    assert one["status"] == two["status"] == "ok"
    assert server.sent() == sent_one and server.resent() == 0  # the same requests, each sent once
    print(f"\n1 worker vs 2 workers: {sent_one} requests each")
    a, b = steps(one), steps(two)
    assert list(a) == list(b)
    for name in a:
        for x, y in zip(a[name], b[name]):
            assert x.equals(y), name  # same rows, same order, same lineage and scores
    si = stage_stats(two, "self-instruct")
    assert si["generated_kept"] == 16 and si["model_workers"] == 2 and stage_stats(one, "self-instruct")["model_workers"] == 1
    assert si["funnel"]["rouge"]["seen"] > si["funnel"]["rouge"]["kept"]  # the novelty filter did reject some
    bt = stage_stats(two, "backtranslate-instructions")
    assert bt["rounds"] == stage_stats(one, "backtranslate-instructions")["rounds"] and bt["rounds"][0]["pairs"] == 48
    j1, j2 = stage_stats(one, "judge"), stage_stats(two, "judge")
    assert j1["mean_score"] == j2["mean_score"] and j2["scored"] == j2["rows"] == 175 + 16 + bt["kept"]
    pids = {json.loads(f.read_text())["pid"] for f in (Path(two["run_dir"]) / "stages" / "03-judge" / "parts").glob("*.json")}
    assert len(pids) == 2  # the judge's slices ran in both workers
    print("steps equal (kept, rejected rows):", {n: (a[n][0].height, a[n][1].height) for n in a})
    made = a["01-self-instruct"][0].filter(pl.col("source") == "self-instruct")
    assert made.height == 16 and made["instruction"].n_unique() == 16


def _write(tmp_path: Path, name: str, url: str, cache: Path) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(chain(url, cache)), encoding="utf-8")
    return path


def _stored(cache: Path) -> int:
    with sqlite3.connect(cache / "responses.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def test_kill_9_mid_step_then_rerun_resends_no_finished_request(tmp_path, server):
    """Every answer is in the response cache the moment it returns: after SIGKILL in the middle of a
    generation step, the rerun sends exactly the requests that had not come back, and its rows are the
    rows of a run that was never interrupted."""
    server.reset()
    whole = run_recipe(build_recipe(chain(server.url, tmp_path / "cache-whole")), tmp_path / "whole",
                       executor=ExecutorSpec(workers=1))
    needed = server.sent()
    server.reset()
    server.delay = 0.02
    cache = tmp_path / "cache-killed"
    recipe = _write(tmp_path, "killed", server.url, cache)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [str(DSFORGE), "run", str(recipe), "--out", str(tmp_path / "runs"), "--no-prefect", "--workers", "1", "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while sum(server.done.values()) < needed // 2 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        server.delay = 0.0
    before = server.sent()
    stored = _stored(cache)
    assert 0 < stored < needed
    server.reset()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    resent = server.sent() - (needed - stored)
    print(f"\nresume: {needed} requests in the uninterrupted run; killed (SIGKILL) with {stored} answers stored, "
          f"{before} sent; the rerun sent {server.sent()} ({resent} of them already answered before the kill)")
    assert resent == 0, f"{resent} finished requests were sent again"
    assert before + server.sent() - needed <= 4  # at most the requests in flight at the kill (concurrency 4) twice
    last = sorted((tmp_path / "runs").iterdir())[-1]
    a, b = steps(whole), steps({"run_dir": str(last)})
    for name in a:
        for x, y in zip(a[name], b[name]):
            assert x.equals(y), name


FAKE = [sys.executable, str(Path(__file__).with_name("served_fake.py")), "--port", "{port}"]


def test_vllm_server_backend_starts_checks_and_stops_its_server(tmp_path):
    """`backend: vllm-server` with `command:` pointed at the fake server: started on a free port, used once
    it answers, logged in the step's folder, and gone when the step ends."""
    from dsforge.pipelines.llm.config import SamplingParams
    from dsforge.pipelines.llm.seam import generate_rows, open_backend
    from served_fake import reply

    backend = open_backend({"backend": "vllm-server", "model": "fake-1", "command": FAKE, "cache": False,
                            "log_dir": str(tmp_path / "logs"), "startup_timeout": 60})
    conv = [{"role": "user", "content": "Name a river."}]
    got = generate_rows(backend, [conv], SamplingParams(temperature=0, max_tokens=64, seed=3), progress=False)
    body = {"messages": conv, "seed": 3, "temperature": 0.0, "max_tokens": 64}
    assert got[0][0].text == reply(body) and backend.describe() == {"backend": "vllm-server", "model": "fake-1"}
    proc = backend.proc
    backend.close()
    assert proc.poll() is not None  # stopped
    assert "served_fake.py --port" in backend.log_path.read_text()

    recipe = {"name": "served-judge", "inputs": [{"path": "data:seed_tasks.jsonl", "mapping": "seed-tasks", "limit": 8}],
              "stages": [{"stage": "judge", "model": {"backend": "vllm-server", "model": "fake-1", "command": FAKE,
                                                      "cache_dir": str(tmp_path / "cache")}, "on_fail": "flag"}]}
    summary = run_recipe(build_recipe(recipe), tmp_path / "runs", executor=ExecutorSpec(workers=1))
    assert summary["status"] == "ok"
    logs = list((Path(summary["run_dir"]) / "stages" / "01-judge").glob("vllm-server-*.log"))
    assert len(logs) == 1 and stage_stats(summary, "judge")["scored"] == 8


def test_vllm_server_that_dies_fails_with_its_log(tmp_path):
    from dsforge.pipelines.llm.seam import open_backend

    with pytest.raises(RuntimeError, match="(?s)exited with code 3.*no such model here"):
        open_backend({"backend": "vllm-server", "model": "fake-1", "log_dir": str(tmp_path),
                      "command": [sys.executable, "-c", "import sys; print('no such model here'); sys.exit(3)"]})
