"""Field references: the one way a stage reads a value from a row, as a Polars expression or from one dict.

A field reference is the string a recipe writes (`field: prompt`, `reference: metadata.answer`), checked
when the recipe is loaded, so `field: promt` fails at `dsforge validate`, naming the step and parameter,
before any input is read. Three sorts:

    prompt, answer, conversation   logical fields: the same meaning whatever the row's kind (table below)
    text, instruction, response, … a column, read as it is (null stays null)
    metadata.KEY                   one key of the `metadata` JSON (`metadata.a.b`: key b inside key a)

The logical fields, per kind of row (turns and parts are joined with a blank line, "\\n\\n"):

    kind          prompt                        answer            conversation
    document      null                          null              text
    instruction   instruction (+ input)         response          prompt + response
    scored        instruction (+ input)         response          prompt + response
    preference    instruction (+ input)         chosen_response   prompt + chosen_response + rejected_response
    conversation  every user turn               every assistant   every turn, in order (system too)

`input` is added only when it is not empty. Nulls: a part that is null is left out; a field with no part
at all is null, never "" and never an error. Stages decide what a null means (a filter keeps the row, a
hash treats it as ""). metadata.KEY is null when the key is absent or the metadata is not a JSON object;
a string value is read as is, any other value as compact JSON text (`42`, `true`, `["a","b"]`).

Only `metadata.KEY` names a metadata key: `meta:KEY`, `meta.KEY` and `meta: KEY` are refused with a
message saying what to write. `TextField` (a text to measure, hash, embed or show a model) accepts the
three sorts with text columns only; `ValueField` (a group, a label, a reference value) also accepts any
other column, including ones an earlier stage adds (checked when the stage runs, naming the columns).

`expr()` and `get(row)` follow the same rules (tests/test_fields.py checks they agree on every kind).

Not here: columns a stage rewrites in place (records.TextColumn) and where metadata keys come from at
ingest (readers/mapping.py `metadata.KEY` targets, the same spelling).
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

import polars as pl
from pydantic_core import core_schema

from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import ConfigError

SEP = "\n\n"
LOGICAL = ("prompt", "answer", "conversation")
TEXT_COLUMNS = ("text", "instruction", "input", "response", "chosen_response", "rejected_response")
META = "metadata."
_META_KEY = re.compile(r"[^.'\"\[\]\\\s]+(\.[^.'\"\[\]\\\s]+)*")
_HELP = ("a field is prompt, answer or conversation (the same meaning for every kind of row), a column "
         f"({', '.join(TEXT_COLUMNS)}, ...) or metadata.KEY")


class FieldError(ConfigError):
    """A field reference that cannot be read: wrongly spelled, or naming a column the table lacks."""


class FieldRef(str):
    """A checked field reference. It is the string the user wrote (so configs dump, compare and print
    as that string) plus `sort` ("logical", "column" or "metadata") and `key` (column or metadata key)."""

    sort: str
    key: str

    def expr(self, sep: str = SEP) -> pl.Expr:
        """The field for every row, as an expression named after the reference."""
        if self.sort == "metadata":
            path = "$" + "".join(f"['{k}']" for k in self.key.split("."))
            return pl.col("metadata").str.json_path_match(path).alias(str(self))
        if self.sort == "column":
            return pl.col(self.key).alias(str(self))
        return _LOGICAL_EXPR[self.key](sep).alias(str(self))

    def get(self, row: dict[str, Any], sep: str = SEP) -> Any:
        """The field of one row (a dict from `df.iter_rows(named=True)`), by the rules of `expr`."""
        if self.sort == "metadata":
            return _meta_value(row.get("metadata"), self.key)
        if self.sort == "column":
            if self.key not in row and self.key not in records.SCHEMA:
                raise FieldError(f"field {self}: the row has no column {self.key!r} (has {', '.join(row)})")
            return row.get(self.key)
        return _LOGICAL_GET[self.key](row, sep)

    def check(self, df: pl.DataFrame) -> None:
        """Raise FieldError naming the columns there are when this field's column is missing."""
        need = "metadata" if self.sort == "metadata" else self.key if self.sort == "column" else None
        if need is not None and need not in df.columns:
            raise FieldError(f"field {self}: no column {need!r} (have {', '.join(df.columns)}); "
                             f"{_HELP}")

    def values(self, df: pl.DataFrame, sep: str = SEP) -> pl.Series:
        """The field as a Series (checked first, so a missing column is a clear error)."""
        self.check(df)
        return df.select(self.expr(sep))[str(self)]

    def texts(self, df: pl.DataFrame, sep: str = SEP) -> list[str | None]:
        """The field as text per row (non-text columns cast to text), nulls kept as None."""
        s = self.values(df, sep)
        return (s if s.dtype == pl.String else s.cast(pl.String, strict=False)).to_list()


