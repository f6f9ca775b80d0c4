"""A row's text for code that works on one row (a dict) at a time: thin names over pipelines/core/fields.py,
which holds the one rule per row kind (`fields.ref(name).get(row)`; `.expr()` is the same over a table).

Not here: writing fields, or the rule itself (fields.py).
"""

from __future__ import annotations

from typing import Any

from dsforge.pipelines.core import fields


def prompt_of(row: dict[str, Any]) -> str:
    """The request a generator answers: a conversation's first user turn (the stages here answer only that),
    else the row's prompt (pipelines/core/fields.py), else its text (a document)."""
    if row.get("kind") == "conversation" and row.get("messages"):
        return next((m["content"] for m in row["messages"] if m["role"] == "user"), "")
    return fields.PROMPT.get(row) or row.get("text") or ""


def text_of(row: dict[str, Any], field: str) -> str:
    """A row's field as text, "" when null: `fields.ref(field).get(row)` (pipelines/core/fields.py has the rule)."""
    return fields.ref(field).get(row) or ""
