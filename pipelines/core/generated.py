"""Rows a generating stage builds: new rows with lineage naming their sources, and rejects with the raw text.

Every stage that creates rows (synthesis, augmentation) builds them here, so a generated row always has
`id`, `source`, `kind`, JSON `metadata` and a lineage entry `{stage, info}` appended to its parent's, and a
rejected generation always has `stage`, `reason` (`stage:problem`), `detail` and `raw` (the model's text).

Not here: reading a row's text by field (row_text.py) or asking a model (llm/task.py).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from dsforge.pipelines.core import records


def lineage_list(parent: list[dict[str, str]] | None, stage: str, info: dict[str, Any]) -> list[dict[str, str]]:
    """A row's lineage: its parent's entries (if derived from one row) plus this stage's entry."""
    entry = {"stage": stage, "info": json.dumps(info, sort_keys=True, ensure_ascii=False, default=str)}
    return [*(parent or []), entry]


def new_row(*, id: str, source: str, kind: str, stage: str, info: dict[str, Any],
            parent_lineage: list[dict[str, str]] | None = None, metadata: dict[str, Any] | None = None,
            **fields: Any) -> dict[str, Any]:
    row = {"id": id, "source": source, "kind": kind, **fields}
    row["metadata"] = json.dumps(metadata or {}, ensure_ascii=False, sort_keys=True, default=str)
    row["lineage"] = lineage_list(parent_lineage, stage, info)
    return row


def reject_row(row: dict[str, Any], stage: str, reason: str, detail: str, raw: str | None = None) -> dict[str, Any]:
    """A rejected generated row: whatever was parsed, plus stage, reason (`stage:problem`), detail and raw text."""
    if not reason.startswith(f"{stage}:"):
        reason = f"{stage}:{reason}"
    return {**row, "stage": stage, "reason": reason, "detail": detail, "raw": raw}


def rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return records.conform(records.from_rows(rows)) if rows else records.empty()


def rejects_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return records.empty_rejects()
    for r in rows:
        r.setdefault("raw", None)
        r.setdefault("id", "?")
    df = records.from_rows(rows)
    return records.conform(df.with_columns(pl.col(c).cast(pl.String) for c in ("stage", "reason", "detail", "raw")))


def input_rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    return list(df.iter_rows(named=True))


def row_meta(row: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(row.get("metadata") or "{}")
        return meta if isinstance(meta, dict) else {}
    except ValueError:
        return {}


def add_to_lineage(row: dict[str, Any], **info: Any) -> None:
    """Add keys to the info of a generated row's last lineage entry (e.g. the template of a second step)."""
    entry = json.loads(row["lineage"][-1]["info"])
    entry.update(info)
    row["lineage"][-1] = {**row["lineage"][-1], "info": json.dumps(entry, sort_keys=True, ensure_ascii=False,
                                                                   default=str)}
