"""The one record format every stage reads and writes: an Arrow table handled with Polars.

A row is one training example (or one document). Which columns are filled depends on its `kind`:

    kind          filled columns                         example source
    document      text                                   web pages, books
    instruction   instruction, input (optional), response  Alpaca, Dolly, Self-Instruct
    conversation  messages (list of {role, content})     ShareGPT, UltraChat
    preference    instruction, input, chosen, rejected   DPO / ORPO pairs
    scored        instruction, input, response, score    reward-model data, judged rows

Every row also has a stable `id`, a `source` name, free `metadata` (a JSON object stored as a string so
that any keys fit one schema) and `lineage`: a list of {stage, info} entries that stages append to when
they create or change a row (info is a JSON string). Stages may add extra columns (scores, spans,
cluster ids); the core columns below are always present with these types.

Rejected rows use the same columns plus `stage`, `reason` (a short greppable string such as
"length-filter:too_short") and `detail` (human words: which file, line, field, or which row it duplicates).

Not here: reading files (readers.py) and anything that decides what to keep (stages).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Literal

import polars as pl

KINDS = ("document", "instruction", "conversation", "preference", "scored")
ROLES = ("system", "user", "assistant", "tool")

MESSAGE = pl.Struct({"role": pl.String, "content": pl.String})
LINEAGE_ENTRY = pl.Struct({"stage": pl.String, "info": pl.String})

SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "source": pl.String,
    "kind": pl.String,
    "text": pl.String,
    "instruction": pl.String,
    "input": pl.String,
    "response": pl.String,
    "messages": pl.List(MESSAGE),
    "chosen": pl.String,
    "rejected": pl.String,
    "score": pl.Float64,
    "metadata": pl.String,
    "lineage": pl.List(LINEAGE_ENTRY),
}
CORE_COLUMNS = tuple(SCHEMA)
REJECT_COLUMNS = ("stage", "reason", "detail")
REJECT_SCHEMA: dict[str, pl.DataType] = {**SCHEMA, **{c: pl.String for c in REJECT_COLUMNS}}


class RecordError(ValueError):
    """A table does not follow the record format."""


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def from_rows(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Build a record table from dicts holding (a subset of) the core columns; missing ones become null.

    Keys outside the core columns become extra columns (types inferred)."""
    rows = list(rows)
    if not rows:
        return empty()
    extra = sorted({k for r in rows for k in r} - set(SCHEMA))
    columns = {c: [r.get(c) for r in rows] for c in (*CORE_COLUMNS, *extra)}
    schema = {c: SCHEMA[c] for c in CORE_COLUMNS}
    df = pl.DataFrame({c: columns[c] for c in CORE_COLUMNS}, schema=schema)
    if extra:
        df = df.with_columns(pl.Series(c, columns[c], strict=False) for c in extra)
    return df.with_columns(
        pl.col("metadata").fill_null("{}"),
        pl.col("lineage").fill_null(pl.lit([], dtype=SCHEMA["lineage"])),
    )


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """Add missing core columns as nulls and cast them to the record types; keep extra columns after them."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in SCHEMA.items() if c not in df.columns]
    if missing:
        df = df.with_columns(missing)
    try:
        df = df.with_columns(pl.col(c).cast(t) for c, t in SCHEMA.items() if df.schema[c] != t)
    except pl.exceptions.PolarsError as e:  # pragma: no cover - message is what matters
        raise RecordError(f"cannot cast to the record format: {e}") from e
    extra = [c for c in df.columns if c not in SCHEMA]
    return df.select(*CORE_COLUMNS, *extra)


def validate(df: pl.DataFrame, where: str = "table") -> None:
    """Raise RecordError naming the column when core columns are missing or wrongly typed."""
    for col, dtype in SCHEMA.items():
        if col not in df.columns:
            raise RecordError(f"{where}: missing column {col!r} (expected {dtype})")
        if df.schema[col] != dtype:
            raise RecordError(f"{where}: column {col!r} is {df.schema[col]}, expected {dtype}")
    if df["id"].null_count():
        raise RecordError(f"{where}: {df['id'].null_count()} rows have no id")


def rejects(df: pl.DataFrame, stage: str, reason: str | pl.Expr, detail: str | pl.Expr = "") -> pl.DataFrame:
    """Turn records into rejected rows: same columns plus stage, reason and detail.

    `reason` and `detail` are constants or expressions evaluated per row (e.g. a column holding the
    id of the row this one duplicates)."""
    as_expr = lambda v: v if isinstance(v, pl.Expr) else pl.lit(v)  # noqa: E731
    return df.with_columns(
        pl.lit(stage).alias("stage"),
        as_expr(reason).cast(pl.String).alias("reason"),
        as_expr(detail).cast(pl.String).alias("detail"),
    )


def concat(frames: list[pl.DataFrame], rejected: bool = False) -> pl.DataFrame:
    """Concatenate record (or rejected) tables whose extra columns may differ."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return empty_rejects() if rejected else empty()
    return pl.concat(frames, how="diagonal_relaxed")


def append_lineage(df: pl.DataFrame, stage: str, info: dict[str, Any] | pl.Expr) -> pl.DataFrame:
    """Append one {stage, info} entry to every row's lineage. `info` is a dict (same for all rows) or a
    string expression holding per-row JSON."""
    info_expr = pl.lit(json.dumps(info, sort_keys=True, ensure_ascii=False)) if isinstance(info, dict) else info
    entry = pl.struct(pl.lit(stage).alias("stage"), info_expr.cast(pl.String).alias("info"))
    return df.with_columns(pl.col("lineage").list.concat(pl.concat_list(entry)))


# Columns holding text a stage may rewrite in place (cleaning, redaction), as a type for stage configs.
TextColumn = Literal["instruction", "input", "response", "text", "chosen", "rejected", "messages"]
TEXT_COLUMNS: tuple[str, ...] = TextColumn.__args__


def to_messages(row: dict[str, Any], system: str | None = None) -> list[dict[str, str]]:
    """The conversation a chat template renders for one row (a dict from `df.iter_rows(named=True)`).

    instruction/scored rows become [user: instruction + input, assistant: response]; preference rows
    give the prompt plus the chosen reply; documents have no conversation and raise RecordError."""
    kind = row.get("kind")
    if kind == "conversation":
        msgs = [{"role": m["role"], "content": m["content"]} for m in row["messages"] or []]
    elif kind in ("instruction", "scored", "preference"):
        user = row["instruction"] if not row.get("input") else f"{row['instruction']}\n\n{row['input']}"
        answer = row["chosen"] if kind == "preference" else row["response"]
        msgs = [{"role": "user", "content": user}]
        if answer is not None:
            msgs.append({"role": "assistant", "content": answer})
    else:
        raise RecordError(f"row {row.get('id')}: a {kind!r} row has no conversation to render")
    if system and (not msgs or msgs[0]["role"] != "system"):
        msgs.insert(0, {"role": "system", "content": system})
    return msgs
