"""The runner: executes a recipe's steps into a new, immutable run directory.

    runs/<recipe>-<time>[-sample<N>]/
      recipe.yaml            the recipe as run (stage params resolved)
      manifest.json          inputs: path, size, sha256, rows read/kept/rejected
      stages/00-ingest/      kept.parquet, rejected.parquet, stats.json (written last: the completion marker)
      stages/01-exact-dedup/ ...
      rejected.parquet       every stage's rejected rows, with stage, reason and detail
      dataset -> stages/NN-save/dataset    the final dataset (HF save_to_disk and Parquet)
      run.json               the summary: per step rows in, kept, rejected, seconds, reuse

Resume: each step has a fingerprint (stage, version, params, the previous step's fingerprint, and for
ingest the inputs' sha256). A finished step with the same fingerprint in any earlier run under the same
output root is reused (hard-linked, not recomputed). Batched steps also save each finished batch under
<out>/.partial/<fingerprint>/, so a crashed or interrupted run loses at most one batch.

`execute_step` is the unit of work both the plain loop (`run_recipe`) and the Prefect flow (flows/) call,
so the two paths cannot drift apart. Nothing here imports Prefect.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from dsforge.pipelines import records
from dsforge.pipelines.readers import file_fingerprint, resolve_path
from dsforge.pipelines.recipe import Recipe, Step
from dsforge.pipelines.stage import StageContext, StageResult

log = logging.getLogger("dsforge")
DEFAULT_OUT = Path("runs")


@dataclass
class RunPlan:
    recipe: Recipe
    run_dir: Path
    out_root: Path
    sample: int | None = None
    strict: bool = False
    force: bool = False
    progress: bool | None = None

    def step_dir(self, i: int) -> Path:
        return self.run_dir / "stages" / f"{i:02d}-{self.recipe.steps[i].id}"


@dataclass
class StepOutcome:
    index: int
    fingerprint: str
    stats: dict[str, Any] = field(default_factory=dict)


def plan_run(recipe: Recipe, out_root: str | Path | None = None, sample: int | None = None,
             strict: bool = False, force: bool = False, progress: bool | None = None) -> RunPlan:
    """Create a fresh run directory (never reusing an existing one) and write the recipe into it."""
    out_root = Path(out_root or recipe.output.get("dir") or DEFAULT_OUT).resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{recipe.name}-{stamp}" + (f"-sample{sample}" if sample else "")
    out_root.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        run_dir = out_root / (base if n == 0 else f"{base}-{n}")
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            continue
    (run_dir / "stages").mkdir()
    (run_dir / "recipe.yaml").write_text(yaml.safe_dump(recipe_as_dict(recipe), sort_keys=False, allow_unicode=True))
    return RunPlan(recipe, run_dir, out_root, sample, strict, force, progress)


def recipe_as_dict(recipe: Recipe) -> dict[str, Any]:
    steps = recipe.steps
    return {
        "name": recipe.name,
        "description": recipe.description,
        "seed": recipe.seed,
        "source_file": str(recipe.path) if recipe.path else None,
        "inputs": steps[0].stage.config.model_dump(mode="json")["inputs"] if steps and steps[0].name == "ingest" else [],
        "stages": [{"stage": s.name, "id": s.id, **s.stage.config.model_dump(mode="json")} for s in steps
                   if s.name != "ingest"],
    }


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def step_fingerprint(plan: RunPlan, i: int, prev_fp: str | None) -> str:
    step = plan.recipe.steps[i]
    parts: dict[str, Any] = {
        "stage": step.name,
        "version": step.stage.version,
        "config": step.stage.config.model_dump(mode="json"),
        "prev": prev_fp,
        "seed": plan.recipe.seed,
    }
    if not step.stage.reads_input_table:  # ingest: what is read, not just how
        parts["inputs"] = [
            file_fingerprint(resolve_path(spec.path, plan.recipe.base_dir))["sha256"]
            for spec in step.stage.config.inputs
        ]
        parts["sample"] = plan.sample
        parts["strict"] = plan.strict
    return _hash(parts)[:24]


# ---------------------------------------------------------------- one step


def execute_step(plan: RunPlan, i: int, prev_fp: str | None) -> StepOutcome:
    """Run (or reuse) step i: read the previous step's kept rows, run the stage, write kept/rejected/stats."""
    step = plan.recipe.steps[i]
    out = plan.step_dir(i)
    fp = step_fingerprint(plan, i, prev_fp)
    if not plan.force and (previous := _find_finished(plan.out_root, fp)) is not None:
        _link_tree(previous, out)
        stats = json.loads((out / "stats.json").read_text())
        stats.update(reused_from=str(previous), seconds=0.0)
        (out / "stats.json").write_text(json.dumps(stats, indent=2, default=str))
        log.info("%s: unchanged since %s, reused", step.id, previous)
        return StepOutcome(i, fp, stats)

    out.mkdir(parents=True, exist_ok=True)
    (plan.out_root / ".index").mkdir(exist_ok=True)
    if i == 0 or not step.stage.reads_input_table:
        table = records.empty()
    else:
        table = pl.read_parquet(plan.step_dir(i - 1) / "kept.parquet")
    ctx = StageContext(
        work_dir=out,
        base_dir=plan.recipe.base_dir,
        seed=plan.recipe.seed,
        strict=plan.strict,
        sample=plan.sample,
        progress=plan.progress,
    )
    started = time.perf_counter()
    result = _run_stage(step, table, ctx, plan.out_root / ".partial" / fp)
    seconds = time.perf_counter() - started

    kept = records.conform(result.kept)
    rejected = records.conform(result.rejected) if result.rejected is not None else records.empty_rejects()
    records.validate(kept, f"{step.id} output")
    _write_parquet(kept, out / "kept.parquet")
    _write_parquet(rejected, out / "rejected.parquet")
    by_reason = (
        dict(rejected.group_by("reason").len().sort("len", descending=True).iter_rows())
        if rejected.height else {}
    )
    stats = {
        "step": step.id,
        "stage": step.name,
        "index": i,
        "fingerprint": fp,
        "config": step.stage.config.model_dump(mode="json"),
        "rows_in": table.height if step.stage.reads_input_table else kept.height + rejected.height,
        "kept": kept.height,
        "rejected": rejected.height,
        "rejected_by_reason": by_reason,
        "seconds": round(seconds, 3),
        "reused_from": None,
        "stage_stats": result.stats,
    }
    _write_json(out / "stats.json", stats)  # last: marks the step finished
    _write_json(plan.out_root / ".index" / f"{fp}.json", {"dir": str(out)})
    shutil.rmtree(plan.out_root / ".partial" / fp, ignore_errors=True)
    return StepOutcome(i, fp, stats)


