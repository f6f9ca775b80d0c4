"""Mappings: which source field fills which record field, and the row-by-row reference of what a valid row is.

A mapping is {record_field: source.field.path} (a preset name resolves to one). `map_row` checks and maps one
parsed row and raises RowProblem (reason, field, message) for a bad one; rows.py runs the same checks column
by column for speed and hands every row it is unsure about to `map_row`, so the two cannot disagree.

Not here: reading files (formats.py) and building tables (rows.py).
"""

from __future__ import annotations

import json
import math
from typing import Any

from dsforge.pipelines.core.readers.conversational import FoldProblem, fold
from dsforge.pipelines.core.readers.errors import DataError
from dsforge.pipelines.core.records import LEGACY_COLUMNS, ROLES

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
    # TRL / UltraFeedback-binarized: answers as text or message lists (readers/conversational.py)
    "preference": {"instruction": "prompt", "chosen_response": "chosen", "rejected_response": "rejected",
                   "score_chosen": "score_chosen", "score_rejected": "score_rejected"},
    "preference-records": {"instruction": "instruction", "input": "input",  # dsforge's own field names
                           "chosen_response": "chosen_response", "rejected_response": "rejected_response"},
    "scored": {"instruction": "prompt", "response": "response", "score": "score"},
    "kto": {"instruction": "prompt", "response": "completion", "label": "label"},  # TRL KTO (unpaired)
    "document": {"text": "text"},
}
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "system": "system", "tool": "tool", "function": "tool", "bot": "assistant", "model": "assistant"}
REQUIRED = {
    "document": ("text",),
    "instruction": ("instruction", "response"),
    "conversation": ("messages",),
    "preference": ("instruction", "chosen_response", "rejected_response"),
    "scored": ("instruction", "response", "score", "label"),  # KTO rows: score = 1.0 / 0.0 from label
}
# optional record columns beyond records.SCHEMA that inputs may fill (pair scores, KTO's desirable label)
EXTRA_TARGETS = {"score_chosen": "number", "score_rejected": "number", "label": "bool"}
# text fields that may also come as TRL message lists (folded by conversational.fold)
CONVERSATIONAL = ("instruction", "response", "chosen_response", "rejected_response")
MISSING = object()


class RowProblem(Exception):
    """One bad row: reason (ingest:<reason>), the source field at fault ('' for the whole row), human words."""

    def __init__(self, reason: str, fieldname: str, message: str):
        super().__init__(message)
        self.reason, self.field, self.message = reason, fieldname, message


def guess_mapping(row: dict[str, Any]) -> str | None:
    """The preset whose fields a row has, or None."""
    keys = {k.lstrip("\ufeff") for k in row}
    rules = [
        ({"chosen", "rejected"}, "preference"),  # before messages: UltraFeedback-binarized rows have both
        ({"messages"}, "messages"), ({"conversations"}, "sharegpt"),
        ({"chosen_response", "rejected_response"}, "preference-records"),
        ({"prompt", "completion", "label"}, "kto"), ({"prompt", "completion"}, "prompt-completion"), ({"instruction", "instances"}, "seed-tasks"),
        ({"instruction", "output"}, "alpaca"), ({"instruction", "context", "response"}, "dolly"),
        ({"instruction", "response"}, "gpteacher"), ({"prompt", "response", "score"}, "scored"),
        ({"text"}, "document"),
    ]
    return next((name for need, name in rules if need <= keys), None)


def detect_mapping(row: dict[str, Any], where: str = "") -> str:
    name = guess_mapping(row)
    if name is None:
        raise DataError(
            f"{where + ': ' if where else ''}cannot guess a mapping for fields {sorted(row)}; set mapping: to a "
            f"preset ({', '.join(PRESETS)}) or to {{record_field: source_field}}"
        )
    return name


def resolve_mapping(mapping: str | dict[str, str]) -> dict[str, str] | None:
    """A spec's mapping as a dict; None for "auto" (guessed from the first row) and "records"."""
    if isinstance(mapping, dict):
        old = [t for t in mapping if t in LEGACY_COLUMNS]
        if old:
            raise DataError(f"mapping {mapping}: the record fields of a preference pair are chosen_response and "
                            f"rejected_response; write {', '.join(f'{LEGACY_COLUMNS[t]}: {mapping[t]}' for t in old)}")
        return dict(mapping)
    if mapping in ("auto", "records"):
        return None
    if mapping not in PRESETS:
        raise DataError(f"unknown mapping preset {mapping!r}; presets: {', '.join(PRESETS)}")
    return dict(PRESETS[mapping])


def kind_of(mapping: dict[str, str]) -> str:
    targets = set(mapping)
    if "messages" in targets:
        return "conversation"
    if {"chosen_response", "rejected_response"} <= targets:
        return "preference"
    if "score" in targets or {"label", "response"} <= targets:
        return "scored"
    if "instruction" in targets and "response" in targets:
        return "instruction"
    if "text" in targets:
        return "document"
    raise DataError(f"mapping {mapping} fills no complete record kind (need text, instruction+response, "
                    "messages, or instruction+chosen_response+rejected_response)")


def with_id(mapping: dict[str, str]) -> dict[str, str]:
    """An input's own top-level `id` field is the row id unless the mapping takes the id from elsewhere."""
    return mapping if "id" in mapping else {**mapping, "id": "id"}


