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

from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers.mapping import (EXTRA_TARGETS, MISSING, REQUIRED, RowProblem, get_path, map_row,
                                               metadata_json, not_an_object, used_keys, with_id)
from dsforge.pipelines.core.readers.spec import DataError

# id_keys: one row per row read; position = the row's place in its chunk (file order).
KEYS_SCHEMA = {"id": pl.String, "locator_id": pl.String, "explicit": pl.Boolean, "where": pl.String,
               "position": pl.Int64}
EXTRA_SCHEMA = {"score_chosen": pl.Float64, "score_rejected": pl.Float64, "label": pl.Boolean}
TEXT_TARGETS = ("text", "instruction", "input", "response", "chosen_response", "rejected_response")


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
    check_rows: list[int] | None = None  # rows whose text may be invalid Unicode (None: all; []: none)


@dataclass(frozen=True)
class Locators:
    """Where each row of a chunk is: `prefix` + number ("line 12", "row 3", "train row 3")."""

    prefix: str
    numbers: list[int]

    def __getitem__(self, i: int) -> str:
        return f"{self.prefix}{self.numbers[i]}"


def build_records(parsed: list[Any], locators: Locators, raws: list[str | bytes | None],
                  ctx: RowContext) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(kept, rejected, id_keys) for rows in file order; `parsed` items are rows or RowProblems."""
    n = len(parsed)
    problems: dict[int, RowProblem] = {i: p for i, p in enumerate(parsed) if isinstance(p, RowProblem)}
    if ctx.kind is None:  # no mapping: no row was an object
        for i in range(n):
            problems.setdefault(i, not_an_object(parsed[i]))
        return _finish(parsed, locators, raws, ctx, {}, problems, {}, n)
    mapping = with_id(ctx.mapping)
    objects = [r if type(r) is dict else None for r in parsed]
    for i, r in enumerate(objects):
        if r is None and i not in problems:
            problems[i] = not_an_object(parsed[i])
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
        elif target in EXTRA_TARGETS:  # optional pair scores, KTO's label: anything unusual goes row by row
            ok = (bool,) if EXTRA_TARGETS[target] == "bool" else (float, int)
            for i, v in enumerate(values):
                if type(v) in ok and (type(v) is not float or math.isfinite(v)):
                    values[i] = v if type(v) is bool else float(v)
                elif v is not None or required:
                    slow.add(i)
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
        for target in row.keys() - columns.keys() - {"id", "source", "metadata"}:  # e.g. a folded prompt's turns
            columns[target] = [None] * n
        for target in columns:
            columns[target][i] = row.get(target)
        meta[i] = row["metadata"]
    columns["metadata"] = meta
    if "label" in columns and "score" not in mapping:  # KTO rows: the label as the score (1.0 / 0.0)
        columns["score"] = [float(v) if type(v) is bool else None for v in columns["label"]]  # bad rows: rejected
    if ctx.check_rows is None or ctx.check_rows:
        _check_encoding(columns, mapping, ctx, problems)
    return _finish(parsed, locators, raws, ctx, columns, problems, mapping, n)


def _column(objects: list[dict | None], src: str) -> list[Any]:
    if "." not in src:
        return [r.get(src) if r is not None else None for r in objects]
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
    """Reject rows whose text is not valid Unicode (invalid UTF-8 bytes or a lone surrogate escape).
    One encode per column finds out whether any row of `ctx.check_rows` (None: all) needs a closer look."""
    n = len(next(iter(columns.values()), []))
    rows = range(n) if ctx.check_rows is None else ctx.check_rows
    for target, values in columns.items():
        def text(i: int) -> str | None:
            v = values[i]
            if target == "messages" and v is not None:
                return "".join(m["content"] + m["role"] for m in v)
            return v if type(v) is str else None

        todo = [i for i in rows if i not in problems]
        try:
            "".join(t for i in todo if (t := text(i)) is not None).encode("utf-8")
            continue
        except UnicodeEncodeError:
            pass
        src = mapping.get(target, ctx.source_field if target == "source" else "")
        for i in todo:
            s = text(i)
            try:
                s is not None and s.encode("utf-8")
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


def printable(s: str | bytes) -> str:
    """Text safe to store: invalid bytes and lone surrogates become U+FFFD."""
    if isinstance(s, bytes):
        return s.decode("utf-8", "replace").rstrip("\r")
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def detail(ctx: RowContext, loc: str, p: RowProblem) -> str:
    where = f"{ctx.file_name} {loc}"
    field = f", field {p.field!r}" if p.field and p.field not in p.message else ""
    return printable(f"{where}{field}: {p.message}")


def _finish(parsed: list[Any], locs: Locators, raws: list[str | bytes | None], ctx: RowContext,
            columns: dict[str, list[Any]], problems: dict[int, RowProblem], mapping: dict[str, str],
            n: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    if ctx.strict and problems:
        i = min(problems)
        raise DataError(detail(ctx, locs[i], problems[i]))
    bad = sorted(problems)
    keep = [i for i in range(n) if i not in problems] if problems else range(n)
    take = (lambda vals: vals) if not problems else (lambda vals: [vals[i] for i in keep])
    sources = columns.get("source")
    # Per kept row, built by Polars: the number as text, the locator id, the place ("a.jsonl line 3").
    num = pl.Series("n", take(locs.numbers), dtype=pl.Int64).cast(pl.String)
    src = pl.Series("s", take(sources), dtype=pl.String) if sources else pl.lit(ctx.source)
    own = pl.Series("id", take(columns["id"]) if "id" in columns else [None] * len(num), dtype=pl.String)
    places = pl.DataFrame([num]).select(
        pl.concat_str([src, pl.lit(":" + locs.prefix.replace(" ", "")), pl.col("n")]).alias("locator_id"),
        pl.concat_str([pl.lit(f"{ctx.file_name} {locs.prefix}"), pl.col("n")]).alias("where"),
        pl.concat_str([pl.lit(locs.prefix), pl.col("n")]).alias("locator"),
    ).with_columns(pl.coalesce(own, pl.col("locator_id")).alias("id"), own.is_not_null().alias("explicit"))
    kept = _kept_frame(columns, take, places, ctx) if len(keep) else records.empty()
    rej_rows = []
    for i in bad:
        row_src = sources[i] if sources and type(sources[i]) is str and sources[i] else ctx.source
        raw = raws[i] if raws[i] is not None else _safe_json(parsed[i])
        rej_rows.append({
            "id": f"{row_src}:{locs[i].replace(' ', '')}", "source": row_src, "text": printable(raw),
            "metadata": json.dumps({"file": ctx.file_path, "locator": locs[i]}, ensure_ascii=False),
            "stage": "ingest", "reason": f"ingest:{problems[i].reason}", "detail": detail(ctx, locs[i], problems[i]),
        })
    rejected = records.from_rows(rej_rows).select(list(records.REJECT_SCHEMA)) if rej_rows else records.empty_rejects()
    rejected_keys = pl.DataFrame({
        "id": rejected["id"], "locator_id": rejected["id"], "explicit": [False] * len(bad),
        "where": [f"{ctx.file_name} {locs[i]}" for i in bad], "position": bad}, schema=KEYS_SCHEMA)
    kept_keys = places.select("id", "locator_id", "explicit", "where",
                              pl.Series("position", list(keep), dtype=pl.Int64))
    return kept, rejected, pl.concat([kept_keys, rejected_keys])


def _kept_frame(columns: dict[str, list[Any]], take: Any, places: pl.DataFrame, ctx: RowContext) -> pl.DataFrame:
    types = {**records.SCHEMA, **EXTRA_SCHEMA}
    data = {c: take(v) for c, v in columns.items() if c in types and c not in ("id", "source")}
    df = pl.DataFrame(data, schema={c: types[c] for c in data}) if data else pl.DataFrame()
    info_prefix = '{"file": ' + json.dumps(ctx.file_name, ensure_ascii=False) + ', "locator": "'
    df = df.with_columns(
        places["id"],
        pl.Series("source", take(columns["source"]), dtype=pl.String) if "source" in columns
        else pl.lit(ctx.source, dtype=pl.String).alias("source"),
        pl.lit(ctx.kind).alias("kind"),
        pl.concat_list(pl.struct(pl.lit("ingest").alias("stage"),
                                 (pl.lit(info_prefix) + places["locator"] + pl.lit('"}')).alias("info"))).alias("lineage"),
    )
    return records.conform(df)


def _safe_json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return repr(value)[:10_000]
