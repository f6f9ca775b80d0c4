"""The labels file: what people said about rows, one Parquet file beside the run's outputs.

    RUN_DIR/labels.parquet    id, step, annotator, label (accept | reject | a | b | tie | both-bad | null), score,
                              note, updated  (a/b/tie/both-bad: a preference pair's A = chosen_response, B =
                              rejected_response is better, both are as good, neither is usable)

One row per (id, annotator): a new label from the same annotator replaces the old one, another
annotator's label sits beside it (agreement needs both). The run's own files are never written.

Writes are read-modify-write under an exclusive lock on RUN_DIR/labels.parquet.lock (fcntl, so it
holds across threads of one server and across several servers or processes on the same run) and end
with an atomic rename, so a reader never sees half a file and concurrent writers never lose a label.
Human labels are small (thousands of rows), so rewriting the file per label costs milliseconds.

Not here: reading the labels in a recipe (stage.py) or agreement figures (pipelines/stages/inspect/annotators.py).
"""

from __future__ import annotations

import fcntl
import math
import os
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import polars as pl

LABELS_FILE = "labels.parquet"
LABELS = ("accept", "reject", "a", "b", "tie", "both-bad")  # the last four: preference pairs (A = chosen, B = rejected)
SCORES = (1.0, 5.0)  # the page's score field (index.html: min 1, max 5)
SCHEMA = pl.Schema({"id": pl.String, "step": pl.String, "annotator": pl.String, "label": pl.String,
                    "score": pl.Float64, "note": pl.String, "updated": pl.String})


class LabelError(ValueError):
    """A label that cannot be stored (no annotator, an unknown label, a score that is not a number)."""


def labels_path(run_or_file: str | Path) -> Path:
    """The labels file of a run folder, or the file itself when given one."""
    p = Path(run_or_file).expanduser()
    return p / LABELS_FILE if p.is_dir() else p


def read_labels(path: str | Path) -> pl.DataFrame:
    """The labels table (empty with the right columns when there is no file yet); a clear error if it is not one."""
    p = labels_path(path)
    if not p.exists():
        return SCHEMA.to_frame()
    try:
        df = pl.read_parquet(p)
    except Exception as e:  # noqa: BLE001 - any reader error means the same to the user
        raise LabelError(f"{p}: not a readable labels Parquet file: {e}") from None
    missing = [c for c in ("id", "annotator") if c not in df.columns]
    if missing:
        raise LabelError(f"{p}: a labels file needs the columns id and annotator; missing {missing}")
    for c, t in SCHEMA.items():
        df = df.with_columns(pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c))
    return df.select(list(SCHEMA))


def check_label(annotator: str, label: str | None, score: Any, note: str | None) -> dict[str, Any]:
    annotator = (annotator or "").strip()
    if not annotator:
        raise LabelError("a label needs an annotator name")
    if label not in (None, "", *LABELS):
        raise LabelError(f"label must be one of {', '.join(LABELS)} (or empty), got {label!r}")
    if score in ("", None):
        score = None
    else:
        try:
            score = float(score)
        except (TypeError, ValueError):
            raise LabelError(f"score must be a number, got {score!r}") from None
        if not math.isfinite(score) or not SCORES[0] <= score <= SCORES[1]:
            raise LabelError(f"score must be a finite number from {SCORES[0]:g} to {SCORES[1]:g}, got {score!r}")
    return {"annotator": annotator, "label": label or None, "score": score, "note": (note or "").strip() or None}


class LabelStore:
    """Labels of one run. Safe to share between threads; several stores on one file are safe too."""

    def __init__(self, run_or_file: str | Path):
        self.path = labels_path(run_or_file)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()
        self._cache: tuple[float, pl.DataFrame] | None = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def table(self) -> pl.DataFrame:
        """The current labels (re-read only when the file changed)."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return SCHEMA.to_frame()
        if self._cache is None or self._cache[0] != mtime:
            self._cache = (mtime, read_labels(self.path))
        return self._cache[1]

    def save(self, row_id: str, step: str, annotator: str, label: str | None = None, score: Any = None,
             note: str | None = None) -> dict[str, Any]:
        """Store one annotator's label of a row, replacing their earlier one; all empty removes it."""
        if not row_id:
            raise LabelError("a label needs the row id")
        entry = {"id": str(row_id), "step": str(step or ""), **check_label(annotator, label, score, note),
                 "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        with self._locked():
            df = read_labels(self.path)
            df = df.filter(~((pl.col("id") == entry["id"]) & (pl.col("annotator") == entry["annotator"])))
            removed = entry["label"] is None and entry["score"] is None and entry["note"] is None
            if not removed:
                df = pl.concat([df, pl.DataFrame([entry], schema=SCHEMA)])
            self._write(df)
        return {**entry, "removed": removed}

    def _write(self, df: pl.DataFrame) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        df.write_parquet(tmp)
        os.replace(tmp, self.path)

    def for_row(self, row_id: str) -> list[dict[str, Any]]:
        return self.table().filter(pl.col("id") == row_id).sort("annotator").to_dicts()

    def annotators(self) -> list[str]:
        return sorted(self.table()["annotator"].unique().to_list())

    def id_sets(self, annotator: str = "") -> dict[str, set[str]]:
        """Row ids per label filter of the row list: accept, reject, scored, noted, labelled."""
        t = self.table()
        if annotator:
            t = t.filter(pl.col("annotator") == annotator)
        ids = lambda expr: set(t.filter(expr)["id"].to_list())  # noqa: E731
        return {"accept": ids(pl.col("label") == "accept"), "reject": ids(pl.col("label") == "reject"),
                "scored": ids(pl.col("score").is_not_null()), "noted": ids(pl.col("note").is_not_null()),
                "labelled": set(t["id"].to_list())}
