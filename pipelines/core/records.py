"""The one record format every stage reads and writes: an Arrow table handled with Polars.

A row is one training example (or one document). Which columns are filled depends on its `kind`:

    kind          filled columns                                          example source
    document      text                                                    web pages, books
    instruction   instruction, input (optional), response                 Alpaca, Dolly, Self-Instruct
    conversation  messages (list of {role, content})                      ShareGPT, UltraChat
    preference    instruction, input, chosen_response, rejected_response  DPO / ORPO pairs
    scored        instruction, input, response, score                     reward-model data, judged rows

A preference row's two answers are `chosen_response` (the preferred reply) and `rejected_response` (the
dispreferred one): named like `response`, and not "rejected", which in dsforge means a row a stage dropped
(the rejects tables below). Trainers still get TRL's `chosen`/`rejected`: layouts.py renames at publish.
Tables written before that rename (a run's old step folders, records-format Parquet) hold `chosen` and
`rejected` columns; `conform` renames them (LEGACY_COLUMNS), so old runs can still be inspected and reviewed.

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

from dsforge.pipelines.core.errors import DsforgeError

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
    "chosen_response": pl.String,
    "rejected_response": pl.String,
    "score": pl.Float64,
    "metadata": pl.String,
    "lineage": pl.List(LINEAGE_ENTRY),
}
CORE_COLUMNS = tuple(SCHEMA)
REJECT_COLUMNS = ("stage", "reason", "detail")
REJECT_SCHEMA: dict[str, pl.DataType] = {**SCHEMA, **{c: pl.String for c in REJECT_COLUMNS}}
# old name -> record column, for tables written before the preference answers were renamed
LEGACY_COLUMNS = {"chosen": "chosen_response", "rejected": "rejected_response"}


class RecordError(DsforgeError, ValueError):
    """A table does not follow the record format."""

    hint = "see docs/architecture.md, \"The record format\""


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
    """Add missing core columns as nulls and cast them to the record types; keep extra columns after them.

    An old table's `chosen`/`rejected` become chosen_response/rejected_response (legacy_renames)."""
    legacy = legacy_renames(df.columns)
    if legacy:
        df = df.rename(legacy)
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in SCHEMA.items() if c not in df.columns]
    if missing:
        df = df.with_columns(missing)
    try:
        df = df.with_columns(pl.col(c).cast(t) for c, t in SCHEMA.items() if df.schema[c] != t)
    except pl.exceptions.PolarsError as e:  # pragma: no cover - message is what matters
        raise RecordError(f"cannot cast to the record format: {e}") from e
    extra = [c for c in df.columns if c not in SCHEMA]
    return df.select(*CORE_COLUMNS, *extra)


def legacy_renames(columns: Iterable[str]) -> dict[str, str]:
    """{old: new} for the columns of a table written before the preference answers were renamed (only where
    the new column is absent, so a table holding both is left as it is)."""
    columns = set(columns)
    return {old: new for old, new in LEGACY_COLUMNS.items() if old in columns and new not in columns}


def has_core_columns(columns: Iterable[str]) -> bool:
    """Whether a table with these columns is in the record format (the old chosen/rejected names count)."""
    return set(CORE_COLUMNS) <= {LEGACY_COLUMNS.get(c, c) for c in columns}


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
TextColumn = Literal["instruction", "input", "response", "text", "chosen_response", "rejected_response", "messages"]
TEXT_COLUMNS: tuple[str, ...] = TextColumn.__args__


def to_messages(row: dict[str, Any], system: str | None = None) -> list[dict[str, str]]:
    """The conversation a chat template renders for one row (a dict from `df.iter_rows(named=True)`).

    instruction/scored rows become [user: instruction + input, assistant: response]; preference rows
    give the prompt plus chosen_response (the prompt is `messages` when an input's prompt had several turns); documents have no conversation and raise RecordError."""
    kind = row.get("kind")
    if kind == "conversation":
        msgs = [{"role": m["role"], "content": m["content"]} for m in row["messages"] or []]
    elif kind in ("instruction", "scored", "preference"):
        user = row["instruction"] if not row.get("input") else f"{row['instruction']}\n\n{row['input']}"
        answer = row["chosen_response"] if kind == "preference" else row["response"]
        msgs = [{"role": "user", "content": user}]
        if row.get("messages") and row["messages"][-1]["role"] != "assistant":
            # an input's conversational prompt longer than one user turn (readers/conversational.py); a
            # `messages` ending with the reply is chat-format's output and is not the prompt
            msgs = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
        if answer is not None:
            msgs.append({"role": "assistant", "content": answer})
    else:
        raise RecordError(f"row {row.get('id')}: a {kind!r} row has no conversation to render")
    if system and (not msgs or msgs[0]["role"] != "system"):
        msgs.insert(0, {"role": "system", "content": system})
    return msgs
