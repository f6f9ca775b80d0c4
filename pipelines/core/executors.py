"""Executors: where the parts of a step run. The runner plans tasks; an executor only runs them.

    local   a pool of worker processes on this machine (`--workers N`, default: every core). With one
            worker, tasks run in this process (the simplest thing to debug).
    ray     Ray tasks on a cluster (`--executor ray --address HOST:PORT`; a local Ray when no address
            is given). Model-holding stages run on Ray actors, one stage instance (one model) per actor,
            with the resources the step asks for (e.g. `resources: {num_gpus: 1}`). Tasks and actors are
            retried by Ray when a node dies; every task is idempotent (it skips a part that is already
            done and writes by atomic rename), so a retried task gives the same files.

Both implement the `Executor` protocol, the only face of an executor the runner, step_modes.py and
llm/fanout.py see. `ExecutorSpec` is where parts run in its one shape (name, workers, address), from a
recipe, the command line or a flow's parameters, checked once when it is made.

A task reads its input part from the step folder and writes its output parts there: rows never pass
through the driver, so the run folder must be on storage every node sees (NFS, a shared disk) on a
real cluster. Not here: deciding what runs (runner.py) and how a part is processed (`run_task`,
worker.py); no scheduling of our own — the pool and Ray do that.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

from dsforge.pipelines.core.errors import UsageError, WorkerDiedError
from dsforge.pipelines.core.worker import Task, init_worker, run_task, tasks_of_dead_workers

log = logging.getLogger("dsforge")
Progress = Callable[[dict[str, Any]], None]


@runtime_checkable
class Executor(Protocol):
    """Runs a step's tasks somewhere; results come back in task order."""

    name: str
    workers: int  # how many tasks run at once

    def run(self, tasks: list[Task], on_done: Progress, resources: dict[str, Any] | None = None,
            stage: Any = None) -> list[dict]:
        """Run the tasks (`on_done` after each); `resources`: what each worker needs ("actors": hold the
        stage, num_gpus, ...); `stage`: the driver's own instance, for tasks run in this process."""
        ...

    def model_workers(self, num_gpus: float | None) -> int:
        """How many model-holding workers a fanned-out call is cut for (each asking `num_gpus`)."""
        ...

    def describe(self) -> dict[str, Any]:
        ...

    def close(self) -> None:
        ...


EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class ExecutorSpec:
    """Where parts run: `local` worker processes (workers None: every core) or a `ray` cluster (None: its CPUs)."""

    name: str = "local"
    workers: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in EXECUTORS:
            raise UsageError(f"unknown executor {self.name!r}: use local or ray")
        w = self.workers
        if w is not None and (not isinstance(w, int) or isinstance(w, bool) or w < 1):
            raise UsageError(f"workers must be a whole number >= 1, got {w!r}")
        if self.address and self.name != "ray":
            raise UsageError(f"an address ({self.address}) is the address of a Ray cluster",
                             hint="use it with --executor ray (or executor: {name: ray, address: ...})")

    @classmethod
    def of(cls, value: ExecutorSpec | dict[str, Any] | str | None) -> ExecutorSpec:
        """From a recipe's or a flow parameter's form: a name, a {name, workers, address} mapping, or None."""
        if value is None or isinstance(value, ExecutorSpec):
            return value or cls()
        if isinstance(value, str):
            return cls(value)
        if not isinstance(value, dict) or set(value) - {f.name for f in dataclasses.fields(cls)}:
            raise UsageError(f"executor: expected {{name: local|ray, address: HOST:PORT, workers: N}}, got {value!r}")
        return cls(**value)

    def override(self, name: str | None = None, workers: int | None = None, address: str | None = None) -> ExecutorSpec:
        """The command line's --executor/--workers/--address on top (another executor drops the address)."""
        spec = self
        if name and name != spec.name:
            spec = dataclasses.replace(spec, name=name, address=None)
        if address:
            spec = dataclasses.replace(spec, name="ray" if name is None else spec.name, address=address)
        if workers is not None:
            spec = dataclasses.replace(spec, workers=workers)
        return spec

    def open(self) -> Executor:
        if self.name == "ray":
            return RayExecutor(self.address, self.workers)
        return LocalExecutor(self.workers)

    def summary(self) -> dict[str, Any]:
        """For run.json: the workers a local run gets when none are given."""
        workers = self.workers or (default_workers() if self.name == "local" else None)
        return {"name": self.name, "workers": workers, "address": self.address}


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS
        return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """Worker processes on this machine; the pool lives for the whole run so models stay loaded."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self._pool = None
        self._logs = None  # QueueListener re-logging the workers' records here

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "workers": self.workers}

    def model_workers(self, num_gpus: float | None) -> int:
        return self.workers

    def run(self, tasks: list[Task], on_done: Progress, resources: dict[str, Any] | None = None,
            stage: Any = None) -> list[dict]:
        """Results in task order. One worker, one task or a stage class defined inside a function (which
        cannot be sent to another process) run here, on the driver's own stage instance."""
        if self.workers == 1 or len(tasks) <= 1 or "<locals>" in tasks[0].stage_cls.__qualname__:
            out = []
            for t in tasks:
                out.append(run_task(t, stage))
                on_done(out[-1])
            return out
        from concurrent.futures import as_completed

        from concurrent.futures.process import BrokenProcessPool

        pool = self._get_pool()
        futures = {pool.submit(run_task, t): n for n, t in enumerate(tasks)}
        workers = dict(getattr(pool, "_processes", None) or {})  # pid -> Process, to name a dead one later
        results: list[dict | None] = [None] * len(tasks)
        try:
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                on_done(results[futures[fut]])
        except BrokenProcessPool:
            raise self._worker_died(tasks[0], workers) from None
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        return results  # type: ignore[return-value]

    def _worker_died(self, task: Task, workers: dict[int, Any]) -> WorkerDiedError:
        """A worker ended without finishing its task (kill -9, the OOM killer): say which step and part."""
        import signal

        self._pool.shutdown(wait=True, cancel_futures=True)  # the pool stops (SIGTERM) and reaps the others
        self._pool = None
        dead = {pid: p.exitcode for pid, p in workers.items() if p.exitcode is not None}
        died = tasks_of_dead_workers(Path(task.step_dir), dead)
        died.sort(key=lambda d: d[3] == -signal.SIGTERM)  # the pool itself stops the others with SIGTERM
        if died:
            phase, part, pid, code = died[0]
            how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 and -code in
                   signal.Signals._value2member_map_ else f"exit code {code}")
            what = f"part {part} ({phase})" if phase not in ("rows", "apply", "ingest") else f"part {part}"
            return WorkerDiedError(f"step {task.step} ({task.stage}): the worker process running {what} died "
                                   f"(pid {pid}, {how})")
        return WorkerDiedError(f"step {task.step} ({task.stage}): a worker process died while running its parts")

    def _get_pool(self):
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            from logging.handlers import QueueListener

            # spawn: a fresh interpreter per worker (fork would copy the driver's threads and locks)
            ctx = mp.get_context("spawn")
            queue = ctx.Queue()
            self._logs = QueueListener(queue, _Relog())
            self._logs.start()
            level = min(logging.getLogger().getEffectiveLevel(), log.getEffectiveLevel())
            import threading

            main_thread = threading.current_thread() is threading.main_thread()  # see worker.die_with_parent
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=init_worker,
                                             initargs=(threads_per_worker(self.workers), queue, level, os.getpid(),
                                                       main_thread))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._logs is not None:
            self._logs.stop()
            self._logs = None


