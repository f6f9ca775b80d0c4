"""Per format: where chunks may start, and a chunk's rows as (parsed rows, line numbers, raw text).

JSONL and CSV are split at record boundaries by byte offset (CSV: a newline outside quotes, found by quote
parity); JSON arrays are one chunk (the whole file must be parsed to find its rows); Parquet and saved HF
datasets by row offset. Text is decoded with `surrogateescape`, so invalid UTF-8 bytes survive parsing and
rows.py rejects exactly the rows holding them (never a crash, never a silent U+FFFD).

Why JSON lines go through orjson (falling back to the stdlib json for any line orjson refuses) and not
pl.read_ndjson / pyarrow.json: Polars coerces a number in a text column to text (`"output": 42` becomes
"42"), turns `\\ud800` into "\\x00" and keeps the first of duplicate keys; pyarrow.json crashes the process
(SIGSEGV) on a line holding `null`. Every one of those would be silently wrong data. Speed:
bench/RESULTS-ingest.md.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from itertools import accumulate
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import orjson

from dsforge.pipelines.core.readers.mapping import RowProblem
from dsforge.pipelines.core.readers.spec import DataError

BLOCK = 1 << 22
# The one size limit of ingest: a CSV field, or a whole JSONL line, of more characters is a rejected row
# (`ingest:too_large`), never a crash or a silently cut value. docs/ingest.md states it.
MAX_FIELD_CHARS = 64 << 20


def too_large(what: str) -> RowProblem:
    return RowProblem("too_large", "", f"{what} longer than {MAX_FIELD_CHARS:,} characters, the limit for one CSV "
                                       "field or JSONL line")


# ---------------------------------------------------------------- JSON lines


_scan = json.JSONDecoder().scan_once  # the C scanner json.loads uses, without its per-call wrappers
_BAD_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a \ud800-\udfff escape: maybe a lone surrogate


def _loads(text: str) -> Any:
    try:
        value, end = _scan(text, 0)
        if end == len(text) or not text[end:].strip(" \t\r\n"):
            return value
    except (StopIteration, json.JSONDecodeError):
        pass
    except RecursionError:
        return RowProblem("too_deep", "", "JSON nested too deeply to parse")
    try:  # not a bare value at column 1: let json.loads parse it or say what is wrong
        return json.loads(text)
    except json.JSONDecodeError as e:
        return RowProblem("bad_json", "", f"not valid JSON ({e.msg}, column {e.colno})")
    except RecursionError:
        return RowProblem("too_deep", "", "JSON nested too deeply to parse")


def decode(data: bytes) -> tuple[str, bool]:
    """Text of a chunk, and whether it may hold text that is not valid Unicode (then rows.py checks)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape"), True
    return text, _BAD_ESCAPE.search(text) is not None


