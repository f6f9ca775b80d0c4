"""Sandboxed test runs per second, against a bare subprocess running the same code, in the same run.

    PYTHONPATH=... python bench/bench_sandbox.py [runs] [workers]

Each run is one row's work in the `execute` stage: a solution plus its asserts. Printed: runs/second
for a bare `python -I -S -c CODE` subprocess (no isolation at all) and for `run_python` with
isolation "bwrap" (a fresh bubblewrap sandbox per run: namespaces, seccomp, rlimits, the runner and its
nonce), both with `workers` runs in parallel threads, plus the ratio and the machine's load average.
The goal in issue 12 is >= 20 sandboxed runs/s on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from dsforge.validators._sandbox_view import interpreter
from dsforge.validators.sandbox import ensure_available, run_python

CODE = "def f(n):\n    return sum(i * i for i in range(n))\n"
TESTS = "assert f(1000) == 332833500\nassert f(0) == 0\n"


def rate(fn, runs: int, workers: int) -> float:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: fn(), range(workers)))  # warm up
        t = time.perf_counter()
        list(pool.map(lambda _: fn(), range(runs)))
    return runs / (time.perf_counter() - t)


def bare() -> None:
    subprocess.run([str(interpreter()), "-I", "-S", "-c", CODE + TESTS], check=True, capture_output=True)


def boxed() -> None:
    r = run_python(CODE, TESTS, timeout=5)
    assert r.passed, r


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    print(f"layers: {', '.join(ensure_available('bwrap'))}")
    print(f"cores: {os.cpu_count()}, workers: {workers}, runs: {runs}, load before: {os.getloadavg()}")
    b = rate(bare, runs, workers)
    s = rate(boxed, runs, workers)
    print(f"bare subprocess   {b:7.1f} runs/s")
    print(f"run_python bwrap  {s:7.1f} runs/s")
    print(f"ratio             {b / s:7.2f}x slower sandboxed   (load after: {os.getloadavg()})")


if __name__ == "__main__":
    main()