def get_path(row: Any, path: str) -> Any:
    cur = row
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part, MISSING)
        elif isinstance(cur, list) and part.isdigit():
            cur = cur[int(part)] if int(part) < len(cur) else MISSING
        else:
            return MISSING
        if cur is MISSING:
            return MISSING
    return cur


def as_score(value: Any, src: str) -> float:
    """A finite number (or a string holding one); NaN, Infinity and overflowing "1e400" are wrong types."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise RowProblem("wrong_type", src, f"field {src!r}: expected a number, got {value!r}") from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RowProblem("wrong_type", src, f"field {src!r}: expected a number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise RowProblem("wrong_type", src, f"field {src!r}: expected a finite number, got {value}")
    return value


def as_label(value: Any, src: str) -> bool:
    """KTO's desirable flag: true/false (JSON booleans, or 0/1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise RowProblem("wrong_type", src, f"field {src!r}: expected true or false, got {value!r}"[:200])


def as_id(value: Any, src: str) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RowProblem("wrong_type", src, f"field {src!r}: an id must be non-empty text or a whole number, "
                                        f"got {type(value).__name__} {value!r}"[:200])


def check_messages(value: Any, src: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise RowProblem("wrong_type", src, f"field {src!r}: expected a non-empty list of messages")
    msgs = []
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise RowProblem("wrong_type", f"{src}.{i}", f"field {src}.{i}: expected a message object")
        role = m.get("role", m.get("from"))
        content = m.get("content", m.get("value"))
        role = SHAREGPT_ROLES.get(role, role) if isinstance(role, str) else role
        if role not in ROLES:
            raise RowProblem("wrong_type", f"{src}.{i}.role", f"field {src}.{i}.role: {role!r} is not one of {ROLES}")
        if not isinstance(content, str):
            raise RowProblem("wrong_type", f"{src}.{i}.content", f"field {src}.{i}.content: expected text")
        msgs.append({"role": role, "content": content})
    return msgs


def not_an_object(value: Any) -> RowProblem:
    got = "null" if value is None else type(value).__name__
    return RowProblem("not_an_object", "", f"expected a JSON object, got {got}")


def map_row(row: Any, mapping: dict[str, str], kind: str, source_field: str | None,
            keep_extra: bool) -> dict[str, Any]:
    """One parsed row -> record fields plus `metadata` (JSON text), `id` (None: generate one) and
    `source` (None: the input's). Raises RowProblem for a bad row."""
    if not isinstance(row, dict):
        raise not_an_object(row)
    out: dict[str, Any] = {"id": None, "source": None}
    meta: dict[str, Any] = {}
    lists: dict[str, list[dict[str, str]]] = {}
    missing_prompt = None
    for target, src in mapping.items():
        value = get_path(row, src)
        if target.startswith("metadata."):
            if value is not MISSING:
                meta[target[9:]] = value
            continue
        if value is MISSING or value is None:
            if target == "instruction" and target in REQUIRED[kind]:
                missing_prompt = src  # TRL's implicit prompt: the turns before the replies (checked below)
            elif target in REQUIRED[kind]:
                raise RowProblem("missing_field", src, f"field {src!r} is missing")
            continue
        if target == "messages":
            value = check_messages(value, src)
        elif target in ("score", "score_chosen", "score_rejected"):
            value = as_score(value, src)
        elif target == "label":
            value = as_label(value, src)
        elif target == "id":
            value = as_id(value, src)
        elif isinstance(value, list) and target in CONVERSATIONAL and kind != "document":
            lists[target] = check_messages(value, src)
            continue
        elif not isinstance(value, str):
            raise RowProblem("wrong_type", src, f"field {src!r}: expected text, got {type(value).__name__}")
        out[target] = value
    if lists:
        try:
            fold(out, lists, mapping)
        except FoldProblem as p:
            raise RowProblem(p.reason, p.field, p.message) from None
    elif missing_prompt:
        raise RowProblem("missing_field", missing_prompt, f"field {missing_prompt!r} is missing")
    if "label" in out and "score" not in mapping:
        out["score"] = float(out["label"])
    if source_field:
        sv = get_path(row, source_field)
        if not isinstance(sv, str) or not sv:
            raise RowProblem("missing_field", source_field, f"field {source_field!r} is missing")
        out["source"] = sv
    if keep_extra:
        used = used_keys(mapping, source_field)
        meta.update({k: v for k, v in row.items() if k not in used})
    out["metadata"] = metadata_json(meta)
    return out


def used_keys(mapping: dict[str, str], source_field: str | None) -> set[str]:
    """Top-level source keys the mapping consumes (the rest go to metadata)."""
    used = {src.split(".")[0] for target, src in mapping.items()}
    return used | ({source_field.split(".")[0]} if source_field else set())


def metadata_json(meta: dict[str, Any]) -> str:
    """Metadata as JSON text; NaN/Infinity (not JSON) and absurd nesting are row problems."""
    if not meta:
        return "{}"
    try:
        return json.dumps(meta, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        bad = next((k for k, v in meta.items() if isinstance(v, float) and not math.isfinite(v)), "")
        raise RowProblem("wrong_type", bad, f"field {bad!r}: NaN or Infinity is not a JSON value"
                         if bad else "a nested field holds NaN or Infinity, which is not a JSON value") from None
    except RecursionError:
        raise RowProblem("too_deep", "", "nested too deeply to store") from None
