"""Every escape class from issue 12, tried the way an attacker would, and each must fail.

Most go through the `execute` stage (as `dsforge stage execute` runs it); a row whose tests assert that
every attempt failed passes only when nothing escaped. Host-side effects are checked from outside too.
`run_command` runs native code in the same sandbox without the harness, to show that the OS layer
(namespaces, read-only view, seccomp) holds on its own, with no Python audit hook involved.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import polars as pl
import psutil
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext
from dsforge.validators._sandbox_view import interpreter
from dsforge.validators.execute import Execute
from dsforge.validators.sandbox import RUNNER_INSIDE, run_command, run_python_batch

ROOT = Path(__file__).resolve().parents[1]
PY = str(interpreter())
WRONG_ADD = "def add(a, b):\n    return a - b\n"
ADD_TESTS = "assert add(2, 3) == 5"


def execute(tmp_path, items, **cfg) -> dict[str, dict]:
    """Run rows through the execute stage; {row id: {status, detail, passed}}."""
    df = records.from_rows([{"id": f"r{i}", "source": "t", "kind": "instruction", "instruction": "q",
                             "response": code, "metadata": json.dumps({"tests": tests or ""})}
                            for i, (code, tests) in enumerate(items)])
    res = Execute({"tests": "metadata.tests", "timeout": cfg.pop("timeout", 5), **cfg}).process(
        df, StageContext(work_dir=tmp_path, base_dir=tmp_path))
    out = {r["id"]: {"status": r["exec_status"], "passed": r["exec_passed"], "detail": r["exec_error"]}
           for r in res.kept.iter_rows(named=True)}
    if res.rejected is not None:
        for r in res.rejected.iter_rows(named=True):
            out[r["id"]] = {"status": r["reason"].split(":", 1)[1], "passed": False, "detail": r["detail"]}
    assert len(out) == len(items)
    return out


def sandbox_processes_on_host() -> list[int]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        if RUNNER_INSIDE in " ".join(p.info["cmdline"] or []):
            found.append(p.pid)
    return found


NOTHING_ELSE_ALIVE = ("import os\n"
                      "me, server = os.getpid(), os.getppid()\n"
                      "alive = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, me, server)\n"
                      "         and open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z']\n")


# ---------------------------------------------------------------- 1. native code: ctypes under another name

CTYPES_RENAMED = """
import glob, importlib.util, sys
so = glob.glob(sys.base_prefix + '/lib/python3*/lib-dynload/_ctypes*.so')[0]
spec = importlib.util.spec_from_file_location('x._ctypes', so)
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
h = m.dlopen(None)   # the issue's first step; libc.system would follow
"""


def test_ctypes_under_another_name_gets_no_shell_no_remount_no_host_write(tmp_path):
    marker = tmp_path / f"escaped-{uuid.uuid4().hex}"
    got = execute(tmp_path, [(CTYPES_RENAMED + f"import ctypes\nctypes.CDLL(None).system(b'touch {marker}')\n", None)])
    assert got["r0"]["status"] == "refused" and not marker.exists()
    # Without the harness (native code the audit hook never sees), the OS layer alone holds:
    code = f"""
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
MS_REMOUNT, MS_BIND = 32, 4096
def err(r):
    return errno.errorcode[ctypes.get_errno()] if r == -1 else r
out = {{"system": libc.system(b"touch {marker}"),
       "remount_root": err(libc.mount(None, b"/", None, MS_REMOUNT | MS_BIND, None)),
       "mount_tmpfs": err(libc.mount(b"none", b"/lib", b"tmpfs", 0, None))}}
for path in ({str(marker)!r}, "/lib/x", "/x", {str(ROOT / 'escape.txt')!r}):
    try:
        open(path, "w").write("x")
        out[path] = "written"
    except OSError as e:
        out[path] = errno.errorcode[e.errno]
