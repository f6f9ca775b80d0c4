"""Which rows each ablation variant trains on, read from a finished run's step folders.

A variant spec is a short string (`--variants` on the command line, `variants:` in a recipe step):

    STEP  or  step:STEP       the kept rows of one step ("what did quality-filter buy?": ingest vs quality-filter)
    ladder  or  ladder:STEP   one variant per rung of a ladder step (the data-scaling curve)
    mix                       one variant per `mix` step of the run (compare mixes)
    without:SOURCE[@STEP]     the rows of STEP (default: the last step with rows) whose `source` is not SOURCE;
                              `without:generated` drops every row a generating stage created (the synthetic share)
    only:SOURCE[@STEP]        the rows of STEP whose `source` is SOURCE (or `only:generated`)

The held-out evaluation rows are never trained on: `exclude_eval` removes them from every variant by id and by
prompt text, so a variant built from an earlier step cannot see them either.

Not here: tokenising and training (train.py), the table and the curve (results.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dsforge.pipelines.core import shards
from dsforge.pipelines.core.stage import ConfigError

CONVERSATION_KINDS = ("instruction", "conversation", "scored", "preference")


@dataclass(frozen=True)
class Step:
    """One finished step of the run: its name (`quality-filter`), folder and stage."""

    name: str
    dir: Path
    stage: str
    stats: dict

    @property
    def rows(self) -> int:
        return int(self.stats.get("kept") or 0)


@dataclass
class Variant:
    """A named set of rows to train on; `group` ties the rungs of one ladder (the scaling curve)."""

    name: str
    rows: pl.DataFrame
    group: str | None = None
    order: int = 0


def run_steps(run_dir: Path, before: str | None = None) -> list[Step]:
    """The run's finished steps in order (only those before the step named `before`, when given)."""
    steps = []
    for stats_file in sorted((run_dir / "stages").glob("*/stats.json")):
        stats = json.loads(stats_file.read_text())
        name = str(stats.get("step") or stats_file.parent.name.split("-", 1)[-1])
        if before is not None and name == before:
            break
        steps.append(Step(name, stats_file.parent, str(stats.get("stage", "")), stats))
    if not steps:
        raise ConfigError(f"{run_dir}: no finished steps (stages/*/stats.json); run `dsforge run RECIPE` first")
    return steps


def find_step(steps: list[Step], name: str) -> Step:
    for s in steps:
        if name in (s.name, s.dir.name):
            return s
    names = ", ".join(s.name for s in steps)
    raise ConfigError(f"no step {name!r} in this run (steps: {names})")


def last_step_with_rows(steps: list[Step]) -> Step:
    for s in reversed(steps):
        if shards.parts(s.dir) and s.stage not in ("ablate",):
            return s
    raise ConfigError("no step of this run kept any rows")


def step_rows(step: Step) -> pl.DataFrame:
    """A step's kept rows that hold a conversation (documents have none to train a chat model on)."""
    df = shards.read_table(step.dir)
    if "kind" in df.columns:
        df = df.filter(pl.col("kind").is_in(CONVERSATION_KINDS))
    return df


def generated_mask(df: pl.DataFrame, steps: list[Step], creates_rows: set[str]) -> pl.Series:
    """True for rows a generating stage created: their lineage has an entry of a step whose stage creates rows."""
    makers = {s.stage for s in steps if s.stage in creates_rows} | {s.name for s in steps if s.stage in creates_rows}
    if "lineage" not in df.columns or not makers:
        return pl.Series([False] * len(df))
    return df["lineage"].list.eval(pl.element().struct.field("stage").is_in(list(makers))).list.any().fill_null(False)


def resolve(specs: list[str], steps: list[Step], creates_rows: set[str]) -> list[Variant]:
    """Variants for the given specs, or the default: a ladder's rungs if the run has one, else first vs last step."""
    if not specs:
        ladders = [s for s in steps if s.stage == "ladder"]
        specs = [f"ladder:{ladders[-1].name}"] if ladders else list(dict.fromkeys([steps[0].name,
                                                                                  last_step_with_rows(steps).name]))
    out: list[Variant] = []
    for i, spec in enumerate(specs):
        out.extend(_one(spec, steps, creates_rows, i))
    names = [v.name for v in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"variants {names}: each variant must be named once")
    return out


