"""The review page's HTTP layer: a FastAPI app over one run folder (run_data.py) and its labels (labels.py).

    GET  /                    the page (static/index.html; its JS and CSS are package files, no CDN)
    GET  /api/run             steps with rows in/kept/rejected, rejects by reason, guideline, annotators
    GET  /api/facets          sources, kinds, reasons and columns of one step's kept or rejected rows
    GET  /api/rows            one page of rows matching the filters (or a seeded random sample of them)
    GET  /api/row             one whole row, the same id in the previous step, what changed, its labels
    POST /api/labels          store one annotator's accept/reject/score/note for a row
    GET  /api/labels          every label and the annotators' agreement

Endpoints are plain (sync) functions: Starlette runs them in its thread pool, so a slow scan does not
block other requests, and the label store's lock serialises writes. It serves 127.0.0.1 only (cli.py).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from dsforge.pipelines.inspect.annotators import label_agreement
from dsforge.pipelines.review.labels import LabelError, LabelStore
from dsforge.pipelines.review.run_data import Query, ReviewError, RunData

STATIC = files("dsforge.pipelines.review") / "static"
STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css", "guidelines.json": "application/json"}


class LabelIn(BaseModel):
    id: str
    step: str = ""
    annotator: str
    label: str | None = None
    score: float | str | None = None
    note: str | None = None


def create_app(run_dir: str | Path, guideline: str = "", labels_file: str | Path | None = None) -> FastAPI:
    """The app for one run; `guideline` is the annotation guideline text shown beside each row."""
    data = RunData(run_dir)
    store = LabelStore(labels_file or data.run_dir)
    app = FastAPI(title="dsforge review", docs_url=None, redoc_url=None, openapi_url=None)

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
             offset: int = 0, limit: int = 25, sample: int = 0, seed: int = 0) -> dict[str, Any]:
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

    @app.post("/api/labels")
    def save_label(body: LabelIn) -> dict[str, Any]:
        return guard(store.save, body.id, body.step, body.annotator, body.label, body.score, body.note)

    @app.get("/api/labels")
    def labels() -> dict[str, Any]:
        table = store.table()
        return {"labels_file": str(store.path), "labels": table.sort("updated", descending=True).head(500).to_dicts(),
                "agreement": label_agreement(table)}

    return app
