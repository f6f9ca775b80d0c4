"""Planning an input into chunks and reading one chunk: the API a sharded runner calls.

    chunks = plan_inputs(specs, base_dir)                  # fast: no full parse; errors before any work
    parts = [read_chunk(specs[c.input_index], c) for c in chunks]        # in any worker process
    dups = duplicate_id_rejects(pl.concat([p.id_keys for p in parts]))   # ids across chunks (ids.py)
    parts = [apply_duplicate_ids(p, dups) for p in parts]

`read_chunk` is a pure function of (spec, chunk). Concatenating every chunk's result in order equals reading
the file in one go; `read_input` / `read_inputs` are exactly that loop.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import polars as pl

from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers import formats
from dsforge.pipelines.core.readers.ids import apply_duplicate_ids, duplicate_id_rejects
from dsforge.pipelines.core.readers.mapping import PRESETS, detect_mapping, kind_of, resolve_mapping
from dsforge.pipelines.core.readers.rows import KEYS_SCHEMA, Locators, RowContext, build_records
from dsforge.pipelines.core.readers.spec import (FORMATS, Chunk, DataError, InputSpec, ReadResult, check_readable, detect_format,
                                            file_fingerprint, resolve_path, source_name)

log = logging.getLogger("dsforge")
ROWS_PER_CHUNK = 50_000
EMPTY_WARNING = "no rows: the file is empty or holds only blank lines"


def plan_chunks(spec: InputSpec, input_index: int, base_dir: Path | None,
                rows_per_chunk: int = ROWS_PER_CHUNK) -> list[Chunk]:
    """Split one input into chunks of about `rows_per_chunk` rows; the mapping is resolved here, once."""
    with _readable_as(spec.format, spec.path):
        return _plan_chunks(spec, input_index, base_dir, rows_per_chunk)


@contextmanager
def _readable_as(fmt: str, given: str) -> Iterator[None]:
    """A Parquet file or saved HF folder its library cannot read (JSON named .parquet, a truncated file,
    a folder with a made-up dataset_info.json) is a DataError naming the input, not a library traceback."""
    try:
        yield
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow, datasets and json raise many kinds
        name = Path(given).suffix.lower()
        what = ("a Parquet file" if fmt == "parquet" or (fmt == "auto" and name == ".parquet")
                else "a saved HF dataset" if fmt == "hf" or (fmt == "auto" and Path(given).is_dir()) else None)
        if what is None:
            raise
        raise DataError(f"{given}: cannot be read as {what} ({type(e).__name__}: {str(e)[:200]})") from None


def _plan_chunks(spec: InputSpec, input_index: int, base_dir: Path | None, rows_per_chunk: int) -> list[Chunk]:
    path = resolve_path(spec.path, base_dir)
    check_readable(path, spec.path)
    fmt = detect_format(path) if spec.format == "auto" else spec.format
    source = source_name(spec, path)
    mapping = resolve_mapping(spec.mapping)
    if mapping is not None:
        kind_of(mapping)  # a mapping that fills no record kind is an error now, not per row
    common = dict(input_index=input_index, path=str(path.resolve()), fmt=fmt, source=source)
    if fmt in ("jsonl", "csv"):
        if fmt == "csv":
            header, start, first_line = formats.csv_header(path)
            guess_row, where = dict.fromkeys(header, ""), f"{path.name} line 1 (the header)"
        else:
            start, first_line = 0, 1
            guess_row, line = formats.first_jsonl_object(path)
            where = f"{path.name} line {line}"
        name, mapping = _mapping(spec, mapping, guess_row, where, fmt)
        if fmt == "csv":  # record starts come from the csv module itself (quoted newlines)
            bounds, end = formats.csv_record_starts(path, start, first_line, rows_per_chunk, spec.limit)
            bounds = bounds or [(start, first_line)]
        else:
            end = formats.file_size(path) if spec.limit is None else formats.limit_end(path, start, spec.limit)
            step = max(int(formats.sample_line_bytes(path, start) * rows_per_chunk), 1)
            bounds = [(start, first_line)] + [b for b in formats.line_offsets(path, list(range(start + step, end, step)))
                                              if start < b[0] < end]
        bounds = sorted(set(bounds[:1] + [b for b in bounds[1:] if b[0] < end]))  # two targets in one long line
        edges = [b[0] for b in bounds] + [max(end, bounds[0][0])]
        return [Chunk(index=i, start=edges[i], end=edges[i + 1], first_row=bounds[i][1], mapping=mapping,
                      mapping_name=name, **common) for i in range(len(bounds))]
    if fmt == "json":
        rows = formats.json_rows(path)
        first = next((r for r in rows if isinstance(r, dict)), None)
        where = f"{path.name} row {next(i for i, r in enumerate(rows) if r is first)}" if first is not None else ""
        name, mapping = _mapping(spec, mapping, first, where, fmt)
        n = len(rows) if spec.limit is None else min(len(rows), spec.limit)
        return [Chunk(index=0, start=0, end=n, first_row=0, mapping=mapping, mapping_name=name, **common)]
    if fmt == "parquet":
        columns, n = formats.parquet_columns_and_rows(path)
        if spec.mapping in ("auto", "records") and records.has_core_columns(columns):
            name, mapping = "records", {}
        elif spec.mapping == "records":
            raise DataError(f"{path}: mapping 'records' needs a Parquet file in the record format "
                            f"(columns {', '.join(records.CORE_COLUMNS)}); it has {columns}")
        else:
            name, mapping = _mapping(spec, mapping, dict.fromkeys(columns, ""), f"{path.name} (columns)", fmt)
        return _row_chunks(n, spec.limit, rows_per_chunk, None, mapping, name, common)
    if fmt == "hf":
        chunks: list[Chunk] = []
        left = spec.limit  # the limit counts rows across all splits
        parts = formats.hf_parts(path, spec.split)
        if not parts:
            names = [n for n, _ in formats.hf_parts(path, None)]
            raise DataError(f"{path.name}: no split {spec.split!r}; splits: {', '.join(map(str, names))}")
        for split, part in parts:
            name, mapping = _mapping(spec, mapping, dict.fromkeys(part.column_names, ""), f"{path.name} (columns)", fmt)
            if left == 0:
                break
            chunks += _row_chunks(len(part), left, rows_per_chunk, split, mapping, name, common, len(chunks))
            left = None if left is None else max(left - len(part), 0)
        return chunks
    raise DataError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _mapping(spec: InputSpec, mapping: dict[str, str] | None, row: dict | None, where: str,
             fmt: str) -> tuple[str, dict[str, str]]:
    if spec.mapping == "records":
        raise DataError(f"{spec.path}: mapping 'records' needs a Parquet file in the record format, not {fmt}")
    if mapping is not None:
        return (spec.mapping if isinstance(spec.mapping, str) else "custom"), mapping
    if row is None:  # no row is an object: every row will be rejected as not_an_object
        return "none", {}
    name = detect_mapping(row, where)
    return name, dict(PRESETS[name])


def _row_chunks(n: int, limit: int | None, size: int, split: str | None, mapping: dict[str, str], name: str,
                common: dict[str, Any], first_index: int = 0) -> list[Chunk]:
    n = n if limit is None else min(n, limit)
    starts = list(range(0, n, size)) or [0]
    return [Chunk(index=first_index + i, start=s, end=min(s + size, n), first_row=s, mapping=mapping,
                  mapping_name=name, split=split, **common) for i, s in enumerate(starts)]


def read_chunk(spec: InputSpec, chunk: Chunk, strict: bool = False) -> ReadResult:
    """Kept and rejected rows of exactly this chunk, and its counts (manifest: [{input_index, chunk, rows_*}])."""
    with _readable_as(chunk.fmt, spec.path):
        return _read_chunk(spec, chunk, strict)


def _read_chunk(spec: InputSpec, chunk: Chunk, strict: bool) -> ReadResult:
    path = Path(chunk.path)
    if chunk.mapping_name == "records":
        kept, rejected, keys = _records_parquet(path, chunk)
    else:
        if chunk.fmt in ("jsonl", "csv"):
            read = formats.jsonl_rows if chunk.fmt == "jsonl" else formats.csv_rows
            parsed, numbers, raws, check_rows = read(path, chunk.start, chunk.end, chunk.first_row)
            locators = Locators("line ", numbers)
        else:
            check_rows = None if chunk.fmt == "json" else []  # Arrow text (Parquet, HF) is always valid UTF-8
            if chunk.fmt == "json":
                parsed = formats.json_rows(path)[chunk.start:chunk.end]
            elif chunk.fmt == "parquet":
                parsed = formats.parquet_rows(path, chunk.start, chunk.end)
            else:
                parsed = formats.hf_rows(path, chunk.split, chunk.start, chunk.end)
            locators = Locators(f"{chunk.split} row " if chunk.split else "row ",
                                list(range(chunk.first_row, chunk.first_row + len(parsed))))
            raws = [None] * len(parsed)
        ctx = RowContext(file_name=path.name, file_path=str(path), source=chunk.source, mapping=chunk.mapping,
                         kind=kind_of(chunk.mapping) if chunk.mapping else None, source_field=spec.source_field,
                         keep_extra=spec.keep_extra, strict=strict, check_rows=check_rows)
        kept, rejected, keys = build_records(parsed, locators, raws, ctx)
    counts = {"input_index": chunk.input_index, "chunk": chunk.index, "rows_read": kept.height + rejected.height,
              "rows_kept": kept.height, "rows_rejected": rejected.height}
    return ReadResult(kept=kept, rejected=rejected, manifest=[counts], id_keys=keys)


def _records_parquet(path: Path, chunk: Chunk) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A table already in the record format (e.g. a stage's kept.parquet): taken as it is; a missing id
    becomes the locator id."""
    df = pl.scan_parquet(path).slice(chunk.start, chunk.end - chunk.start).collect()
    try:
        df = records.conform(df)
    except records.RecordError as e:
        raise DataError(f"{path.name} rows {chunk.start}-{chunk.end}: {e}") from None
    loc_ids = pl.Series([f"{chunk.source}:row{chunk.first_row + i}" for i in range(df.height)], dtype=pl.String)
    explicit = df["id"].is_not_null()
    df = df.with_columns(pl.when(explicit).then(pl.col("id")).otherwise(loc_ids).alias("id"))
    keys = pl.DataFrame({"id": df["id"], "locator_id": loc_ids, "explicit": explicit,
                         "where": [f"{path.name} row {chunk.first_row + i}" for i in range(df.height)],
                         "position": range(df.height)}, schema=KEYS_SCHEMA)
    return df, records.empty_rejects(), keys


