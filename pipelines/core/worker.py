"""One task of a step, run in whatever process an executor picked: read a part, run the stage, write parts.

A task is a plain, picklable description (stage name + config + paths), so the same function runs in
this process, in a pool worker or in a Ray task/actor. Each worker keeps the stage instance of the step
it last ran (`_live`), so a model the stage loads is loaded once per worker and step, not once per part.

Every task is idempotent: a part whose done-marker exists is returned as it is, and outputs are written
by atomic rename, so a retried or duplicated task leaves the same files. The contract is checked here,
on each part: every input row comes out exactly once, kept or rejected; rows that were not in the
input appear only for stages that create rows, and then with a lineage entry of the stage. A summary
task (stages that only look at rows) writes no rows: its summary's tables go beside the step as
Parquet and the rest is pickled (`write_summary`), for `combine` in the driver (`read_summary`).

Kept light at import time (no Polars, no torch) because spawned workers import it before `init_worker`
has set how many threads each library may use.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_live: dict[str, Any] = {}  # step key -> the stage instance this worker keeps for that step


class ContractError(RuntimeError):
    """A stage broke the stage contract (lost rows, duplicated ids, created rows without lineage)."""


@dataclass
class Task:
    step: str             # the step's id, for messages
    key: str              # the step's fingerprint: the stage instance is reused for the same key
    stage: str            # registry name, for messages
    stage_cls: type       # the stage class (pickled by reference: module and name)
    config: Any           # the StageConfig itself: a dump would carry redacted secrets (base_url keys)
    ctx: Any              # StageContext
    phase: str            # ingest | rows | keys | decide | apply | summary | generate
    part: int
    step_dir: str
    src: str | None = None  # the input part (rows, keys, apply)
    arg: Any = None         # ingest: (input spec, chunk); apply: the verdicts folder
    src_rows: int | None = None  # the rows `src` held when its step wrote it (part_records.py)


def init_worker(threads: int, log_queue: Any = None, level: int = 20, parent: int | None = None,
                death_signal: bool = False) -> None:
    """Pool initializer: cap each library's threads so N workers do not fight over the cores, send this
    worker's log records to the driver (which logs them as its own: console, Prefect, tests), and end with
    the driver (`parent`) when it is killed."""
    if parent is not None:
        die_with_parent(parent, death_signal)
    for var in ("OMP_NUM_THREADS", "POLARS_MAX_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    if log_queue is not None:
        import logging
        from logging.handlers import QueueHandler

        root = logging.getLogger()
        root.handlers[:] = [QueueHandler(log_queue)]
        root.setLevel(level)


def die_with_parent(parent: int, death_signal: bool) -> None:
    """End this worker when the driver dies (kill -9 gives it no chance to stop its pool). The kernel's
    parent-death signal (Linux prctl) fires when the thread that started the worker ends, so the driver asks
    for it only when its main thread made the pool; a thread checking the parent twice a second covers the rest."""
    import signal
    import threading

    if death_signal and sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:  # the driver died before this worker got here
        os._exit(1)
    threading.Thread(target=watch, name="dsforge-parent-watch", daemon=True).start()


def stage_for(task: Task):
    st = _live.get(task.key)
    if st is None:
        for old in list(_live):
            _live.pop(old).close()
        st = _live[task.key] = task.stage_cls(task.config)
    return st


def run_task(task: Task, stage: Any = None) -> dict[str, Any]:
    """Run one task; `stage`: an instance to use instead of the worker's own (the driver's, when inline)."""
    from dsforge.pipelines.core import shards


    if task.phase == "generate":  # a slice of a driver's generate call (llm/fanout.py): no part, no marker
        return (stage or stage_for(task)).run_fanned(task)
    step_dir = Path(task.step_dir)
    if task.phase == "keys":
        marker = shards.keyed_dir(step_dir, "keys", task.arg) / f"{task.part:05d}.json"
    elif task.phase == "decide":
        marker = Path(task.arg["verdicts"]) / f"{task.part:05d}.json"
    elif task.phase == "summary":
        marker = summary_dir(step_dir, task.part).with_suffix(".json")
    else:
        marker = shards.done_path(step_dir, task.part)
    if marker.exists():
        return json.loads(marker.read_text())
    started = time.perf_counter()
    flight = in_flight_path(step_dir, task)
    flight.parent.mkdir(parents=True, exist_ok=True)
    flight.write_text(str(os.getpid()))  # names this part if the worker dies (executors.py)
    st = stage or stage_for(task)
    phase = {"keys": _keys, "decide": _decide, "summary": _summarize}.get(task.phase, _split)
    info = phase(task, st, step_dir)
    info.update(part=task.part, seconds=round(time.perf_counter() - started, 3), pid=os.getpid())
    shards.atomic_write_json(marker, info)
    flight.unlink(missing_ok=True)
    return info


IN_FLIGHT = ".in-flight"


def in_flight_path(step_dir: Path, task: Task) -> Path:
    """A file holding the pid of the worker running this task, removed when the task is done."""
    return Path(step_dir) / IN_FLIGHT / f"{task.phase}-{task.part:05d}"


def tasks_of_dead_workers(step_dir: Path, dead: dict[int, int | None]) -> list[tuple[str, int, int, int | None]]:
    """(phase, part, pid, exit code) of each task whose worker (pid -> exit code in `dead`) died running it."""
    out = []
    for f in sorted((Path(step_dir) / IN_FLIGHT).glob("*-*")):
        try:
            pid = int(f.read_text())
        except (OSError, ValueError):
            continue
        if pid in dead:
            phase, part = f.name.rsplit("-", 1)
            out.append((phase, int(part), pid, dead[pid]))
    return out


def _read(task: Task):
    """The task's input part, checked against the rows its step recorded (a damaged part is never used)."""
    import polars as pl

    from dsforge.pipelines.core import part_records, records

    try:
        df = pl.read_parquet(task.src)
    except (OSError, pl.exceptions.ComputeError) as e:
        from dsforge.pipelines.core.errors import PartChangedError

        src = Path(task.src)
        raise PartChangedError(f"{src.name} of {src.parent.parent.name} cannot be read any more ({e})") from None
    part_records.check_read(task.src, df.height, task.src_rows)
    return records.conform(df)


