"""Parsed rows -> record table and rejected rows, column by column.

`build_records` is the fast path of every format: it takes each mapped field as one Python list, checks
the types of the whole list at once (the common case: every value is text), and sends only the rows it
cannot vouch for through mapping.map_row, the row-by-row reference, which names the problem. Text that
cannot be stored as UTF-8 (invalid bytes, read with surrogateescape, or a lone \\ud800 escape) is found
with one encode of each column and rejected as `ingest:bad_encoding`.

Ids (see ids.py): a row's own id as is, else `<source>:line<N>` / `<source>:row<N>` (the locator id);
rejected rows always carry their locator id.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from dsforge.pipelines import records
from dsforge.pipelines.readers.mapping import (MISSING, REQUIRED, RowProblem, map_row, metadata_json, used_keys,
                                               with_id)
from dsforge.pipelines.readers.spec import DataError

# id_keys: one row per row read; position = the row's place in its chunk (file order).
KEYS_SCHEMA = {"id": pl.String, "locator_id": pl.String, "explicit": pl.Boolean, "where": pl.String,
               "position": pl.Int64}
TEXT_TARGETS = ("text", "instruction", "input", "response", "chosen", "rejected")


@dataclass(frozen=True)
class RowContext:
    """What turning one chunk's rows into records needs to know."""

    file_name: str  # for details and lineage
    file_path: str  # for the rejects' metadata
    source: str
    mapping: dict[str, str]  # without the implicit id
    kind: str | None
    source_field: str | None
    keep_extra: bool
    strict: bool
    check_text: bool = True  # False when the reader knows every string is valid Unicode


def build_records(parsed: list[Any], locators: list[str], raws: list[str | None],
                  ctx: RowContext) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(kept, rejected, id_keys) for rows in file order; `parsed` items are rows or RowProblems."""
    n = len(parsed)
    problems: dict[int, RowProblem] = {i: p for i, p in enumerate(parsed) if isinstance(p, RowProblem)}
    if ctx.kind is None:  # no mapping: no row was an object
        for i in range(n):
            problems.setdefault(i, _not_object(parsed[i]))
        return _finish(parsed, locators, raws, ctx, {}, problems, {}, n)
    mapping = with_id(ctx.mapping)
    objects = [r if type(r) is dict else None for r in parsed]
    for i, r in enumerate(objects):
        if r is None and i not in problems:
            problems[i] = _not_object(parsed[i])
    slow: set[int] = set()
    columns: dict[str, list[Any]] = {}
    meta_items: list[tuple[str, str]] = []
    for target, src in mapping.items():
        values = _column(objects, src)
        if target.startswith("metadata."):
            meta_items.append((target[9:], src))
            continue
        required = target in REQUIRED[ctx.kind]
        if target in TEXT_TARGETS:
            ok_types = (str,) if required else (str, type(None))
            if not _all_types(values, ok_types):
                slow.update(i for i, v in enumerate(values) if type(v) not in ok_types)
        elif target == "score":
            for i, v in enumerate(values):
                if type(v) is float and math.isfinite(v) or type(v) is int:
                    values[i] = float(v)
                else:
                    slow.add(i)
        else:  # messages, id: validated per row (ids of known types are converted here)
            if target == "id":
                for i, v in enumerate(values):
                    if type(v) is str and v:
                        continue
                    if type(v) is int:
                        values[i] = str(v)
                    elif v is None:
                        continue
                    else:
                        slow.add(i)
            else:
                slow.update(range(n))
        columns[target] = values
    if ctx.source_field:
        sources = _column(objects, ctx.source_field)
        slow.update(i for i, v in enumerate(sources) if type(v) is not str or not v)
        columns["source"] = sources
    meta = _metadata(objects, mapping, ctx, meta_items, slow)
    # Rows the column checks could not vouch for: the row-by-row reference decides (and names the problem).
    for i in sorted(slow - problems.keys()):
        try:
            row = map_row(objects[i], mapping, ctx.kind, ctx.source_field, ctx.keep_extra)
        except RowProblem as p:
            problems[i] = p
            continue
        for target in columns:
            columns[target][i] = row.get(target)
        meta[i] = row["metadata"]
    columns["metadata"] = meta
    if ctx.check_text:
        _check_encoding(columns, mapping, ctx, problems)
    return _finish(parsed, locators, raws, ctx, columns, problems, mapping, n)


def _not_object(value: Any) -> RowProblem:
    got = "null" if value is None else type(value).__name__
    return RowProblem("not_an_object", "", f"expected a JSON object, got {got}")


def _column(objects: list[dict | None], src: str) -> list[Any]:
    if "." not in src:
        return [r.get(src) if r is not None else None for r in objects]
    from dsforge.pipelines.readers.mapping import get_path

    out = []
    for r in objects:
        v = get_path(r, src) if r is not None else None
        out.append(None if v is MISSING else v)
    return out


def _all_types(values: list[Any], types: tuple[type, ...]) -> bool:
    return set(map(type, values)) <= set(types)


def _metadata(objects: list[dict | None], mapping: dict[str, str], ctx: RowContext,
              meta_items: list[tuple[str, str]], slow: set[int]) -> list[str | None]:
    """Each row's metadata JSON: `metadata.KEY` targets plus (keep_extra) the unmapped top-level fields."""
    used = used_keys(mapping, ctx.source_field)
    out: list[str | None] = []
    for i, r in enumerate(objects):
        if r is None:
            out.append(None)
            continue
        meta = {}
        for key, src in meta_items:  # a present null is kept, an absent field is not (as map_row)
            if "." in src:
                from dsforge.pipelines.readers.mapping import get_path

                v = get_path(r, src)
                if v is not MISSING:
                    meta[key] = v
            elif src in r:
                meta[key] = r[src]
        if ctx.keep_extra and not r.keys() <= used:
            meta.update({k: v for k, v in r.items() if k not in used})
        try:
            out.append(metadata_json(meta))
        except RowProblem:
            slow.add(i)
            out.append(None)
    return out