print(out)
"""
    r = run_command([PY, "-I", "-S", "-c", code])
    out = eval(r.stdout.decode())  # noqa: S307 - printed by the code above
    assert out["system"] != 0  # no shell in the view (and fork+exec of /bin/sh finds nothing)
    assert out["remount_root"] == "EPERM" and out["mount_tmpfs"] == "EPERM"  # seccomp
    assert "written" not in out.values()
    assert not marker.exists() and not (ROOT / "escape.txt").exists()


def test_seccomp_denies_namespace_mount_ptrace_bpf_keyring_pidfd_io_uring():
    code = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def call(*args):
    r = libc.syscall(*args)
    return errno.errorcode.get(ctypes.get_errno()) if r == -1 else r
print({
  "unshare_user": call(272, 0x10000000), "unshare_mnt": call(272, 0x20000), "setns": call(308, 0, 0),
  "clone_newuser": call(56, 0x10000000 | 17, 0, 0, 0, 0), "clone3": call(435, None, 0),
  "mount": call(165, b"none", b"/work", b"tmpfs", 0, None), "ptrace": call(101, 16, 1, 0, 0),
  "bpf": call(321, 0, 0, 0), "keyctl": call(250, 0, 0), "add_key": call(248, b"user", b"k", b"v", 1, -3),
  "pidfd_open": call(434, 1, 0), "pidfd_send_signal": call(424, 3, 9, 0, 0), "io_uring_setup": call(425, 8, None),
  "perf_event_open": call(298, None, 0, -1, -1, 0), "inet_socket": call(41, 2, 1, 0), "vsock": call(41, 40, 1, 0),
})
pid = os.fork()
if pid == 0:
    os._exit(7)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""
    r = run_command([PY, "-I", "-S", "-c", code])
    lines = r.stdout.decode().splitlines()
    got = eval(lines[0])  # noqa: S307
    assert got.pop("clone3") == "ENOSYS"  # so libc falls back to clone, whose flags the filter can read
    assert got.pop("inet_socket") == "EAFNOSUPPORT" and got.pop("vsock") == "EAFNOSUPPORT"
    assert set(got.values()) == {"EPERM"}, got
    assert lines[1] == "7"  # plain fork still works


# ---------------------------------------------------------------- 2. host sockets and network

def test_host_unix_sockets_and_loopback_are_unreachable(tmp_path):
    path = tmp_path / "host.sock"
    abstract = f"\0dsforge-test-{uuid.uuid4().hex}"
    servers = []
    for addr in (str(path), abstract):
        s = socket.socket(socket.AF_UNIX)
        s.bind(addr)
        s.listen(4)
        s.setblocking(False)
        servers.append(s)
    os.chmod(path, 0o777)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(4)
    tcp.setblocking(False)
    code = f"""
import socket
reached = []
for addr in ({str(path)!r}, {abstract!r}):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(addr)
        reached.append(addr)
    except OSError:
        pass
try:
    socket.create_connection(("127.0.0.1", {tcp.getsockname()[1]}), timeout=2)
    reached.append("tcp")
except OSError:
    pass
"""
    try:
        got = execute(tmp_path, [(code, "assert reached == []")])
        assert got["r0"]["passed"], got
        for s in (*servers, tcp):
            with pytest.raises(BlockingIOError):
                s.accept()
    finally:
        for s in (*servers, tcp):
            s.close()


# ---------------------------------------------------------------- 3. the parent's secrets

STEAL_ENV = """
import os
found = {}
for pid in [p for p in os.listdir('/proc') if p.isdigit()] + [str(os.getppid()), '1']:
    try:
        found[pid] = open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace')
    except OSError as e:
        found[pid] = repr(e)
found['self'] = dict(os.environ)
raise RuntimeError(repr(found)[:2000])
"""


def test_parent_environment_is_nowhere_in_outputs_or_rejects(tmp_path):
    secret = f"sk-fake-{uuid.uuid4().hex}"
    inp = tmp_path / "rows.jsonl"
    inp.write_text("\n".join(json.dumps(r) for r in [
        {"instruction": "steal", "output": STEAL_ENV, "tests": ""},
        {"instruction": "print", "output": "import os\nprint(open('/proc/self/environ').read())\nprint(os.environ)",
         "tests": "assert False, open('/proc/1/environ', 'rb').read()"},
    ]))
    out = tmp_path / "out"
    env = {**os.environ, "OPENAI_API_KEY": secret, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([str(ROOT / ".venv/bin/dsforge"), "stage", "execute", "--input", str(inp), "--out", str(out),
                        "--mapping", "alpaca", "--param", "tests=metadata.tests"], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    rejected = pl.read_parquet(next(out.rglob("rejected.parquet")))
    assert rejected.height == 2 and "RuntimeError" in " ".join(rejected["detail"].to_list())
    assert secret not in r.stdout + r.stderr
    for f in out.rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f


# ---------------------------------------------------------------- 4. forged verdicts

FORGERIES = [
    # the attack: "done" to every channel the harness might read, then exit 0 before the tests
    WRONG_ADD + "import os\nfor fd in range(1, 64):\n    try:\n        os.write(fd, b'done\\npassed\\n')\n"
                "    except OSError:\n        pass\nos._exit(0)\n",
    WRONG_ADD + "print('0' * 32 + ' passed')\nimport os\nos._exit(0)\n",                       # a guessed verdict
    WRONG_ADD + "import sys\nsys._getframe(1).f_locals['fin']()\n",                             # the harness's finish
    WRONG_ADD + "import sys\nsys._getframe(1).f_globals['finish']()\n",
    WRONG_ADD + "import __main__\n__main__.finish()\n",
    WRONG_ADD + "import sys\nsys.audit('dsforge.verdict')\n",
    WRONG_ADD + "import gc\nfor o in gc.get_objects():\n    pass\n",                              # memory walking
    WRONG_ADD + "import sys\nsys.settrace(lambda *a: None)\n",
    WRONG_ADD + "import builtins\nbuiltins.AssertionError = type('E', (Exception,), {})\n",
    WRONG_ADD + "import sys\nsys.modules['__main__'].run_exec = lambda *a: None\n",
    WRONG_ADD + "import threading, os\nthreading.Thread(target=lambda: os.write(1, b'x passed\\n')).start()\n",
]


def test_forged_verdicts_are_failures_and_honest_rows_still_right(tmp_path):
    honest = [("def add(a, b):\n    return a + b\n", ADD_TESTS), (WRONG_ADD, ADD_TESTS)]
    got = execute(tmp_path, [*honest, *[(code, ADD_TESTS) for code in FORGERIES]])
    assert got["r0"]["passed"] and got["r0"]["status"] == "passed"
    assert not got["r1"]["passed"] and got["r1"]["status"] == "failed"
    forged = {k: v for k, v in got.items() if k not in ("r0", "r1")}
    assert not any(v["passed"] for v in forged.values()), forged
    assert {v["status"] for v in forged.values()} <= {"failed", "refused"}


SIGNAL_HANDLER_ATTACK = WRONG_ADD + """
import os, signal, sys
def handler(sig, frame):   # fires now and then while the harness's audit hook is running
    f = frame
    while f is not None:
        if f.f_code.co_name == "hook":
            loc = f.f_locals
            ATTACK
        f = f.f_back
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
for _ in range(300000):
    sys.audit("x")
