"""A Prefect 3 flow built from a recipe: one task per step, with Prefect's retries, logging and artifacts.

`dsforge run` goes through this flow. Run as a plain script it starts Prefect's temporary local server by
itself (no set-up). For schedules, `serve_recipe` (behind `dsforge serve RECIPE --cron "..."`) serves the
flow as a deployment; see README "Scheduling".

The tasks only wire runner.execute_step together: every byte a run writes comes from the same code
whether or not Prefect is in the loop. Task results are not cached by Prefect (the runner's own
fingerprints decide what is reused, across runs and processes).
"""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "dsforge")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry calls from offline machines
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")  # Prefect's 20 s is short on a loaded machine

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from dsforge.pipelines.recipe import load_recipe  # noqa: E402
from dsforge.pipelines.runner import (  # noqa: E402
    ExecutorSpec, RunPlan, StepOutcome, execute_step, format_summary, plan_run, run_plan)


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

        publish_step_artifacts(plan.step_dir(index), s)
    return outcome


def _execute_as_task(plan: RunPlan, index: int, prev_fingerprint: str | None) -> StepOutcome:
    step = plan.recipe.steps[index]
    t = run_step.with_options(
        name=f"{index:02d}-{step.id}", retries=step.retries, retry_delay_seconds=[5, 30, 120][: max(step.retries, 1)]
    )
    return t(plan, index, prev_fingerprint)


def recipe_display_name(recipe: str) -> str:
    """A recipe's own `name` (a shipped name, or the YAML's `name:`), never its full path."""
    from pathlib import Path

    import yaml

    path = Path(recipe)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            return str((yaml.safe_load(path.read_text()) or {}).get("name") or path.stem)
        except yaml.YAMLError:
            return path.stem
    return recipe


def _flow_run_name() -> str:
    from prefect.runtime import flow_run

    return recipe_display_name(str(flow_run.parameters.get("recipe", "recipe")))


@flow(name="dsforge-recipe", flow_run_name=_flow_run_name)
def recipe_flow(recipe: str, inputs: list[str] | None = None, out: str | None = None, sample: int | None = None,
                strict: bool = False, force: bool = False, progress: bool | None = None,
                executor: dict | None = None) -> dict:
    """Run a dsforge recipe (a shipped name or a YAML path) into a new run directory.

    executor: {name: local|ray, workers: N, address: HOST:PORT}; default: the recipe's, else every core here."""
    r = load_recipe(recipe, inputs)
    plan = plan_run(r, out, sample, strict, force, progress, ExecutorSpec(**(executor or r.executor)))
    get_run_logger().info("run directory: %s", plan.run_dir)
    summary = run_plan(plan, _execute_as_task)
    create_markdown_artifact(
        key="dsforge-run-summary",
        markdown=f"# dsforge run `{r.name}`\n\n```\n{format_summary(summary)}\n```\n",
        description=f"per-step rows in/kept/rejected for {plan.run_dir.name}",
    )
    from dsforge.flows.artifacts import publish_run_artifacts

    publish_run_artifacts(summary)
    return summary


def serve_recipe(recipe: str, cron: str | None = None, interval: float | None = None, name: str | None = None,
                 inputs: list[str] | None = None, out: str | None = None, executor: dict | None = None,
                 sample: int | None = None, force: bool = False, limit: int | None = None) -> None:
    """Serve the recipe's flow as a deployment on a schedule (blocks; needs a Prefect API, see README).
    `limit`: at most that many runs of it at once (a slow run is not overlapped by the next one)."""
    r = load_recipe(recipe, inputs)  # validate before serving
    recipe_flow.serve(
        name=name or r.name,
        cron=cron,
        interval=interval,
        parameters={"recipe": str(r.path), "inputs": inputs, "out": out, "executor": executor, "sample": sample,
                    "force": force},
        tags=["dsforge"],
        limit=limit,
    )


def deployment(recipe: str, cron: str, name: str | None = None, out: str | None = None):
    """A RunnerDeployment object for the recipe (for prefect.serve() of several recipes at once)."""
    r = load_recipe(recipe)
    return recipe_flow.to_deployment(name=name or r.name, cron=cron, parameters={"recipe": str(r.path), "out": out})
