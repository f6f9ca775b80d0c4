"""Per format: where chunks may start, and a chunk's rows as (parsed rows, locators, raw text).

JSONL and CSV are split at record boundaries by byte offset (CSV: a newline outside quotes, found by quote
parity); JSON arrays are one chunk (the whole file must be parsed to find its rows); Parquet and saved HF
datasets by row offset. Text is decoded with `surrogateescape`, so invalid UTF-8 bytes survive parsing and
rows.py rejects exactly the rows holding them (never a crash, never a silent U+FFFD).

Why JSON lines go through Python's C json parser and not pl.read_ndjson / pyarrow.json: Polars coerces a
number in a text column to text (`"output": 42` becomes "42"), turns `\\ud800` into "\\x00" and keeps the
first of duplicate keys; pyarrow.json crashes the process (SIGSEGV) on a line holding `null`. Every one of
those would be silently wrong data. json.loads per line plus column-wise checks reads clean Alpaca JSONL at
~200k rows/s per core (bench/RESULTS-ingest.md), above the 100k target.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterator

from dsforge.pipelines.readers.mapping import RowProblem
from dsforge.pipelines.readers.spec import DataError

Rows = tuple[list[Any], list[str], list[str | None]]  # parsed rows (or RowProblem), locators, raw text
BLOCK = 1 << 22


# ---------------------------------------------------------------- JSON lines


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        return RowProblem("bad_json", "", f"not valid JSON: {e.msg} at column {e.colno}")
    except RecursionError:
        return RowProblem("too_deep", "", "JSON nested too deeply to parse")


def jsonl_rows(path: Path, start: int, end: int, first_line: int) -> Rows:
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    numbered = [(first_line + i, ln) for i, ln in enumerate(lines) if ln.strip()]
    texts = [ln.rstrip("\r") for _, ln in numbered]
    parsed = [_loads(t) for t in texts]
    return parsed, [f"line {n}" for n, _ in numbered], texts


def line_offsets(path: Path, targets: list[int], quote_aware: bool = False) -> list[tuple[int, int]]:
    """For each target byte offset (ascending), the (offset, 1-based line number) of the first record start
    at or after it. With quote_aware, a newline inside a quoted CSV field is not a record boundary."""
    out: list[tuple[int, int]] = []
    size = path.stat().st_size
    pos, lines, quotes = 0, 1, 0
    with open(path, "rb") as f:
        for target in targets:
            if target >= size:
                out.append((size, lines))
                continue
            while pos < target:  # count newlines (and quotes) up to the target
                block = f.read(min(BLOCK, target - pos))
                lines += block.count(b"\n")
                quotes += block.count(b'"') if quote_aware else 0
                pos += len(block)
            while True:  # then move to just after the next boundary newline
                block = f.read(1 << 16)
                if not block:
                    pos = size
                    break
                cut = _boundary(block, quotes, quote_aware)
                if cut is None:
                    lines += block.count(b"\n")
                    quotes += block.count(b'"') if quote_aware else 0
                    pos += len(block)
                    continue
                lines += block.count(b"\n", 0, cut + 1)
                quotes += block.count(b'"', 0, cut + 1) if quote_aware else 0
                pos += cut + 1
                f.seek(pos)
                break
            out.append((pos, lines))
    return out


def _boundary(block: bytes, quotes: int, quote_aware: bool) -> int | None:
    i = block.find(b"\n")
    while i >= 0:
        if not quote_aware or (quotes + block.count(b'"', 0, i)) % 2 == 0:
            return i
        i = block.find(b"\n", i + 1)
    return None


def sample_line_bytes(path: Path, start: int = 0, lines: int = 2000) -> float:
    """Average bytes per line in a sample (to size chunks without reading the whole file)."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(1 << 20)
    n = data.count(b"\n")
    if n == 0:
        return float(max(len(data), 1))
    sample = data[: _nth(data, min(n, lines)) + 1]
    return max(len(sample) / max(sample.count(b"\n"), 1), 1.0)


def _nth(data: bytes, n: int) -> int:
    i = -1
    for _ in range(n):
        i = data.find(b"\n", i + 1)
    return i


def first_jsonl_object(path: Path, start: int = 0, max_lines: int = 10_000) -> tuple[dict | None, int]:
    """The first parsable JSON object line after `start` (for guessing the mapping) and its line number."""
    with open(path, "rb") as f:
        f.seek(start)
        for n, raw in enumerate(f, 1):
            if n > max_lines:
                break
            row = _loads(raw.decode("utf-8", "surrogateescape")) if raw.strip() else None
            if isinstance(row, dict):
                return row, n
    return None, 0


