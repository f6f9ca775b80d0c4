"""The Ray executor on a real two-node cluster on loopback: same output as the local executor, also when
the second node's raylet is killed in the middle of a step (Ray retries its tasks on the head node).
The chain ends with `inspect` (summary execution: parts summarised in Ray tasks, combined in the driver)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import read_table
from dsforge.pipelines.core.stage import Stage, StageConfig, StageResult

ray = pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")
TESTS = Path(__file__).resolve().parent


class SlowUpperConfig(StageConfig):
    seconds: float = 0.4


class SlowUpper(Stage[SlowUpperConfig]):
    """Row-wise and slow, so that a node can be killed while its parts are running."""

    name = "slow-upper"
    Config = SlowUpperConfig
    mode = "rows"
    batch_size = 4

    def process(self, df, ctx):
        time.sleep(self.config.seconds)
        short = pl.col("response").str.len_chars() < 3
        return StageResult(kept=df.filter(~short).with_columns(pl.col("response").str.to_uppercase()),
                           rejected=self.reject(df.filter(short), "too_short", "under 3 characters"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`ray start --head` plus a second `ray start --address`, both on 127.0.0.1, one CPU each."""
    port, node2_port = _free_port(), _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
           "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    def ray_start(*args: str) -> None:
        done = subprocess.run([str(RAY), "start", *args, *common], env=env, capture_output=True, text=True, timeout=180)
        if done.returncode:
            raise RuntimeError(f"ray start {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    try:  # whatever fails, the nodes started so far are stopped
        ray_start("--head", "--port", str(port), "--include-dashboard=false")
        ray_start("--address", f"127.0.0.1:{port}", "--node-manager-port", str(node2_port))
        os.environ["PYTHONPATH"] = env["PYTHONPATH"]
        yield {"address": f"127.0.0.1:{port}", "node2_port": node2_port}
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)


def _rows(tmp_path: Path) -> Path:
    rows = [{"id": f"r{i}", "instruction": f"Say item {i % 23}.", "input": "",
             "output": "ok" if i % 7 == 0 else f"item number {i % 23} is here"} for i in range(48)]
    rows.append({"id": "bad", "instruction": "x"})  # no output: a reject at ingest
    p = tmp_path / "rows.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{not json\n")
    return p


def _recipe(src: Path):
    return build_recipe({"name": "ray-check", "inputs": [{"path": str(src), "mapping": "alpaca", "source": "t"}],
                         "stages": [{"stage": "rules"}, {"stage": "exact-dedup", "fields": ["prompt", "response"]},
                                    {"stage": "minhash-dedup", "threshold": 0.7},
                                    {"stage": "quality-filter"},
                                    {"stage": "length-filter", "field": "response", "min_chars": 1},
                                    {"stage": "inspect", "verb_sample": 20, "diversity_sample": 0}]})


def _outputs(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    steps = sorted((run_dir / "stages").iterdir())
    kept = read_table(steps[-1]).drop("dup_cluster", "dup_cluster_size", strict=False).sort("id")
    rejected = pl.read_parquet(run_dir / "rejected.parquet").select("id", "stage", "reason", "detail").sort("id")
    return kept, rejected


def test_ray_cluster_gives_the_local_output(cluster, tmp_path):
    src = _rows(tmp_path)
    local = run_recipe(_recipe(src), tmp_path / "local", executor=ExecutorSpec(workers=1))
    on_ray = run_recipe(_recipe(src), tmp_path / "ray", executor=ExecutorSpec("ray", address=cluster["address"]))
    assert on_ray["status"] == "ok" and on_ray["executor"]["name"] == "ray"
    a, b = _outputs(Path(local["run_dir"])), _outputs(Path(on_ray["run_dir"]))
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    assert a[1]["reason"].value_counts().height >= 3  # ingest, dedup and quality rejects all took part
    assert [s["rows_in"] for s in local["steps"]] == [s["rows_in"] for s in on_ray["steps"]]
    figures = [{k: v for k, v in json.loads(next(Path(r["run_dir"]).glob("stages/*-inspect/stats.json")).read_text())
                ["stage_stats"].items() if k not in ("timings", "generated", "seconds")} for r in (local, on_ray)]
    assert figures[0] == figures[1] and figures[0]["counts"]["rows"] == a[0].height
    assert on_ray["steps"][-1]["execution"] == "summary"


def _raylet_of(port: int):
    import psutil

    for p in psutil.process_iter(["name", "cmdline"]):
        if "raylet" in (p.info["name"] or "") and any(f"--node_manager_port={port}" in c for c in p.info["cmdline"] or []):
            return p
    return None


def test_killing_a_node_mid_step_still_gives_the_same_output(cluster, tmp_path):
    src = _rows(tmp_path)
    recipe = lambda: build_recipe({"name": "ray-kill", "inputs": [{"path": str(src), "mapping": "alpaca"}],  # noqa: E731
                                   "stages": [{"stage": "rules"}]})
    local_recipe, ray_recipe = recipe(), recipe()
    for r in (local_recipe, ray_recipe):  # the slow row-wise step, by class (tests are not in the registry)
        from dsforge.pipelines.core.recipe import Step

        r.steps.append(Step("slow-upper", SlowUpper({"seconds": 0.5})))
    local = run_recipe(local_recipe, tmp_path / "local", executor=ExecutorSpec(workers=1))
    raylet = _raylet_of(cluster["node2_port"])
    assert raylet is not None, "the second node's raylet was not found"
    out = tmp_path / "ray"
    killed = threading.Event()

    def kill_when_running() -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            done = list(out.glob("*/stages/02-slow-upper/parts/*.json"))
            if len(done) >= 2:
                raylet.kill()
                killed.set()
                return
            time.sleep(0.05)

    t = threading.Thread(target=kill_when_running, daemon=True)
    t.start()
    on_ray = run_recipe(ray_recipe, out, executor=ExecutorSpec("ray", address=cluster["address"]))
    t.join(timeout=5)
    assert killed.is_set(), "the step ended before the node could be killed"
    assert on_ray["status"] == "ok"
    a, b = _outputs(Path(local["run_dir"])), _outputs(Path(on_ray["run_dir"]))
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    assert on_ray["steps"][-1]["parts"] == local["steps"][-1]["parts"] == 12  # 48 rows in parts of 4
    shutil.rmtree(out, ignore_errors=True)
