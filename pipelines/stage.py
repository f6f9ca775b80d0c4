"""The stage interface: a named unit with a validated config and a function from records to (kept, rejected).

A stage subclasses `Stage`, sets `name`, a pydantic `Config` (unknown keys are an error) and implements
`process(df, ctx)`, returning a `StageResult`. That is the whole contract:

    class DropEmpty(Stage):
        name = "drop-empty"
        class Config(StageConfig):
            field: str = "response"
        def process(self, df, ctx):
            empty = pl.col(self.config.field).str.strip_chars().fill_null("") == ""
            return StageResult(kept=df.filter(~empty),
                               rejected=rejects(df.filter(empty), self.name, "drop-empty:empty"))

Stages are plain Python: they know nothing of Prefect, of run directories or of other stages. The
runner (runner.py) hands them a table and writes what they return. A stage that works row by row sets
`batch_size`; the runner then feeds it batches with a progress bar and stage code stays simple.

Not here: the list of stages (registry.py) and how recipes name them (recipe.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from dsforge.pipelines import records

log = logging.getLogger("dsforge")


class StageConfig(BaseModel):
    """Base for stage configs: typed, validated, and strict about unknown keys (catches typos early)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A recipe or command line names an unknown stage or gives it a bad parameter."""


@dataclass
class StageContext:
    """What a stage may know about where it runs. Passed explicitly; there is no global context.

    work_dir: a folder of this stage's own for caches and partial results (kept across resumed runs
    only through the runner's fingerprinting). base_dir: where relative paths in the config resolve.
    """

    work_dir: Path
    base_dir: Path = field(default_factory=Path.cwd)
    seed: int = 0
    strict: bool = False
    sample: int | None = None
    progress: bool | None = None  # None: show bars only on a terminal
    extras: dict[str, Any] = field(default_factory=dict)

    def resolve(self, path: str | Path) -> Path:
        """Resolve a user-given path: absolute, `data:NAME` (shipped data), or relative to base_dir."""
        from dsforge.pipelines.readers import resolve_path

        return resolve_path(path, self.base_dir)


@dataclass
class StageResult:
    kept: pl.DataFrame
    rejected: pl.DataFrame | None = None
    stats: dict[str, Any] = field(default_factory=dict)  # stage-specific figures for stats.json


class Stage:
    name: ClassVar[str] = ""
    Config: ClassVar[type[StageConfig]] = StageConfig
    # Bump when the stage's behaviour changes, so resumed runs recompute it.
    version: ClassVar[str] = "1"
    # Row-wise stages set a batch size; None means the stage needs the whole table (e.g. dedup).
    batch_size: ClassVar[int | None] = None
    # Stages that create rows from files (ingest) ignore their input table.
    reads_input_table: ClassVar[bool] = True

    def __init__(self, config: StageConfig | dict[str, Any] | None = None):
        self.config = self.parse_config(config or {}) if not isinstance(config, StageConfig) else config

    @classmethod
    def parse_config(cls, params: dict[str, Any]) -> StageConfig:
        try:
            return cls.Config(**params)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(config)'}: {_explain(err)}" for err in e.errors()
            )
            raise ConfigError(
                f"stage {cls.name!r}: {problems}. Run `dsforge stages {cls.name}` to see its parameters."
            ) from None

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        raise NotImplementedError

    def reject(self, df: pl.DataFrame, reason: str | pl.Expr, detail: str | pl.Expr = "") -> pl.DataFrame:
        """Rejected rows for this stage; reasons are prefixed with the stage name when given as text."""
        if isinstance(reason, str) and not reason.startswith(f"{self.name}:"):
            reason = f"{self.name}:{reason}"
        return records.rejects(df, self.name, reason, detail)

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Parameters with type, default and help text, for `dsforge stages`."""
        out = []
        for pname, f in cls.Config.model_fields.items():
            default = None if f.is_required() else f.get_default(call_default_factory=True)
            out.append(
                {
                    "name": pname,
                    "type": _type_name(f.annotation),
                    "default": default,
                    "required": f.is_required(),
                    "help": f.description or "",
                }
            )
        return out


def _explain(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown parameter"
    if err["type"] == "missing":
        return "required parameter is missing"
    return f"{err['msg']} (got {err.get('input')!r})"


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    return name if name and not getattr(annotation, "__args__", None) else str(annotation).replace("typing.", "")
