"""What an input is: the recipe's InputSpec, the Chunk a worker reads, where paths resolve, which format a file has.

Not here: parsing rows (formats.py), mapping them to records (rows.py), planning and reading (chunks.py).
"""

from __future__ import annotations

import hashlib
import json
import stat
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from dsforge.pipelines.core.readers.errors import DataError
from dsforge.pipelines.core.readers.mapping import guess_mapping

__all__ = ["FORMATS", "Chunk", "DataError", "InputSpec", "ReadResult", "check_readable", "detect_format",
           "file_fingerprint", "resolve_path", "source_name"]

FORMATS = ("jsonl", "json", "parquet", "csv", "hf")


class InputSpec(BaseModel):
    """One input of a recipe."""

    model_config = ConfigDict(extra="forbid")
    path: str
    format: Literal["auto", "jsonl", "json", "parquet", "csv", "hf"] = "auto"
    mapping: str | dict[str, str] = "auto"
    source: str | None = None  # default: the file's stem
    source_field: str | None = None  # take each row's source from this field instead
    keep_extra: bool = True
    split: str | None = None  # for saved HF DatasetDicts; default: every split
    limit: int | None = Field(None, ge=0)  # read at most this many rows


@dataclass(frozen=True)
class Chunk:
    """One piece of one input, readable on its own in any worker process (see chunks.plan_chunks)."""

    input_index: int  # which InputSpec of the recipe
    index: int  # chunk number within that input (0, 1, ...)
    path: str  # resolved absolute path
    fmt: str  # jsonl | json | parquet | csv | hf (resolved)
    start: int  # byte offset (jsonl/csv) or row offset (json/parquet/hf)
    end: int  # exclusive end (byte or row)
    first_row: int  # 1-based line number (jsonl/csv) or 0-based row index of the chunk's first row
    mapping: dict[str, str]  # resolved mapping ({} for a records-format Parquet file or when no row is an object)
    mapping_name: str
    source: str
    split: str | None = None  # the split of a saved HF DatasetDict this chunk reads


@dataclass
class ReadResult:
    kept: pl.DataFrame
    rejected: pl.DataFrame
    manifest: list[dict[str, Any]] = field(default_factory=list)
    # One row per row read (kept rows first, in order, then rejected): id, locator_id, explicit, where.
    # The input to duplicate_id_rejects(); see ids.py.
    id_keys: pl.DataFrame | None = None


def resolve_path(path: str | Path, base_dir: Path | None = None) -> Path:
    """`data:NAME` -> the data shipped with dsforge; relative paths -> base_dir (if it exists there) or cwd."""
    s = str(path)
    if s.startswith("data:"):
        root = Path(str(resources.files("dsforge.data")))
        p = (root / s[5:]).resolve()
        if not p.is_relative_to(root.resolve()):
            raise DataError(f"{s}: `data:` names a file shipped with dsforge; this one points outside that folder")
        return p
    p = Path(s).expanduser()
    if p.is_absolute():
        return p
    if base_dir is not None and (base_dir / p).exists():
        return base_dir / p
    return Path.cwd() / p


def check_readable(path: Path, given: str) -> None:
    """A missing path, a FIFO or a device is an error before any read (a FIFO would block forever)."""
    if path.is_symlink() and not path.exists():
        raise DataError(f"{given}: a symbolic link that leads nowhere (a loop, or its target is missing)")
    if not path.exists():
        raise DataError(f"input not found: {given} (looked at {path})")
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise DataError(f"{given}: not a regular file or folder (a pipe, socket or device); give a file")


def detect_format(path: Path) -> str:
    """The format from the name; a `.json` file is JSON lines when its first line is a whole record."""
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return "hf"
        raise DataError(f"{path}: a folder that is not a saved HF dataset (no dataset_info.json)")
    suffix = path.suffix.lower()
    by_suffix = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
    if suffix not in by_suffix:
        raise DataError(f"{path}: cannot tell the format from the name; set format: one of {', '.join(FORMATS)}")
    fmt = by_suffix[suffix]
    return _json_or_jsonl(path) if fmt == "json" else fmt


def _json_or_jsonl(path: Path) -> str:
    """Many ".json" files are JSON lines. JSON lines when the first non-blank line is one whole object that is
    a record, not a wrapper such as {"data": [...]}; otherwise (an array, a pretty-printed object) JSON."""
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
        if head[:1] != b"{":
            return "json"
        f.seek(0)
        for line in f:
            if line.strip():
                break
        rest_blank = not any(more.strip() for more in f)
    try:
        first = json.loads(line.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return "json"  # a pretty-printed object: its first line is not a whole value
    if not isinstance(first, dict):
        return "json"
    if rest_blank:  # one line: a wrapper holding one array of objects, and no record itself, is JSON
        (value,) = first.values() if len(first) == 1 else (None,)
        if isinstance(value, list) and value and isinstance(value[0], dict) and guess_mapping(first) is None:
            return "json"
    return "jsonl"


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Path, size and sha256 of a file, or of every file of a folder (HF datasets)."""
    check_readable(path, str(path))  # a FIFO or /dev/zero would be read forever
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h = hashlib.sha256()
    size = 0
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
                size += len(block)
    return {"path": str(path), "size": size, "sha256": h.hexdigest()}


def source_name(spec: InputSpec, path: Path) -> str:
    return spec.source or (path.name if path.is_dir() else path.name.split(".")[0])