def _run_stage(step: Step, table: pl.DataFrame, ctx: StageContext, partial_dir: Path) -> StageResult:
    """Run a stage on the whole table, or batch by batch (saving each finished batch) when it asks for it."""
    size = step.stage.batch_size
    if not size or table.height <= size:
        return step.stage.process(table, ctx)
    from tqdm.auto import tqdm

    partial_dir.mkdir(parents=True, exist_ok=True)
    kept, rejected, stats = [], [], []
    n_batches = (table.height + size - 1) // size
    disable = None if ctx.progress is None else not ctx.progress
    with tqdm(total=table.height, desc=step.id, unit=" rows", disable=disable) as bar:
        for b in range(n_batches):
            k_path, r_path = partial_dir / f"{b:06d}.kept.parquet", partial_dir / f"{b:06d}.rejected.parquet"
            s_path = partial_dir / f"{b:06d}.stats.json"
            batch = table.slice(b * size, size)
            if s_path.exists():  # finished by an earlier, interrupted run
                res = StageResult(pl.read_parquet(k_path), pl.read_parquet(r_path), json.loads(s_path.read_text()))
            else:
                res = step.stage.process(batch, ctx)
                _write_parquet(records.conform(res.kept), k_path)
                _write_parquet(records.conform(res.rejected) if res.rejected is not None else records.empty_rejects(), r_path)
                _write_json(s_path, res.stats)
            kept.append(res.kept)
            rejected.append(res.rejected)
            stats.append(res.stats)
            bar.update(batch.height)
    return StageResult(
        kept=records.concat(kept),
        rejected=records.concat([r for r in rejected if r is not None], rejected=True),
        stats=merge_stats(stats),
    )


def merge_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine per-batch stage stats: numbers add up, other values keep the last one seen."""
    merged: dict[str, Any] = {}
    for p in parts:
        for k, v in p.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(merged.get(k, 0), (int, float)):
                merged[k] = merged.get(k, 0) + v
            else:
                merged[k] = v
    return merged


def _find_finished(out_root: Path, fp: str) -> Path | None:
    entry = out_root / ".index" / f"{fp}.json"
    if not entry.exists():
        return None
    try:
        d = Path(json.loads(entry.read_text())["dir"])
    except (ValueError, KeyError):
        return None
    ok = (d / "stats.json").exists() and (d / "kept.parquet").exists()
    return d if ok else None


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a finished step folder by hard links (instant, no extra space); fall back to copying."""

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link, dirs_exist_ok=True)
    # stats.json is rewritten for the new run: give it its own inode so the old run stays untouched.
    stats = dst / "stats.json"
    data = stats.read_bytes()
    stats.unlink()
    stats.write_bytes(data)


