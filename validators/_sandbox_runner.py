"""The harness inside the sandbox: `python -I -S -B _sandbox_runner.py`, started once per batch of rows.

The OS sandbox (bubblewrap + seccomp, see sandbox.py) is what contains the code; this file runs the rows
and reports. It is a small server that never runs untrusted code itself. For each job it reads from
stdin (marshalled: code, tests, files, limits, the row's nonce) it forks a child that:
closes every inherited descriptor, gets /dev/null and two fresh pipes as stdin/stdout/stderr, works in
its own empty folder, sets the rlimits, installs the audit hook that holds the nonce, execs the code
then the tests in one namespace, and if both ran to the end prints `<nonce> passed` as the last line.
When the child ends (or runs out of time or output) the server kills every other process in the
sandbox (kill(-1), repeated until none is left) and empties /work and /dev/shm, so nothing of one row
is alive or on disk when the next starts. Output goes to the outer side in frames (row, kind, bytes).

Why the nonce: the outer side calls a row passed only when that exact line ends the row's stdout, so
writing "done", exiting early with status 0, or printing a guessed verdict fails. The verdict lives only
in a suspended generator held by the audit hook (install_guard); the hook refuses the Python-level ways
of reaching it (gc, tracing, gi_frame, ctypes, /proc/*/mem) and the generator yields it only to the
hook called by `finish` called by `run_row`. The server is made non-dumpable, so no process in the
sandbox can read its memory or descriptors (the next rows' jobs) through /proc. What this cannot stop
is listed in docs/verification.md.

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
EXIT_REFUSED, EXIT_FORGED, EXIT_HOOK = 87, 86, 88
FRAME = struct.Struct("=IBI")  # row index, kind, payload length
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


def install_guard(nonce, main_frame, finish_code, write, exit_):
    """The audit hook that keeps the verdict out of the code's reach and prints it for `finish` only.

    The verdict bytes live only in a suspended generator's frame. The hook's own frame (which a signal
    handler, gc callback or finaliser running inside the hook can see) holds just the generator, and the
    generator hands the verdict out only when its caller is the hook, called by `finish`, called by
    `run_row`'s frame, on the main thread; anything else ends the process. Its frame is out of reach:
    `gi_frame` on it and gc's referents are refused, and it never lets an exception (and so a traceback)
    out. The hook never raises either and calls nothing the code could have replaced; refusals end the
    process with EXIT_REFUSED and a fixed report line."""
    import _thread

    get_ident, main_thread = _thread.get_ident, _thread.get_ident()
    getframe = sys._getframe
    refused = frozenset(REFUSED)
    hook_code = []

    def verdicts(verdict):
        try:
            yield None  # primed below, so that throw()/close() always land inside this try
            while True:
                caller = getframe(1)
                up = caller.f_back
                if (caller.f_code is not hook_code[0] or up is None or up.f_code is not finish_code
                        or up.f_back is not main_frame or get_ident() != main_thread):
                    exit_(EXIT_FORGED)
                yield verdict
        except BaseException:  # noqa: BLE001 - no traceback (it would hold this frame), no verdict
            exit_(EXIT_FORGED)

    gen = verdicts((nonce + " passed\n").encode())
    next(gen)
    del nonce

    def hook(event, args):
        try:
            if type(event) is not str:
                exit_(EXIT_HOOK)
            if event == "dsforge.verdict":
                write(1, next(gen))  # the generator checks who is asking
                exit_(0)
            bad = event in refused or event.startswith("ctypes.")
            if not bad and event == "object.__getattr__" and type(args) is tuple and len(args) == 2:
                bad = args[0] is gen
            if not bad and event == "open" and type(args) is tuple and args:
                name = args[0]
                if type(name) is bytes:
                    name = name.decode("utf-8", "surrogateescape")
                bad = type(name) is str and name.rstrip("/").rsplit("/", 1)[-1] == "mem"
            if bad:
                write(2, ("\n" + REPORT + "refused\tcode\tthe harness refuses " + event
                          + " (it could reach the verdict)\n").encode("utf-8", "replace"))
                exit_(EXIT_REFUSED)
        except BaseException:  # noqa: BLE001 - never let a traceback carry this frame out
            exit_(EXIT_HOOK)

    hook_code.append(hook.__code__)
    sys.addaudithook(hook)


def finish():
    sys.audit("dsforge.verdict")


def run_row(job, out_w, err_w, folder):
    """In the forked child: become the row's process and run it. Never returns."""
    try:
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, 65536)
        os.chdir(folder)
        for name, text in job["files"].items():
            d = os.path.dirname(name)
            if d:
                os.makedirs(d, exist_ok=True)
            with open(name, "w", encoding="utf-8") as f:
                f.write(text)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        set_limits(job)
    except BaseException as e:  # noqa: BLE001
        report("crashed", "", f"harness set-up failed: {type(e).__name__}: {e}")
        os._exit(70)
    compiled = []
    for name, src in (("solution.py", job["code"]), ("tests.py", job["tests"])):
        try:
            compiled.append(compile(src, name, "exec") if src else None)
        except SyntaxError as e:
            report("syntax_error", "code" if name == "solution.py" else "tests", f"SyntaxError: {e.msg} (line {e.lineno})")
            os._exit(3)
    # Everything used from here on is a local: the code can rebind module globals, not these.
    run_exec, exit_, fin = exec, os._exit, finish
    install_guard(job.pop("nonce"), sys._getframe(), finish.__code__, os.write, os._exit)
    del job
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    ok = True
    for phase, obj in (("code", compiled[0]), ("tests", compiled[1])):
        if obj is None or not ok:
            continue
        try:
            run_exec(obj, namespace)
        except SystemExit as e:
            if e.code not in (None, 0):
                ok = False
                report("failed", phase, f"SystemExit: {e.code}")
        except BaseException as e:  # noqa: BLE001 - reported, not swallowed
            ok = False
            try:
                msg = str(e).splitlines()[0] if str(e) else ""
                import traceback

                traceback.print_exc()
            except BaseException:  # noqa: BLE001 - an exception whose str() raises
                msg = ""
            report("memory" if isinstance(e, MemoryError) else "failed", phase, f"{type(e).__name__}: {msg}")
    if ok:
        try:
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001
            pass
        fin()
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


