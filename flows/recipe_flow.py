"""A Prefect 3 flow built from a recipe: one task per step, with Prefect's retries, logging and artifacts.

`dsforge run` goes through this flow with the recipe it has loaded (`loaded_recipe_flow`: a recipe is loaded
once per run); a served deployment runs `recipe_flow`, which loads it by name. Run as a plain script it starts Prefect's temporary local server by
itself (no set-up). For schedules, `serve_recipe` (behind `dsforge serve RECIPE --cron "..."`) serves the
flow as a deployment; see README "Scheduling".

The tasks only wire runner.execute_step together: every byte a run writes comes from the same code
whether or not Prefect is in the loop. Task results are not cached by Prefect (the runner's own
fingerprints decide what is reused, across runs and processes). Importing this module changes no
environment variable: `run_flow` (what `dsforge run` calls) turns Prefect's telemetry off for the run,
and the flow itself sends the `dsforge` logger's records to Prefect.
"""

from __future__ import annotations

import logging

from prefect import flow, get_run_logger, tags, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

import dataclasses

from dsforge.pipelines.core.executors import ExecutorSpec
from dsforge.pipelines.core.recipe import Recipe, load_recipe
from dsforge.pipelines.core.runner import RunPlan, StepOutcome, execute_step, format_summary, plan_run, run_plan


def run_tags(recipe: Recipe, executor: ExecutorSpec | None = None) -> list[str]:
    """Tags for a recipe's flow runs and deployments: dsforge, the recipe, every stage it uses, the executor."""
    stages = dict.fromkeys(f"stage:{s.name}" for s in recipe.steps)
    return ["dsforge", f"recipe:{recipe.name}", *stages, f"executor:{(executor or recipe.executor).name}"]


@task(cache_policy=NO_CACHE, persist_result=False)
def run_step(plan: RunPlan, index: int, prev_fingerprint: str | None) -> StepOutcome:
    outcome = execute_step(plan, index, prev_fingerprint)
    s = outcome.stats
    get_run_logger().info(
        "%s: %s rows in, %s kept, %s rejected in %.2f s%s", s["step"], s["rows_in"], s["kept"], s["rejected"],
        s["seconds"], " (reused)" if s.get("reused_from") else "",
    )
    if s.get("stage") == "inspect":
        from dsforge.flows.artifacts import publish_step_artifacts

        publish_step_artifacts(plan.step_dir(index), s, recipe=plan.recipe.name)
    elif s.get("stage") == "ablate" and s.get("stage_stats"):
        from dsforge.flows.artifacts import publish_ablation_artifact

        publish_ablation_artifact(plan.run_dir.name, s["stage_stats"])
    return outcome


def _execute_as_task(plan: RunPlan, index: int, prev_fingerprint: str | None) -> StepOutcome:
    step = plan.recipe.steps[index]
    t = run_step.with_options(
        name=f"{index:02d}-{step.id}", retries=step.retries, retry_delay_seconds=[5, 30, 120][: max(step.retries, 1)],
        tags=["dsforge", f"recipe:{plan.recipe.name}", f"stage:{step.name}", f"step:{step.id}",
              f"executor:{plan.executor_spec.name}"],
    )
    return t(plan, index, prev_fingerprint)


def recipe_display_name(recipe: str | Recipe) -> str:
    """A recipe's own `name` (a shipped name, or the YAML's `name:`), never its full path."""
    from pathlib import Path

    import yaml

    if isinstance(recipe, Recipe):
        return recipe.name
    path = Path(recipe)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            return str((yaml.safe_load(path.read_text()) or {}).get("name") or path.stem)
        except yaml.YAMLError:
            return path.stem
    return recipe


def run_recipe_flow(recipe: Recipe, *, executor: ExecutorSpec | None = None, **params) -> dict:
    """What `dsforge run` calls with the recipe it loaded: the flow with its run tagged (run_tags) and no
    telemetry calls from Prefect's temporary server (offline machines)."""
    with temporary_settings(updates={PREFECT_SERVER_ANALYTICS_ENABLED: False}), tags(*run_tags(recipe, executor)):
        return loaded_recipe_flow(recipe=recipe, executor=executor, **params)


def _send_dsforge_logs_to_prefect() -> None:
    """What PREFECT_LOGGING_EXTRA_LOGGERS=dsforge does, at run time: the flow's and tasks' logs in Prefect
    include the runner's and the stages' own records (Prefect's `prefect.extra` handlers, added once)."""
    ours = logging.getLogger("dsforge")
    for handler in logging.getLogger("prefect.extra").handlers:
        if handler not in ours.handlers:
            ours.addHandler(handler)