def ref(spec: str, text_only: bool = True) -> FieldRef:
    """Check a field reference; raise FieldError saying what to write instead."""
    if isinstance(spec, FieldRef) and (not text_only or _is_text(spec)):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise FieldError(f"expected a field name, got {spec!r}; {_HELP}")
    spec = spec.strip()
    for wrong in ("meta:", "meta.", "metadata:"):
        if spec.startswith(wrong):
            raise FieldError(f"{spec!r}: a metadata key is written metadata.KEY: write "
                             f"'metadata.{spec[len(wrong):].strip()}'")
    if spec.startswith(META):
        key = spec[len(META):]
        if not _META_KEY.fullmatch(key):
            raise FieldError(f"{spec!r}: metadata keys are dot-separated names without quotes, brackets or "
                             "spaces, e.g. metadata.category or metadata.source.url")
        return _make(spec, "metadata", key)
    if spec in LOGICAL:
        return _make(spec, "logical", spec)
    if spec in TEXT_COLUMNS or (not text_only and spec in records.SCHEMA):
        return _make(spec, "column", spec)
    if not text_only and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", spec):
        return _make(spec, "column", spec)  # a column an earlier stage adds: checked when the stage runs
    known = (*LOGICAL, *TEXT_COLUMNS) if text_only else (*LOGICAL, *records.SCHEMA)
    close = difflib.get_close_matches(spec, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if text_only and spec in records.SCHEMA:
        hint = f"{spec!r} is not a text column; "
    if spec in records.LEGACY_COLUMNS:
        hint = f"a preference row's {spec} reply is the column {records.LEGACY_COLUMNS[spec]!r}; "
    raise FieldError(f"unknown field {spec!r}: {hint}{_HELP}")


def _make(spec: str, sort: str, key: str) -> FieldRef:
    f = FieldRef(spec)
    f.sort, f.key = sort, key
    return f


def _is_text(f: FieldRef) -> bool:
    return f.sort != "column" or f.key in TEXT_COLUMNS


# Config types: pydantic checks the value with `ref` and dumps it back as its string. Give defaults as
# references too (`field: TextField = ref("prompt")`): pydantic does not check defaults, and
# tests/test_fields.py fails for a stage whose default is a plain string.


class _ConfigField(FieldRef):
    text_only = True

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        def check(v: str) -> FieldRef:
            try:
                return ref(v, cls.text_only)
            except FieldError as e:
                raise ValueError(str(e)) from None
        return core_schema.no_info_after_validator_function(
            check, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string"}


class TextField(_ConfigField):
    """Config type: a text field (logical field, text column or metadata.KEY)."""


class ValueField(_ConfigField):
    """Config type: any field, also a non-text column or one an earlier stage adds."""

    text_only = False


# ---------------------------------------------------------------- the rules, as expressions


def _joined(parts: list[pl.Expr], sep: str) -> pl.Expr:
    """Non-null parts joined; null when every part is null."""
    return (pl.when(pl.any_horizontal([p.is_not_null() for p in parts]))
            .then(pl.concat_str(parts, separator=sep, ignore_nulls=True)))


def _turns(sep: str, role: str | None) -> pl.Expr:
    content = pl.element().struct.field("content")
    picked = content if role is None else pl.when(pl.element().struct.field("role") == role).then(content)
    turns = pl.col("messages").list.eval(picked).list.drop_nulls()
    return pl.when(turns.list.len() > 0).then(turns.list.join(sep))


def _prompt_expr(sep: str) -> pl.Expr:
    has_input = pl.col("input").is_not_null() & (pl.col("input") != "")
    single = pl.when(has_input).then(_joined([pl.col("instruction"), pl.col("input")], sep)).otherwise(
        pl.col("instruction"))
    kind = pl.col("kind")
    return pl.when(kind == "conversation").then(_turns(sep, "user")).when(kind == "document").then(
        pl.lit(None, pl.String)).otherwise(single)


def _answer_expr(sep: str) -> pl.Expr:
    kind = pl.col("kind")
    return (pl.when(kind == "conversation").then(_turns(sep, "assistant"))
            .when(kind == "preference").then(pl.col("chosen_response"))
            .when(kind == "document").then(pl.lit(None, pl.String))
            .otherwise(pl.col("response")))


def _conversation_expr(sep: str) -> pl.Expr:
    kind = pl.col("kind")
    return (pl.when(kind == "document").then(pl.col("text"))
            .when(kind == "conversation").then(_turns(sep, None))
            .when(kind == "preference").then(_joined([_prompt_expr(sep), pl.col("chosen_response"),
                                                                     pl.col("rejected_response")], sep))
            .otherwise(_joined([_prompt_expr(sep), pl.col("response")], sep)))


_LOGICAL_EXPR = {"prompt": _prompt_expr, "answer": _answer_expr, "conversation": _conversation_expr}


# ---------------------------------------------------------------- the same rules, for one row


def _join(parts: list[Any], sep: str) -> str | None:
    parts = [p for p in parts if p is not None]
    return sep.join(parts) if parts else None


def _row_turns(row: dict[str, Any], sep: str, role: str | None) -> str | None:
    msgs = row.get("messages") or []
    return _join([m.get("content") for m in msgs if m and (role is None or m.get("role") == role)], sep)


def _prompt_get(row: dict[str, Any], sep: str) -> str | None:
    kind = row.get("kind")
    if kind == "conversation":
        return _row_turns(row, sep, "user")
    if kind == "document":
        return None
    if row.get("input"):
        return _join([row.get("instruction"), row["input"]], sep)
    return row.get("instruction")


def _answer_get(row: dict[str, Any], sep: str) -> str | None:
    kind = row.get("kind")
    if kind == "conversation":
        return _row_turns(row, sep, "assistant")
    if kind == "preference":
        return row.get("chosen_response")
    return None if kind == "document" else row.get("response")


def _conversation_get(row: dict[str, Any], sep: str) -> str | None:
    kind = row.get("kind")
    if kind == "document":
        return row.get("text")
    if kind == "conversation":
        return _row_turns(row, sep, None)
    if kind == "preference":
        return _join([_prompt_get(row, sep), row.get("chosen_response"), row.get("rejected_response")], sep)
    return _join([_prompt_get(row, sep), row.get("response")], sep)


_LOGICAL_GET = {"prompt": _prompt_get, "answer": _answer_get, "conversation": _conversation_get}


def _meta_value(metadata: str | None, key: str) -> str | None:
    try:
        value: Any = json.loads(metadata) if metadata else None
    except ValueError:
        return None
    for k in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(k)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


PROMPT, ANSWER, CONVERSATION = ref("prompt"), ref("answer"), ref("conversation")
