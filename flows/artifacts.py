"""Prefect artifacts built from what steps wrote: an `inspect` step's figures as a markdown artifact.

The stage itself never imports Prefect (only flows/ does); it leaves its figures in the step's stats.json
under `stage_stats`, and run_step in recipe_flow.py calls `publish_step_artifacts` after each step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from prefect.artifacts import create_markdown_artifact


def publish_step_artifacts(step_dir: Path, stats: dict) -> str | None:
    """Publish an inspect step's summary; returns the artifact key (None for other stages)."""
    if stats.get("stage") != "inspect":
        return None
    figures = stats.get("stage_stats")
    if not figures and (step_dir / "stats.json").exists():
        figures = json.loads((step_dir / "stats.json").read_text()).get("stage_stats")
    if not figures or "counts" not in figures:
        return None
    from dsforge.pipelines.inspect.report import summary_markdown

    markdown = summary_markdown(figures, step=stats.get("step"))
    markdown += f"\nFull report: `{step_dir / 'report.html'}`\n"
    # artifact keys: lowercase letters, digits and dashes only
    key = re.sub(r"[^a-z0-9-]+", "-", f"dsforge-inspect-{stats.get('step', 'inspect')}".lower()).strip("-")
    create_markdown_artifact(key=key, markdown=markdown,
                             description=f"dsforge inspect: {figures['counts']['rows']:,} rows at step {stats.get('step')}")
    return key
