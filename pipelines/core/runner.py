"""The runner: executes a recipe's steps into a new, immutable run directory, shard by shard.

    runs/<recipe>-<time>[-sample<N>]/
      recipe.yaml            the recipe as run (stage params resolved)
      manifest.json          inputs: path, size, sha256, rows read/kept/rejected
      stages/00-ingest/      kept/part-*.parquet, rejected/part-*.parquet, parts/*.json, stats.json (last)
      stages/01-exact-dedup/ ...                       (layout: shards.py)
      rejected.parquet       every stage's rejected rows, with stage, reason and detail
      dataset -> stages/NN-save/dataset    the final dataset (HF save_to_disk and Parquet)
      run.json               the summary: per step rows in, kept, rejected, seconds, reuse

Each step streams the previous step's parts: ingest cuts the inputs into chunks, row-wise stages run
part by part, keyed stages (dedup) run `shard_keys` per part, `decide` once over the keys and `apply`
per part, and only "table" stages see the whole table at once (see stage.py). Parts run on an
executor (executors.py): worker processes here, or Ray. Stages that do not change rows (inspect,
save) get their input parts linked, not rewritten. Memory is bounded by part size x workers.

Resume: each step has a fingerprint (fingerprint.py). A finished step with the same fingerprint in any
earlier run under the same output root is reused (hard-linked); the finished parts of a step that
crashed or was killed are linked into the next run of it, so a crash loses at most the parts in flight.

`execute_step` is the unit of work both the plain loop (`run_recipe`) and the Prefect flow (flows/) call,
so the two paths cannot drift apart. Nothing here imports Prefect.
"""

from __future__ import annotations

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

from dsforge.pipelines.core import part_records, shards, step_modes
from dsforge.pipelines.core.errors import DiskFullError, DsforgeError, UnsafePathError, UsageError
from dsforge.pipelines.core.executors import ExecutorSpec
from dsforge.pipelines.core.fingerprint import code_hash, hash_json, referenced_files
from dsforge.pipelines.core.plan import RunPlan, StepRun
from dsforge.pipelines.core.readers import file_fingerprint, resolve_path
from dsforge.pipelines.core.recipe import Recipe
from dsforge.pipelines.core.run_info import RunInfo
from dsforge.pipelines.core.stage import StageContext
from dsforge.pipelines.core.worker import ContractError, check_contract

log = logging.getLogger("dsforge")
DEFAULT_OUT = Path("runs")


@dataclass
class StepOutcome:
    index: int
    fingerprint: str
    stats: dict[str, Any] = field(default_factory=dict)


def plan_run(recipe: Recipe, out_root: str | Path | None = None, sample: int | None = None,
             strict: bool = False, force: bool = False, progress: bool | None = None,
             executor: ExecutorSpec | None = None) -> RunPlan:
    """Create a fresh run directory (never reusing an existing one) and write the recipe into it."""
    out_root = Path(out_root or recipe.output.get("dir") or DEFAULT_OUT).resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{recipe.name}-{stamp}" + (f"-sample{sample}" if sample else "")
    run_dir = _new_run_dir(out_root, base)
    with shards.writing(run_dir / "recipe.yaml"):
        (run_dir / "stages").mkdir()
        (run_dir / "recipe.yaml").write_text(yaml.safe_dump(recipe_as_dict(recipe), sort_keys=False, allow_unicode=True))
    return RunPlan(recipe, run_dir, out_root, sample, strict, force, progress, executor or recipe.executor)


def _new_run_dir(out_root: Path, base: str) -> Path:
    """A new folder under out_root; an out_root that cannot hold one (a file, /proc, read-only) is a UsageError."""
    hint = "give --out (or the recipe's output.dir) a folder you can write to"
    if out_root.exists() and not out_root.is_dir():
        raise UsageError(f"output folder {out_root} is a file, not a folder", hint=hint)
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        mark_dead_runs(out_root)
        for n in range(1000):
            run_dir = out_root / (base if n == 0 else f"{base}-{n}")
            try:
                run_dir.mkdir()
                return run_dir
            except FileExistsError:
                continue
    except OSError as e:
        if shards.is_disk_full(e):
            raise UsageError(f"no space left on device while creating a run folder in {out_root}",
                             hint="free some space or give --out a bigger disk") from None
        raise UsageError(f"cannot create a run folder in {out_root}: {e.strerror or e}", hint=hint) from None
    raise UsageError(f"{out_root}: 1000 runs of {base} already", hint=hint)


