"""Sandboxed test runs per second, against a bare subprocess running the same code, in the same run.

    PYTHONPATH=... python bench/bench_sandbox.py [runs] [workers] [rows_per_sandbox]

Each run is one row's work in the `execute` stage: a solution plus its asserts, judged by its verdict.
Printed, all with `workers` parallel threads:
- bare: `python -I -S -c CODE` per run, no isolation at all (the peer);
- one sandbox per row: `run_python` (a fresh bubblewrap sandbox in its memory cgroup, seccomp, rlimits,
  harness, step ledger);
- batched: `run_python_batch` with `rows_per_sandbox` rows per sandbox, each row still in its own
  process, folder and verdict, with everything it left killed before the next (what `execute` does);
then the ratios and the load average before and after (the machine is shared: say so with the figures).
Issue 12's goal: >= 20 sandboxed runs/s on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from dsforge.validators._sandbox_view import interpreter
from dsforge.validators.sandbox import ensure_available, run_python, run_python_batch

CODE = "def f(n):\n    return sum(i * i for i in range(n))\n"
TESTS = "assert f(1000) == 332833500\nassert f(0) == 0\n"


def rate(task, units: list[int], workers: int) -> float:
    """Rows per second for `task(n)` (n rows per call) over `units`, on `workers` threads."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(task, [1] * workers))  # warm up (probe, page cache)
        t = time.perf_counter()
        list(pool.map(task, units))
    return sum(units) / (time.perf_counter() - t)


def bare(n: int) -> None:
    for _ in range(n):
        subprocess.run([str(interpreter()), "-I", "-S", "-c", CODE + TESTS], check=True, capture_output=True)


def one_per_sandbox(n: int) -> None:
    for _ in range(n):
        r = run_python(CODE, TESTS, timeout=5)
        assert r.passed, r


def batched(n: int) -> None:
    got = run_python_batch([(CODE, TESTS)] * n, timeout=5)
    assert all(r.passed for r in got), got


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 320
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    print(f"layers: {', '.join(ensure_available('bwrap'))}")
    print(f"cores: {os.cpu_count()}, workers: {workers}, runs: {runs}, rows per sandbox: {per}, euid: {os.geteuid()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    singles = [1] * runs
    chunks = [per] * (runs // per) + ([runs % per] if runs % per else [])
    b = rate(bare, singles, workers)
    s = rate(one_per_sandbox, singles, workers)
    m = rate(batched, chunks, workers)
    print(f"bare subprocess             {b:7.1f} runs/s")
    print(f"one sandbox per row         {s:7.1f} runs/s   ({s / b:.2f}x bare)")
    print(f"batched, {per:3d} rows/sandbox   {m:7.1f} runs/s   ({m / b:.2f}x bare)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