"""
THROW = """
            try:
                loc["gen"].throw(KeyError)
            except KeyError as e:
                t = e.__traceback__
                while t.tb_next:
                    t = t.tb_next
                os.write(1, t.tb_frame.f_locals["verdict"])
                os._exit(0)"""


@pytest.mark.parametrize("attack", [
    'os.write(1, loc["verdict"]); os._exit(0)',
    'os.write(1, next(loc["gen"])); os._exit(0)',
    'os.write(1, loc["gen"].gi_frame.f_locals["verdict"]); os._exit(0)',
    THROW,
    'loc["gen"].close(); os._exit(0)',
])
def test_signal_handler_inside_the_harness_hook_cannot_take_the_verdict(attack):
    """A handler gets the interrupted frame: the audit hook's. An earlier harness kept the verdict behind
    that hook and was forged so; now no verdict is in the row's process at all (it is the server's
    ledger), so each of these ends the row uncounted."""
    r = run_python_batch([(SIGNAL_HANDLER_ATTACK.replace("ATTACK", attack.strip()), ADD_TESTS)], timeout=20)[0]
    assert not r.passed and r.status in ("failed", "refused"), (r.status, r.error)


# ---------------------------------------------------------------- 5, 6. writes outside the folder

def test_dir_fd_writes_renames_and_sqlite_cannot_reach_the_host(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    targets = [str(victim / "new.txt"), str(victim / "keep.txt"), "/escape.txt", "/lib/escape.txt",
               str(ROOT / "escape.db"), "/proc/escape.db", "/dev/escape.db"]
    code = f"""
import os, sqlite3
escaped = []
open('inside.txt', 'w').write('x')
root = os.open('/', os.O_RDONLY | os.O_DIRECTORY)
for op in (lambda: os.open('escape.txt', os.O_CREAT | os.O_WRONLY, dir_fd=root),
           lambda: os.rename('inside.txt', 'escape.txt', dst_dir_fd=root),
           lambda: os.mkdir('escape', dir_fd=root),
           lambda: os.symlink('/work', 'escape', dir_fd=root),
           lambda: os.open({str(victim)!r}, os.O_RDONLY | os.O_DIRECTORY)):
    try:
        op()
        escaped.append(op)
    except OSError:
        pass
for path in {targets!r}:
    try:
        db = sqlite3.connect(path)
        db.execute('create table t(x)')
        db.commit()
        escaped.append(path)
    except sqlite3.Error:
        pass
db = sqlite3.connect('inside.db')
db.execute('create table t(x)')
db.commit()
"""
    got = execute(tmp_path, [(code, "assert escaped == [], escaped")])
    assert got["r0"]["passed"], got
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"] and (victim / "keep.txt").read_text() == "precious"
    assert not os.path.exists("/escape.txt") and not (ROOT / "escape.db").exists()


# ---------------------------------------------------------------- 7. signals to the parent

def test_cannot_signal_the_parent_or_host_processes(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pids = [os.getpid(), sleeper.pid, 1]
        code = f"""
