"""How one step's work is cut into tasks, by the stage's declared `mode` (stage.py):

    ingest  one task per chunk of each input (the stage's `plan_chunks`), then its `finish_chunks` here
    rows    one task per slice of at most `batch_size` rows of each input part
    keyed   `shard_keys` per input part -> `decide` over the keys only (here, or per hash bucket in the
            workers for stages with a `partition_key`) -> `apply` per input part
    summary `summarize` per input part in the workers -> `combine` here over the summaries only; the input
            parts are linked as the kept parts (stages that only look at rows: inspect)
    table   the whole table here, in one process (the fallback for stages that need every row at once);
            a model stage's generate calls still run on the model workers (`fans_out`: llm/fanout.py)

Every function takes the step as one `StepRun` (plan.py). Stages that do not change rows
(`changes_rows = False`) get their input parts linked as their kept parts. Returns the per-part records
(rows in, kept, rejected, reasons, stage figures).
Not here: running tasks (executors.py, worker.py) or reuse and stats.json (runner.py).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from dsforge.pipelines.core import records, shards
from dsforge.pipelines.core.plan import StepRun
from dsforge.pipelines.core.worker import Task, check_contract, decide_into, read_summary, summary_dir

log = logging.getLogger("dsforge")


def execute(run: StepRun) -> tuple[list[dict], dict[str, Any], str]:
    """Run the step's tasks; (parts, the step's figures, the mode it ran in)."""
    stage = run.stage
    mode = stage.execution()
    if mode == "ingest":
        return *_ingest(run), "ingest"
    if not stage.distributable():
        mode = "table"
    parts = {"rows": _rows, "keyed": _keyed, "summary": _summary, "table": _table}[mode](run)
    per_part = [p.get("stats") or {} for p in parts]
    return parts, stage.combine_stats(merge_stats(per_part), per_part), mode


def merge_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine per-part stage stats: numbers add up, other values keep the last one seen."""
    merged: dict[str, Any] = {}
    for p in parts:
        for k, v in p.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(merged.get(k, 0), (int, float)):
                merged[k] = merged.get(k, 0) + v
            else:
                merged[k] = v
    return merged


def _bar(run: StepRun, total_rows: int, n_tasks: int):
    from tqdm.auto import tqdm

    step = run.step
    disable = None if run.plan.progress is None else not run.plan.progress
    bar = tqdm(total=total_rows, desc=step.id, unit=" rows", disable=disable)
    done = [0]

    def on_done(info: dict) -> None:
        done[0] += 1
        bar.update(info.get("rows_in", 0))
        if n_tasks > 1:
            log.info("%s: part %d done (%d/%d): %s rows in, %s kept, %s rejected, %.2f s", step.id, info["part"],
                     done[0], n_tasks, info.get("rows_in"), info.get("kept", "-"), info.get("rejected", "-"),
                     info.get("seconds", 0.0))

    return bar, on_done


def _run_tasks(run: StepRun, tasks: list[Task], total_rows: int, shared=None) -> list[dict]:
    """Run a pass of tasks with a progress bar; `shared` (bar, on_done) is one bar over several passes of a
    step (keyed: keys then apply), closed by the caller, so a step prints one bar, not one per pass."""
    bar, on_done = shared or _bar(run, total_rows, len(tasks))
    try:
        return run.executor.run(tasks, on_done, run.resources(), run.stage)
    finally:
        if shared is None:
            bar.close()


def _ingest(run: StepRun) -> tuple[list[dict], dict[str, Any]]:
    chunks = run.stage.plan_chunks(run.ctx, run.plan.shard_rows)
    parts = _run_tasks(run, [run.task("ingest", n, arg=c) for n, c in enumerate(chunks)], 0)
    stats: dict[str, Any] = run.stage.finish_chunks(run.ctx, chunks, parts)
    if run.plan.sample is not None:
        stats["sampled"] = _sample(run, parts, run.plan.sample, run.ctx.seed)
    return parts, stats