class _Relog(logging.Handler):
    """Hands a worker's log record to the driver's logger of the same name."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def threads_per_worker(workers: int) -> int:
    """Threads each worker's libraries (Polars, torch, BLAS) may use, so workers do not oversubscribe cores."""
    return max(1, default_workers() // max(1, workers))


class RayExecutor:
    """Ray tasks (and actors for model-holding steps) on a cluster; a local one when no address is given."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            import ray
        except ImportError:
            raise UsageError("the ray executor needs Ray: pip install 'dsforge[ray]' "
                               "(or run with --executor local)") from None
        self.address = address
        if not ray.is_initialized():
            env = {"env_vars": {k: v for k, v in os.environ.items() if k in _FORWARD_ENV}}
            if address:
                ray.init(address=address, runtime_env=env, log_to_driver=False, configure_logging=False)
            else:
                ray.init(num_cpus=workers, runtime_env=env, log_to_driver=False, configure_logging=False,
                         include_dashboard=False)
            self._owns = True
        else:
            self._owns = False
        self.workers = workers or int(ray.cluster_resources().get("CPU", 1))
        self._actors: list[Any] = []
        self._actors_for: tuple[str, str] | None = None  # (step key, resources) the live actors were made for

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address or "local", "workers": self.workers}

    def run(self, tasks: list[Task], on_done: Progress, resources: dict[str, Any] | None = None,
            stage: Any = None) -> list[dict]:
        import ray

        if not tasks:
            return []
        resources = dict(resources or {})
        holds_model = resources.pop("actors", False)
        if resources.pop("gpus_if_any", False) and not ray.cluster_resources().get("GPU"):
            log.warning("%s: the cluster has no GPUs; its model workers run on CPU", tasks[0].step)
            resources.pop("num_gpus", None)
        if holds_model:
            return self._run_on_actors(tasks, on_done, resources)
        remote = ray.remote(_ray_run_task).options(max_retries=5, retry_exceptions=False, **_ray_resources(resources))
        refs = {remote.remote(t): n for n, t in enumerate(tasks)}
        results: list[dict | None] = [None] * len(tasks)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                results[refs[ref]] = ray.get(ref)
                on_done(results[refs[ref]])
        return results  # type: ignore[return-value]

    def _run_on_actors(self, tasks: list[Task], on_done: Progress, resources: dict[str, Any]) -> list[dict]:
        """Tasks on actors holding the stage (one model each). The actors of a step live until another step
        needs actors or the run ends: a stage that calls its model round after round (llm/fanout.py) keeps
        its engines loaded between rounds."""
        import ray
        from ray.util import ActorPool

        want = max(1, min(self.workers, len(tasks), int(resources.pop("max_actors", self.workers))))
        spec = (tasks[0].key, repr(sorted(resources.items())))
        if self._actors_for != spec:
            self._kill_actors()
            self._actors_for = spec
        if len(self._actors) < want:
            actor_cls = ray.remote(StageActor).options(max_restarts=-1, max_task_retries=5, **_ray_resources(resources))
            self._actors += [actor_cls.remote() for _ in range(want - len(self._actors))]
        pool = ActorPool(self._actors[:want])
        results: list[dict] = []
        for res in pool.map_unordered(lambda a, t: a.run.remote(t), tasks):
            results.append(res)
            on_done(res)
        results.sort(key=lambda r: r["part"])
        return results

    def model_workers(self, num_gpus: float | None) -> int:
        """The engines that fit when each asks for GPUs (GPUs / num_gpus), else the cluster's workers."""
        import ray

        total = float(ray.cluster_resources().get("GPU", 0)) if num_gpus else 0.0
        return max(1, int(total // num_gpus)) if total and num_gpus else self.workers

    def _kill_actors(self) -> None:
        import ray

        for a in self._actors:
            ray.kill(a)
        self._actors, self._actors_for = [], None

    def close(self) -> None:
        import ray

        self._kill_actors()
        if self._owns and ray.is_initialized():
            ray.shutdown()


_FORWARD_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DSFORGE_CACHE", "OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM",
                "PYTHONPATH")


def _ray_resources(res: dict[str, Any]) -> dict[str, Any]:
    known = {k: res[k] for k in ("num_cpus", "num_gpus", "memory") if k in res}
    custom = {k: v for k, v in res.items() if k not in known}
    return {**known, **({"resources": custom} if custom else {})}


def _ray_run_task(task: Task) -> dict:
    return run_task(task)


class StageActor:
    """A Ray actor holding one stage instance (its model) for all the parts it is given."""

    def run(self, task: Task) -> dict:
        return run_task(task)