def input_manifest(spec: InputSpec, base_dir: Path | None) -> dict[str, Any]:
    """What the run's manifest.json records about one input: path, size, sha256, format, source."""
    path = resolve_path(spec.path, base_dir)
    check_readable(path, spec.path)
    fmt = detect_format(path) if spec.format == "auto" else spec.format
    return file_fingerprint(path) | {"given_path": spec.path, "format": fmt, "source": source_name(spec, path)}


def finish_manifest(entry: dict[str, Any], chunks: list[Chunk], counts: list[dict[str, Any]],
                    strict: bool = False) -> dict[str, Any]:
    """One input's manifest entry from input_manifest() plus the chunks' counts; an input with no rows gets
    a `warning` (logged), or is a DataError under strict."""
    out = dict(entry, mapping=chunks[0].mapping_name if chunks else "none")
    for key in ("rows_read", "rows_kept", "rows_rejected"):
        out[key] = sum(c[key] for c in counts)
    out["chunks"] = len(chunks)
    if out["rows_read"] == 0:
        if strict:
            raise DataError(f"{entry['given_path']}: {EMPTY_WARNING}")
        out["warning"] = EMPTY_WARNING
        log.warning("%s: %s", entry["given_path"], EMPTY_WARNING)
    return out


def plan_inputs(specs: list[InputSpec], base_dir: Path | None, rows_per_chunk: int = ROWS_PER_CHUNK) -> list[Chunk]:
    """Every input's chunks, in input order."""
    return [c for i, s in enumerate(specs) for c in plan_chunks(s, i, base_dir, rows_per_chunk)]