def _sample(run: StepRun, parts: list[dict], n: int, seed: int) -> int:
    """Keep a seeded random sample of n kept rows over all parts, in input order (rewrites the kept parts)."""
    import numpy as np

    out = run.out
    total = sum(p["kept"] for p in parts)
    if total <= n:
        return total
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
    offset = 0
    for p in parts:
        path = shards.part_path(out, shards.KEPT, p["part"])
        df = pl.read_parquet(path)
        mine = chosen[(chosen >= offset) & (chosen < offset + df.height)] - offset
        offset += df.height
        shards.atomic_write_parquet(df[mine.tolist()] if len(mine) else df.head(0), path)
        p["kept"] = int(len(mine))
        p["rows_in"] = p["kept"] + p["rejected"]
        shards.atomic_write_json(shards.done_path(out, p["part"]), p)
    return n


def _slices(src: list[Path], size: int) -> list[tuple[Path, int, int]]:
    import pyarrow.parquet as pq

    out = []
    for f in src:
        n = pq.ParquetFile(f).metadata.num_rows
        out.extend((f, start, min(size, n - start)) for start in range(0, max(n, 1), size))
    return out


def _rows(run: StepRun) -> list[dict]:
    slices = _slices(run.src, run.stage.batch_size)
    tasks = [run.task("rows", n, src=f, arg=(start, length)) for n, (f, start, length) in enumerate(slices)]
    return _run_tasks(run, tasks, shards.count_rows(run.src))


def _keyed(run: StepRun) -> list[dict]:
    """keys per part -> decide (per hash bucket in the workers when the stage names a partition_key, else
    once here) -> apply per part, each apply reading only its own part's verdicts."""
    src = run.src
    total = shards.count_rows(src)
    buckets = decide_buckets(run.executor.workers, total, len(src)) if run.stage.partition_key and len(src) > 1 else 0
    shared = _bar(run, 2 * total, 2 * len(src))  # one bar: keys, then apply
    try:
        return _keyed_passes(run, total, buckets, shared)
    finally:
        shared[0].close()


def _keyed_passes(run: StepRun, total: int, buckets: int, shared) -> list[dict]:
    out, stage, src = run.out, run.stage, run.src
    _run_tasks(run, [run.task("keys", n, src=f, arg=buckets) for n, f in enumerate(src)], total, shared)
    kdir, vdir = shards.keyed_dir(out, "keys", buckets), shards.keyed_dir(out, shards.VERDICTS, buckets)
    bucket_dirs = sorted(d for d in kdir.glob("bucket-*") if d.is_dir()) if buckets else []
    if bucket_dirs:
        decided = _run_tasks(run, [run.task("decide", int(d.name.split("-")[1]),
                                            arg={"keys": str(d), "verdicts": str(vdir)}) for d in bucket_dirs],
                             0, shared)
    else:
        key_files = sorted(kdir.glob("part-*.parquet"))
        if key_files:  # in input order: parts in order, rows in order within each
            keys = pl.scan_parquet(key_files, missing_columns="insert", extra_columns="ignore")
        else:
            keys = stage.shard_keys(records.empty(), run.ctx).with_columns(
                pl.lit(0, dtype=pl.Int32).alias("__part"), pl.lit(0, dtype=pl.Int64).alias("__row")).lazy()
        decided = [decide_into(stage, keys, run.ctx, vdir / shards.part_name(0))]
        del keys
    shards.atomic_write_json(vdir / "verdicts.json", {"defaults": decided[0]["defaults"],
                                                      "rows": sum(d["verdicts"] for d in decided)})
    tasks = [run.task("apply", n, src=f, arg=str(vdir)) for n, f in enumerate(src)]
    parts = _run_tasks(run, tasks, total, shared)
    if parts:
        parts[0]["stats"] = {**merge_stats([d["stats"] for d in decided]), **(parts[0].get("stats") or {})}
    shutil.rmtree(out / "keys", ignore_errors=True)
    return parts


BUCKET_ROWS = 500_000  # rows' keys one decide task holds at most (a few tens of MB for hashes)


