"""The sandbox's seccomp filter, compiled to classic BPF in pure Python (no libseccomp needed).

bubblewrap loads it with `--seccomp FD` (a raw array of `struct sock_filter`) into every process of the
sandbox, after its own setup and before the interpreter starts. Denied calls fail with EPERM (so Python
raises PermissionError instead of dying); a foreign architecture (32-bit `int 0x80`, x32) kills the process.

Denied: mount and the new mount API, pivot_root, chroot, ptrace, process_vm_readv/writev, bpf,
perf_event_open, the keyring (add_key, request_key, keyctl), namespaces (unshare, setns, and clone with
any CLONE_NEW* flag; clone3 returns ENOSYS so libc falls back to clone, whose flags can be checked),
pidfd_open/pidfd_send_signal/pidfd_getfd, io_uring (its operations bypass seccomp), userfaultfd,
open_by_handle_at, kernel modules, kexec, reboot, swap, syslog, acct, quotactl, clock and time setting,
iopl/ioperm, kcmp, personality, fanotify, and sockets of any family but AF_UNIX (the network namespace
is empty anyway; this also closes AF_VSOCK, which namespaces do not isolate).

Only x86_64 has a syscall table here; elsewhere `filter_program` raises and the sandbox says so.
"""

from __future__ import annotations

import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

BPF_LD_W_ABS = 0x20   # BPF_LD | BPF_W | BPF_ABS
BPF_JEQ_K = 0x15      # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35      # BPF_JMP | BPF_JGE | BPF_K
BPF_JSET_K = 0x45     # BPF_JMP | BPF_JSET | BPF_K
BPF_RET_K = 0x06      # BPF_RET | BPF_K

# offsets in struct seccomp_data
NR, ARCH, ARG0_LO = 0, 4, 16

CLONE_NEW_FLAGS = (0x00000080   # CLONE_NEWTIME
                   | 0x00020000  # CLONE_NEWNS
                   | 0x02000000  # CLONE_NEWCGROUP
                   | 0x04000000  # CLONE_NEWUTS
                   | 0x08000000  # CLONE_NEWIPC
                   | 0x10000000  # CLONE_NEWUSER
                   | 0x20000000  # CLONE_NEWPID
                   | 0x40000000)  # CLONE_NEWNET
AF_UNIX = 1

# x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl)
X86_64_DENIED = {
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "add_key": 248, "request_key": 249, "keyctl": 250,
    "unshare": 272, "setns": 308,
    "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_by_handle_at": 304, "name_to_handle_at": 303,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320,
    "reboot": 169, "swapon": 167, "swapoff": 168, "syslog": 103, "acct": 163, "quotactl": 179,
    "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
    "iopl": 172, "ioperm": 173, "personality": 135, "uselib": 134, "vhangup": 153, "lookup_dcookie": 212,
    "fanotify_init": 300,
}
X86_64_CLONE, X86_64_CLONE3, X86_64_SOCKET = 56, 435, 41


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


MEMFD_CREATE = 319  # denied only where no memory cgroup bounds the row (memfds are not in RLIMIT_AS)


def filter_program(machine: str | None = None, deny_memfd: bool = False) -> bytes:
    """The BPF program (bytes of struct sock_filter[]) for this machine's architecture."""
    machine = machine or platform.machine()
    if machine != "x86_64":
        raise RuntimeError(f"the sandbox's seccomp filter has a syscall table for x86_64 only, not {machine}")
    deny = _ins(BPF_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
    prog = [
        _ins(BPF_LD_W_ABS, ARCH),
        _ins(BPF_JEQ_K, AUDIT_ARCH_X86_64, jt=1, jf=0),
        _ins(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
        _ins(BPF_LD_W_ABS, NR),
        _ins(BPF_JGE_K, X32_SYSCALL_BIT, jt=0, jf=1),
        _ins(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
    ]
    for nr in sorted(X86_64_DENIED.values()) + ([MEMFD_CREATE] if deny_memfd else []):
        prog += [_ins(BPF_JEQ_K, nr, jt=0, jf=1), deny]
    prog += [_ins(BPF_JEQ_K, X86_64_CLONE3, jt=0, jf=1), _ins(BPF_RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)]
    # clone: deny any CLONE_NEW* flag (flags are the first argument on x86_64)
    prog += [_ins(BPF_JEQ_K, X86_64_CLONE, jt=0, jf=3),
             _ins(BPF_LD_W_ABS, ARG0_LO),
             _ins(BPF_JSET_K, CLONE_NEW_FLAGS, jt=0, jf=1),
             deny,
             _ins(BPF_LD_W_ABS, NR)]
    # socket: AF_UNIX only
    prog += [_ins(BPF_JEQ_K, X86_64_SOCKET, jt=0, jf=3),
             _ins(BPF_LD_W_ABS, ARG0_LO),
             _ins(BPF_JEQ_K, AF_UNIX, jt=1, jf=0),
             _ins(BPF_RET_K, SECCOMP_RET_ERRNO | errno.EAFNOSUPPORT)]
    prog.append(_ins(BPF_RET_K, SECCOMP_RET_ALLOW))
    return b"".join(prog)
