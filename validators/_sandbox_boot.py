"""Bootstrap that runs inside the sandbox process (started by sandbox.py as `python -I _sandbox_boot.py ...`).

It applies the resource limits, installs an audit hook that refuses network use, process creation and
writes outside the working folder, then executes the candidate code and the tests in one namespace.
The result goes to a status pipe (fd given on the command line): "code", "tests", "done" or "fail ...".

Only stdlib here: this file is read by a bare interpreter before any limits are in place.
"""

import os
import resource
import sys
import traceback


def _limits(memory_mb: int, cpu_s: int, file_mb: int, nproc: int) -> None:
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * mb, memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * mb, file_mb * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    if nproc > 0:
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        except (ValueError, OSError):
            pass


BLOCKED_IMPORTS = {"ctypes", "_ctypes", "_posixsubprocess", "cffi", "_cffi_backend"}
PROCESS_EVENTS = {"os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                  "subprocess.Popen", "os.kill", "os.killpg", "signal.pthread_kill", "os.setsid"}
PATH_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink",
               "os.link", "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.mkfifo", "os.mknod",
               "shutil.rmtree", "shutil.chown", "os.setxattr", "os.removexattr"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _install_guard(work: str, allow_network: bool, allow_subprocess: bool) -> None:
    work = os.path.realpath(work)
    realpath, join, getcwd, fspath = os.path.realpath, os.path.join, os.getcwd, os.fspath
    allowed_files = {"/dev/null"}

    def inside(path) -> bool:
        if isinstance(path, int):  # an already-open descriptor
            return True
        try:
            p = fspath(path)
        except TypeError:
            return True
        if isinstance(p, bytes):
            p = p.decode(errors="replace")
        full = realpath(join(getcwd(), p))
        return full == work or full.startswith(work + os.sep) or full in allowed_files

    def guard(event: str, args) -> None:
        if event == "open":
            path, mode, flags = args
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & WRITE_FLAGS)
            if writing and not inside(path):
                raise PermissionError(f"sandbox: writing outside the working folder is blocked: {path}")
        elif event in PATH_EVENTS:
            for a in args:
                if isinstance(a, (str, bytes, os.PathLike)) and not inside(a):
                    raise PermissionError(f"sandbox: {event} outside the working folder is blocked: {a}")
        elif event.startswith("socket.") and not allow_network:
            raise PermissionError("sandbox: network access is blocked")
        elif event in PROCESS_EVENTS and not allow_subprocess:
            if event in ("os.kill", "os.killpg") and args and args[0] == os.getpid():
                return
            raise PermissionError(f"sandbox: {event} is blocked (no subprocesses)")
        elif event == "import" and args[0] in BLOCKED_IMPORTS and not allow_subprocess:
            raise PermissionError(f"sandbox: importing {args[0]} is blocked")

    sys.addaudithook(guard)


def main() -> None:
    (code_path, tests_path, status_fd, memory_mb, cpu_s, file_mb, nproc, network, subproc) = sys.argv[1:10]
    with open(code_path, encoding="utf-8") as f:
        code = f.read()
    tests = ""
    if tests_path != "-":
        with open(tests_path, encoding="utf-8") as f:
            tests = f.read()
    status = os.fdopen(int(status_fd), "w", buffering=1)
    compiled = []
    for name, src in (("solution.py", code), ("tests.py", tests)):
        try:
            compiled.append(compile(src, name, "exec") if src else None)
        except SyntaxError as e:
            status.write(f"fail syntax {name}: SyntaxError: {e.msg} (line {e.lineno})\n")
            traceback.print_exc()
            sys.exit(3)
    _limits(int(memory_mb), int(cpu_s), int(file_mb), int(nproc))
    _install_guard(os.getcwd(), network == "1", subproc == "1")
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    for phase, obj in (("code", compiled[0]), ("tests", compiled[1])):
        status.write(phase + "\n")
        if obj is None:
            continue
        try:
            exec(obj, namespace)
        except SystemExit as e:
            if e.code not in (None, 0):
                status.write(f"fail {phase}: SystemExit: {e.code}\n")
                sys.stdout.flush()
                sys.exit(1)
        except BaseException as e:  # noqa: BLE001 - reported, not swallowed
            msg = str(e).splitlines()[0][:300] if str(e) else ""
            try:
                status.write(f"fail {phase}: {type(e).__name__}: {msg}\n")
            except MemoryError:
                pass
            traceback.print_exc()
            sys.stdout.flush()
            sys.exit(1)
    sys.stdout.flush()
    status.write("done\n")


if __name__ == "__main__":
    main()
