"""Nothing of a run outlives it: after kill -9 of `dsforge run --workers 2` no worker, resource tracker or
Prefect temporary server of it is left; kill -9 of one worker ends the run with one line naming the step
and part, the run is marked failed, and running the same command again resumes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from test_sharded_runner import chain, write_inputs

DSFORGE = Path(sys.executable).with_name("dsforge")


def recipe_file(tmp_path: Path, external: Path) -> Path:
    data = chain(write_inputs(tmp_path, external, files=4))
    data["stages"].insert(0, {"stage": "language-filter", "languages": ["en"]})
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def wait_for(pattern: str, root: Path, proc: subprocess.Popen, timeout: float = 300) -> list[Path]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = list(root.glob(pattern))
        if found:
            return found
        assert proc.poll() is None, f"the run ended before {pattern} appeared"
        time.sleep(0.05)
    raise AssertionError(f"{pattern} did not appear in {timeout} s")


def alive(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.Error:
            continue
    return out


@pytest.mark.parametrize("prefect", [False, True], ids=["no-prefect", "prefect"])
def test_kill_9_of_the_run_leaves_no_process_behind(tmp_path, external, prefect):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": "",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"}
    cmd = [str(DSFORGE), "run", str(recipe_file(tmp_path, external)), "--workers", "2", "--quiet",
           "--out", str(tmp_path / "runs")] + ([] if prefect else ["--no-prefect"])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_for("chain-*/stages/01-language-filter/parts/*.json", tmp_path / "runs", proc)
    time.sleep(1.0)  # the watcher looks twice a second
    family = psutil.Process(proc.pid).children(recursive=True)
    names = " ".join(" ".join(p.cmdline()) for p in family)
    assert names.count("multiprocessing") >= 3  # two workers and the resource tracker
    assert ("uvicorn" in names) == prefect  # Prefect's temporary server
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    while alive(family) and time.time() < deadline:
        time.sleep(0.2)
    assert alive(family) == []


def test_kill_9_of_one_worker_names_the_step_and_part_and_the_rerun_resumes(tmp_path, external):
    recipe = recipe_file(tmp_path, external)
    cmd = [str(DSFORGE), "run", str(recipe), "--workers", "2", "--no-prefect", "--out", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    flight = wait_for("chain-*/stages/01-language-filter/.in-flight/rows-*", tmp_path / "runs", proc)[0]
    part, pid = int(flight.name.split("-")[1]), int(flight.read_text())
    os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err[-3000:]
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    assert (f"error: step language-filter (language-filter): the worker process running part {part} died "
            f"(pid {pid}, killed by SIGKILL)") in err.splitlines()
    assert "hint: run the same command again: finished parts are kept and the run resumes" in err.splitlines()
    run = json.loads(next((tmp_path / "runs").glob("chain-*/run.json")).read_text())
    assert run["status"] == "failed" and "WorkerDiedError" in run["error"]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "reused" in again.stdout.splitlines()[2]  # ingest
