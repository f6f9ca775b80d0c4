"""Recipes, the runner and its run directories: validation, rejects, resume, partial batches, --sample."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import polars as pl
import pytest
import yaml

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.ingest import Ingest
from dsforge.pipelines.core.recipe import Recipe, Step, build_recipe, load_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageResult
from dsforge.pipelines.core.shards import read_table

ROWS = [
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    {"instruction": "name a   COLOUR.", "input": "", "output": "Red."},     # duplicate prompt after normalising
    {"instruction": "Say nothing.", "input": "", "output": ""},               # empty response
    {"instruction": "Add numbers.", "input": "2 and 3", "output": "5"},
    {"instruction": "Add numbers.", "input": "4 and 5", "output": "9"},      # same instruction, other input: kept
]


@pytest.fixture()
def toy(tmp_path) -> Path:
    p = tmp_path / "toy.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n" + "{not json\n")
    return p


def recipe_for(path: Path, extra_stages=None) -> dict:
    return {
        "name": "toy",
        "inputs": [{"path": str(path), "mapping": "alpaca", "source": "toy"}],
        "stages": [
            {"stage": "exact-dedup", "fields": ["prompt"]},
            {"stage": "length-filter", "field": "response", "min_chars": 1},
            *(extra_stages or []),
        ],
    }


def test_run_directory_layout_rejects_and_stats(toy, tmp_path):
    summary = run_recipe(build_recipe(recipe_for(toy, [{"stage": "save", "formats": ["hf", "parquet", "jsonl"]}])),
                         tmp_path / "runs")
    run = Path(summary["run_dir"])
    assert summary["status"] == "ok"
    assert [s["step"] for s in summary["steps"]] == ["ingest", "exact-dedup", "length-filter", "save"]
    assert [(s["rows_in"], s["kept"], s["rejected"]) for s in summary["steps"]] == [(6, 5, 1), (5, 4, 1), (4, 3, 1), (3, 3, 0)]
    for d in ("00-ingest", "01-exact-dedup", "02-length-filter", "03-save"):
        for f in ("kept/part-00000.parquet", "rejected/part-00000.parquet", "parts/00000.json", "stats.json"):
            assert (run / "stages" / d / f).exists(), (d, f)
    manifest = json.loads((run / "manifest.json").read_text())["inputs"][0]
    assert manifest["rows_read"] == 6 and manifest["rows_rejected"] == 1 and len(manifest["sha256"]) == 64
    rej = pl.read_parquet(run / "rejected.parquet")
    assert sorted(zip(rej["stage"], rej["reason"])) == [
        ("exact-dedup", "exact-dedup:duplicate"), ("ingest", "ingest:bad_json"), ("length-filter", "length-filter:too_short")]
    dup = rej.filter(pl.col("stage") == "exact-dedup")
    assert dup["id"][0] == "toy:line2" and dup["detail"][0] == "same text as toy:line1"
    assert rej.filter(pl.col("stage") == "length-filter")["detail"][0] == "response: 0 chars < min_chars 1"
    ds = datasets.load_from_disk(str(run / "dataset" / "hf"))["train"]  # always a DatasetDict (publish.py)
    assert ds["response"] == ["Blue.", "5", "9"]
    assert pl.read_parquet(run / "dataset" / "data" / "train" / "train-00000-of-00001.parquet").height == 3
    assert json.loads((run / "run.json").read_text())["dataset"] == str(run / "dataset")
    recipe_copy = yaml.safe_load((run / "recipe.yaml").read_text())
    assert recipe_copy["stages"][1]["min_chars"] == 1


def test_inputs_are_never_modified(toy, tmp_path):
    before = toy.read_bytes()
    run_recipe(build_recipe(recipe_for(toy)), tmp_path / "runs")
    assert toy.read_bytes() == before


def test_second_run_recomputes_nothing_and_a_param_change_recomputes_from_there(toy, tmp_path):
    out = tmp_path / "runs"
    first = run_recipe(build_recipe(recipe_for(toy)), out)
    second = run_recipe(build_recipe(recipe_for(toy)), out)
    assert second["run_dir"] != first["run_dir"]  # every run gets its own folder
    assert all(s["reused_from"] for s in second["steps"])
    assert [s["kept"] for s in second["steps"]] == [s["kept"] for s in first["steps"]]
    changed = recipe_for(toy)
    changed["stages"][1]["min_chars"] = 2
    third = run_recipe(build_recipe(changed), out)
    assert [bool(s["reused_from"]) for s in third["steps"]] == [True, True, False]
    assert third["steps"][2]["kept"] == 1  # "5" and "9" are one char long: only "Blue." stays
    # The first run's files are untouched by the reuse (hard links, stats.json rewritten separately).
    first_stats = json.loads((Path(first["run_dir"]) / "stages/01-exact-dedup/stats.json").read_text())
    assert first_stats["reused_from"] is None
    # Changing the input file recomputes everything.
    toy.write_text(toy.read_text() + json.dumps({"instruction": "New.", "input": "", "output": "Row."}) + "\n")
    fourth = run_recipe(build_recipe(recipe_for(toy)), out)
    assert not any(s["reused_from"] for s in fourth["steps"])
    assert fourth["steps"][0]["kept"] == 6


class FlakyConfig(StageConfig):
    fail_at_batch: int = -1


class Flaky(Stage[FlakyConfig]):
    """Uppercases responses in batches of 2; crashes at one batch when told to."""

    name = "flaky"
    Config = FlakyConfig
    mode = "rows"
    batch_size = 2
    calls: list[str] = []

    def process(self, df, ctx):
        Flaky.calls.append(df["id"][0])
        if len(Flaky.calls) - 1 == self.config.fail_at_batch:
            raise RuntimeError("boom")
        return StageResult(kept=df.with_columns(pl.col("response").str.to_uppercase()), stats={"batches": 1})


def test_crash_mid_stage_keeps_finished_batches_and_earlier_steps(toy, tmp_path):
    out = tmp_path / "runs"
    ingest = Ingest({"inputs": [{"path": str(toy), "mapping": "alpaca", "source": "toy"}]})
    Flaky.calls = []
    crashing = Recipe(name="flaky", steps=[Step("ingest", ingest), Step("flaky", Flaky({"fail_at_batch": 2}))])
    with pytest.raises(RuntimeError, match="boom"):
        run_recipe(crashing, out, executor=ExecutorSpec(workers=1))  # in this process: Flaky.calls counts
    crashed_run = sorted(out.glob("flaky-*"))[0]
    run_json = json.loads((crashed_run / "run.json").read_text())
    assert run_json["status"] == "failed" and "boom" in run_json["error"]
    assert (crashed_run / "stages/00-ingest/stats.json").exists()          # earlier output intact
    assert not (crashed_run / "stages/01-flaky/stats.json").exists()        # unfinished step not marked done
    assert Flaky.calls == ["toy:line1", "toy:line3", "toy:line5"]  # batches of 2 over 5 rows
    # Same config, hence same fingerprint; pre-filled calls make the resumed batch index differ from 2.
    resumed = Recipe(name="flaky", steps=[Step("ingest", ingest), Step("flaky", Flaky({"fail_at_batch": 2}))])
    Flaky.calls = ["already", "counted", "twice"]
    summary = run_recipe(resumed, out, executor=ExecutorSpec(workers=1))
    assert summary["steps"][0]["reused_from"]
    assert Flaky.calls[3:] == ["toy:line5"]  # only the unfinished third batch ran again
    assert summary["steps"][1]["kept"] == 5
    kept = read_table(Path(summary["run_dir"]) / "stages/01-flaky")
    assert kept["response"].to_list() == ["BLUE.", "RED.", "", "5", "9"]


def test_sample_runs_on_a_seeded_subset(toy, tmp_path):
    a = run_recipe(build_recipe(recipe_for(toy)), tmp_path / "runs", sample=3)
    b = run_recipe(build_recipe(recipe_for(toy)), tmp_path / "runs2", sample=3)
    assert a["steps"][0]["kept"] == 3 and a["run_dir"].endswith("sample3")
    ids_a = read_table(Path(a["run_dir"]) / "stages/00-ingest")["id"].to_list()
    ids_b = read_table(Path(b["run_dir"]) / "stages/00-ingest")["id"].to_list()
    assert ids_a == ids_b and ids_a == sorted(ids_a, key=lambda i: int(i.split("line")[1]))
    full = run_recipe(build_recipe(recipe_for(toy)), tmp_path / "runs")
    assert not full["steps"][0]["reused_from"] and full["steps"][0]["kept"] == 5


def test_strict_run_fails_before_writing_later_steps(toy, tmp_path):
    with pytest.raises(Exception, match=r"toy\.jsonl line 6"):
        run_recipe(build_recipe(recipe_for(toy)), tmp_path / "runs", strict=True)


@pytest.mark.parametrize("change,message", [
    ({"stages": [{"stage": "exact-dedupe"}]}, r"stages\[1\] \(exact-dedupe\): unknown stage 'exact-dedupe'\. Did you mean exact-dedup"),
    ({"stages": [{"stage": "length-filter", "min_char": 3}]}, r"length-filter.*min_char: unknown parameter"),
    ({"stages": [{"stage": "length-filter", "min_chars": "three"}]}, r"min_chars: .*valid integer.*'three'"),
    ({"stages": [{"stage": "exact-dedup", "normalize": ["nfc"]}]}, r"normalize\.0"),
    ({"stages": [{"stage": "save"}, {"stage": "save"}]}, r"step id 'save' is used twice"),
    ({"stages": [{"stage": "ingest"}]}, r"do not list it under stages"),
    ({"stages": [{"min_chars": 1}]}, r"expected a mapping with a `stage:` key"),
    ({"outputs": "x"}, r"unknown keys \['outputs'\]"),
    ({"inputs": []}, r"no inputs"),
])
def test_recipe_errors_are_caught_before_any_work(toy, change, message):
    data = {**recipe_for(toy), **change}
    with pytest.raises(ConfigError, match=message):
        build_recipe(data)


def test_recipe_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ninputs: [a.jsonl\nstages: []\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_recipe(bad)
    with pytest.raises(ConfigError, match=r"recipe 'nope' not found.*alpaca-sft"):
        load_recipe("nope")


def test_shipped_recipes_validate():
    from dsforge.pipelines.core.recipe import shipped_recipes

    for name in shipped_recipes():
        r = load_recipe(name)
        assert r.steps[0].name == "ingest", name


def test_architecture_doc_example_stage_runs(tmp_path):
    """The 20-line example stage in docs/architecture.md works as printed."""
    doc = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    ns: dict = {}
    exec(compile(code, "architecture.md", "exec", dont_inherit=True), ns)  # as a reader runs it: no __future__ of ours
    stage = ns["KeywordDrop"]({"words": ["colour"]})
    df = records.from_rows([
        {"id": "a", "source": "s", "kind": "instruction", "instruction": "Name a colour", "response": "Blue"},
        {"id": "b", "source": "s", "kind": "instruction", "instruction": "Add numbers", "response": "5"},
    ])
    res = stage.process(df, None)
    assert res.kept["id"].to_list() == ["b"]
    assert res.rejected["reason"].to_list() == ["keyword-drop:keyword"]


@pytest.mark.parametrize("change,message", [
    ({"workers": 0}, r"recipe: workers must be a whole number >= 1, got 0"),
    ({"executor": {"name": "local", "workers": "2"}}, r"recipe: workers must be a whole number >= 1, got '2'"),
    ({"executor": "dask"}, r"recipe: unknown executor 'dask': use local or ray"),
    ({"executor": {"name": "local", "address": "h:1"}}, r"recipe: an address \(h:1\) is the address of a Ray cluster"),
    ({"executor": {"nodes": 2}}, r"recipe: executor: expected \{name: local\|ray"),
])
def test_the_executor_has_one_shape_checked_where_it_is_made(toy, change, message):
    """A recipe's `executor:`/`workers:`, the command line's flags and a flow's parameter all become one
    ExecutorSpec, checked once when it is made (here: the recipe's, named as a recipe error)."""
    with pytest.raises(ConfigError, match=message):
        build_recipe({**recipe_for(toy), **change})
    spec = build_recipe({**recipe_for(toy), "workers": 3}).executor
    assert spec == ExecutorSpec("local", 3) and spec.override(workers=1) == ExecutorSpec("local", 1)
    assert spec.override(address="head:6379") == ExecutorSpec("ray", 3, "head:6379")  # an address means Ray
    assert ExecutorSpec("ray", 2, "h:1").override(name="local") == ExecutorSpec("local", 2)
    assert ExecutorSpec.of({"name": "ray", "workers": 2}) == ExecutorSpec("ray", 2)


def test_local_and_ray_executors_are_the_one_executor_protocol():
    from dsforge.pipelines.core.executors import Executor, LocalExecutor, RayExecutor

    wanted = {"run", "model_workers", "describe", "close"}
    assert wanted <= {n for n in dir(Executor) if not n.startswith("_")}
    for cls in (LocalExecutor, RayExecutor):
        assert all(callable(getattr(cls, n, None)) for n in wanted), cls
    local = ExecutorSpec(workers=2).open()
    try:
        assert isinstance(local, Executor) and local.workers == 2 and local.model_workers(1.0) == 2
    finally:
        local.close()