def _keys(task: Task, stage: Any, step_dir: Path) -> dict[str, Any]:
    import polars as pl

    from dsforge.pipelines.core import shards

    df = _read(task)
    keys = stage.shard_keys(df, task.ctx)
    keys = keys.with_columns(pl.lit(task.part, dtype=pl.Int32).alias("__part"),
                             pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"))
    out = shards.keyed_dir(step_dir, "keys", task.arg)
    if not task.arg:  # one decide over every part's keys
        shards.atomic_write_parquet(keys, out / shards.part_name(task.part))
        return {"rows_in": df.height}
    # hash-partitioned on the stage's partition_key: equal keys meet in one bucket; null keys spread by id
    key = stage.partition_key
    bucket = pl.when(pl.col(key).is_null()).then(pl.col("id").hash(seed=7)).otherwise(pl.col(key).hash(seed=7))
    keys = keys.with_columns((bucket % task.arg).alias("__bucket"))
    for (b,), sub in keys.partition_by("__bucket", as_dict=True, include_key=False).items():
        shards.atomic_write_parquet(sub, out / f"bucket-{b:05d}" / shards.part_name(task.part))
    return {"rows_in": df.height}


def _decide(task: Task, stage: Any, step_dir: Path) -> dict[str, Any]:
    """`decide` over one bucket of hash-partitioned keys (every part's rows of that bucket, in input order)."""
    import polars as pl

    from dsforge.pipelines.core import shards

    keys = pl.scan_parquet(sorted(Path(task.arg["keys"]).glob("part-*.parquet")))
    return {"rows_in": 0, **decide_into(stage, keys, task.ctx, Path(task.arg["verdicts"]) / shards.part_name(task.part))}


def decide_into(stage: Any, keys, ctx: Any, path: Path) -> dict[str, Any]:
    """Run a keyed stage's `decide` and write its verdicts with each row's input part, sorted by part, so
    that each `apply` task reads only its own rows' verdicts. Returns the stats and column defaults."""
    from dsforge.pipelines.core import shards

    v = stage.decide(keys, ctx)
    table = v.table
    if "__part" not in table.columns:  # a stage may carry each row's part along itself (saves this join)
        table = table.join(keys.select("id", "__part").collect(), on="id", how="left")
    table = table.sort("__part", maintain_order=True)
    shards.atomic_write_parquet(table, path)
    release_memory()
    return {"stats": v.stats, "defaults": v.defaults, "verdicts": table.height}


def release_memory() -> None:
    """Give freed heap memory back to the OS (glibc keeps it otherwise): a keyed decide's temporaries would
    stay in the driver's RSS for the rest of the run."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        pass


def read_verdicts(vdir: Path, part: int):
    """The verdicts of one input part, from every decide's file."""
    import polars as pl

    files = sorted(vdir.glob("part-*.parquet"))
    return pl.scan_parquet(files).filter(pl.col("__part") == part).drop("__part").collect()


def summary_dir(step_dir: Path, part: int) -> Path:
    """Where a summary stage keeps one part's summary until `combine` has run."""
    return Path(step_dir) / "summaries" / f"part-{part:05d}"


def _summarize(task: Task, stage: Any, step_dir: Path) -> dict[str, Any]:
    df = _read(task)
    write_summary(stage.summarize(df, task.ctx), summary_dir(step_dir, task.part))
    return {"rows_in": df.height}


class _Spilled:
    """Stands for a DataFrame of a summary, written beside it as Parquet."""

    def __init__(self, name: str):
        self.name = name


def write_summary(summary: dict[str, Any], folder: Path) -> None:
    """A summary's DataFrames as Parquet files and the rest pickled, all in `folder` (the pickle last)."""
    import pickle

    import polars as pl

    from dsforge.pipelines.core import shards

    folder.mkdir(parents=True, exist_ok=True)
    tables: list[Any] = []

    def spill(x: Any) -> Any:
        if isinstance(x, pl.DataFrame):
            tables.append(x)
            shards.atomic_write_parquet(x, folder / f"table-{len(tables) - 1:04d}.parquet")
            return _Spilled(f"table-{len(tables) - 1:04d}.parquet")
        if isinstance(x, dict):
            return type(x)({k: spill(v) for k, v in x.items()})  # dict or Counter
        if isinstance(x, list):
            return [spill(v) for v in x]
        return x

    body = pickle.dumps(spill(summary), protocol=pickle.HIGHEST_PROTOCOL)
    tmp = folder / f".summary.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_bytes(body)
    os.replace(tmp, folder / "summary.pkl")


def read_summary(folder: Path) -> dict[str, Any]:
    """A summary written by `write_summary`, its tables as LazyFrames over the Parquet files."""
    import pickle

    import polars as pl

    def load(x: Any) -> Any:
        if isinstance(x, _Spilled):
            return pl.scan_parquet(folder / x.name)
        if isinstance(x, dict):
            return type(x)({k: load(v) for k, v in x.items()})
        if isinstance(x, list):
            return [load(v) for v in x]
        return x

    return load(pickle.loads((folder / "summary.pkl").read_bytes()))


def _split(task: Task, stage: Any, step_dir: Path) -> dict[str, Any]:
    import polars as pl

    from dsforge.pipelines.core import records, shards
    from dsforge.pipelines.core.stage import Verdicts

    if task.phase == "ingest":
        result, rows_in = stage.read_chunk(task.arg, task.ctx)
        in_ids = None
    else:
        df = _read(task)
        if task.phase == "rows" and task.arg is not None:
            df = df.slice(*task.arg)
        rows_in, in_ids = df.height, df["id"]
        if task.phase == "rows":
            result = stage.process(df, task.ctx)
        else:  # apply
            vdir = Path(task.arg)
            meta = json.loads((vdir / "verdicts.json").read_text())
            result = stage.apply(df, Verdicts(read_verdicts(vdir, task.part), meta["defaults"]), task.ctx)
    kept = records.conform(result.kept)
    rejected = records.conform(result.rejected) if result.rejected is not None else records.empty_rejects()
    records.validate(kept, f"step {task.step} ({task.stage}) output")
    if task.phase != "ingest":  # ingest's ids are settled over all chunks, then checked (runner.py)
        check_contract(task.stage, getattr(stage, "creates_rows", False), in_ids, kept, rejected)
    shards.atomic_write_parquet(kept, shards.part_path(step_dir, shards.KEPT, task.part))
    shards.atomic_write_parquet(rejected, shards.part_path(step_dir, shards.REJECTED, task.part))
    by_reason = dict(rejected.group_by("reason").len().iter_rows()) if rejected.height else {}
    return {"rows_in": rows_in, "kept": kept.height, "rejected": rejected.height, "rejected_by_reason": by_reason,
            "stats": result.stats}


def check_contract(stage: str, creates_rows: bool, in_ids, kept, rejected) -> None:
    """Raise ContractError naming the stage when rows were lost, duplicated or created without lineage."""
    import polars as pl

    k, r = kept["id"], rejected["id"]
    if k.null_count() or r.null_count():
        raise ContractError(f"stage {stage!r} returned rows without an id")
    both = k.filter(k.is_in(r.implode()))
    if both.len():
        raise ContractError(f"stage {stage!r} returned {both.len()} ids both kept and rejected (e.g. {both[0]!r})")
    out = pl.concat([k, r])
    dup = out.filter(out.is_duplicated())
    if dup.len():
        raise ContractError(f"stage {stage!r} returned id {dup[0]!r} more than once ({dup.len()} duplicated rows)")
    if in_ids is None:
        return
    lost = in_ids.filter(~in_ids.is_in(out.implode()))
    if lost.len():
        raise ContractError(
            f"stage {stage!r} lost {lost.len()} of {in_ids.len()} input rows (e.g. {lost[0]!r}): every input row "
            "must come out kept or rejected with a reason")
    new_kept = kept.filter(~k.is_in(in_ids.implode()))
    if new_kept.height and not creates_rows:
        raise ContractError(f"stage {stage!r} returned {new_kept.height} rows that were not in its input "
                            f"(e.g. {new_kept['id'][0]!r}) but does not declare creates_rows")
    if new_kept.height:
        has = new_kept["lineage"].list.eval(pl.element().struct.field("stage") == stage).list.any()
        missing = new_kept.filter(~has.fill_null(False))
        if missing.height:
            raise ContractError(f"stage {stage!r} created {missing.height} rows without a lineage entry of its own "
                                f"(e.g. {missing['id'][0]!r})")
