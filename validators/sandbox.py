"""Run untrusted Python (model-written solutions and their tests) in a sandboxed subprocess.

    from dsforge.validators.sandbox import run_python
    r = run_python("def add(a, b):\n    return a + b", tests="assert add(2, 3) == 5", timeout=5)
    r.passed, r.status, r.error, r.stdout

Layers, each used when this machine allows it (`SandboxResult.isolation` says which were in force):

- always: a fresh temporary working folder; resource limits (address space, CPU seconds, file size,
  open files, no core dumps); a wall-clock timeout that kills the whole process group; an output cap
  (the process is killed once stdout+stderr pass `max_output` bytes); a minimal environment; and an
  audit hook (PEP 578) inside the child that refuses sockets, process creation (fork, exec, subprocess,
  os.system, kill), writes or deletions outside the working folder and imports of ctypes/cffi.
- `unshare` (root, or unprivileged user namespaces): a new network namespace (no interfaces but a downed
  loopback), a new PID namespace (everything dies with the child), and a mount namespace where every
  mount is read-only except the working folder (_sandbox_ns.py sets it up, then execs the bootstrap).
- a pids cgroup (cgroup v1 `pids` writable, i.e. root): at most `max_processes` tasks, so a fork bomb
  written against the audit hook still stops.

This guards against accidents and careless model output, not against a determined attacker with a
kernel exploit: for hostile code use a VM or gVisor. Only Python is supported.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

BOOT = Path(__file__).with_name("_sandbox_boot.py")
NS_LAUNCHER = Path(__file__).with_name("_sandbox_ns.py")
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")

@dataclass
class SandboxResult:
    passed: bool
    status: str  # passed | failed | syntax_error | timeout | memory | output_limit | crashed
    error: str | None = None  # one line: "AssertionError: ...", "timeout after 5 s", ...
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    phase: str | None = None  # where it failed: code or tests
    isolation: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=1)
def isolation_available() -> tuple[str, ...]:
    """Which optional layers work here (probed once per process by running a tiny sandboxed child)."""
    layers: list[str] = []
    unshare = shutil.which("unshare")
    if unshare:
        for variant in (("namespaces", []), ("user-namespaces", ["--user", "--map-root-user"])):
            work = Path(tempfile.mkdtemp(prefix="dsforge-probe-"))
            try:
                cmd = [unshare, *variant[1], "--net", "--mount", "--pid", "--fork", "--kill-child",
                       sys.executable, "-I", "-S", str(NS_LAUNCHER), str(work), "", "--", sys.executable, "-I", "-c",
                       "import socket\ntry:\n open('/probe-outside','w')\nexcept OSError: pass\nelse: raise SystemExit(2)\n"
                       f"open({str(work / 'ok')!r},'w').write('ok')\n"]
                r = subprocess.run(cmd, capture_output=True, timeout=20)
                if r.returncode == 0 and (work / "ok").exists():
                    layers.append(variant[0])
                    break
            except (OSError, subprocess.TimeoutExpired):
                pass
            finally:
                shutil.rmtree(work, ignore_errors=True)
    if os.geteuid() == 0 and (PIDS_CGROUP / "cgroup.procs").exists():
        probe = PIDS_CGROUP / f"dsforge-probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.mkdir()
            (probe / "pids.max").write_text("4")
            layers.append("pids-cgroup")
        except OSError:
            pass
        finally:
            try:
                probe.rmdir()
            except OSError:
                pass
    return tuple(layers)


def run_python(code: str, tests: str | list[str] | None = None, *, timeout: float = 10.0, memory_mb: int = 512,
               max_output: int = 64_000, max_file_mb: int = 16, max_processes: int = 16,
               allow_network: bool = False, allow_subprocess: bool = False,
               files: dict[str, str] | None = None) -> SandboxResult:
    """Run `code`, then `tests` (Python source, or a list of statements such as asserts) in the same
    namespace, in a sandboxed subprocess. Passed means both ran to the end without an exception.

    timeout: wall-clock seconds (CPU time is capped at the same figure). memory_mb: address-space limit.
    max_output: bytes of stdout+stderr kept; past that the process is killed (status output_limit).
    files: extra files (name -> text) written into the working folder first (e.g. input data).
    """
    if isinstance(tests, list):
        tests = "\n".join(tests)
    layers = isolation_available()
    work = Path(tempfile.mkdtemp(prefix="dsforge-sandbox-"))
    cgroup: Path | None = None
    started = time.perf_counter()
    try:
        (work / "solution.py").write_text(code, encoding="utf-8")
        tests_arg = "-"
        if tests:
            (work / "tests.py").write_text(tests, encoding="utf-8")
            tests_arg = str(work / "tests.py")
        for name, text in (files or {}).items():
            target = (work / name).resolve()
            if not str(target).startswith(str(work.resolve()) + os.sep):
                raise ValueError(f"run_python: file name {name!r} points outside the working folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        status_r, status_w = os.pipe()
        used = ["rlimits", "audit-hook", "timeout", "output-cap", "tmp-workdir"]
        boot = [sys.executable, "-I", str(BOOT), str(work / "solution.py"), tests_arg, str(status_w),
                str(memory_mb), str(max(1, int(timeout + 0.999))), str(max_file_mb),
                str(max_processes), "1" if allow_network else "0", "1" if allow_subprocess else "0"]
        cmd = boot
        if "pids-cgroup" in layers:
            cgroup = PIDS_CGROUP / f"dsforge-sandbox-{uuid.uuid4().hex[:12]}"
            try:
                cgroup.mkdir()
                (cgroup / "pids.max").write_text(str(max_processes))
                used.append("pids-cgroup")
            except OSError:
                cgroup = None
        if "namespaces" in layers or "user-namespaces" in layers:
            userns = ["--user", "--map-root-user"] if "user-namespaces" in layers else []
            net = [] if allow_network else ["--net"]
            cmd = [shutil.which("unshare") or "unshare", *userns, *net, "--mount", "--pid", "--fork", "--kill-child",
                   sys.executable, "-I", "-S", str(NS_LAUNCHER), str(work), str(cgroup or ""), "--", *boot]
            used += ["mount-ro", "pid-namespace"] + ([] if allow_network else ["net-namespace"])
        elif cgroup is not None:
            cmd = ["sh", "-c", 'echo $$ > "$0/cgroup.procs"; shift; exec "$@"', str(cgroup), "x", *boot]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work), "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=(status_w,), start_new_session=True)
        os.close(status_w)
        result = _supervise(proc, status_r, timeout, max_output)
        result.isolation = used
        result.seconds = round(time.perf_counter() - started, 3)
        return result
    finally:
        if cgroup is not None:
            _remove_cgroup(cgroup)
        shutil.rmtree(work, ignore_errors=True)


def _supervise(proc: subprocess.Popen, status_fd: int, timeout: float, max_output: int) -> SandboxResult:
    """Collect capped output and the status lines; kill the group on timeout or too much output."""
    chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    total = [0]
    over = threading.Event()
    lock = threading.Lock()

    def pump(name: str, stream) -> None:
        while True:
            data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not data:
                return
            with lock:
                room = max_output - total[0]
                if room > 0:
                    chunks[name].append(data[:room])
                total[0] += len(data)
                if total[0] > max_output and not over.is_set():
                    over.set()
                    _kill(proc)

    status_lines: list[str] = []

    def read_status() -> None:
        with os.fdopen(status_fd, "r", errors="replace") as f:
            for line in f:
                status_lines.append(line.rstrip("\n"))

    threads = [threading.Thread(target=pump, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    threads.append(threading.Thread(target=read_status, daemon=True))
    for t in threads:
        t.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout + 1.0)  # + interpreter and namespace start-up (CPU time is capped at `timeout`)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc)
        proc.wait()
    for t in threads:
        t.join(timeout=5)
    out = b"".join(chunks["stdout"]).decode("utf-8", "replace")
    err = b"".join(chunks["stderr"]).decode("utf-8", "replace")
    rc = proc.returncode
    fail = next((s for s in status_lines if s.startswith("fail")), None)
    phase = status_lines[-1] if status_lines and status_lines[-1] in ("code", "tests") else None
    res = SandboxResult(passed=False, status="failed", stdout=out, stderr=err, returncode=rc, phase=phase)
    if over.is_set():
        res.status, res.error = "output_limit", f"output passed {max_output} bytes; process killed"
    elif timed_out or rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU) or "SIGXCPU" in err:
        res.status, res.error = "timeout", f"timeout after {timeout:g} s"
    elif fail:
        where, _, message = fail[5:].partition(": ")
        res.phase = where.split()[-1] if where.startswith("syntax") else where
        res.error = message
        if where.startswith("syntax"):
            res.status = "syntax_error"
            res.phase = "code" if "solution.py" in where else "tests"
        elif message.startswith("MemoryError"):
            res.status = "memory"
    elif rc == 0 and status_lines and status_lines[-1] == "done":
        res.passed, res.status = True, "passed"
    elif rc is not None and rc < 0:
        sig = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        res.status, res.error = "crashed", f"killed by {sig}"
        if -rc in (signal.SIGSEGV, signal.SIGKILL, signal.SIGABRT) and "MemoryError" in err:
            res.status = "memory"
    elif "MemoryError" in err:
        res.status, res.error = "memory", "MemoryError"
    else:
        res.error = f"exited with code {rc} before the tests finished" + (f": {err.strip().splitlines()[-1]}" if err.strip() else "")
    return res


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _remove_cgroup(cgroup: Path) -> None:
    """Kill whatever is left in the sandbox's cgroup, then remove it."""
    for _ in range(50):
        try:
            pids = [int(p) for p in (cgroup / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    try:
        cgroup.rmdir()
    except OSError:
        pass
