"""Prefect as its users expect: tagged flow runs and tasks, link and table artifacts with keys per recipe,
deployments with absolute paths, and one piece of advice when no server is configured."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
import yaml

RECIPE = {"inputs": [{"path": "data:alpaca_libre_v1.jsonl", "mapping": "alpaca", "limit": 40}],
          "stages": [{"stage": "inspect", "id": "inspect-raw", "verb_sample": 5}, {"stage": "exact-dedup", "fields": ["prompt"]},
                     {"stage": "save"}]}


def _recipe(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **RECIPE}))
    return str(path)


@pytest.mark.slow
def test_flow_runs_and_tasks_are_tagged_and_artifacts_are_per_recipe(prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client

    from dsforge.flows.recipe_flow import run_recipe_flow
    from dsforge.pipelines.core.executors import ExecutorSpec
    from dsforge.pipelines.core.recipe import load_recipe

    out, one = str(tmp_path / "runs"), ExecutorSpec(workers=1)
    first = run_recipe_flow(load_recipe(_recipe(tmp_path, "tag-one")), out=out, progress=False, executor=one)
    second = run_recipe_flow(load_recipe(_recipe(tmp_path, "tag-two")), out=out, progress=False, executor=one)
    assert first["status"] == second["status"] == "ok"

    async def read():
        async with get_client() as client:
            return (await client.read_flow_runs(), await client.read_task_runs(),
                    {a.key: a for a in await client.read_artifacts() if a.key})

    flows, tasks, artifacts = anyio.run(read)
    run = next(f for f in flows if f.name == "tag-one")
    assert {"dsforge", "recipe:tag-one", "stage:ingest", "stage:inspect", "stage:exact-dedup", "stage:save",
            "executor:local"} <= set(run.tags)
    dedup = next(t for t in tasks if t.name.startswith("02-exact-dedup") and "recipe:tag-one" in t.tags)
    assert {"stage:exact-dedup", "step:exact-dedup", "executor:local"} <= set(dedup.tags)
    # the same step name in two recipes: two artifacts, not one shared history
    assert {"dsforge-tag-one-inspect-inspect-raw", "dsforge-tag-two-inspect-inspect-raw"} <= set(artifacts)
    report = artifacts["dsforge-tag-one-inspect-inspect-raw-report"]
    assert report.type == "markdown" and "report.html" in str(report.data)  # a link artifact (stored as markdown)
    steps = artifacts["dsforge-tag-one-steps"]
    assert steps.type == "table"
    table = steps.data if isinstance(steps.data, list) else __import__("json").loads(steps.data)
    assert [r["step"] for r in table] == [s["step"] for s in first["steps"]]
    assert [r["kept"] for r in table] == [s["kept"] for s in first["steps"]]
    for part in ("rejects", "dataset", "report-0", "rejects-by-reason"):
        assert f"dsforge-tag-two-{part}" in artifacts
    assert "dsforge-run-summary" not in artifacts  # no key shared by every recipe


def test_deployments_get_absolute_paths_and_tags(tmp_path, monkeypatch):
    from dsforge.flows.recipe_flow import absolute_parameters, deployment

    monkeypatch.chdir(tmp_path)
    Path("reward.yaml").write_text(yaml.safe_dump({"name": "rel", **RECIPE}))
    dep = deployment("reward.yaml", cron="0 3 * * *", out="runs")
    assert dep.parameters["recipe"] == str(tmp_path / "reward.yaml")
    assert dep.parameters["out"] == str(tmp_path / "runs")
    assert {"dsforge", "recipe:rel", "stage:inspect", "executor:local"} <= set(dep.tags)
    params = absolute_parameters(Path("reward.yaml"), ["raw/a.jsonl", "data:seed_tasks.jsonl", "-"], None)
    assert params["inputs"] == [str(tmp_path / "raw" / "a.jsonl"), "data:seed_tasks.jsonl", "-"]
    assert params["out"] == str(tmp_path / "runs")  # the default out, where `dsforge serve` was started


def test_no_server_advice_is_given_once(tmp_path, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dsforge.flows.recipe_flow import no_server_notice

    monkeypatch.setenv("DSFORGE_CACHE", str(tmp_path / "cache"))
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert no_server_notice() is None  # a configured server: nothing to say
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        first, second = no_server_notice(), no_server_notice()
    assert "prefect server start" in first and "PREFECT_API_URL=http://127.0.0.1:4200/api" in first
    assert "--no-prefect" in first and second is None