def recipe_as_dict(recipe: Recipe) -> dict[str, Any]:
    steps = recipe.steps
    return {
        "name": recipe.name,
        "description": recipe.description,
        "seed": recipe.seed,
        "source_file": str(recipe.path) if recipe.path else None,
        "inputs": steps[0].stage.config.model_dump(mode="json")["inputs"] if steps and steps[0].name == "ingest" else [],
        "stages": [{"stage": s.ref or s.name, "id": s.id, **s.stage.config.model_dump(mode="json")} for s in steps
                   if s.name != "ingest"],
    }


def step_fingerprint(plan: RunPlan, i: int, prev_fp: str | None) -> str:
    step = plan.recipe.steps[i]
    config = step.stage.config.model_dump(mode="json")
    parts: dict[str, Any] = {
        "stage": step.name,
        "version": step.stage.version,
        "code": code_hash(type(step.stage)),
        "config": config,
        "files": referenced_files(config, lambda s: resolve_path(s, plan.recipe.base_dir)),
        "prev": prev_fp,
        "seed": plan.recipe.seed,
    }
    if step.stage.execution() == "ingest":  # what is read, not just how
        parts["inputs"] = [
            file_fingerprint(resolve_path(spec.path, plan.recipe.base_dir))["sha256"]
            for spec in step.stage.config.inputs
        ]
        parts["sample"] = plan.sample
        parts["strict"] = plan.strict
    return hash_json(parts)[:24]


# ---------------------------------------------------------------- one step


def execute_step(plan: RunPlan, i: int, prev_fp: str | None) -> StepOutcome:
    """Run (or reuse) step i over the previous step's parts; write its parts and stats.json (last)."""
    step = plan.recipe.steps[i]
    out = plan.step_dir(i)
    fp = step_fingerprint(plan, i, prev_fp)
    index = plan.out_root / ".index"
    if not plan.force and (previous := _find_reusable(plan.out_root, fp)) is not None:
        refuse_links(plan.run_dir / "stages", out)
        _link_tree(previous, out)
        stats = json.loads((out / "stats.json").read_text())
        stats.update(reused_from=str(previous), seconds=0.0)
        shards.atomic_write_json(out / "stats.json", stats)
        log.info("%s: unchanged since %s, reused", step.id, previous)
        return StepOutcome(i, fp, stats)

    refuse_links(index, plan.run_dir / "stages", out, *(out / w for w in (shards.KEPT, shards.REJECTED, shards.PARTS)))
    out.mkdir(parents=True, exist_ok=True)
    index.mkdir(exist_ok=True)
    if not plan.force:
        _adopt_finished_parts(index / f"{fp}.running.json", out)
    shards.atomic_write_json(index / f"{fp}.running.json", {"dir": str(out)})
    extras = {"run": RunInfo.of_run_dir(plan.run_dir)} if step.stage.needs_run_info else {}
    ctx = StageContext(work_dir=out, base_dir=plan.recipe.base_dir, seed=plan.recipe.seed, strict=plan.strict,
                       sample=plan.sample, progress=plan.progress, extras=extras)
    reads_table = step.stage.execution() != "ingest"
    src = part_records.verified_parts(plan.step_dir(i - 1)) if i > 0 and reads_table else []
    started = time.perf_counter()
    try:
        parts, stage_stats, mode = step_modes.execute(StepRun(plan, i, fp, ctx, src))
    except Exception as e:
        if not shards.is_disk_full(e):
            raise
        _drop_unfinished(out)  # so that run.json can still be written
        if isinstance(e, DsforgeError):
            raise
        where = getattr(e, "filename", None) or f"the files of step {step.id} under {out}"  # a library's write
        raise DiskFullError(f"no space left on device while writing {where}") from e
    finally:
        step.stage.close()
    seconds = time.perf_counter() - started
    rows_in = sum(p["rows_in"] for p in parts)
    kept = sum(p["kept"] for p in parts)
    rejected = sum(p["rejected"] for p in parts)
    by_reason: dict[str, int] = {}
    for p in parts:
        for reason, n in p.get("rejected_by_reason", {}).items():
            by_reason[reason] = by_reason.get(reason, 0) + n
    if reads_table and not step.stage.creates_rows and rows_in != kept + rejected:
        raise ContractError(f"step {step.id} ({step.name}): {rows_in} rows in but {kept} kept + {rejected} rejected")
    if step.name == "ingest" or step.stage.creates_rows:
        check_contract(step.name, True, None, pl.DataFrame({"id": shards.read_column(shards.parts(out), "id")}),
                       pl.DataFrame({"id": shards.read_column(shards.parts(out, shards.REJECTED), "id")}))
    stats = {
        "step": step.id,
        "stage": step.name,
        "index": i,
        "fingerprint": fp,
        "config": step.stage.config.model_dump(mode="json"),
        "rows_in": rows_in,
        "kept": kept,
        "rejected": rejected,
        "rejected_by_reason": dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
        "seconds": round(seconds, 3),
        "reused_from": None,
        "execution": mode,
        "parts": len(parts),
        "executor": plan.executor.describe() if plan._executor is not None else {"name": "driver"},
        "stage_stats": stage_stats,
        part_records.RECORD_KEY: part_records.record(out),  # checked before any reuse or read
    }
    shards.atomic_write_json(out / "stats.json", stats)  # last: marks the step finished
    shards.atomic_write_json(index / f"{fp}.json", {"dir": str(out)})
    (index / f"{fp}.running.json").unlink(missing_ok=True)
    return StepOutcome(i, fp, stats)


