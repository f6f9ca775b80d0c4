"""A step's fingerprint: what must be equal for an earlier run's step to be reused instead of recomputed.

It covers the stage's name, version and code (the source files of the stage class and its dsforge base
classes; for a stage from another package also that package's name and version, the source files of its
classes from that package, and the files the class lists in `fingerprint_files()`, e.g. its prompt files),
its parameters, the content of every file or folder its parameters name (eval sets, Jinja
templates, word lists, prompt files, tokenizer folders), the recipe seed, the previous step's
fingerprint, and for ingest the inputs' sha256, the sample and strictness. Change any of them and the
step (and every step after it) is recomputed.

Not here: how the executor or worker count is chosen: they never change what a step writes.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from dsforge.pipelines.core.plugins import distribution_of

BIG_FILE = 64 << 20  # files above this are fingerprinted by size and mtime, not content


def hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


@lru_cache(maxsize=256)
def code_hash(cls: type) -> str:
    """sha256 over the source files of a stage class and its base classes from dsforge or from the stage's own
    package; for a plugin stage (not dsforge's) also its distribution's name and version and its own files."""
    own = cls.__module__.split(".")[0]
    h = hashlib.sha256()
    for klass in cls.__mro__:
        if not (klass.__module__.startswith("dsforge.") or klass.__module__.split(".")[0] == own):
            continue
        try:
            h.update(Path(inspect.getsourcefile(klass)).read_bytes())
        except (TypeError, OSError):
            h.update(klass.__qualname__.encode())
    if own != "dsforge":
        h.update(repr(distribution_of(cls.__module__)).encode())
        for f in sorted(getattr(cls, "fingerprint_files", lambda: [])()):
            h.update(f"{Path(f).name}={file_hash(Path(f))}".encode())
    return h.hexdigest()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def file_hash(path: Path) -> str:
    st = path.stat()
    if st.st_size > BIG_FILE:
        return f"size={st.st_size},mtime={st.st_mtime_ns}"
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def referenced_files(config: dict[str, Any], resolve) -> dict[str, str]:
    """Hashes of the files and folders that the config's string values name (those that exist)."""
    out: dict[str, str] = {}
    for s in _strings(config):
        if not s or len(s) > 4096 or "\n" in s or not ("/" in s or "." in s or s.startswith("data:")):
            continue
        try:
            p = Path(resolve(s))
            if p.is_file():
                out[s] = file_hash(p)
            elif p.is_dir():
                files = sorted(f for f in p.rglob("*") if f.is_file())[:2000]
                out[s] = hash_json({str(f.relative_to(p)): file_hash(f) for f in files})
        except (OSError, ValueError):
            continue
    return out
