"""Memory per row, not per process: a memory cgroup around each sandbox, or rlimits that bound the row.

RLIMIT_AS caps one process; a row can start many processes and hold memory outside any address space
(memfds written with write(), tmpfs files). Where this process can make a memory cgroup (root, cgroup
v1's memory hierarchy or a v2 tree with `memory` delegated), each sandbox gets one whose limit is the
row's `memory_mb`: every process of the sandbox, the memfds and /work and /dev/shm pages they write are
charged to it, and the kernel's OOM killer ends the row's processes (they set oom_score_adj 1000) when it
is reached. Rows in one sandbox run one at a time and are torn down in between, so the cap is per row.
Elsewhere (not root, no cgroup) the row gets `processes` processes of `memory_mb // processes` address
space each (RLIMIT_NPROC x RLIMIT_AS <= memory_mb) and memfd_create is denied by seccomp; /work and
/dev/shm are tmpfs with their own size caps. `DSFORGE_SANDBOX_CGROUP=0` forces that fallback.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from functools import lru_cache
from pathlib import Path

ENV = "DSFORGE_SANDBOX_CGROUP"
MIN_PROCESS_MB = 128
HARNESS_PROCESSES = 2  # bwrap's init and the harness server, same user as the row inside the sandbox  # the smallest address space a Python process gets in the fallback
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _base() -> tuple[str, Path] | None:
    """(version, folder) under which this process may create memory cgroups; None when it cannot."""
    if os.environ.get(ENV, "1") == "0" or os.geteuid() != 0:
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            folder = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            if (folder / "memory.limit_in_bytes").exists() and _can_make(folder):
                return "v1", folder
    for line in lines:
        if line.startswith("0::"):
            for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
                folder = root / line[3:].lstrip("/")
                sub = folder / "cgroup.subtree_control"
                if sub.exists() and "memory" in sub.read_text().split() and _can_make(folder):
                    return "v2", folder
    return None


def _can_make(folder: Path) -> bool:
    probe = folder / f"dsforge-probe-{secrets.token_hex(4)}"
    try:
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


def mode() -> str:
    """'cgroup-v1', 'cgroup-v2' or 'rlimits': how rows' memory is bounded here."""
    base = _base()
    return f"cgroup-{base[0]}" if base else "rlimits"


def per_process(memory_mb: int, max_processes: int) -> tuple[int, int]:
    """(RLIMIT_AS in MB, RLIMIT_NPROC) for the row's processes. Under a cgroup the cgroup bounds the row
    and RLIMIT_AS only turns one huge allocation into a MemoryError; without one, RLIMIT_AS times the
    row's share of RLIMIT_NPROC (the limit less the harness's two processes) does."""
    if _base():
        return memory_mb, max_processes
    processes = max(1, min(max_processes, memory_mb // MIN_PROCESS_MB))
    # RLIMIT_NPROC counts the sandbox's user: bwrap's init and the harness server are two of them
    return max(16, memory_mb // processes), processes + HARNESS_PROCESSES


class RowCgroup:
    """One memory cgroup for one sandbox (None-like when cgroups are not available: `path` is None)."""

    def __init__(self, memory_mb: int):
        base = _base()
        self.version, self.path, self.oom_seen = (base[0], None, 0) if base else (None, None, 0)
        if not base:
            return
        path = base[1] / f"dsforge-sandbox-{secrets.token_hex(6)}"
        limit = str(int(memory_mb) * 1024 * 1024)
        try:
            path.mkdir()
            if self.version == "v1":
                (path / "memory.limit_in_bytes").write_text(limit)
                _try_write(path / "memory.memsw.limit_in_bytes", limit)
            else:
                (path / "memory.max").write_text(limit)
                _try_write(path / "memory.swap.max", "0")
        except OSError as e:
            log.warning("sandbox: cannot set up a memory cgroup at %s (%s); rows are bounded by rlimits only",
                        path, e)
            _remove(path)
            return
        self.path = path

    def enter(self) -> None:
        """Move the calling process in (from a child before exec: a subprocess preexec_fn)."""
        if self.path is not None:
            with open(self.path / "cgroup.procs", "w") as f:
                f.write(str(os.getpid()))

    def oom_kills(self) -> int:
        """How many processes the kernel killed for this cgroup's limit so far."""
        if self.path is None:
            return 0
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        try:
            for line in (self.path / name).read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def take_peak_mb(self) -> float | None:
        """The peak usage since the last call, in MB (then reset, where the kernel allows)."""
        if self.path is None:
            return None
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        try:
            peak = int((self.path / name).read_text().split()[0]) / (1024 * 1024)
        except (OSError, ValueError, IndexError):
            return None
        _try_write(self.path / name, "0")
        return round(peak, 1)

    def remove(self) -> None:
        """rmdir now, or (while the last killed processes are still leaving) from a thread, so the caller
        does not wait for them."""
        if self.path is None:
            return
        try:
            self.path.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            threading.Thread(target=_remove, args=(self.path,), daemon=True, name="dsforge-cgroup-rm").start()


def _try_write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError:
        pass


def _remove(path: Path) -> None:
    for _ in range(200):  # the last processes may take a moment to leave after SIGKILL
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
    log.debug("sandbox: could not remove %s", path)
