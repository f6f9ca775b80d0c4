"""The review page's HTTP layer: a FastAPI app over one run folder (run_data.py) and its labels (labels.py).

    GET  /                    the page (static/index.html; its JS and CSS are package files, no CDN)
    GET  /api/run             steps with rows in/kept/rejected, rejects by reason, guideline, annotators
    GET  /api/facets          sources, kinds, reasons and columns of one step's kept or rejected rows
    GET  /api/rows            one page of rows matching the filters (or a seeded random sample of them)
    GET  /api/row             one whole row, the same id in the previous step, what changed, its labels
    POST /api/labels          store one annotator's accept/reject/score/note for a row
    GET  /api/labels          every label and the annotators' agreement

Endpoints are plain (sync) functions: Starlette runs them in its thread pool, so a slow scan does not
block other requests, and the label store's lock serialises writes. It serves 127.0.0.1 only (cli.py),
answers only its own Host, refuses cross-origin writes and caps bodies (guard.py); every field of a label
is checked, and the row must exist in the step.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import polars as pl
from fastapi import FastAPI, HTTPException, Query as Param
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator

from dsforge.pipelines.stages.inspect.annotators import label_agreement
from dsforge.pipelines.apps.review import guard as guards
from dsforge.pipelines.stages.labels import LabelError, LabelStore, check_label
from dsforge.pipelines.apps.review.run_data import Query, ReviewError, RunData

STATIC = files("dsforge.pipelines.apps.review") / "static"
STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css", "guidelines.json": "application/json"}


MAX_NOTE, MAX_NAME, MAX_ID = 5000, 100, 1000  # characters
MAX_OFFSET = 10**9


class LabelIn(BaseModel):
    """One label as posted; booleans are not scores and every text is capped and valid Unicode."""

    model_config = ConfigDict(extra="forbid")
    id: str
    step: str = ""
    annotator: str
    label: str | None = None
    score: StrictFloat | StrictInt | str | None = Field(None, union_mode="left_to_right")
    note: str | None = None

    @field_validator("id", "step", "annotator", "label", "score", "note", mode="before")
    @classmethod
    def _text(cls, value, info):
        if info.field_name == "score" and not isinstance(value, str):
            if isinstance(value, bool):
                raise ValueError("score must be a number, not true/false")
            return value
        limit = {"note": MAX_NOTE, "annotator": MAX_NAME, "score": 32}.get(info.field_name, MAX_ID)
        return guards.valid_text(info.field_name, value, limit, required=info.field_name == "id")


def create_app(run_dir: str | Path, guideline: str = "", labels_file: str | Path | None = None,
               port: int | None = None) -> FastAPI:
    """The app for one run; `guideline` is the annotation guideline text shown beside each row; `port`:
    the one it listens on (only that Host is answered; None: the loopback names on any port)."""
    data = RunData(run_dir)
    store = LabelStore(labels_file or data.run_dir)
    app = FastAPI(title="dsforge review", docs_url=None, redoc_url=None, openapi_url=None)
    guards.install(app, guards.allowed_hosts(port))

    def guard(fn, *args, **kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ReviewError, LabelError) as e:
            raise HTTPException(status_code=400, detail=str(e)) from None

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/favicon.ico")
    def favicon() -> HTMLResponse:
        return HTMLResponse(status_code=204)

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        if name not in STATIC_FILES:
            raise HTTPException(status_code=404, detail=f"no file {name}")
        return FileResponse(str(STATIC / name), media_type=STATIC_FILES[name])

    @app.get("/api/run")
    def run() -> dict[str, Any]:
        return {**data.summary(), "rejects": data.rejects_by_reason(), "guideline": guideline,
                "labels_file": str(store.path), "annotators": store.annotators()}

    @app.get("/api/facets")
    def facets(step: str, which: str = "kept") -> dict[str, Any]:
        return guard(data.facets, step, which)

    @app.get("/api/rows")
    def rows(step: str, which: str = "kept", q: str = "", source: str = "", reason: str = "", kind: str = "",
             column: str = "", op: str = "=", value: str = "", label: str = "", annotator: str = "",
             offset: int = Param(0, ge=0, le=MAX_OFFSET), limit: int = Param(25, ge=1, le=1000),
             sample: int = Param(0, ge=0, le=MAX_OFFSET), seed: int = Param(0, ge=0, le=2**63 - 1)) -> dict[str, Any]:
        query = Query(step=step, which=which, q=q, source=source, reason=reason, kind=kind, column=column, op=op,
                      value=value, label=label, annotator=annotator, offset=offset, limit=limit, sample=sample,
                      seed=seed, label_ids=store.id_sets(annotator) if label else {})
        page = guard(data.rows, query)
        labelled = store.table()
        ids = [r["id"] for r in page["rows"]]
        mine = labelled.filter(labelled["id"].is_in(ids)).to_dicts() if ids else []
        for r in page["rows"]:
            r["labels"] = [{k: m[k] for k in ("annotator", "label", "score")} for m in mine if m["id"] == r["id"]]
        return page

    @app.get("/api/row")
    def row(step: str, id: str, which: str = "kept") -> dict[str, Any]:  # noqa: A002 - the row's id
        out = guard(data.row, step, id, which)
        out["labels"] = store.for_row(id)
        return out

    def row_exists(step: str, row_id: str) -> None:
        if not step:
            raise ReviewError("a label needs the step its row is in")
        for which in ("kept", "rejected"):
            lf = data.scan(step, which)
            if lf is not None and lf.filter(pl.col("id") == row_id).select(pl.len()).collect().item():
                return
        raise ReviewError(f"no row {row_id!r} in step {step}")

    @app.post("/api/labels")
    def save_label(body: LabelIn) -> dict[str, Any]:
        guard(check_label, body.annotator, body.label, body.score, body.note)
        guard(row_exists, body.step, body.id)
        return guard(store.save, body.id, body.step, body.annotator, body.label, body.score, body.note)

    @app.get("/api/labels")
    def labels() -> dict[str, Any]:
        table = store.table()
        return {"labels_file": str(store.path), "labels": table.sort("updated", descending=True).head(500).to_dicts(),
                "agreement": label_agreement(table)}

    return app
