"""Cost of the sandbox per run, against a bare `python -c` subprocess measured in the same run.

    .venv/bin/python bench/bench_sandbox.py [runs]

Prints median milliseconds per run for: a bare subprocess, run_python (all layers this machine allows),
and the ratio. The sandbox adds namespaces, read-only remounts, a cgroup and the audit hook.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from dsforge.validators.sandbox import isolation_available, run_python

CODE = "def f(n):\n    return sum(i * i for i in range(n))\n"
TESTS = "assert f(1000) == 332833500"


def timed(fn, runs: int) -> float:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"isolation layers here: {', '.join(isolation_available()) or 'none beyond rlimits + audit hook'}")
    bare = timed(lambda: subprocess.run([sys.executable, "-I", "-c", CODE + TESTS], check=True), runs)
    r = run_python(CODE, TESTS)
    assert r.passed, r
    boxed = timed(lambda: run_python(CODE, TESTS), runs)
    print(f"bare subprocess   {bare:7.1f} ms/run (median of {runs})")
    print(f"run_python        {boxed:7.1f} ms/run")
    print(f"ratio             {boxed / bare:7.2f}x")


if __name__ == "__main__":
    main()
