"""What one run is while it runs: `RunPlan` (the recipe, the run folder, the executor) and `StepRun` (one step
of it), so that the runner, step_modes.py and llm/fanout.py pass one typed object, not loose arguments.

Not here: creating the run folder or executing steps (runner.py); cutting a step into tasks (step_modes.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dsforge.pipelines.core import part_records
from dsforge.pipelines.core.executors import Executor, ExecutorSpec
from dsforge.pipelines.core.recipe import Recipe, Step
from dsforge.pipelines.core.stage import Stage, StageContext
from dsforge.pipelines.core.worker import Task

SHARD_ROWS = 50_000


@dataclass
class RunPlan:
    recipe: Recipe
    run_dir: Path
    out_root: Path
    sample: int | None = None
    strict: bool = False
    force: bool = False
    progress: bool | None = None
    executor_spec: ExecutorSpec = field(default_factory=ExecutorSpec)
    shard_rows: int = SHARD_ROWS
    _executor: Executor | None = field(default=None, repr=False, compare=False)

    def step_dir(self, i: int) -> Path:
        return self.run_dir / "stages" / f"{i:02d}-{self.recipe.steps[i].id}"

    @property
    def executor(self) -> Executor:
        """Opened on first use (a run whose steps are all reused starts no pool)."""
        if self._executor is None:
            self._executor = self.executor_spec.open()
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None


@dataclass(frozen=True)
class StepRun:
    """Step `index` of a run being computed: its fingerprint, the context its stage gets, its input parts."""

    plan: RunPlan
    index: int
    fingerprint: str
    ctx: StageContext
    src: list[Path]  # the previous step's verified parts (none for an ingest step)

    @property
    def step(self) -> Step:
        return self.plan.recipe.steps[self.index]

    @property
    def stage(self) -> Stage:
        return self.step.stage

    @property
    def out(self) -> Path:
        return self.plan.step_dir(self.index)

    @property
    def executor(self) -> Executor:
        return self.plan.executor

    def with_ctx(self, ctx: StageContext) -> StepRun:
        return dataclasses.replace(self, ctx=ctx)

    def resources(self, actors: bool | None = None) -> dict[str, Any]:
        """What each worker of the step needs: the stage's own resources, the recipe's on top."""
        holds = self.stage.holds_model if actors is None else actors
        return {"actors": holds, **self.stage.resources(), **(self.step.resources or {})}

    def task(self, phase: str, part: int, src: Path | None = None, arg: Any = None) -> Task:
        """A picklable description of one task: the stage (by class), its config and context, the paths."""
        step = self.step
        src_rows = (_recorded_rows(str(self.plan.step_dir(self.index - 1))).get(str(src))
                    if src and self.index > 0 else None)
        return Task(step=step.id, key=self.fingerprint, stage=step.name, stage_cls=type(step.stage),
                    config=step.stage.config, ctx=self.ctx, phase=phase, part=part, step_dir=str(self.out),
                    src=str(src) if src else None, arg=arg, src_rows=src_rows)


def _recorded_rows(step_dir: str) -> dict[str, int]:
    """The rows each kept part of a finished step recorded (read once per step and stats.json version)."""
    try:
        stamp = (Path(step_dir) / "stats.json").stat().st_mtime_ns
    except OSError:
        return {}
    return _recorded_rows_at(step_dir, stamp)


@lru_cache(maxsize=4)
def _recorded_rows_at(step_dir: str, stamp: int) -> dict[str, int]:
    return part_records.expected_rows(Path(step_dir))
