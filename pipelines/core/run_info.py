"""What a stage may know of the run it is part of: the recipe and the steps finished before it.

Only `publish` and `save` need it (the dataset card lists the recipe, every earlier step with its counts
and rejection reasons, and the inspect reports). The runner builds it from the run directory it owns
(`RunInfo.of_run_dir`) and hands it over in `StageContext.extras["run"]`; stages read it with `run_of(ctx)`,
so no stage reads the run folder's layout or walks up from its `work_dir`. Outside a run (a stage called
from Python, `dsforge stage`) there is none and the card says so.

Not here: writing the run directory (runner.py, shards.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PART_FOLDERS = ("kept", "rejected", "parts")  # a step folder's row parts; everything else there is the step's own


@dataclass(frozen=True)
class StepRecord:
    """One finished step: its stats.json (stage, step, config, rows_in, kept, rejected, rejected_by_reason,
    stage_stats, ...) and the files it wrote besides its row parts (reports, plots)."""

    stats: dict[str, Any]
    files: tuple[Path, ...] = ()
    dir: Path | None = None  # the step folder (its rejected/ parts are what a before/after view counts)

    @property
    def stage(self) -> str:
        return str(self.stats.get("stage", ""))


@dataclass(frozen=True)
class RunInfo:
    """The run a step belongs to: its folder name, the recipe as run, and the steps finished before it."""

    name: str
    recipe: dict[str, Any] = field(default_factory=dict)
    steps: tuple[StepRecord, ...] = ()

    @property
    def recipe_name(self) -> str | None:
        """The recipe's own name (the run folder's name adds the time and -sampleN)."""
        return self.recipe.get("name")

    @classmethod
    def of_run_dir(cls, run_dir: Path) -> "RunInfo":
        """For the runner: read runs/<run>/recipe.yaml and every finished step (stages/*/stats.json)."""
        recipe_file = run_dir / "recipe.yaml"
        recipe = (yaml.safe_load(recipe_file.read_text()) or {}) if recipe_file.exists() else {}
        steps = []
        for stats_file in sorted((run_dir / "stages").glob("*/stats.json")):
            try:
                stats = json.loads(stats_file.read_text())
            except ValueError:
                continue
            own = sorted(f for f in stats_file.parent.iterdir()
                         if f.is_file() and f.name != "stats.json" and f.name not in PART_FOLDERS)
            steps.append(StepRecord(stats, tuple(own), stats_file.parent))
        return cls(run_dir.name, recipe, tuple(steps))


def run_of(ctx: Any) -> RunInfo | None:
    """The RunInfo the runner put in the stage's context, or None outside a run."""
    run = ctx.extras.get("run")
    if run is None:
        return None
    if not isinstance(run, RunInfo):
        raise TypeError(f"StageContext.extras['run'] must be a RunInfo, got {type(run).__name__}")
    return run
