"""The harness's runner inside the sandbox: `python -I -S -B _sandbox_runner.py`, job as JSON on stdin.

The OS sandbox (bubblewrap + seccomp, see sandbox.py) is what contains the code; this file only runs it
and reports. Steps: read the job (code, tests, extra files, limits, the per-run nonce) and close stdin;
set the rlimits (inside the sandbox's own user namespace, so the process count is this sandbox's alone);
compile code and tests; install an audit hook that holds the nonce; exec the code, then the tests, in
one namespace; if both ran to the end, print `<nonce> passed` as the last line of stdout and exit.

Why the nonce: the outer side calls a run passed only when that exact line ends stdout, so writing
"done" anywhere, exiting early with status 0 or printing a guessed verdict is a failure. The nonce lives
only in the hook's closure; the hook refuses the Python-level ways of reaching it (gc, frame access,
tracing, ctypes, /proc/*/mem) while the untrusted code runs, and emits the verdict only when called from
this file's `finish` by `main` itself. What it cannot stop is listed in docs/verification.md.

Failures are reported (untrusted, for messages only) as a last stderr line
`dsforge-report STATUS<TAB>PHASE<TAB>ERROR`. The job arrives marshalled (the outer side is trusted);
only builtin modules are imported up front (json, re and traceback cost milliseconds per run).
"""

import marshal
import os
import resource
import sys

REPORT = "dsforge-report "
REFUSED = {"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
           "sys._current_frames"}
EXIT_REFUSED, EXIT_FORGED, EXIT_HOOK = 87, 86, 88


def report(status, phase, error):
    """One line for the outer side's error message (the code can fake it; it only words failures)."""
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001 - the code may have replaced or closed stdout
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
    """The audit hook: keeps the nonce out of the code's reach, and prints the verdict for `finish` only.

    It never raises (a traceback would hold its frame, whose closure holds the nonce) and calls nothing
    the code could have replaced: refusals end the process with EXIT_REFUSED and a fixed report line."""
    import _thread

    get_ident, main_thread = _thread.get_ident, _thread.get_ident()
    getframe = sys._getframe
    verdict = (nonce + " passed\n").encode()
    refused = frozenset(REFUSED)

    def hook(event, args):
        try:
            if type(event) is not str:
                exit_(EXIT_HOOK)
            if event == "dsforge.verdict":
                caller = getframe(1)
                if caller.f_code is finish_code and caller.f_back is main_frame and get_ident() == main_thread:
                    write(1, verdict)
                    exit_(0)
                exit_(EXIT_FORGED)  # asked for by anyone but main -> finish: no verdict at all
            bad = event in refused or event.startswith("ctypes.")
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

    sys.addaudithook(hook)


def finish():
    sys.audit("dsforge.verdict")


def main():
    chunks = []
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(0)
    job = marshal.loads(b"".join(chunks))
    del chunks
    for name, text in job.get("files", {}).items():
        with open(name, "w", encoding="utf-8") as f:
            f.write(text)
    set_limits(job)
    compiled = []
    for name, src in (("solution.py", job["code"]), ("tests.py", job.get("tests") or "")):
        try:
            compiled.append(compile(src, name, "exec") if src else None)
        except SyntaxError as e:
            report("syntax_error", "code" if name == "solution.py" else "tests", f"SyntaxError: {e.msg} (line {e.lineno})")
            os._exit(3)
    # Everything main needs from here on is a local: the code can rebind module globals, not these.
    run_exec, flush, exit_, fin = exec, sys.stdout.flush, os._exit, finish
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
                report("failed", phase, f"SystemExit: {e.code}"[:300])
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
            flush()
        except BaseException:  # noqa: BLE001
            pass
        fin()
    exit_(1)


if __name__ == "__main__":
    main()
