"""What the sandbox sees: the Python runtime and the shared libraries it loads, read-only, and nothing else.

`runtime_binds()` lists (host path, path inside) pairs: the interpreter binary, libpython, the standard
library without site-packages and without the modules that need a display, a terminal or test hooks
(`EXCLUDED`), and every shared library those need (found once with `ldd`). No shell, no other
binaries, no /etc, no /home, no project files, no /run or /tmp (so no host unix sockets).

When dsforge runs as root the sandbox runs as uid 65534 (nobody), which cannot walk into a 0700 home such
as /root where pyenv puts Python. Then the runtime is mirrored once, as hard links (or copies across
file systems), into a world-readable cache folder, and that mirror is bound at the original paths, so
inside nothing changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from functools import lru_cache
from pathlib import Path

EXCLUDED = {"site-packages", "dist-packages", "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip",
            "lib2to3", "pydoc_data", "venv"}
EXCLUDED_EXT_PREFIXES = ("_test", "_ctypes_test", "xxlimited", "_xxtestfuzz", "_tkinter", "_curses", "readline",
                         "nis.", "spwd.", "ossaudiodev.")
MIRROR_ROOT = Path(os.environ.get("DSFORGE_SANDBOX_CACHE", "/var/cache/dsforge-sandbox"))
SANDBOX_UID = 65534


def interpreter() -> Path:
    """The real interpreter binary (a venv's python is a symlink to it)."""
    return Path(os.path.realpath(sys.executable))


def _stdlib() -> Path:
    return Path(os.path.realpath(sysconfig.get_paths()["stdlib"]))


def _libpython() -> Path | None:
    libdir, name = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
    if libdir and name and sysconfig.get_config_var("Py_ENABLE_SHARED"):
        p = Path(libdir) / name
        return Path(os.path.realpath(p)) if p.exists() else None
    return None


def _kept_extensions(stdlib: Path) -> list[Path]:
    dyn = stdlib / "lib-dynload"
    if not dyn.is_dir():
        return []
    return [p for p in sorted(dyn.iterdir()) if p.suffix == ".so" and not p.name.startswith(EXCLUDED_EXT_PREFIXES)]


@lru_cache(maxsize=1)
def shared_libraries() -> tuple[str, ...]:
    """Every shared library the interpreter and the kept extension modules load (ldd, once per process)."""
    stdlib = _stdlib()
    targets = [str(interpreter()), *map(str, _kept_extensions(stdlib))]
    ldd = shutil.which("ldd")
    if not ldd:
        raise RuntimeError("`ldd` (Debian package libc-bin) is needed to find the libraries Python loads")
    out = subprocess.run([ldd, *targets], capture_output=True, text=True, timeout=60).stdout
    libs: set[str] = set()
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs.add(parts[2])
        elif parts and parts[0].startswith("/") and "ld-linux" in parts[0]:
            libs.add(parts[0])
    libpython = _libpython()
    return tuple(sorted(p for p in libs if not libpython or os.path.realpath(p) != str(libpython)))


def _walkable_by_others(path: Path) -> bool:
    """Can a user that is neither owner nor group walk down to `path` and read it?"""
    p = Path("/")
    for part in path.parts[1:]:
        p = p / part
        st = os.stat(p)
        need = stat.S_IXOTH if stat.S_ISDIR(st.st_mode) else stat.S_IROTH
        if not (st.st_mode & need):
            return False
    return True


def _mirror_tree(src: Path, dst: Path) -> None:
    """Hard-link (or copy) src into dst, leaving out EXCLUDED folders and test extension modules."""
    if src.is_file():
        _link_or_copy(src, dst)
        return
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d not in EXCLUDED]
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        os.chmod(dst / rel, 0o755)
        for f in files:
            if rel.name == "lib-dynload" and f.startswith(EXCLUDED_EXT_PREFIXES):
                continue
            s = Path(root) / f
            if s.is_symlink() or not s.is_file():
                continue
            _link_or_copy(s, dst / rel / f)


def _link_or_copy(s: Path, d: Path) -> None:
    d.parent.mkdir(parents=True, exist_ok=True)
    if s.stat().st_mode & stat.S_IROTH:
        try:
            os.link(s, d)
            return
        except OSError:
            pass
    shutil.copy2(s, d)
    os.chmod(d, 0o755 if os.access(s, os.X_OK) else 0o644)


def _mirror(paths: list[Path]) -> Path:
    """A world-readable mirror of `paths` (built once; keyed by the interpreter's path, size and mtime)."""
    exe = interpreter()
    st = exe.stat()
    key = hashlib.sha256(f"{exe}|{st.st_size}|{st.st_mtime_ns}|{sys.version}".encode()).hexdigest()[:16]
    target = MIRROR_ROOT / key
    if (target / ".complete").exists():
        return target
    MIRROR_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(MIRROR_ROOT, 0o755)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=MIRROR_ROOT))
    os.chmod(tmp, 0o755)
    for p in paths:
        _mirror_tree(p, tmp / p.relative_to("/"))
    (tmp / ".complete").write_text("ok\n")
    try:
        tmp.rename(target)
    except OSError:  # another worker finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@lru_cache(maxsize=2)
def runtime_binds(as_nobody: bool) -> tuple[tuple[str, str], ...]:
    """(host path, sandbox path) pairs for read-only binds; `as_nobody`: the sandbox runs as uid 65534."""
    stdlib = _stdlib()
    runtime = [interpreter(), stdlib] + ([_libpython()] if _libpython() else [])
    binds: list[tuple[str, str]] = []
    if as_nobody and not all(_walkable_by_others(p) for p in runtime):
        mirror = _mirror(runtime)
        binds += [(str(mirror / p.relative_to("/")), str(p)) for p in runtime]
        hidden: list[Path] = []
    else:
        binds += [(str(p), str(p)) for p in runtime]
        hidden = [stdlib / d for d in sorted(EXCLUDED) if (stdlib / d).is_dir()]
        hidden += [p for p in (stdlib / "lib-dynload").glob("*.so") if p.name.startswith(EXCLUDED_EXT_PREFIXES)]
    binds += [(lib, lib) for lib in shared_libraries()]
    # hide what a direct bind of the standard library would otherwise show
    binds += [("/dev/null" if p.is_file() else "<empty>", str(p)) for p in hidden]
    return tuple(binds)