def limit_end(path: Path, start: int, limit: int) -> int:
    """Byte offset just after the `limit`-th non-blank line (JSONL)."""
    seen = 0
    pos = start
    with open(path, "rb") as f:
        f.seek(start)
        for raw in f:
            if seen >= limit:
                break
            pos += len(raw)
            seen += bool(raw.strip())
    return pos


# ---------------------------------------------------------------- CSV


def csv_header(path: Path) -> tuple[list[str], int, int]:
    """(column names, byte offset of the first data record, its line number). A UTF-8 BOM is dropped."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    (offset, line), = line_offsets(path, [1], quote_aware=True) if head else [(0, 1)]
    text = head[:offset].decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    names = next(csv.reader(io.StringIO(text)), [])
    return [n.lstrip("\ufeff") for n in names], offset, line


def csv_rows(path: Path, start: int, end: int, first_line: int) -> Rows:
    header, _, _ = csv_header(path)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    reader = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline=""))
    parsed: list[Any] = []
    locators: list[str] = []
    raws: list[str | None] = []
    while True:
        loc = f"line {first_line + reader.line_num}"
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            parsed.append(RowProblem("bad_row", "", f"not valid CSV: {e}"))
            locators.append(loc)
            raws.append(None)
            continue
        if not values:  # a blank line
            continue
        raws.append(",".join(values))
        locators.append(loc)
        if len(values) != len(header):
            parsed.append(RowProblem("bad_row", "", f"expected {len(header)} columns, got {len(values)}"))
        else:
            parsed.append(dict(zip(header, values)))
    return parsed, locators, raws


# ---------------------------------------------------------------- JSON arrays


def json_rows(path: Path) -> list[Any]:
    """The rows of a JSON file: an array, or an object holding exactly one array ({"data": [...]})."""
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:  # one row nested absurdly deep: take the array apart element by element
        return list(_array_elements(text, path))
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path}: expected a JSON array of objects (or one object holding one array)")
        data = lists[0]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON array of objects, got {type(data).__name__}")
    return data


def _array_elements(text: str, path: Path) -> Iterator[Any]:
    dec = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if text[i:i + 1] != "[":
        raise DataError(f"{path}: nested too deeply to parse, and not a top-level JSON array")
    i = _skip_ws(text, i + 1)
    while i < len(text) and text[i] != "]":
        try:
            value, i = dec.raw_decode(text, i)
        except RecursionError:
            value, i = RowProblem("too_deep", "", "JSON nested too deeply to parse"), _skip_value(text, i)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
        yield value
        i = _skip_ws(text, i)
        if text[i:i + 1] == ",":
            i = _skip_ws(text, i + 1)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _skip_value(text: str, i: int) -> int:
    """End of the (bracketed) JSON value starting at i, counting brackets outside strings."""
    depth, in_str, esc = 0, False, False
    for j in range(i, len(text)):
        c = text[j]
        if in_str:
            esc, in_str = (False, in_str) if esc else (c == "\\", c != '"')
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(text)


# ---------------------------------------------------------------- Parquet and saved HF datasets


def parquet_rows(path: Path, start: int, end: int) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    out: list[dict[str, Any]] = []
    pos = 0
    for g in range(pf.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if pos + n > start and pos < end:
            table = pf.read_row_group(g)
            out.extend(table.slice(max(start - pos, 0), min(end, pos + n) - max(start, pos)).to_pylist())
        pos += n
    return out


def parquet_columns_and_rows(path: Path) -> tuple[list[str], int]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    return pf.schema_arrow.names, pf.metadata.num_rows


def hf_parts(path: Path, split: str | None) -> list[tuple[str | None, Any]]:
    import datasets

    ds = datasets.load_from_disk(str(path))
    parts = list(ds.items()) if isinstance(ds, datasets.DatasetDict) else [(None, ds)]
    return [(name, part) for name, part in parts if not split or name in (None, split)]


def hf_rows(path: Path, split: str | None, start: int, end: int) -> list[dict[str, Any]]:
    (name, part), = [(n, p) for n, p in hf_parts(path, split) if n == split or split is None and n is None]
    rows = part.select(range(start, min(end, len(part)))).to_list()
    return [{**r, "__split__": name} for r in rows] if name is not None else rows


def file_size(path: Path) -> int:
    return os.stat(path).st_size
