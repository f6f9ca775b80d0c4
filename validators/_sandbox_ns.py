"""Launcher run by sandbox.py inside fresh mount/net/pid namespaces (as root of those namespaces).

Makes every mount read-only except the working folder, joins the pids cgroup when one is given, then
becomes the sandbox bootstrap (os.execv). One interpreter instead of a shell spawning `mount` per mount
point. Usage: python -I -S _sandbox_ns.py WORKDIR CGROUP_OR_EMPTY -- CMD...
"""

import ctypes
import os
import re
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
KEEP = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
        "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
libc = ctypes.CDLL(None, use_errno=True)


def mount(source, target: str, flags: int) -> bool:
    src = source.encode() if source else None
    return libc.mount(src, target.encode(), None, flags, None) == 0


def main() -> None:
    work, cgroup = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    if cgroup:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    if not mount(None, "/", MS_REC | MS_PRIVATE):
        raise SystemExit(f"sandbox launcher: cannot make / private (errno {ctypes.get_errno()})")
    with open("/proc/self/mountinfo") as f:
        entries = [line.split() for line in f]
    for fields in entries:
        target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in fields[5].split(","):
            flags |= KEEP.get(opt, 0)
        mount(None, target, flags)  # best effort: some pseudo mounts refuse, they are not writable anyway
    if not (mount(work, work, MS_BIND) and mount(None, work, MS_REMOUNT | MS_BIND)):
        raise SystemExit(f"sandbox launcher: cannot bind the working folder (errno {ctypes.get_errno()})")
    os.chdir(work)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