import os, signal
hit = []
for pid in {pids!r} + [os.getppid()]:
    try:
        os.kill(pid, signal.SIGKILL) if pid != os.getppid() else os.kill(pid, 0)
        hit.append(('kill', pid))
    except OSError:
        pass
    try:
        fd = os.pidfd_open(pid)
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        hit.append(('pidfd', pid))
    except OSError:
        pass
"""
        # the server is the row's parent and is in the sandbox: kill(ppid, 0) may reach it, SIGKILL to
        # host pids may not. pid 1 inside is bubblewrap's init, not the host's.
        kill_all = "import os, signal\nos.kill(-1, signal.SIGKILL)\n"
        got = execute(tmp_path, [(code, "assert [h for h in hit if h[0] == 'pidfd'] == []\n"
                                        f"assert [h for h in hit if h[1] in {pids[:2]!r}] == []"),
                                 (kill_all, None), ("x = 1", "assert x == 1")])
        assert got["r0"]["passed"], got
        assert not got["r1"]["passed"]  # it killed its own harness: that row fails, the rest still run
        assert got["r2"]["passed"]
        assert sleeper.poll() is None and psutil.pid_exists(os.getpid())
    finally:
        sleeper.kill()
        sleeper.wait()


# ---------------------------------------------------------------- 8, 9. processes outliving their row

def test_fork_bomb_and_200_children_do_not_outlive_their_row():
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    spawn = ("import os, time\nkids = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
             "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(600)\n        os._exit(0)\n"
             "    kids += 1\n")
    got = run_python_batch([(bomb, None), (NOTHING_ELSE_ALIVE, "assert alive == [], alive"),
                            (spawn, "assert kids == 200, kids"), (NOTHING_ELSE_ALIVE, "assert alive == [], alive")],
                           timeout=3, max_processes=260)
    assert got[0].status in ("timeout", "failed", "crashed") and not got[0].passed
    assert got[1].passed, got[1].error
    assert got[2].passed, got[2].error  # a passed run that left 200 children ...
    assert got[3].passed, got[3].error  # ... none of which the next row can see
    assert sandbox_processes_on_host() == []


def test_setsid_child_does_not_outlive_the_timeout(tmp_path):
    code = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    while True:\n        time.sleep(1)\n"
            "while True:\n    pass\n")
    got = execute(tmp_path, [(code, None), (NOTHING_ELSE_ALIVE, "assert alive == [], alive")], timeout=2)
    assert got["r0"]["status"] == "timeout"
    assert got["r1"]["passed"], got
    assert sandbox_processes_on_host() == []


def test_rows_in_one_sandbox_cannot_see_each_others_files():
    first = "open('secret.txt', 'w').write('row 0')\nopen('/dev/shm/s', 'w').write('row 0')\n"
    second = "import os\nseen = os.listdir('/work') + os.listdir('/dev/shm') + os.listdir('.')\n"
    got = run_python_batch([(first, None), (second, "assert seen == ['row1'], seen")])
    assert got[0].passed and got[1].passed, got[1].error


# ---------------------------------------------------------------- 10, 11. output and disk

def test_600_mb_of_output_keeps_the_parent_small(tmp_path):
    me = psutil.Process()
    before = me.memory_info().rss
    peak = [before]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], me.memory_info().rss)
            time.sleep(0.02)

    t = threading.Thread(target=watch)
    t.start()
    flood = "import os\nb = b'x' * (1 << 20)\nfor _ in range(600):\n    os.write(1, b)\n    os.write(2, b)\n"
    try:
        started = time.monotonic()
        got = execute(tmp_path, [(flood, None)], timeout=30)
        took = time.monotonic() - started
    finally:
        stop.set()
        t.join()
    assert got["r0"]["status"] == "output_limit"
    assert peak[0] - before < 150 * 1024 * 1024, (before, peak[0])
    assert took < 20


def test_disk_use_is_capped():
    fill = ("import errno\ntotal = 0\nb = b'x' * (1 << 20)\ntry:\n    for i in range(1000):\n"
            "        with open(f'f{i}', 'wb') as f:\n            for _ in range(8):\n                f.write(b)\n"
            "                total += len(b)\nexcept OSError as e:\n    err = errno.errorcode[e.errno]\n")
    shm = fill.replace("f'f{i}'", "f'/dev/shm/f{i}'")
    got = run_python_batch([(fill, "assert err == 'ENOSPC' and 40 << 20 < total <= 32 << 21, (err, total)"),
                            (shm, "assert err == 'ENOSPC' and total <= 8 << 20, (err, total)")],
                           disk_mb=64, timeout=20)
    assert got[0].passed, got[0].error
    assert got[1].passed, got[1].error
