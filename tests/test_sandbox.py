"""The sandbox against escapes and runaway code (validators/sandbox.py)."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from pathlib import Path

import pytest

from dsforge.validators.sandbox import isolation_available, run_python

ROOT = Path(__file__).resolve().parents[1]


def test_passing_code_and_tests_share_a_namespace():
    r = run_python("def add(a, b):\n    return a + b\nprint('ran')", tests=["assert add(2, 3) == 5"], timeout=5)
    assert r.passed and r.status == "passed" and r.error is None
    assert r.stdout == "ran\n"
    assert "audit-hook" in r.isolation and "rlimits" in r.isolation


def test_failing_test_reports_assertion_and_phase():
    r = run_python("def add(a, b):\n    return a - b", tests="assert add(2, 3) == 5, 'add(2, 3) should be 5'")
    assert not r.passed and r.status == "failed" and r.phase == "tests"
    assert r.error == "AssertionError: add(2, 3) should be 5"
    assert "Traceback" in r.stderr


def test_syntax_error_in_code():
    r = run_python("def f(:\n    pass")
    assert r.status == "syntax_error" and r.phase == "code" and r.error.startswith("SyntaxError")


def test_exit_before_tests_is_a_failure():
    assert not run_python("import sys\nsys.exit(0)", tests="assert False, 'tests ran'").passed
    r = run_python("import os\nos._exit(0)", tests="pass")
    assert not r.passed and "before the tests finished" in r.error


def test_network_is_blocked_for_python_and_below():
    # A real listener on loopback: reachable from here, not from the sandbox.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        r = run_python(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)")
        assert not r.passed and "network access is blocked" in r.error
    finally:
        srv.close()


@pytest.mark.parametrize("target", ["/tmp", str(ROOT), "/dev/shm"])
def test_cannot_write_outside_its_folder(target):
    path = Path(target) / f"dsforge-escape-{uuid.uuid4().hex}"
    for code in (f"open({str(path)!r}, 'w').write('x')",
                 f"import os\nfd = os.open({str(path)!r}, os.O_CREAT | os.O_WRONLY)",
                 f"import os\nos.symlink({str(path)!r}, 'link')\nopen('link', 'w').write('x')",
                 f"import pathlib\npathlib.Path({str(path)!r}).write_text('x')"):
        r = run_python(code)
        assert not r.passed, code
        assert not path.exists(), f"escaped with: {code}"


def test_cannot_delete_outside_its_folder(tmp_path):
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    r = run_python(f"import os, shutil\nos.remove({str(victim)!r})")
    assert not r.passed and victim.read_text() == "precious"
    r = run_python(f"import shutil\nshutil.rmtree({str(tmp_path)!r})")
    assert not r.passed and victim.exists()


def test_can_write_inside_its_folder_and_gets_input_files():
    r = run_python("data = open('in.txt').read()\nopen('out.txt', 'w').write(data * 2)\nprint(open('out.txt').read())",
                   files={"in.txt": "ab"})
    assert r.passed and r.stdout.strip() == "abab"


def test_fork_bomb_is_stopped():
    r = run_python("import os\nwhile True:\n    os.fork()", timeout=5)
    assert not r.passed and "blocked" in r.error
    if "pids-cgroup" in isolation_available():
        # With process creation allowed at the Python level, the pids cgroup still caps it.
        r = run_python("import os\nwhile True:\n    os.fork()", timeout=5, allow_subprocess=True, max_processes=8)
        assert not r.passed and r.status in ("failed", "timeout", "crashed")
        assert r.seconds < 8


def test_subprocess_and_ctypes_are_blocked():
    assert "blocked" in run_python("import subprocess\nsubprocess.run(['true'])").error
    assert "blocked" in run_python("import ctypes").error
    assert "blocked" in run_python("import os\nos.system('true')").error


def test_infinite_loop_times_out():
    r = run_python("while True:\n    pass", timeout=1)
    assert r.status == "timeout" and not r.passed and r.seconds < 4


def test_memory_hog_hits_the_limit():
    r = run_python("x = bytearray(3 * 1024 ** 3)", memory_mb=256)
    assert r.status == "memory" and not r.passed


def test_huge_output_is_capped():
    r = run_python("while True:\n    print('x' * 1000)", max_output=10_000, timeout=10)
    assert r.status == "output_limit" and len(r.stdout) <= 10_000 and r.seconds < 5


def test_secrets_in_environment_do_not_leak(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value")
    r = run_python("import os\nprint(os.environ.get('HF_TOKEN'))")
    assert r.stdout.strip() == "None"


def test_parallel_runs_do_not_interfere():
    results = [None] * 4

    def go(i):
        results[i] = run_python(f"open('f.txt','w').write('{i}')\nassert open('f.txt').read() == '{i}'")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.passed for r in results)


def test_nothing_left_behind():
    before = {p for p in os.listdir("/tmp") if p.startswith("dsforge-sandbox-")}
    run_python("open('x', 'w').write('1')")
    after = {p for p in os.listdir("/tmp") if p.startswith("dsforge-sandbox-")}
    assert after <= before


def test_namespace_layer_alone_blocks_writes_and_network(tmp_path):
    """Without the audit hook (a bare interpreter inside the namespaces): the read-only mounts and the empty
    network namespace still stop writes outside the folder and connections."""
    import shutil
    import subprocess
    import sys

    from dsforge.validators.sandbox import NS_LAUNCHER

    layers = isolation_available()
    if "namespaces" not in layers and "user-namespaces" not in layers:
        assert "rlimits" in run_python("pass").isolation  # nothing more to check on this machine
        return
    work = tmp_path / "w"
    work.mkdir()
    outside = tmp_path / "outside.txt"
    code = (f"import socket, errno\n"
            f"open('inside.txt', 'w').write('ok')\n"
            f"try:\n    open({str(outside)!r}, 'w')\nexcept OSError as e:\n    print('write', errno.errorcode[e.errno])\n"
            f"try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\nexcept OSError as e:\n    print('net', type(e).__name__)\n")
    userns = ["--user", "--map-root-user"] if "namespaces" not in layers else []
    r = subprocess.run([shutil.which("unshare"), *userns, "--net", "--mount", "--pid", "--fork", "--kill-child",
                        sys.executable, "-I", "-S", str(NS_LAUNCHER), str(work), "", "--", sys.executable, "-I", "-c", code],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "write EROFS" in r.stdout and "net" in r.stdout
    assert (work / "inside.txt").read_text() == "ok" and not outside.exists()