def read_inputs(specs: list[InputSpec], base_dir: Path | None = None, strict: bool = False,
                progress: bool | None = None, rows_per_chunk: int = ROWS_PER_CHUNK) -> ReadResult:
    """Read several inputs into one table, chunk by chunk in this process (the sharded runner does the
    same over workers). Ids are unique across kept and rejected rows of every input (ids.py)."""
    from tqdm.auto import tqdm

    chunks = plan_inputs(specs, base_dir, rows_per_chunk)
    parts = []
    disable = None if progress is None else not progress
    for c in tqdm(chunks, desc="read", unit=" chunks", leave=False, disable=disable or len(chunks) < 2):
        parts.append(read_chunk(specs[c.input_index], c, strict))
    keys = pl.concat([p.id_keys for p in parts]) if parts else None
    if keys is not None and keys.height:
        dups = duplicate_id_rejects(keys)
        parts = [apply_duplicate_ids(p, dups, strict) for p in parts]
    manifest = []
    for i, spec in enumerate(specs):
        mine = [c for c in chunks if c.input_index == i]
        counts = [p.manifest[0] for p in parts if p.manifest[0]["input_index"] == i]
        manifest.append(finish_manifest(input_manifest(spec, base_dir), mine, counts, strict))
    return ReadResult(
        kept=records.concat([p.kept for p in parts]) if parts else records.empty(),
        rejected=records.concat([p.rejected for p in parts], rejected=True),
        manifest=manifest,
        id_keys=keys,
    )


def read_input(spec: InputSpec, base_dir: Path | None = None, strict: bool = False,
               progress: bool | None = None) -> ReadResult:
    """Read one input into (kept records, rejected rows, manifest entry)."""
    return read_inputs([spec], base_dir, strict, progress)


def load_table(path: str | Path, base_dir: Path | None = None) -> pl.DataFrame | None:
    """A Parquet file already in the record format (e.g. a stage's kept.parquet), else None."""
    p = resolve_path(path, base_dir)
    if p.is_file() and p.suffix == ".parquet":
        df = pl.read_parquet(p)
        if records.has_core_columns(df.columns):
            return records.conform(df)
    return None
