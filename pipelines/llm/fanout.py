"""Generation spread over a step's model workers, for stages that must decide in one place.

self-instruct and topic-tree grow a pool: which candidate is new depends on every candidate accepted
before it, so the pool and its ROUGE-L filter stay in one process (the driver, `table` execution). Their
generation does not: each round's conversations are cut into one contiguous slice per model worker and
run there as `generate` tasks (worker.py), on the executor of the run — a local worker process holding
one model, or a Ray actor holding one engine (`resources: {num_gpus: 1}`). The answers come back in
order, so the driver accepts candidates in the same order whatever the number of workers, and each
request keeps its own seed (seed + completion index, backends/base.py): 1 worker and N workers give the
same rows. Each worker's backend sits behind the response cache, so every answer is on disk the moment
it returns (a killed step re-sends nothing it already has).

    fan = stage.fan_out(run)              # step_modes._table, for a `fans_out` stage: GenerationFan(run)
    ctx.extras["fanout"] = fan            # LLMStage.backend then hands out FanOutBackends
    worker: stage.run_fanned(task)        # generate_slice below, on the worker's own stage instance

Not here: running tasks (executors.py, worker.py).
"""

from __future__ import annotations

import math
import os
from typing import Any

from dsforge.pipelines.core.plan import StepRun
from dsforge.pipelines.core.worker import Task
from dsforge.pipelines.llm.config import BackendConfig, SamplingParams
from dsforge.pipelines.llm.seam import Generation, Messages, UsageCounter, generate_rows, usage_stats


class GenerationFan:
    """Sends slices of one generate call to the model workers of a step; picklable it is not (driver only)."""

    def __init__(self, run: StepRun):
        self.run = run
        self.calls = 0  # generate calls fanned out (stats)
        self.pids: set[tuple[str, int]] = set()  # the (host, process) of every worker that generated

    def resources(self) -> dict[str, Any]:
        return self.run.resources(actors=True)

    def workers(self) -> int:
        """How many model workers a call is cut for: the local pool's size, or on Ray the engines that fit."""
        return max(1, self.run.executor.model_workers(self.resources().get("num_gpus")))

    def stats(self) -> dict[str, int]:
        return {"fanout_calls": self.calls, "model_workers": len(self.pids)} if self.calls else {}

    def backend(self, key: str, asked: BackendConfig | None, config: BackendConfig) -> "FanOutBackend":
        """`asked`: the config the stage named for `key` (None: the main model), passed on to the workers;
        `config`: the one that answers (its budget is checked here, per call)."""
        return FanOutBackend(self, key, asked, config)

    def generate(self, backend: "FanOutBackend", conversations: list[Messages],
                 params: SamplingParams) -> list[list[Generation]]:
        if not conversations:
            return []
        n = min(self.workers(), len(conversations))
        size = -(-len(conversations) // n)
        slices = [conversations[s:s + size] for s in range(0, len(conversations), size)]
        tasks = [self.run.task("generate", self.calls * 10_000 + k,
                               arg={"conversations": sl, "params": params, "key": backend.key, "config": backend.asked})
                 for k, sl in enumerate(slices)]
        self.calls += 1
        results = self.run.executor.run(tasks, lambda info: None, self.resources(), self.run.stage)
        results = sorted(results, key=lambda r: r["part"])
        out: list[list[Generation]] = []
        for r in results:
            out.extend([Generation(**g) for g in gens] for gens in r["generations"])
            backend.add_usage(r["usage"])
            backend.described = r["describe"]
            self.pids.add((r.get("host", ""), r["pid"]))
        return out


def generate_slice(stage: Any, task: Task) -> dict[str, Any]:
    """The worker side: one slice of conversations on this worker's model (the stage instance's own backend,
    behind the response cache); the generations go back to the driver as dicts, with this slice's usage."""
    a = task.arg
    backend = stage.backend(task.ctx, a["key"], a["config"])
    before = usage_stats(backend)
    gens = generate_rows(backend, a["conversations"], a["params"], progress=False, errors="reject",
                         budget_usd=math.inf, desc=f"{task.stage} slice {task.part}")  # the budget: in the driver
    return {"part": task.part, "generations": [[g.as_dict() for g in gs] for gs in gens],
            "usage": usage_stats(backend, since=before), "describe": backend.describe(), "pid": os.getpid(),
            "host": os.uname().nodename, "rows_in": 0}


class FanOutBackend:
    """The seam.Backend a stage sees in the driver: `generate` runs on the model workers (GenerationFan);
    usage is what the workers counted; `describe()` is the workers' backend's own."""

    name = "fanout"
    requests_per_call = None  # one call per round: the fan cuts it per worker

    def __init__(self, fan: GenerationFan, key: str, asked: BackendConfig | None, config: BackendConfig):
        self.fan, self.key, self.asked, self.config, self.model_id = fan, key, asked, config, config.model
        self.usage = UsageCounter()
        self.described: dict[str, Any] | None = None

    def generate(self, conversations: list[Messages], params: SamplingParams) -> list[list[Generation]]:
        return self.fan.generate(self, conversations, params)

    def add_usage(self, delta: dict[str, Any]) -> None:
        u = self.usage
        u.calls += delta.get("llm_calls", 0)
        u.cache_hits += delta.get("llm_cache_hits", 0)
        u.prompt_tokens += delta.get("llm_prompt_tokens", 0)
        u.completion_tokens += delta.get("llm_completion_tokens", 0)
        u.cost_usd += delta.get("llm_cost_usd", 0.0)
        if delta.get("llm_errors"):
            u.extra["errors"] = u.extra.get("errors", 0) + delta["llm_errors"]

    def describe(self) -> dict[str, Any]:
        if self.described is None:
            return {"backend": self.config.backend, "model": self.model_id}
        return self.described

    def close(self) -> None:
        """Nothing to free here: the workers' stage instances close their own backends."""