def _flow_run_name() -> str:
    from prefect.runtime import flow_run

    recipe = flow_run.parameters.get("recipe", "recipe")  # a name or path, a Recipe, or its JSON form (a dict)
    if isinstance(recipe, dict):
        return str(recipe.get("name") or "recipe")
    return recipe_display_name(recipe if isinstance(recipe, Recipe) else str(recipe))


@flow(name="dsforge-recipe", flow_run_name=_flow_run_name)
def recipe_flow(recipe: str, inputs: list[str] | None = None, out: str | None = None, sample: int | None = None,
                strict: bool = False, force: bool = False, progress: bool | None = None,
                executor: dict | None = None) -> dict:
    """Run a dsforge recipe (a shipped name or a YAML path) into a new run directory (what a deployment runs).

    executor: {name: local|ray, workers: N, address: HOST:PORT}; default: the recipe's, else every core here."""
    r = load_recipe(recipe, inputs)
    return _run(r, out, sample, strict, force, progress, ExecutorSpec.of(executor) if executor else r.executor)


@flow(name="dsforge-recipe", flow_run_name=_flow_run_name, validate_parameters=False)
def loaded_recipe_flow(recipe: Recipe, out: str | None = None, sample: int | None = None, strict: bool = False,
                       force: bool = False, progress: bool | None = None, executor: ExecutorSpec | None = None) -> dict:
    """The same flow for a recipe loaded already (`dsforge run`): it is not loaded again."""
    return _run(recipe, out, sample, strict, force, progress, executor or recipe.executor)


def _run(r: Recipe, out: str | None, sample: int | None, strict: bool, force: bool, progress: bool | None,
         executor: ExecutorSpec) -> dict:
    _send_dsforge_logs_to_prefect()
    plan = plan_run(r, out, sample, strict, force, progress, executor)
    get_run_logger().info("run directory: %s", plan.run_dir)
    summary = run_plan(plan, _execute_as_task)
    get_run_logger().info("%s", format_summary(summary))
    from dsforge.flows.artifacts import publish_run_artifacts

    publish_run_artifacts(summary)
    return summary


NO_SERVER_NOTICE = (
    "note: no Prefect server is configured (PREFECT_API_URL is unset), so Prefect starts a temporary one for this run, "
    "which costs seconds to tens of seconds each time. To avoid it, keep one running: `prefect server start` in another "
    "shell, then `export PREFECT_API_URL=http://127.0.0.1:4200/api`; or run without Prefect: `dsforge run ... "
    "--no-prefect`. (Said once; `{marker}` remembers it.)")


def no_server_notice() -> str | None:
    """The one-time advice above when no Prefect API is configured, else None (shown once per user: a marker
    file in dsforge's cache folder)."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from dsforge.pipelines.llm.embedded import cache_dir

    marker = cache_dir() / "prefect-temporary-server-notice"
    if marker.exists():
        return None
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("shown\n")
    except OSError:
        pass  # a read-only cache: say it again next time rather than fail the run
    return NO_SERVER_NOTICE.format(marker=marker)


def absolute_parameters(recipe_path, inputs: list[str] | None, out: str | None) -> dict:
    """A deployment's paths made absolute: its runs start in the worker's folder, not the one `serve` ran in."""
    from pathlib import Path

    absolute = lambda p: p if p in (None, "-") or str(p).startswith("data:") else str(Path(p).resolve())  # noqa: E731
    return {"recipe": absolute(str(recipe_path)), "inputs": [absolute(i) for i in inputs] if inputs else inputs,
            "out": absolute(out) if out else str(Path("runs").resolve())}


def serve_recipe(recipe: Recipe, cron: str | None = None, interval: float | None = None, name: str | None = None,
                 inputs: list[str] | None = None, out: str | None = None, executor: ExecutorSpec | None = None,
                 sample: int | None = None, force: bool = False, limit: int | None = None) -> None:
    """Serve the recipe's flow as a deployment on a schedule (blocks; needs a Prefect API, see README).
    Each scheduled run loads the recipe file anew (it may have changed). `limit`: at most that many runs of
    it at once (a slow run is not overlapped by the next one)."""
    recipe_flow.serve(
        name=name or recipe.name,
        cron=cron,
        interval=interval,
        parameters={**absolute_parameters(recipe.path, inputs, out),
                    "executor": dataclasses.asdict(executor) if executor else None, "sample": sample, "force": force},
        tags=run_tags(recipe, executor),
        limit=limit,
    )


def deployment(recipe: str, cron: str, name: str | None = None, out: str | None = None):
    """A RunnerDeployment object for the recipe (for prefect.serve() of several recipes at once)."""
    r = load_recipe(recipe)
    return recipe_flow.to_deployment(name=name or r.name, cron=cron, parameters=absolute_parameters(r.path, None, out),
                                     tags=run_tags(r))
