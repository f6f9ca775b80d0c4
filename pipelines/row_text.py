"""A row's text by logical field, for code that works on one row (a dict) at a time.

`records.field_text` is the same view as a Polars expression over a whole table.

Not here: writing fields, or metadata access (`records.meta`).
"""

from __future__ import annotations

from typing import Any

from dsforge.pipelines.stage import ConfigError


def prompt_of(row: dict[str, Any]) -> str:
    """The user-facing prompt of an input row (instruction + input, first user turn, or the document text)."""
    if row.get("kind") == "conversation" and row.get("messages"):
        return next((m["content"] for m in row["messages"] if m["role"] == "user"), "")
    if row.get("instruction"):
        return row["instruction"] if not row.get("input") else f"{row['instruction']}\n\n{row['input']}"
    return row.get("text") or ""


def text_of(row: dict[str, Any], field: str) -> str:
    """A row's text by logical field, like records.field_text but for one dict."""
    if field == "prompt":
        return prompt_of(row)
    if field == "answer":
        if row.get("kind") == "preference":
            return row.get("chosen") or ""
        if row.get("kind") == "conversation":
            return "\n\n".join(m["content"] for m in row.get("messages") or [] if m["role"] == "assistant")
        return row.get("response") or ""
    if field in ("text", "instruction", "input", "response", "chosen", "rejected"):
        return row.get(field) or ""
    raise ConfigError(f"unknown text field {field!r}: use prompt, answer, text, instruction, input or response")