def jsonl_rows(path: Path, start: int, end: int, first_line: int) -> tuple[list[Any], list[int], list[bytes], list[int]]:
    """(parsed rows or RowProblems, their line numbers, their bytes, the rows whose text may be invalid Unicode).

    orjson parses each line; a line it refuses (bad JSON, invalid UTF-8, a lone surrogate, NaN, depth over
    1024) or that holds a 20-digit number (orjson turns integers over 64 bits into floats) is parsed again by
    the stdlib, whose result or error is the reference. A line of only spaces, tabs or CR is blank."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    lines = data.split(b"\n")
    numbers = [first_line + i for i, ln in enumerate(lines) if ln.strip()]
    raws = [lines[n - first_line] for n in numbers]
    big = _big_number_lines(data, lines, first_line)
    huge = {n for n, raw in zip(numbers, raws) if len(raw) > MAX_FIELD_CHARS}  # bytes >= characters
    try:
        if big or huge:
            raise ValueError
        return list(map(orjson.loads, raws)), numbers, raws, []
    except ValueError:  # orjson.JSONDecodeError included: go line by line
        parsed: list[Any] = []
        fallback: list[int] = []  # orjson vouches for the text of the rows it parsed
        for i, (n, raw) in enumerate(zip(numbers, raws)):
            if n in huge and len(raw.decode("utf-8", "surrogateescape")) > MAX_FIELD_CHARS:
                parsed.append(too_large("a line"))
                continue
            try:
                if n in big:
                    raise ValueError
                parsed.append(orjson.loads(raw))
            except ValueError:
                fallback.append(i)
                parsed.append(_loads(raw.decode("utf-8", "surrogateescape").rstrip("\r")))
        return parsed, numbers, raws, fallback


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _big_number_lines(data: bytes, lines: list[bytes], first_line: int) -> set[int]:
    """Line numbers holding a run of 20+ digits (one translate and one substring search when there is none)."""
    zeros = data.translate(_DIGITS_AS_ZERO)
    run = b"0" * 20
    pos = zeros.find(run)
    if pos < 0:
        return set()
    starts = list(accumulate((len(ln) + 1 for ln in lines), initial=0))
    found = set()
    while pos >= 0:
        i = bisect_right(starts, pos) - 1
        found.add(first_line + i)
        pos = zeros.find(run, starts[i + 1]) if i + 1 < len(starts) else -1
    return found


def line_offsets(path: Path, targets: list[int]) -> list[tuple[int, int]]:
    """For each target byte offset (ascending), the (offset, 1-based line number) of the first line start
    at or after it."""
    out: list[tuple[int, int]] = []
    size = path.stat().st_size
    pos, lines = 0, 1
    with open(path, "rb") as f:
        for target in targets:
            while pos < target:  # count newlines up to the target
                block = f.read(min(BLOCK, target - pos))
                lines += block.count(b"\n")
                pos += len(block)
            if pos < size and not _at_line_start(f, pos):
                rest = f.readline()  # move to just after the next newline
                lines += rest.endswith(b"\n")
                pos += len(rest)
            out.append((pos, lines))
    return out


def _at_line_start(f, pos: int) -> bool:
    if pos == 0:
        return True
    f.seek(pos - 1)
    return f.read(1) == b"\n"


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


def first_jsonl_object(path: Path) -> tuple[dict | None, int]:
    """The first parsable JSON object line (for guessing the mapping) and its line number; (None, 0) when
    no line is an object (then every row is rejected as not_an_object)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
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
    """(column names, byte offset of the first data record, its line number). A UTF-8 BOM is dropped; a
    name given to two columns is an error (a row would silently keep only one of the two values)."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    with open(path, "rb") as f:
        try:
            names = next(csv.reader(_physical_lines(f, 0, {})), [])
        except csv.Error as e:
            raise DataError(f"{path.name} line 1 (the header): not valid CSV: {e}") from None
    names = [n.lstrip("\ufeff") for n in names]
    seen: dict[str, int] = {}
    for i, name in enumerate(names, 1):
        if name in seen:
            raise DataError(f"{path.name} line 1 (the header): columns {seen[name]} and {i} are both named {name!r}; "
                            "rename one (a row can hold only one value per name)")
        seen[name] = i
    _, offset = csv_record_starts(path, 0, 1, every=1, limit=1)
    with open(path, "rb") as f:
        line = 1 + f.read(offset).count(b"\n")
    return names, offset, line


def _physical_lines(f, start: int, offsets: dict[int, int]) -> Iterator[str]:
    """Lines split at \\n only (as csv_rows reads them), recording each line's byte offset by index."""
    pos = start
    for n, raw in enumerate(f):
        offsets[n] = pos
        pos += len(raw)
        yield raw.decode("utf-8", "surrogateescape")
    offsets[-1] = pos


def csv_record_starts(path: Path, start: int, first_line: int, every: int,
                      limit: int | None = None) -> tuple[list[tuple[int, int]], int]:
    """(offset, line) of every `every`-th record from `start`, parsed by the csv module itself (a newline
    inside quotes, even unbalanced ones, is never a boundary), and the offset where reading stops (the
    record after `limit` records, or the end of the file)."""
    offsets: dict[int, int] = {}
    out: list[tuple[int, int]] = []
    csv.field_size_limit(MAX_FIELD_CHARS)
    with open(path, "rb") as f:
        f.seek(start)
        reader = csv.reader(_physical_lines(f, start, offsets))
        count = 0
        while True:
            before = reader.line_num
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error:
                values = [""]
            if not values:
                continue
            if count % every == 0 or count == limit:
                out.append((offsets[before], first_line + before))
            for k in [k for k in offsets if 0 <= k < before]:
                del offsets[k]
            if count == limit:
                return out[:-1], out[-1][0]
            count += 1
    return out, offsets.get(-1, start)


def csv_rows(path: Path, start: int, end: int, first_line: int) -> tuple[list[Any], list[int], list[str | None], list[int] | None]:
    header, _, _ = csv_header(path)
    csv.field_size_limit(MAX_FIELD_CHARS)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    text, suspect = decode(data)
    reader = csv.reader(io.StringIO(text, newline="\n"))  # split at \\n only, like csv_record_starts
    parsed: list[Any] = []
    numbers: list[int] = []
    raws: list[str | None] = []
    while True:
        line = first_line + reader.line_num
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            parsed.append(too_large("a field") if "field larger than field limit" in str(e)
                          else RowProblem("bad_row", "", f"not valid CSV: {e}"))
            numbers.append(line)
            raws.append(None)
            continue
        if not values:  # a blank line
            continue
        raws.append(",".join(values))
        numbers.append(line)
        if len(values) != len(header):
            parsed.append(RowProblem("bad_row", "", f"expected {len(header)} columns, got {len(values)}"))
        else:
            parsed.append(dict(zip(header, values)))
    return parsed, numbers, raws, None if suspect else []


# ---------------------------------------------------------------- JSON arrays


def json_rows(path: Path) -> list[Any]:
    """The rows of a JSON file: an array, or an object holding exactly one array ({"data": [...]})."""
    text, _ = decode(path.read_bytes())
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
    (name, part), = [(n, p) for n, p in hf_parts(path, None) if n == split]
    rows = part.select(range(start, min(end, len(part)))).to_list()
    return [{**r, "__split__": name} for r in rows] if name is not None else rows


def file_size(path: Path) -> int:
    return os.stat(path).st_size
