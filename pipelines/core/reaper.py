"""Nothing of a run outlives it: a small watcher process ends what a killed `dsforge run` started.

`kill -9` gives a process no chance to stop its worker pool, multiprocessing's resource tracker or
Prefect's temporary API server, and they are re-parented to init and live on. The watcher (`Reaper`,
started by the CLI for commands that run steps) notes the run's descendants twice a second; when the
run's process ends without saying "done" on the watcher's stdin, it kills the ones it saw (checking each
one's start time, so a recycled pid is never hit) and exits. Workers also watch their parent themselves
(worker.py: a parent-death signal and a parent check), for the moment between two of the watcher's looks.

Not here: stopping things on a normal exit (the executor and Prefect do that; the watcher just exits).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

POLL_S = 0.5


class Reaper:
    """The watcher of this process; `done()` on a normal end (it then exits without killing anything)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", "from dsforge.pipelines.core.reaper import main; main()",
                                      str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, close_fds=True)

    def done(self) -> None:
        if self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write(b"done\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.stdin = None
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main() -> None:
    """The watcher's loop: remember the parent's descendants until its stdin ends, then end the rest."""
    import select

    import psutil

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: let the run handle it
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent_pid, me = int(sys.argv[1]), os.getpid()
    seen: dict[int, float] = {}
    got = b""
    while True:
        try:
            parent = psutil.Process(parent_pid)
            for child in parent.children(recursive=True):
                if child.pid != me:
                    seen.setdefault(child.pid, child.create_time())
        except psutil.Error:
            pass
        ready, _, _ = select.select([sys.stdin.buffer], [], [], POLL_S)
        if ready:
            chunk = os.read(sys.stdin.fileno(), 64)
            got += chunk
            if not chunk:
                break
    if got.strip() == b"done":
        return
    for pid, started in seen.items():
        try:
            p = psutil.Process(pid)
            if abs(p.create_time() - started) < 1.0:
                p.kill()
        except psutil.Error:
            continue
