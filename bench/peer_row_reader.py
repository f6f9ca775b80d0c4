"""Readers: JSONL, JSON arrays, Parquet, CSV and saved HF datasets into the record format.

Each input is read row by row with its locator (line for JSONL/CSV, row index for the rest), mapped to
record fields by a declarative mapping (a preset name such as "alpaca", or {record_field: source_field}),
and type-checked. A malformed row (bad JSON, missing or wrongly typed field) becomes a rejected row
with reason `ingest:<problem>` and a detail naming file, line and field; with strict=True it raises
DataError with the same words instead. Nothing is ever written back to the input.

Source fields may be dotted paths into nested objects ("meta.annotator", "instances.0.output").
Mapping targets are record fields, or `metadata.KEY` to keep a source field under a metadata key.
Unmapped top-level fields go into metadata unless keep_extra=False.

Not here: deduplication or any content rule (stages do that), and streaming of inputs larger than memory
(use the datatrove paths of the dedup stages for those).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from dsforge.pipelines import records
from dsforge.pipelines.records import ROLES

FORMATS = ("jsonl", "json", "parquet", "csv", "hf")

# Preset mappings: record field -> source field (dotted paths allowed).
PRESETS: dict[str, dict[str, str]] = {
    "alpaca": {"instruction": "instruction", "input": "input", "response": "output"},
    "dolly": {"instruction": "instruction", "input": "context", "response": "response", "metadata.category": "category"},
    "gpteacher": {"instruction": "instruction", "input": "input", "response": "response"},
    "prompt-completion": {"instruction": "prompt", "response": "completion"},
    "seed-tasks": {
        "instruction": "instruction",
        "input": "instances.0.input",
        "response": "instances.0.output",
        "id": "id",
    },
    "messages": {"messages": "messages"},
    "sharegpt": {"messages": "conversations"},
    "preference": {"instruction": "prompt", "chosen": "chosen", "rejected": "rejected"},
    "scored": {"instruction": "prompt", "response": "response", "score": "score"},
    "document": {"text": "text"},
}
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "tool": "tool", "function": "tool", "bot": "assistant", "model": "assistant"}


class DataError(ValueError):
    """Bad input data; the message names file, line (or row) and field."""


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
    limit: int | None = None  # read at most this many rows


@dataclass
class ReadResult:
    kept: pl.DataFrame
    rejected: pl.DataFrame
    manifest: list[dict[str, Any]] = field(default_factory=list)


def resolve_path(path: str | Path, base_dir: Path | None = None) -> Path:
    """`data:NAME` -> the data shipped with dsforge; relative paths -> base_dir (if it exists there) or cwd."""
    s = str(path)
    if s.startswith("data:"):
        return Path(str(resources.files("dsforge.data").joinpath(s[5:])))
    p = Path(s).expanduser()
    if p.is_absolute():
        return p
    if base_dir is not None and (base_dir / p).exists():
        return base_dir / p
    return Path.cwd() / p


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return "hf"
        raise DataError(f"{path}: a folder that is not a saved HF dataset (no dataset_info.json)")
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    by_suffix = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
    if suffix.lower() in by_suffix:
        fmt = by_suffix[suffix.lower()]
        if fmt == "json":  # many ".json" files are really JSON lines
            with open(path, "rb") as f:
                head = f.read(4096).lstrip()
            if head[:1] == b"{":
                fmt = "jsonl"
        return fmt
    raise DataError(f"{path}: cannot tell the format from the name; set format: one of {', '.join(FORMATS)}")


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Path, size and sha256 of a file, or of every file of a folder (HF datasets)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h = hashlib.sha256()
    size = 0
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
    return {"path": str(path), "size": size, "sha256": h.hexdigest()}


# ---------------------------------------------------------------- raw rows


def iter_raw(path: Path, fmt: str, split: str | None = None) -> Iterator[tuple[str, Any, str | None]]:
    """Yield (locator, row dict or Exception, raw text or None) for every row of one input."""
    if fmt == "jsonl":
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield f"line {n}", json.loads(line), line.rstrip("\n")
                except json.JSONDecodeError as e:
                    yield f"line {n}", e, line.rstrip("\n")
    elif fmt == "json":
        with open(path, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
        if isinstance(data, dict):  # {"data": [...]} or {"train": [...]}
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise DataError(f"{path}: expected a JSON array of objects (or one object holding one array)")
            data = lists[0]
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a JSON array of objects, got {type(data).__name__}")
        for i, row in enumerate(data):
            yield f"row {i}", row, None
    elif fmt == "csv":
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            start = 2
            for row in reader:
                loc = f"line {start}"
                start = reader.line_num + 1
                if None in row or any(v is None for v in row.values()):
                    got = len(header) + len(row.get(None, [])) - sum(v is None for v in row.values())
                    yield loc, ValueError(f"expected {len(header)} columns, got {got}"), None
                    continue
                yield loc, row, None
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        i = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=8192):
            for row in batch.to_pylist():
                yield f"row {i}", row, None
                i += 1
    elif fmt == "hf":
        import datasets

        ds = datasets.load_from_disk(str(path))
        parts = ds.items() if isinstance(ds, datasets.DatasetDict) else [(None, ds)]
        for name, part in parts:
            if split and name not in (None, split):
                continue
            for i, row in enumerate(part):
                if name is not None:
                    row = {**row, "__split__": name}
                yield f"{name + ' ' if name else ''}row {i}", row, None
    else:
        raise DataError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------- mapping


def detect_mapping(row: dict[str, Any]) -> str:
    keys = set(row)
    if "messages" in keys:
        return "messages"
    if "conversations" in keys:
        return "sharegpt"
    if {"chosen", "rejected"} <= keys:
        return "preference"
    if {"prompt", "completion"} <= keys:
        return "prompt-completion"
    if {"instruction", "instances"} <= keys:
        return "seed-tasks"
    if {"instruction", "output"} <= keys:
        return "alpaca"
    if {"instruction", "context", "response"} <= keys:
        return "dolly"
    if {"instruction", "response"} <= keys:
        return "gpteacher"
    if {"prompt", "response", "score"} <= keys:
        return "scored"
    if "text" in keys:
        return "document"
    raise DataError(
        f"cannot guess a mapping for fields {sorted(keys)}; set mapping: to a preset "
        f"({', '.join(PRESETS)}) or to {{record_field: source_field}}"
    )


_MISSING = object()


def _get(row: Any, path: str) -> Any:
    cur = row
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part, _MISSING)
        elif isinstance(cur, list) and part.isdigit():
            cur = cur[int(part)] if int(part) < len(cur) else _MISSING
        else:
            return _MISSING
        if cur is _MISSING:
            return _MISSING
    return cur


class _RowProblem(Exception):
    def __init__(self, reason: str, fieldname: str, message: str):
        super().__init__(message)
        self.reason, self.field, self.message = reason, fieldname, message


def _kind_of(mapping: dict[str, str]) -> str:
    targets = set(mapping)
    if "messages" in targets:
        return "conversation"
    if {"chosen", "rejected"} <= targets:
        return "preference"
    if "score" in targets:
        return "scored"
    if "instruction" in targets and "response" in targets:
        return "instruction"
    if "text" in targets:
        return "document"
    raise DataError(f"mapping {mapping} fills no complete record kind (need text, instruction+response, "
                    "messages, or instruction+chosen+rejected)")


REQUIRED = {
    "document": ("text",),
    "instruction": ("instruction", "response"),
    "conversation": ("messages",),
    "preference": ("instruction", "chosen", "rejected"),
    "scored": ("instruction", "response", "score"),
}


def _map_row(row: Any, mapping: dict[str, str], kind: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise _RowProblem("not_an_object", "", f"expected a JSON object, got {type(row).__name__}")
    out: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for target, src in mapping.items():
        value = _get(row, src)
        if target.startswith("metadata."):
            if value is not _MISSING:
                meta[target[9:]] = value
            continue
        required = target in REQUIRED[kind]
        if value is _MISSING or value is None:
            if required:
                raise _RowProblem("missing_field", src, f"field {src!r} is missing")
            continue
        if target == "messages":
            value = _check_messages(value, src)
        elif target == "score":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                if isinstance(value, str):
                    try:
                        value = float(value)
                    except ValueError:
                        raise _RowProblem("wrong_type", src, f"field {src!r}: expected a number, got {value!r}")
                else:
                    raise _RowProblem("wrong_type", src, f"field {src!r}: expected a number, got {type(value).__name__}")
            value = float(value)
        elif target == "id":
            value = str(value)
        elif not isinstance(value, str):
            raise _RowProblem("wrong_type", src, f"field {src!r}: expected text, got {type(value).__name__}")
        out[target] = value
    return out | {"__meta__": meta}


def _check_messages(value: Any, src: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise _RowProblem("wrong_type", src, f"field {src!r}: expected a non-empty list of messages")
    msgs = []
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise _RowProblem("wrong_type", f"{src}.{i}", f"field {src}.{i}: expected a message object")
        role = m.get("role", m.get("from"))
        content = m.get("content", m.get("value"))
        role = SHAREGPT_ROLES.get(role, role) if isinstance(role, str) else role
        if role not in ROLES:
            raise _RowProblem("wrong_type", f"{src}.{i}.role", f"field {src}.{i}.role: {role!r} is not one of {ROLES}")
        if not isinstance(content, str):
            raise _RowProblem("wrong_type", f"{src}.{i}.content", f"field {src}.{i}.content: expected text")
        msgs.append({"role": role, "content": content})
    return msgs


# ---------------------------------------------------------------- read one input


def read_input(spec: InputSpec, base_dir: Path | None = None, strict: bool = False, progress: bool | None = None) -> ReadResult:
    """Read one input into (kept records, rejected rows, manifest entry)."""
    from tqdm.auto import tqdm

    path = resolve_path(spec.path, base_dir)
    if not path.exists():
        raise DataError(f"input not found: {spec.path} (looked at {path})")
    fmt = detect_format(path) if spec.format == "auto" else spec.format
    source = spec.source or (path.name if path.is_dir() else path.name.split(".")[0])
    mapping_name = spec.mapping if isinstance(spec.mapping, str) else "custom"
    mapping: dict[str, str] | None = None
    if isinstance(spec.mapping, dict):
        mapping = dict(spec.mapping)
    elif spec.mapping not in ("auto", "records"):
        if spec.mapping not in PRESETS:
            raise DataError(f"unknown mapping preset {spec.mapping!r}; presets: {', '.join(PRESETS)}")
        mapping = PRESETS[spec.mapping]
    kind = _kind_of(mapping) if mapping else None
    if fmt == "parquet" and spec.mapping in ("auto", "records"):
        table = load_table(path)
        if table is not None:  # already records (e.g. a stage's kept.parquet): take it as it is
            return ReadResult(table, records.empty_rejects(), [file_fingerprint(path) | {
                "given_path": spec.path, "format": fmt, "mapping": "records", "source": source,
                "rows_read": table.height, "rows_kept": table.height, "rows_rejected": 0}])
    if spec.mapping == "records":
        raise DataError(f"{path}: mapping 'records' needs a Parquet file in the record format")

    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    n_rows = 0
    bar = tqdm(desc=f"read {path.name}", unit=" rows", leave=False, disable=None if progress is None else not progress)
    for loc, row, raw in iter_raw(path, fmt, spec.split):
        if spec.limit is not None and n_rows >= spec.limit:
            break
        n_rows += 1
        bar.update()
        where = f"{path.name} {loc}"
        row_source = source
        try:
            if isinstance(row, Exception):
                reason = "bad_json" if isinstance(row, json.JSONDecodeError) else "bad_row"
                raise _RowProblem(reason, "", str(row))
            if mapping is None:
                mapping_name = detect_mapping(row)
                mapping = PRESETS[mapping_name]
                kind = _kind_of(mapping)
            mapped = _map_row(row, mapping, kind)
            if spec.source_field:
                sv = _get(row, spec.source_field)
                if sv is _MISSING or not isinstance(sv, str):
                    raise _RowProblem("missing_field", spec.source_field, f"field {spec.source_field!r} is missing")
                row_source = sv
        except _RowProblem as p:
            msg = f"{where}" + (f", field {p.field!r}" if p.field and p.field not in p.message else "") + f": {p.message}"
            if strict:
                raise DataError(msg) from None
            bad.append(
                {
                    "id": f"{row_source}:{loc.replace(' ', '')}",
                    "source": row_source,
                    "text": raw if raw is not None else _safe_json(row),
                    "metadata": json.dumps({"file": str(path), "locator": loc}),
                    "stage": "ingest",
                    "reason": f"ingest:{p.reason}",
                    "detail": msg,
                }
            )
            continue
        meta = mapped.pop("__meta__")
        if spec.keep_extra and isinstance(row, dict):
            used = {src.split(".")[0] for src in mapping.values()}
            meta.update({k: v for k, v in row.items() if k not in used and k != spec.source_field})
        rid = mapped.pop("id", None)
        mapped.update(
            id=f"{row_source}:{rid}" if rid is not None else f"{row_source}:{loc.replace(' ', '')}",
            source=row_source,
            kind=kind,
            metadata=_safe_json(meta),
            lineage=[{"stage": "ingest", "info": json.dumps({"file": path.name, "locator": loc})}],
        )
        good.append(mapped)
    bar.close()
    kept = records.from_rows(good)
    rejected = records.from_rows(bad).select(list(records.REJECT_SCHEMA)) if bad else records.empty_rejects()
    entry = file_fingerprint(path) | {
        "given_path": spec.path,
        "format": fmt,
        "mapping": mapping_name,
        "source": source,
        "rows_read": n_rows,
        "rows_kept": kept.height,
        "rows_rejected": len(bad),
    }
    return ReadResult(kept=kept, rejected=rejected, manifest=[entry])


def _safe_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def read_inputs(specs: list[InputSpec], base_dir: Path | None = None, strict: bool = False,
                progress: bool | None = None) -> ReadResult:
    """Read several inputs into one table; row ids must be unique across them."""
    parts = [read_input(s, base_dir, strict, progress) for s in specs]
    kept = records.concat([p.kept for p in parts])
    rejected = records.concat([p.rejected for p in parts], rejected=True)
    dup = kept.filter(pl.col("id").is_duplicated())["id"]
    if dup.len():
        raise DataError(
            f"{dup.len()} rows share ids (e.g. {dup[0]!r}): give each input its own `source:` name"
        )
    return ReadResult(kept=kept, rejected=rejected, manifest=[m for p in parts for m in p.manifest])


def load_table(path: str | Path, base_dir: Path | None = None) -> pl.DataFrame | None:
    """A Parquet file already in the record format (e.g. a stage's kept.parquet), else None."""
    p = resolve_path(path, base_dir)
    if p.is_file() and p.suffix == ".parquet":
        df = pl.read_parquet(p)
        if set(records.CORE_COLUMNS) <= set(df.columns):
            return records.conform(df)
    return None

