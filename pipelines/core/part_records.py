"""What a finished step wrote, file by file, so that a damaged step is never reused or read.

When a step finishes, the runner records every file of its folder (`record`: name, bytes, a content hash
and, for row parts, the rows) in its stats.json. Before reusing the step in a later run it checks the
files against that record (`check`: sizes and rows first, cheaply, then the hashes), and recomputes the
step when one is missing, added or changed, saying which. A step reading another step's parts checks
their presence, sizes and rows against the record (`verified_parts`), and the worker checks the rows it
read (`expected_rows` travels with the task). So a run never publishes fewer rows than its steps kept.

Not here: deciding what is reused (runner.py) or how parts are written (shards.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsforge.pipelines.core import shards
from dsforge.pipelines.core.errors import PartChangedError

RECORD_KEY = "part_files"
SKIP_DIRS = {shards.PARTS, shards.VERDICTS, "keys", "summaries", "id_keys"}  # bookkeeping, not results
ROW_DIRS = (shards.KEPT, shards.REJECTED)
CHUNK = 1 << 20


def file_hash(path: Path) -> str:
    """xxh3-64 of the file's bytes (several GB/s: hashing a step costs far less than computing it)."""
    import xxhash

    h = xxhash.xxh3_64()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def parquet_rows(path: Path) -> int | None:
    """Rows in a Parquet file's footer, or None when the file cannot be read as Parquet."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # noqa: BLE001 - any damage (truncated, not Parquet) means: unreadable
        return None


def _result_files(step_dir: Path) -> list[Path]:
    out = []
    for p in sorted(step_dir.rglob("*")):
        rel = p.relative_to(step_dir)
        if rel.parts[0] in SKIP_DIRS or any(x.startswith(".") for x in rel.parts) or rel.as_posix() == "stats.json":
            continue
        if p.is_file() and not p.is_symlink():
            out.append(p)
    return out


def record(step_dir: Path) -> list[dict[str, Any]]:
    """One entry per result file of a finished step: name (relative), bytes, xxh3 and rows (row parts)."""
    step_dir = Path(step_dir)
    entries = []
    for p in _result_files(step_dir):
        rel = p.relative_to(step_dir).as_posix()
        entry: dict[str, Any] = {"name": rel, "bytes": p.stat().st_size, "xxh3": file_hash(p)}
        if rel.split("/")[0] in ROW_DIRS and p.suffix == ".parquet":
            entry["rows"] = parquet_rows(p)
        entries.append(entry)
    return entries


def _what_changed(step_dir: Path, entry: dict[str, Any], hashes: bool) -> str | None:
    p = step_dir / entry["name"]
    if not p.is_file() or p.is_symlink():
        return "is missing" if not p.exists() else "is no longer a regular file"
    size = p.stat().st_size
    if "rows" in entry:
        rows = parquet_rows(p)
        if rows is None:
            return f"cannot be read any more (bytes {entry['bytes']:,} → {size:,})"
        if rows != entry["rows"]:
            return f"changed since it was written (rows {entry['rows']:,} → {rows:,})"
    if size != entry["bytes"]:
        return f"changed since it was written (bytes {entry['bytes']:,} → {size:,})"
    if hashes and file_hash(p) != entry["xxh3"]:
        return "changed since it was written (same size, different content)"
    return None


def check(step_dir: Path, stats: dict[str, Any], hashes: bool = True, dirs: tuple[str, ...] = ROW_DIRS) -> str | None:
    """None when the step's files are what it recorded; else one line saying which file is wrong and how."""
    step_dir = Path(step_dir)
    entries = stats.get(RECORD_KEY)
    if entries is None:
        return f"{step_dir.name} has no record of its files (written by an older dsforge)"
    for entry in entries:  # cheap checks of every file first, hashes after
        if problem := _what_changed(step_dir, entry, hashes=False):
            return f"{Path(entry['name']).name} of {step_dir.name} {problem}"
    known = {e["name"] for e in entries}
    for which in dirs:
        for p in shards.parts(step_dir, which):
            if p.relative_to(step_dir).as_posix() not in known:
                return f"{p.name} of {step_dir.name} was added after the step finished"
    if hashes:
        for entry in entries:
            if problem := _what_changed(step_dir, entry, hashes=True):
                return f"{Path(entry['name']).name} of {step_dir.name} {problem}"
    return None


def expected_rows(step_dir: Path, which: str = shards.KEPT) -> dict[str, int]:
    """Part file path -> the rows its step recorded (empty when the step has no record)."""
    try:
        stats = json.loads((Path(step_dir) / "stats.json").read_text())
    except (OSError, ValueError):
        return {}
    return {str(Path(step_dir) / e["name"]): e["rows"] for e in stats.get(RECORD_KEY) or []
            if e["name"].startswith(which + "/") and e.get("rows") is not None}


def verified_parts(step_dir: Path, which: str = shards.KEPT) -> list[Path]:
    """The parts of a finished step, after checking them against its record (cheaply: no hashes).
    Raises PartChangedError naming the file when one is missing, added or changed."""
    step_dir = Path(step_dir)
    try:
        stats = json.loads((step_dir / "stats.json").read_text())
    except (OSError, ValueError):
        return shards.parts(step_dir, which)
    if stats.get(RECORD_KEY) is not None:
        mine = {**stats, RECORD_KEY: [e for e in stats[RECORD_KEY] if e["name"].startswith(which + "/")]}
        if problem := check(step_dir, mine, hashes=False, dirs=(which,)):
            raise PartChangedError(problem)
    return shards.parts(step_dir, which)


def check_read(path: str | Path, rows: int, expected: int | None) -> None:
    """A worker read `rows` rows from a part its step recorded as holding `expected`."""
    if expected is not None and rows != expected:
        p = Path(path)
        raise PartChangedError(f"{p.name} of {p.parent.parent.name} changed since it was written "
                               f"(rows {expected:,} → {rows:,})")