def _one(spec: str, steps: list[Step], creates_rows: set[str], order: int) -> list[Variant]:
    kind, _, arg = spec.partition(":")
    if not arg and kind not in ("ladder", "mix"):
        kind, arg = "step", spec
    if kind == "step":
        step = find_step(steps, arg)
        return [Variant(step.name, step_rows(step), order=order)]
    if kind == "ladder":
        ladders = [s for s in steps if s.stage == "ladder"]
        if not ladders:
            raise ConfigError("variant 'ladder': this run has no ladder step (add {stage: ladder} to the recipe)")
        step = find_step(steps, arg) if arg else ladders[-1]
        return ladder_rungs(step, order)
    if kind == "mix":
        mixes = [s for s in steps if s.stage == "mix"]
        if not mixes:
            raise ConfigError("variant 'mix': this run has no mix step")
        return [Variant(s.name, step_rows(s), group="mix", order=order) for s in mixes]
    if kind in ("without", "only"):
        source, _, at = arg.partition("@")
        step = find_step(steps, at) if at else last_step_with_rows(steps)
        df = step_rows(step)
        hit = generated_mask(df, steps, creates_rows) if source == "generated" else (df["source"] == source)
        keep = ~hit if kind == "without" else hit
        return [Variant(f"{kind}:{source}", df.filter(keep), order=order)]
    raise ConfigError(f"variant {spec!r}: use STEP, ladder[:STEP], mix, without:SOURCE[@STEP] or only:SOURCE[@STEP]")


def ladder_rungs(step: Step, order: int) -> list[Variant]:
    """One variant per rung of a ladder step, smallest first (rows whose `ladder` list holds the rung)."""
    df = step_rows(step)
    column = (step.stats.get("config") or {}).get("column", "ladder")
    if column not in df.columns:
        raise ConfigError(f"ladder step {step.name!r} has no {column!r} column")
    rungs = df[column].explode().drop_nulls().unique().to_list()
    sized = sorted(((int(df[column].list.contains(r).sum()), r) for r in rungs))
    return [Variant(r, df.filter(pl.col(column).list.contains(r)), group=step.name, order=order + k / 100)
            for k, (_, r) in enumerate(sized)]


def prompt_key(df: pl.DataFrame) -> pl.Series:
    """A row's prompt text, for keeping evaluation rows out of training even when ids differ between steps."""
    if "instruction" not in df.columns:
        return pl.Series([None] * len(df), dtype=pl.String)
    inp = df["input"].fill_null("") if "input" in df.columns else pl.Series([""] * len(df))
    return (df["instruction"].fill_null("") + "\n" + inp).str.strip_chars().str.to_lowercase()


def exclude_eval(variants: list[Variant], eval_rows: pl.DataFrame) -> list[Variant]:
    """Remove the evaluation rows (by id and by prompt) from every variant."""
    ids = set(eval_rows["id"].to_list()) if "id" in eval_rows.columns else set()
    prompts = {p for p in prompt_key(eval_rows).to_list() if p}
    out = []
    for v in variants:
        hit = v.rows["id"].is_in(list(ids)) | prompt_key(v.rows).is_in(list(prompts)).fill_null(False)
        out.append(Variant(v.name, v.rows.filter(~hit), v.group, v.order))
    return out


def held_out(df: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """A seeded sample of n rows (by a hash of the id, so the same rows whatever the order) for evaluation."""
    if len(df) <= n:
        raise ConfigError(f"only {len(df)} rows to train and evaluate on; give an eval file (`eval:`) or more rows")
    h = df["id"].hash(seed=seed)
    return df.with_columns(h.alias("__h")).sort("__h").head(n).drop("__h")
