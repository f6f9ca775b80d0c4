"""The harness inside the sandbox: `python -I -S -B _sandbox_runner.py`, started once per batch of rows.

The OS sandbox (bubblewrap + seccomp, see sandbox.py) is what contains the code; this file runs the rows
and keeps the verdict. It is a small server that never runs untrusted code itself. For each job it reads
from stdin (marshalled: code, tests, files, limits) it forks a child that closes every inherited
descriptor, gets /dev/null and two fresh pipes as stdin/stdout/stderr plus a private step channel (fds 3
and 4), works in its own empty folder, sets the rlimits, then runs the code and then each top-level
test statement, one step at a time, in one namespace.

The verdict is the server's ledger, not anything the child prints or its exit status. After each step
ends normally the child asks the server for that step's token (fresh random bytes made by the server
then, so no token exists anywhere before the step has finished) and sends it back; the server counts a
step only on its own token, in order, and a "failed" message for a step is final. The outer side
calls a row passed only when the server counted the code plus every test statement it parsed itself.
So exiting early (sys.exit, os._exit, atexit, an exception's hostile __str__/__del__, a patched
builtin, KeyboardInterrupt, printing a verdict-looking line) can only leave steps uncounted. The child
reports a failure to the ledger before it touches the exception object. What this does not stop (code
that runs during a test and speaks this protocol itself) is in docs/verification.md.

When the child ends (or runs out of time or output) the server kills every other process in the
sandbox (kill(-1), repeated until none is left) and empties /work and /dev/shm, so nothing of one row is
alive or on disk when the next starts. The server is non-dumpable: nothing in the sandbox can read its
memory or descriptors through /proc. Output goes to the outer side in frames (row, kind, bytes).

Failures are described (untrusted, for messages only) by a last stderr line
`dsforge-report STATUS<TAB>PHASE<TAB>ERROR`. Stdlib only; a bare interpreter without site-packages.
"""

import marshal
import os
import resource
import select
import signal
import struct
import sys
import time

REPORT = "dsforge-report "
REFUSED = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
           "sys._current_frames"}
EXIT_REFUSED, EXIT_HOOK = 87, 88
FRAME = struct.Struct("=IBI")  # row index, kind, payload length
STEP = struct.Struct("=I16s")  # the step channel: step index, ASK | FAIL | the step's token
ASK, FAIL = b"\0" * 16, b"\xff" * 16
STEP_OUT, STEP_IN = 3, 4  # the child's ends of the step channel
OUT, ERR, END = 0, 1, 2
SCRATCH = ("/work", "/dev/shm")


# ---------------------------------------------------------------- the row's child (untrusted from exec on)