def _check_encoding(columns: dict[str, list[Any]], mapping: dict[str, str], ctx: RowContext,
                    problems: dict[int, RowProblem]) -> None:
    """Reject rows whose text is not valid Unicode (invalid UTF-8 bytes or a lone surrogate escape)."""
    for target, values in columns.items():
        strings = values if target != "messages" else [
            None if m is None or i in problems else "".join(x["content"] + x["role"] for x in m)
            for i, m in enumerate(values)]
        joined = "".join(s for s in strings if type(s) is str)
        try:
            joined.encode("utf-8")
            continue
        except UnicodeEncodeError:
            pass
        src = mapping.get(target, ctx.source_field if target == "source" else "")
        for i, s in enumerate(strings):
            if i in problems or type(s) is not str:
                continue
            try:
                s.encode("utf-8")
            except UnicodeEncodeError as e:
                what = "a metadata field" if target == "metadata" else f"field {src!r}"
                problems[i] = RowProblem("bad_encoding", "" if target == "metadata" else src,
                                         f"{what} is not valid UTF-8 text: {_bad_char(s[e.start])} "
                                         f"at character {e.start}")


def _bad_char(c: str) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # what surrogateescape made of an invalid byte
        return f"invalid byte 0x{code - 0xDC00:02x}"
    return f"a lone surrogate \\u{code:04x}"


def printable(s: str) -> str:
    """Text safe to store: invalid bytes and lone surrogates become U+FFFD."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def detail(ctx: RowContext, loc: str, p: RowProblem) -> str:
    where = f"{ctx.file_name} {loc}"
    field = f", field {p.field!r}" if p.field and p.field not in p.message else ""
    return printable(f"{where}{field}: {p.message}")


def _finish(parsed: list[Any], locators: list[str], raws: list[str | None], ctx: RowContext,
            columns: dict[str, list[Any]], problems: dict[int, RowProblem], mapping: dict[str, str],
            n: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    if ctx.strict and problems:
        i = min(problems)
        raise DataError(detail(ctx, locators[i], problems[i]))
    keep = [i for i in range(n) if i not in problems] if problems else range(n)
    sources = columns.get("source")
    loc_ids = [f"{sources[i] if sources and sources[i] else ctx.source}:{locators[i].replace(' ', '')}"
               for i in keep] if sources else [f"{ctx.source}:{locators[i].replace(' ', '')}" for i in keep]
    kept = _kept_frame(columns, keep, locators, loc_ids, ctx) if len(keep) else records.empty()
    explicit = [v is not None for v in (columns.get("id") or [None] * n)]
    rej_rows = []
    for i in sorted(problems):
        src = ctx.source
        if sources and type(sources[i]) is str and sources[i]:
            src = sources[i]
        raw = raws[i] if raws[i] is not None else _safe_json(parsed[i])
        rej_rows.append({
            "id": f"{src}:{locators[i].replace(' ', '')}", "source": src, "text": printable(raw),
            "metadata": json.dumps({"file": ctx.file_path, "locator": locators[i]}, ensure_ascii=False),
            "stage": "ingest", "reason": f"ingest:{problems[i].reason}", "detail": detail(ctx, locators[i], problems[i]),
        })
    rejected = records.from_rows(rej_rows).select(list(records.REJECT_SCHEMA)) if rej_rows else records.empty_rejects()
    keys = pl.DataFrame({
        "id": kept["id"].to_list() + rejected["id"].to_list(),
        "locator_id": loc_ids + rejected["id"].to_list(),
        "explicit": [explicit[i] for i in keep] + [False] * rejected.height,
        "where": [f"{ctx.file_name} {locators[i]}" for i in keep] + [f"{ctx.file_name} {locators[i]}" for i in sorted(problems)],
        "position": list(keep) + sorted(problems),
    }, schema=KEYS_SCHEMA)
    return kept, rejected, keys


def _kept_frame(columns: dict[str, list[Any]], keep: Any, locators: list[str], loc_ids: list[str],
                ctx: RowContext) -> pl.DataFrame:
    take = (lambda vals: vals) if isinstance(keep, range) else (lambda vals: [vals[i] for i in keep])
    data: dict[str, Any] = {}
    for target, values in columns.items():
        if target in records.SCHEMA and target not in ("id", "source"):
            data[target] = take(values)
    ids = take(columns["id"]) if "id" in columns else [None] * len(loc_ids)
    data["id"] = [e if e is not None else g for e, g in zip(ids, loc_ids)]
    data["source"] = take(columns["source"]) if "source" in columns else [ctx.source] * len(loc_ids)
    info_prefix = '{"file": ' + json.dumps(ctx.file_name, ensure_ascii=False) + ', "locator": "'
    df = pl.DataFrame({c: data.get(c) for c in records.SCHEMA if c in data},
                      schema={c: records.SCHEMA[c] for c in records.SCHEMA if c in data})
    locs = pl.Series("__loc", take(locators), dtype=pl.String)
    df = df.with_columns(
        pl.lit(ctx.kind).alias("kind"),
        pl.concat_list(pl.struct(pl.lit("ingest").alias("stage"),
                                 (pl.lit(info_prefix) + locs + pl.lit('"}')).alias("info"))).alias("lineage"),
    )
    return records.conform(df)


def _safe_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return repr(value)[:10_000]