def _find_finished(out_root: Path, fp: str) -> Path | None:
    entry = out_root / ".index" / f"{fp}.json"
    if not entry.exists():
        return None
    try:
        d = Path(json.loads(entry.read_text())["dir"])
    except (ValueError, KeyError):
        return None
    return d if (d / "stats.json").exists() and (d / shards.KEPT).is_dir() else None


def refuse_links(*paths: Path) -> None:
    """Never write through a symbolic link inside the output folder (a linked `.index` or step folder
    would send the run's files wherever it points)."""
    for p in paths:
        if p.is_symlink():
            raise UnsafePathError(f"{p} is a symbolic link; dsforge does not write through links in its output folder")


def _drop_unfinished(step_dir: Path) -> None:
    """Remove what a failed step left half-written (temporary files, a `.partial` dataset folder); its done
    parts stay for the next run."""
    for p in sorted(step_dir.rglob("*"), reverse=True):
        if p.name.endswith(".partial") and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file():
            p.unlink(missing_ok=True)


def _find_reusable(out_root: Path, fp: str) -> Path | None:
    """The finished step with this fingerprint, unless one of its files changed since it was written
    (then it is recomputed, and the log says which file was wrong)."""
    previous = _find_finished(out_root, fp)
    if previous is None:
        return None
    try:
        stats = json.loads((previous / "stats.json").read_text())
    except (OSError, ValueError):
        return None
    if problem := part_records.check(previous, stats):
        log.warning("%s; recomputing", problem)
        return None
    return previous


def _adopt_finished_parts(pointer: Path, out: Path) -> None:
    """Link the done parts of an earlier, unfinished run of this same step (a crash loses only parts in flight)."""
    try:
        earlier = Path(json.loads(pointer.read_text())["dir"])
    except (OSError, ValueError, KeyError):
        return
    if earlier == out or not (earlier / shards.PARTS).is_dir():
        return
    n = 0
    for marker in sorted((earlier / shards.PARTS).glob("*.json")):
        part = int(marker.stem)
        files = [shards.part_path(earlier, w, part) for w in (shards.KEPT, shards.REJECTED)]
        if all(f.exists() for f in files) and _part_intact(marker, files):
            for w in (shards.KEPT, shards.REJECTED, "id_keys"):  # id_keys: ingest's, for its id check
                if (f := shards.part_path(earlier, w, part)).exists():
                    shards.link_part(f, shards.part_path(out, w, part))
            shards.link_part(marker, shards.done_path(out, part))
            n += 1
    if n:
        log.info("%s: %d finished parts taken over from the unfinished %s", out.name, n, earlier)