def decide_buckets(workers: int, total_rows: int, n_parts: int) -> int:
    """Hash buckets for a partitioned decide: enough for every worker to take two and for no bucket to hold
    more than BUCKET_ROWS rows' keys, never more than the parts (each bucket is one file per part)."""
    return max(1, min(n_parts, max(2 * workers, -(-total_rows // BUCKET_ROWS))))


def _summary(run: StepRun) -> list[dict]:
    """summarize per part in the workers -> combine here over the summaries -> the input parts linked."""
    out, stage, src = run.out, run.stage, run.src
    started = time.perf_counter()
    _run_tasks(run, [run.task("summary", n, src=f) for n, f in enumerate(src)], shards.count_rows(src))
    summaries = [read_summary(summary_dir(out, n)) for n in range(len(src))] or [stage.summarize(records.empty(), run.ctx)]
    figures = stage.combine(summaries, run.ctx)
    del summaries
    parts = _linked(out, src, figures, started)
    shutil.rmtree(out / "summaries", ignore_errors=True)
    return parts


def _linked(out: Path, src: list[Path], figures: dict[str, Any], started: float) -> list[dict]:
    """The input parts linked as the kept parts, the stage's figures on the first, every part marked done."""
    parts = _link_inputs(out, src)
    parts[0].update(stats=figures, seconds=round(time.perf_counter() - started, 3))
    for p in parts:
        shards.atomic_write_json(shards.done_path(out, p["part"]), p)
    return parts


def _table(run: StepRun) -> list[dict]:
    """The whole table in this process; writes the result back in parts of the run's shard size."""
    out, stage, src, ctx, step = run.out, run.stage, run.src, run.ctx, run.step
    started = time.perf_counter()
    if not stage.changes_rows and (figures := stage.process_parts(src, ctx)) is not None:
        return _linked(out, src, figures, started)
    df = records.concat([records.conform(pl.read_parquet(f)) for f in src]) if src else records.empty()
    fan = None
    if stage.fans_out:  # the model calls of a driver-side stage go to the workers
        fan = stage.fan_out(run)
        ctx = dataclasses.replace(ctx, extras={**ctx.extras, "fanout": fan})
    result = stage.process(df, ctx)
    if fan is not None:
        result.stats = {**result.stats, **fan.stats()}
    kept = records.conform(result.kept)
    rejected = records.conform(result.rejected) if result.rejected is not None else records.empty_rejects()
    records.validate(kept, f"step {step.id} ({step.name}) output")
    check_contract(step.name, step.stage.creates_rows, df["id"], kept, rejected)
    seconds = round(time.perf_counter() - started, 3)
    if not step.stage.changes_rows:
        if rejected.height or kept.height != df.height:
            raise RuntimeError(f"stage {step.name!r} declares changes_rows = False but changed its rows")
        parts = _link_inputs(out, src)
    else:
        size = run.plan.shard_rows
        n_parts = max(1, -(-max(kept.height, rejected.height) // size))
        parts = []
        for n in range(n_parts):
            k, r = kept.slice(n * size, size), rejected.slice(n * size, size)
            shards.atomic_write_parquet(k, shards.part_path(out, shards.KEPT, n))
            shards.atomic_write_parquet(r, shards.part_path(out, shards.REJECTED, n))
            parts.append({"part": n, "rows_in": 0, "kept": k.height, "rejected": r.height,
                          "rejected_by_reason": dict(r.group_by("reason").len().iter_rows()) if r.height else {}})
        parts[0]["rows_in"] = df.height
    parts[0].update(stats=result.stats, seconds=seconds)
    for p in parts:
        shards.atomic_write_json(shards.done_path(out, p["part"]), p)
    return parts


def _link_inputs(out: Path, src: list[Path]) -> list[dict]:
    """The input parts as this step's kept parts (hard links), for stages that do not change rows."""
    parts = []
    for n, f in enumerate(src):
        shards.link_part(f, shards.part_path(out, shards.KEPT, n))
        rows = shards.count_rows([f])
        parts.append({"part": n, "rows_in": rows, "kept": rows, "rejected": 0, "rejected_by_reason": {}})
    shards.atomic_write_parquet(records.empty_rejects(), shards.part_path(out, shards.REJECTED, 0))
    if not parts:
        shards.atomic_write_parquet(records.empty(), shards.part_path(out, shards.KEPT, 0))
        parts = [{"part": 0, "rows_in": 0, "kept": 0, "rejected": 0, "rejected_by_reason": {}}]
    return parts