def report(status, phase, error):
    """One line for the outer side's error message (the code can fake it; it only words failures)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the code may have replaced or closed it
            pass
    error = " ".join(str(error).split())[:300]
    try:
        os.write(2, f"\n{REPORT}{status}\t{phase}\t{error}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def set_limits(job):
    mb = 1024 * 1024
    for which, value in ((resource.RLIMIT_AS, job["memory_mb"] * mb), (resource.RLIMIT_FSIZE, job["file_mb"] * mb),
                         (resource.RLIMIT_NPROC, job["max_processes"]), (resource.RLIMIT_NOFILE, 64),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    cpu = max(1, int(job["timeout"] + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def install_guard(write, exit_):
    """An audit hook that refuses the Python-level ways into other frames' memory (gc walks, tracing,
    ctypes, /proc/*/mem): defence in depth for the few microseconds a step token sits in the harness's
    frame. The verdict does not rest on it (it is the server's ledger). The hook never raises."""
    refused = frozenset(REFUSED)

    def hook(event, args):
        try:
            if type(event) is not str:
                exit_(EXIT_HOOK)
            bad = event in refused or event.startswith("ctypes.")
            if not bad and event == "open" and type(args) is tuple and args:
                name = args[0]
                if type(name) is bytes:
                    name = name.decode("utf-8", "surrogateescape")
                bad = type(name) is str and name.rstrip("/").rsplit("/", 1)[-1] == "mem"
            if bad:
                write(2, ("\n" + REPORT + "refused\tcode\tthe harness refuses " + event
                          + " (it could reach the harness's memory)\n").encode("utf-8", "replace"))
                exit_(EXIT_REFUSED)
        except BaseException:  # noqa: BLE001 - never let a traceback carry this frame out
            exit_(EXIT_HOOK)

    sys.addaudithook(hook)


def split_tests(source):
    """The tests as one code object per top-level statement (the outer side counts them the same way)."""
    import ast

    tree = ast.parse(source, "tests.py")
    return [compile(ast.Module(body=[node], type_ignores=[]), "tests.py", "exec") for node in tree.body]


def describe(e):
    """'Type: first line' of an exception; it may run the code's own __str__, so it is called only after
    the failure is in the ledger, and anything it raises is swallowed."""
    try:
        name = type.__dict__["__name__"].__get__(type(e))
    except BaseException:  # noqa: BLE001
        name = "Exception"
    try:
        import traceback

        traceback.print_exception(e)
    except BaseException:  # noqa: BLE001
        pass
    try:
        text = str(e)
        msg = text.splitlines()[0] if text else ""
    except BaseException:  # noqa: BLE001 - an exception whose str() raises
        msg = ""
    return f"{name}: {msg}" if msg else name


def run_row(job, out_w, err_w, step_w, token_r, folder):
    """In the forked child: become the row's process and run it. Never returns."""
    try:
        import fcntl

        step_w, token_r = (fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in (step_w, token_r))
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(step_w, STEP_OUT)
        os.dup2(token_r, STEP_IN)
        os.closerange(STEP_IN + 1, 65536)
        os.chdir(folder)
        for name, text in job["files"].items():
            d = os.path.dirname(name)
            if d:
                os.makedirs(d, exist_ok=True)
            with open(name, "w", encoding="utf-8") as f:
                f.write(text)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        try:  # under a memory cgroup, the row is what the kernel's OOM killer picks, not the server
            import ctypes  # (the server is non-dumpable; the row must own its /proc files to write this)

            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE = 4
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except (ImportError, OSError, AttributeError):
            pass
        set_limits(job)
    except BaseException as e:  # noqa: BLE001
        report("crashed", "", f"harness set-up failed: {type(e).__name__}: {e}")
        os._exit(70)
    steps = []
    try:
        steps.append(("code", compile(job["code"], "solution.py", "exec")))
        steps += [("tests", obj) for obj in split_tests(job["tests"])]
    except SyntaxError as e:
        report("syntax_error", "tests" if steps else "code", f"SyntaxError: {e.msg} (line {e.lineno})")
        os._exit(3)
    except (ValueError, MemoryError, RecursionError) as e:
        report("syntax_error", "tests" if steps else "code", f"{type(e).__name__}: {e}")
        os._exit(3)
    del job
    # Everything used from here on is a local: the code can rebind module globals and builtins, not these.
    run_exec, exit_, write, read, pack, is_type, base_exit = exec, os._exit, os.write, os.read, STEP.pack, type, SystemExit
    install_guard(write, exit_)
    import types

    module = types.ModuleType("__main__")  # `import __main__` gives the code its own namespace, not this file
    module.__builtins__ = __builtins__
    sys.modules["__main__"] = module
    namespace = module.__dict__
    try:
        for k, (phase, obj) in enumerate(steps):
            try:
                run_exec(obj, namespace)
            except base_exit as e:
                # a program's own sys.exit(0) ends its code; anything else, and any exit in the tests, fails
                args = e.args if is_type(e) is base_exit else None
                if not (k == 0 and args is not None and (len(args) == 0 or (len(args) == 1 and (
                        args[0] is None or (is_type(args[0]) is int and args[0] == 0))))):
                    write(STEP_OUT, pack(k, FAIL))
                    report("failed", phase, "SystemExit: " + ("?" if args is None else repr(args[0] if args else None)))
                    exit_(1)
            except BaseException as e:  # noqa: BLE001 - in the ledger first, then worded
                write(STEP_OUT, pack(k, FAIL))
                report("memory" if isinstance(e, MemoryError) else "failed", phase, describe(e))
                exit_(1)
            write(STEP_OUT, pack(k, ASK))
            token = read(STEP_IN, 16)
            if len(token) != 16:
                exit_(1)
            write(STEP_OUT, pack(k, token))
            del token
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
        exit_(0)
    finally:
        exit_(1)


# ---------------------------------------------------------------- the server (trusted; runs no row code)

def send(index, kind, data):
    os.write(1, FRAME.pack(index, kind, len(data)) + data)


def others_alive(me):
    """Processes in the sandbox other than bwrap's init (pid 1) and this server, zombies left out."""
    alive = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != b"Z":
                alive.append(int(name))
    return alive


def kill_the_rest(me):
    """SIGKILL every process but pid 1 and this one until none is left; False if they keep coming."""
    for _ in range(500):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not others_alive(me):
            return True
        time.sleep(0.002)
    return False


def empty_scratch():
    import shutil

    for top in SCRATCH:
        for name in os.listdir(top):
            path = os.path.join(top, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


class Ledger:
    """The server's count of the row's steps: a step counts only when the child sends back the token the
    server made for it after the child said the step had ended; in order; a failure or any other message
    closes the ledger for this row."""

    def __init__(self, token_w):
        self.token_w, self.counted, self.pending, self.closed, self.buf = token_w, 0, None, False, b""

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= STEP.size and not self.closed:
            k, payload = STEP.unpack(self.buf[:STEP.size])
            self.buf = self.buf[STEP.size:]
            if k != self.counted or payload == FAIL:
                self.closed = True
            elif self.pending is None and payload == ASK:
                self.pending = os.urandom(16)
                while self.pending in (ASK, FAIL):
                    self.pending = os.urandom(16)
                try:
                    os.write(self.token_w, self.pending)
                except OSError:
                    self.closed = True
            elif self.pending is not None and payload == self.pending:
                self.counted += 1
                self.pending = None
            else:
                self.closed = True
        if self.closed:
            self.buf = b""


def serve_row(index, job, contained):
    """Fork the row's child in a fresh folder; returns what supervise_row needs."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    step_r, step_w = os.pipe()
    token_r, token_w = os.pipe()
    folder = os.path.join(os.getcwd(), f"row{index}")
    os.mkdir(folder)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        if not contained:
            os.setsid()  # without a sandbox, the row's process group is all there is to kill
        run_row(job, out_w, err_w, step_w, token_r, folder)
    for fd in (out_w, err_w, step_w, token_r):
        os.close(fd)
    return pid, out_r, err_r, step_r, token_w, started, folder


def supervise_row(index, pid, out_r, err_r, step_r, token_w, started, folder, job_limits, contained, me):
    """Relay the row's output (capped) and keep its ledger, end it on timeout or overflow, then clear
    the sandbox."""
    timeout, max_output = job_limits
    deadline = started + timeout + 1.0
    sent, status, timed_out, over = 0, None, False, False
    ledger = Ledger(token_w)
    open_fds = {out_r: OUT, err_r: ERR, step_r: None}
    poller = select.poll()
    for fd in open_fds:
        poller.register(fd, select.POLLIN | select.POLLHUP)

    def take(fd, data):
        """One read's bytes: the step channel's to the ledger, the rest relayed within the output cap."""
        nonlocal sent, over
        if fd == step_r:
            ledger.feed(data)
            return
        room = max_output - sent
        if room > 0:
            send(index, open_fds[fd], data[:room])
        sent += len(data)
        over = over or sent > max_output

    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        if not open_fds:  # the row closed its stdout, stderr and step channel but still runs
            time.sleep(min(left, 0.01))
        for fd, _ in poller.poll(min(left, 0.05) * 1000) if open_fds else ():
            data = os.read(fd, 65536)
            if not data:
                poller.unregister(fd)
                del open_fds[fd]
                continue
            take(fd, data)
        if over:
            break
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
    if contained:
        clean = kill_the_rest(me)
    else:
        clean = True
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = None
    for fd in list(open_fds):  # every writer is dead now: drain what is left, still within the cap
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            take(fd, data)
    for fd in (out_r, err_r, step_r, token_w):
        os.close(fd)
    if contained:
        empty_scratch()
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    rc = None if status is None else (os.waitstatus_to_exitcode(status))
    end = {"rc": rc, "timed_out": timed_out, "over": over, "seconds": round(time.monotonic() - started, 4),
           "steps": ledger.counted, "closed": ledger.closed}
    send(index, END, marshal.dumps(end))
    return clean


def read_exact(n):
    chunks, left = [], n
    while left:
        chunk = os.read(0, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main():
    """argv[1]: "contained" inside bwrap or docker (kill(-1) and /work clean-up are safe there), or "bare"."""
    contained = sys.argv[1:2] == ["contained"]
    me = os.getpid()
    import ast  # noqa: F401 - what every row's child needs, imported once here rather than per fork
    import fcntl  # noqa: F401
    import types  # noqa: F401
    try:  # nobody in the sandbox may read this process's memory or descriptors (the next rows' jobs)
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (ImportError, OSError, AttributeError):
        pass
    index = 0
    while True:
        head = read_exact(4)
        if head is None:
            break
        job = marshal.loads(read_exact(struct.unpack("=I", head)[0]) or b"")
        limits = (job["timeout"], job["max_output"])
        pid, out_r, err_r, step_r, token_w, started, folder = serve_row(index, job, contained)
        del job
        if not supervise_row(index, pid, out_r, err_r, step_r, token_w, started, folder, limits, contained, me):
            break  # processes that cannot be killed: give up on this batch, the outer side re-runs the rest
        index += 1


if __name__ == "__main__":
    main()
