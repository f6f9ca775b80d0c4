"""Prefect artifacts built from what steps wrote: an `inspect` step's figures as a markdown artifact plus a link
to its report, and at the end of a run links to its reports, rejects table and dataset, a table of per-step
counts and a table of rejects by reason. Every key starts with `dsforge-<recipe>-`, so two recipes never
share an artifact's history (Prefect keeps one versioned artifact per key).

The stage itself never imports Prefect (only flows/ does); it leaves its figures in the step's stats.json
under `stage_stats`, and run_step in recipe_flow.py calls `publish_step_artifacts` after each step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact


def slug(text: str) -> str:
    """An artifact key part: lowercase letters, digits and dashes only (Prefect's rule)."""
    return re.sub(r"[^a-z0-9-]+", "-", str(text).lower()).strip("-") or "run"


def publish_step_artifacts(step_dir: Path, stats: dict, recipe: str = "run") -> str | None:
    """Publish an inspect step's summary and a link to its report; returns the summary's key (None for other
    stages)."""
    if stats.get("stage") != "inspect":
        return None
    figures = stats.get("stage_stats")
    if not figures and (step_dir / "stats.json").exists():
        figures = json.loads((step_dir / "stats.json").read_text()).get("stage_stats")
    if not figures or "counts" not in figures:
        return None
    from dsforge.pipelines.stages.inspect.report import summary_markdown

    markdown = summary_markdown(figures, step=stats.get("step"))
    key = f"dsforge-{slug(recipe)}-inspect-{slug(stats.get('step', 'inspect'))}"
    create_markdown_artifact(key=key, markdown=markdown,
                             description=f"dsforge inspect: {figures['counts']['rows']:,} rows at step {stats.get('step')}")
    report = step_dir / "report.html"
    if report.exists():
        create_link_artifact(key=f"{key}-report", link=report.resolve().as_uri(), link_text=str(report.resolve()),
                             description=f"the full inspection report of step {stats.get('step')}")
    return key


def publish_run_artifacts(summary: dict) -> list[str]:
    """Links (report, rejects table, dataset) and a rejects-by-reason table for a finished run; returns keys."""
    run_dir = Path(summary["run_dir"])
    name = slug(summary.get("recipe", "run"))
    links = [(f"report-{i}", p, "inspection report") for i, p in enumerate(summary.get("reports") or [])]
    links += [("rejects", str(run_dir / "rejected.parquet"), "every dropped row with stage, reason and detail")]
    if summary.get("dataset"):
        links.append(("dataset", str(summary["dataset"]), "the dataset folder (data/, hf/, trainers/)"))
    keys = []
    for part, target, what in links:
        key = f"dsforge-{name}-{part}"
        create_link_artifact(key=key, link=Path(target).resolve().as_uri(), link_text=str(Path(target).resolve()),
                             description=what)
        keys.append(key)
    steps = [{"step": s.get("step"), "stage": s.get("stage"), "rows in": s.get("rows_in", 0), "kept": s.get("kept", 0),
              "rejected": s.get("rejected", 0), "seconds": s.get("seconds", 0),
              "reused": bool(s.get("reused_from"))} for s in summary.get("steps", [])]
    create_table_artifact(key=f"dsforge-{name}-steps", table=steps or [{"step": "(none)"}],
                          description=f"rows in / kept / rejected per step, run {run_dir.name} ({summary.get('status')})")
    keys.append(f"dsforge-{name}-steps")
    reasons: dict[str, int] = {}
    for step in summary.get("steps", []):
        for reason, n in (step.get("rejected_by_reason") or {}).items():
            reasons[reason] = reasons.get(reason, 0) + n
    rows = [{"reason": r, "rows": n} for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])]
    key = f"dsforge-{name}-rejects-by-reason"
    create_table_artifact(key=key, table=rows or [{"reason": "(none)", "rows": 0}],
                          description=f"rejected rows by reason, run {run_dir.name}")
    return [*keys, key]


def publish_ablation_artifact(run_name: str, figures: dict) -> str:
    """The ablation's table (variant, rows, tokens, train/eval loss, spread, metric) as a table artifact."""
    slug = re.sub(r"[^a-z0-9-]+", "-", f"dsforge-ablate-{run_name}".lower()).strip("-")
    rows = [{k: v.get(k) for k in ("variant", "rows", "tokens", "train_loss", "eval_loss", "eval_loss_sd", "metric")}
            for v in figures.get("variants", [])]
    create_table_artifact(key=slug[:100].strip("-"), table=rows or [{"variant": "(none)"}],
                          description=f"ablation of {run_name}: eval loss per variant (lower is better)")
    return slug