def _part_intact(marker: Path, files: list[Path]) -> bool:
    """The kept and rejected files of a done part still hold the rows its marker says."""
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    rows = [part_records.parquet_rows(f) for f in files]
    if rows != [info.get("kept"), info.get("rejected")]:
        log.warning("%s: part %s of the unfinished %s changed since it was written (rows %s, its record %s); "
                    "recomputing it", marker.parent.parent.name, marker.stem, marker.parent.parent, rows,
                    [info.get("kept"), info.get("rejected")])
        return False
    return True


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


# ---------------------------------------------------------------- whole run


def start_run(plan: RunPlan) -> None:
    shards.atomic_write_json(plan.run_dir / "run.json", _summary(plan, [], "running", None, time.time()))


def mark_dead_runs(out_root: Path) -> None:
    """A run killed without a chance to finish (SIGKILL, power loss) still says "running": say "killed"."""
    import psutil

    for run_json in out_root.glob("*/run.json"):
        try:
            summary = json.loads(run_json.read_text())
        except (OSError, ValueError):
            continue
        pid = summary.get("pid")
        if summary.get("status") == "running" and pid and not _alive(pid, summary.get("pid_started"), psutil):
            summary.update(status="killed", error="the process running it ended without finishing the run")
            shards.atomic_write_json(run_json, summary)


def _alive(pid: int, started: float | None, psutil) -> bool:
    try:
        p = psutil.Process(pid)
        return started is None or abs(p.create_time() - started) < 1.0
    except psutil.Error:
        return False


def finish_run(plan: RunPlan, outcomes: list[StepOutcome], started: float, error: BaseException | None = None) -> dict[str, Any]:
    """Write manifest.json, the combined rejects table, the dataset link and run.json."""
    rejected = [f for o in outcomes for f in shards.parts(plan.step_dir(o.index), shards.REJECTED)]
    try:
        if outcomes and outcomes[0].stats.get("stage") == "ingest":
            shards.atomic_write_json(plan.run_dir / "manifest.json",
                                     {"inputs": outcomes[0].stats["stage_stats"].get("inputs", [])})
        shards.write_rejects_table(rejected, plan.run_dir / "rejected.parquet")
    except DsforgeError as e:  # e.g. the disk is full: run.json must still say what happened
        if error is None:
            raise
        log.warning("%s", e)
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
    shards.atomic_write_json(plan.run_dir / "run.json", summary)
    return summary


def _summary(plan: RunPlan, outcomes: list[StepOutcome], status: str, error: BaseException | None,
             started: float, dataset: str | None = None) -> dict[str, Any]:
    import psutil

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
        "executor": plan.executor_spec.summary(),
        "pid": os.getpid(),
        "pid_started": psutil.Process().create_time(),
        "steps": [
            {k: o.stats.get(k) for k in ("step", "stage", "rows_in", "kept", "rejected", "seconds",
                                         "rejected_by_reason", "reused_from", "fingerprint", "parts", "execution")}
            for o in outcomes
        ],
    }


def run_recipe(recipe: Recipe, out_root: str | Path | None = None, sample: int | None = None,
               strict: bool = False, force: bool = False, progress: bool | None = None,
               executor: ExecutorSpec | None = None) -> dict[str, Any]:
    """Run every step in this process, without Prefect (the flow in flows/ calls the same functions)."""
    plan = plan_run(recipe, out_root, sample, strict, force, progress, executor)
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
        plan.close()
        try:
            finish_run(plan, outcomes, started, e)
        except Exception as again:  # never hide the error that stopped the run
            log.error("could not write %s/run.json: %s", plan.run_dir, again)
        raise
    plan.close()
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
    ex = summary.get("executor") or {}
    where = f"{ex.get('name', 'local')}" + (f", {ex['workers']} workers" if ex.get("workers") else "")
    lines.append(f"run: {summary['run_dir']}  ({summary['status']}, {summary['seconds']:.1f} s, {where})")
    if summary.get("dataset"):
        lines.append(f"dataset: {summary['dataset']}")
    for report in summary.get("reports", []):
        lines.append(f"report: {report}")
    top: dict[str, int] = {}
    for s in summary["steps"]:
        for reason, n in (s.get("rejected_by_reason") or {}).items():
            top[reason] = top.get(reason, 0) + n
    if top:
        lines.append("rejected by reason: " + ", ".join(f"{r} {n:,}" for r, n in sorted(top.items(), key=lambda x: -x[1])))
        lines.append(f"rejects table: {summary['run_dir']}/rejected.parquet")
    return "\n".join(lines)