def serve_row(index, job, contained):
    """Fork the row's child in a fresh folder; returns what supervise_row needs."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    folder = os.path.join(os.getcwd(), f"row{index}")
    os.mkdir(folder)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        if not contained:
            os.setsid()  # without a sandbox, the row's process group is all there is to kill
        run_row(job, out_w, err_w, folder)
    os.close(out_w)
    os.close(err_w)
    return pid, out_r, err_r, started, folder


def supervise_row(index, pid, out_r, err_r, started, folder, job_limits, contained, me):
    """Relay the row's output (capped), end it on timeout or overflow, then clear the sandbox."""
    timeout, max_output = job_limits
    deadline = started + timeout + 1.0
    sent, status, timed_out, over = 0, None, False, False
    open_fds = {out_r: OUT, err_r: ERR}
    poller = select.poll()
    for fd in open_fds:
        poller.register(fd, select.POLLIN | select.POLLHUP)
    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        if not open_fds:  # the row closed its stdout and stderr but still runs
            time.sleep(min(left, 0.01))
        for fd, _ in poller.poll(min(left, 0.05) * 1000) if open_fds else ():
            data = os.read(fd, 65536)
            if not data:
                poller.unregister(fd)
                del open_fds[fd]
                continue
            room = max_output - sent
            if room > 0:
                send(index, open_fds[fd], data[:room])
            sent += len(data)
            if sent > max_output:
                over = True
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
            room = max_output - sent
            if room > 0:
                send(index, open_fds[fd], data[:room])
            sent += len(data)
            over = over or sent > max_output
    for fd in (out_r, err_r):
        os.close(fd)
    if contained:
        empty_scratch()
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    rc = None if status is None else (os.waitstatus_to_exitcode(status))
    end = {"rc": rc, "timed_out": timed_out, "over": over, "seconds": round(time.monotonic() - started, 4)}
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
        pid, out_r, err_r, started, folder = serve_row(index, job, contained)
        del job
        if not supervise_row(index, pid, out_r, err_r, started, folder, limits, contained, me):
            break  # processes that cannot be killed: give up on this batch, the outer side re-runs the rest
        index += 1


if __name__ == "__main__":
    main()