def _write_parquet(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    df.write_parquet(tmp)
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False))
    os.replace(tmp, path)


# ---------------------------------------------------------------- whole run


def start_run(plan: RunPlan) -> None:
    _write_json(plan.run_dir / "run.json", _summary(plan, [], "running", None, time.time()))


def finish_run(plan: RunPlan, outcomes: list[StepOutcome], started: float, error: BaseException | None = None) -> dict[str, Any]:
    """Write manifest.json, the combined rejects table, the dataset link and run.json."""
    if outcomes and outcomes[0].stats.get("stage") == "ingest":
        _write_json(plan.run_dir / "manifest.json", {"inputs": outcomes[0].stats["stage_stats"].get("inputs", [])})
    rejected = [pl.read_parquet(plan.step_dir(o.index) / "rejected.parquet") for o in outcomes]
    _write_parquet(records.concat(rejected, rejected=True), plan.run_dir / "rejected.parquet")
    dataset = None
    for o in reversed(outcomes):
        if (plan.step_dir(o.index) / "dataset").is_dir():
            link = plan.run_dir / "dataset"
            if not link.exists():
                link.symlink_to(plan.step_dir(o.index).relative_to(plan.run_dir) / "dataset")
            dataset = str(link)
            break
    status = "failed" if error else "ok"
    summary = _summary(plan, outcomes, status, error, started, dataset)
    summary["reports"] = [str(p) for o in outcomes if (p := plan.step_dir(o.index) / "report.html").exists()]
    _write_json(plan.run_dir / "run.json", summary)
    return summary


def _summary(plan: RunPlan, outcomes: list[StepOutcome], status: str, error: BaseException | None,
             started: float, dataset: str | None = None) -> dict[str, Any]:
    return {
        "recipe": plan.recipe.name,
        "recipe_file": str(plan.recipe.path) if plan.recipe.path else None,
        "run_dir": str(plan.run_dir),
        "status": status,
        "error": f"{type(error).__name__}: {error}" if error else None,
        "sample": plan.sample,
        "started": datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
        "dataset": dataset,
        "python": sys.version.split()[0],
        "steps": [
            {k: o.stats.get(k) for k in ("step", "stage", "rows_in", "kept", "rejected", "seconds",
                                         "rejected_by_reason", "reused_from", "fingerprint")}
            for o in outcomes
        ],
    }


def run_recipe(recipe: Recipe, out_root: str | Path | None = None, sample: int | None = None,
               strict: bool = False, force: bool = False, progress: bool | None = None) -> dict[str, Any]:
    """Run every step in this process, without Prefect (the flow in flows/ calls the same functions)."""
    plan = plan_run(recipe, out_root, sample, strict, force, progress)
    return run_plan(plan)


def run_plan(plan: RunPlan, execute=execute_step) -> dict[str, Any]:
    """Drive the steps of a plan; `execute` lets the Prefect flow wrap each step in a task."""
    started = time.time()
    start_run(plan)
    outcomes: list[StepOutcome] = []
    fp = None
    try:
        for i in range(len(plan.recipe.steps)):
            outcome = execute(plan, i, fp)
            outcomes.append(outcome)
            fp = outcome.fingerprint
    except BaseException as e:
        finish_run(plan, outcomes, started, e)
        raise
    return finish_run(plan, outcomes, started)


def format_summary(summary: dict[str, Any]) -> str:
    """The per-stage table printed at the end of a run."""
    rows = [("step", "stage", "rows in", "kept", "rejected", "seconds", "")]
    for s in summary["steps"]:
        rows.append((s["step"], s["stage"], f"{s['rows_in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}",
                     f"{s['seconds']:.2f}", "reused" if s.get("reused_from") else ""))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [r[c].ljust(widths[c]) if c < 2 or c == 6 else r[c].rjust(widths[c]) for c in range(len(r))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    lines.append("")
    lines.append(f"run: {summary['run_dir']}  ({summary['status']}, {summary['seconds']:.1f} s)")
    if summary.get("dataset"):
        lines.append(f"dataset: {summary['dataset']}")
    for report in summary.get("reports", []):
        lines.append(f"report: {report}")
    top = {}
    for s in summary["steps"]:
        for reason, n in (s.get("rejected_by_reason") or {}).items():
            top[reason] = top.get(reason, 0) + n
    if top:
        lines.append("rejected by reason: " + ", ".join(f"{r} {n:,}" for r, n in sorted(top.items(), key=lambda x: -x[1])))
        lines.append(f"rejects table: {summary['run_dir']}/rejected.parquet")
    return "\n".join(lines)
