"""Issue 34, bad input: each case ends in one exact outcome (a reject with its reason, or one error line plus
a hint and exit 2), never a traceback, a hang or silently wrong data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.readers import DataError, InputSpec, read_inputs
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import read_table

DSFORGE = Path(sys.executable).with_name("dsforge")
ROW = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [ln for ln in err.splitlines() if not ln.startswith("INFO")]


def stage(tmp_path, capsys, path: Path | str, *extra: str) -> tuple[int, list[str]]:
    return cli(capsys, "stage", "exact-dedup", "--input", str(path), "--out", str(tmp_path / "runs"),
               "--workers", "1", *extra)


def recipe_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.yaml"
    p.write_text(text)
    return p


# ---------------------------------------------------------------- ids


def test_duplicate_ids_in_one_input_keep_the_first_and_reject_the_others(tmp_path):
    rows = [{**ROW, "id": "x1"}, {**ROW, "id": "x2", "output": "Red."}, {**ROW, "id": "x1", "output": "Green."},
            {**ROW, "id": 7, "output": "Gold."}, {**ROW, "id": "7", "output": "Grey."}]
    src = jsonl(tmp_path / "dup.jsonl", rows)
    for workers in (1, 2):
        data = {"name": "ids", "inputs": [{"path": str(src), "mapping": "alpaca"}],
                "stages": [{"stage": "length-filter", "field": "response", "min_chars": 1}]}
        summary = run_recipe(build_recipe(data), tmp_path / f"w{workers}", executor=ExecutorSpec(workers=workers))
        run = Path(summary["run_dir"])
        kept = read_table(run / "stages/01-length-filter")
        assert kept.select("id", "response").rows() == [("x1", "Blue."), ("x2", "Red."), ("7", "Gold.")]
        rejected = pl.read_parquet(run / "rejected.parquet")
        assert rejected.select("id", "reason", "detail").rows() == [
            ("dup:line3", "ingest:duplicate_id", "dup.jsonl line 3: id 'x1' is already the id of dup.jsonl line 1"),
            ("dup:line5", "ingest:duplicate_id", "dup.jsonl line 5: id '7' is already the id of dup.jsonl line 4"),
        ]


def test_duplicate_ids_under_strict_are_an_error_naming_both_rows(tmp_path, capsys):
    src = jsonl(tmp_path / "dup.jsonl", [{**ROW, "id": "x1"}, {**ROW, "id": "x1", "output": "Green."}])
    code, err = stage(tmp_path, capsys, src, "--strict", "--mapping", "alpaca")
    assert code == 2
    assert err == ["error: dup.jsonl line 2: id 'x1' is already the id of dup.jsonl line 1",
                   "hint: fix or replace the input the message names (without --strict, bad rows are rejected, not fatal)"]


# ---------------------------------------------------------------- files that are not what they say


def test_a_parquet_file_holding_json_is_one_error(tmp_path, capsys):
    fake = tmp_path / "fake.parquet"
    fake.write_text(json.dumps(ROW) + "\n")
    code, err = stage(tmp_path, capsys, fake)
    assert code == 2
    assert err[0] == (f"error: {fake}: cannot be read as a Parquet file (ArrowInvalid: Parquet magic bytes not found "
                      "in footer. Either the file is corrupted or this is not a parquet file.)")


def test_a_truncated_parquet_file_is_one_error(tmp_path, capsys):
    whole = tmp_path / "whole.parquet"
    pl.DataFrame([ROW] * 2000).with_row_index("n").with_columns(pl.col("n").cast(pl.String).alias("output")) \
        .drop("n").write_parquet(whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, err = stage(tmp_path, capsys, cut)
    assert code == 2 and err[0].startswith(f"error: {cut}: cannot be read as a Parquet file (ArrowInvalid: ")


def test_a_symlink_loop_is_one_error(tmp_path, capsys):
    (tmp_path / "a.jsonl").symlink_to(tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "a.jsonl")
    code, err = stage(tmp_path, capsys, tmp_path / "a.jsonl")
    assert code == 2
    assert err[0] == (f"error: recipe: inputs: {tmp_path}/a.jsonl: a symbolic link that leads nowhere "
                      "(a loop, or its target is missing)")
    with pytest.raises(DataError, match="a symbolic link that leads nowhere"):
        read_inputs([InputSpec(path=str(tmp_path / "a.jsonl"))])


@pytest.mark.parametrize("files, problem", [
    ({"dataset_dict.json": "{}"}, "KeyError: 'splits'"),
    ({"dataset_info.json": '{"x": 1}', "state.json": "{}"}, "KeyError: '_data_files'"),
])
def test_a_fake_saved_hf_folder_is_one_error(tmp_path, capsys, files, problem):
    folder = tmp_path / "hfdir"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    code, err = stage(tmp_path, capsys, folder)
    assert code == 2 and err[0] == f"error: {folder}: cannot be read as a saved HF dataset ({problem})"


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_device_or_fifo_is_refused_without_hanging(tmp_path, kind):
    path = Path(kind) if kind.startswith("/") else tmp_path / "pipe.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    res = subprocess.run([str(DSFORGE), "stage", "exact-dedup", "--input", str(path), "--out", str(tmp_path / "o"),
                          "--workers", "1"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.splitlines()[0] == (f"error: {path}: not a regular file or folder (a pipe, socket or device); "
                                          "give a file")


def test_a_csv_with_two_columns_of_one_name_is_an_error_naming_both(tmp_path, capsys):
    src = tmp_path / "two.csv"
    src.write_text("instruction,instruction,output\na,b,c\n")
    code, err = stage(tmp_path, capsys, src)
    assert code == 2
    assert err[0] == ("error: two.csv line 1 (the header): columns 1 and 2 are both named 'instruction'; rename one "
                      "(a row can hold only one value per name)")


def test_one_field_size_limit_for_csv_and_jsonl(tmp_path, monkeypatch):
    big = "a" * 200_000  # over the csv module's default 131,072, far under the limit: read in both formats
    (tmp_path / "big.csv").write_text(f"instruction,output\n{big},b\nshort,c\n")
    jsonl(tmp_path / "big.jsonl", [{"instruction": big, "output": "b"}, {"instruction": "short", "output": "c"}])
    for name in ("big.csv", "big.jsonl"):
        res = read_inputs([InputSpec(path=str(tmp_path / name), mapping="alpaca")])
        assert res.kept["instruction"].to_list() == [big, "short"] and res.rejected.height == 0
    from dsforge.pipelines.core.readers import formats

    monkeypatch.setattr(formats, "MAX_FIELD_CHARS", 100_000)  # the same rule at a size a test can write
    for name, line, what in (("big.csv", 2, "a field"), ("big.jsonl", 1, "a line")):
        res = read_inputs([InputSpec(path=str(tmp_path / name), mapping="alpaca")])
        assert res.kept["instruction"].to_list() == ["short"]
        assert res.rejected.select("reason", "detail").rows() == [
            ("ingest:too_large", f"{name} line {line}: {what} longer than 100,000 characters, the limit for one CSV "
                                 "field or JSONL line")]


# ---------------------------------------------------------------- recipes


@pytest.mark.parametrize("text, message", [
    ("name: x\nstages: " + "[" * 20000 + "]" * 20000 + "\n", "r.yaml: nested too deeply to be a recipe"),
    ("name: " + "a" * 300 + "\nstages: []\n", "r.yaml: name: 300 characters (aaaaaaaaaaaaaaaaaaaa...); at most 100, "
                                               "because it names the run folder"),
    ("name: s\nseed: 1e26\nstages: []\n", "r.yaml: seed: expected a whole number, got '1e26'"),
    ("name: s\nseed: 100000000000000000000000000\nstages: []\n",
     "r.yaml: seed: expected a whole number from 0 to 2**63-1, got 100000000000000000000000000"),
    ("name: s\nstages: [{stage: exact-dedup}]\nstages: [{stage: length-filter}]\n",
     "r.yaml: not valid YAML: key 'stages' is given twice (first at line 2) in \"<unicode string>\", line 3, "
     "column 1: stages: [{stage: length-filter}] ^"),
    ("name: s\nstages: [{stage: length-filter, field: response, field: prompt}]\n", "key 'field' is given twice"),
    ("name: s\ninputs: [{path: 'data:alpaca_libre_v1.jsonl'}]\nstages: [{stage: split, fractions: {train: .nan, test: 0.5}}]\n",
     "r.yaml: stages[1] (split): stage 'split': fractions: Value error, fractions: train is nan; give finite numbers"),
])
def test_recipe_mistakes_are_one_line(tmp_path, capsys, text, message):
    code, err = cli(capsys, "validate", str(recipe_file(tmp_path, text)))
    assert code == 2 and message in err[0] and len(err) == 2
    assert err[0].startswith(f"error: {tmp_path}/r.yaml: ")
    assert err[1].startswith("hint: fix the recipe, then check it with: dsforge validate RECIPE")


def test_save_output_dir_pointing_at_a_file(tmp_path, capsys):
    src = jsonl(tmp_path / "in.jsonl", [ROW])
    target = tmp_path / "taken.txt"
    target.write_text("mine")
    text = yaml.safe_dump({"name": "s", "inputs": [{"path": str(src), "mapping": "alpaca"}],
                           "stages": [{"stage": "save", "output_dir": str(target)}]})
    code, err = cli(capsys, "run", str(recipe_file(tmp_path, text)), "--no-prefect", "--out", str(tmp_path / "o"))
    assert code == 2 and err[0] == f"error: output_dir: {target} is a file; give a folder (it is replaced by the dataset)"
    assert target.read_text() == "mine"


def test_a_folder_as_the_recipe(tmp_path, capsys):
    code, err = cli(capsys, "run", str(tmp_path), "--no-prefect")
    assert code == 2 and err == [
        f"error: {tmp_path}: is a folder, not a recipe file",
        "hint: give a recipe YAML file or a shipped recipe name (dsforge recipes lists them)"]


@pytest.mark.parametrize("value, problem", [
    ('!!python/object/apply:os.system ["echo hi"]', "could not determine a constructor for the tag "
                                                    "'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("[a", "while parsing a flow sequence"),
])
def test_param_that_is_not_plain_yaml(tmp_path, capsys, value, problem):
    src = jsonl(tmp_path / "in.jsonl", [ROW])
    code, err = stage(tmp_path, capsys, src, "--param", f"fields={value}")
    assert code == 2 and err[0].startswith(f"error: --param fields: not valid YAML: {problem}")
    assert err[1] == "hint: VALUE is plain YAML: --param min_chars=10, --param fields=[prompt,response] (dsforge stages NAME)"
    assert not (tmp_path / "runs").exists()


def test_completion_into_a_closed_pipe(tmp_path):
    res = subprocess.run(f"{DSFORGE} completion bash | head -1", shell=True, capture_output=True, text=True, timeout=60)
    assert res.stdout.startswith("# dsforge bash completion") and res.stderr == ""


def test_zero_rows_at_save_refuses_clearly_and_the_run_is_failed(tmp_path, capsys):
    src = jsonl(tmp_path / "in.jsonl", [ROW, {**ROW, "output": "Red."}])
    text = yaml.safe_dump({"name": "zero", "inputs": [{"path": str(src), "mapping": "alpaca"}],
                           "stages": [{"stage": "length-filter", "field": "response", "min_chars": 1000},
                                      {"stage": "save"}]})
    code, err = cli(capsys, "run", str(recipe_file(tmp_path, text)), "--no-prefect", "--out", str(tmp_path / "o"))
    assert code == 2 and err == [
        "error: 02-save: 0 rows reached this step; there is no dataset to write",
        "hint: see why in RUN/rejected.parquet (or dsforge review RUN) and loosen the step that dropped them"]
    run = json.loads(next((tmp_path / "o").glob("zero-*/run.json")).read_text())
    assert run["status"] == "failed" and [s["kept"] for s in run["steps"]] == [2, 0]


def test_zero_rows_with_columns_publish_an_empty_dataset(tmp_path):
    import datasets

    src = jsonl(tmp_path / "in.jsonl", [ROW])
    data = {"name": "empty", "inputs": [{"path": str(src), "mapping": "alpaca"}],
            "stages": [{"stage": "length-filter", "field": "response", "min_chars": 1000},
                       {"stage": "save", "columns": ["id", "instruction", "response"]}]}
    summary = run_recipe(build_recipe(data), tmp_path / "o", executor=ExecutorSpec(workers=1))
    assert summary["status"] == "ok"
    dd = datasets.load_from_disk(str(Path(summary["dataset"]) / "hf"))
    assert {s: (len(d), d.column_names) for s, d in dd.items()} == {"train": (0, ["id", "instruction", "response"])}


# ---------------------------------------------------------------- errors from outside: Prefect, a backend


def test_an_unreachable_prefect_api_says_what_to_do(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", [ROW])
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_HOME": str(tmp_path / "ph")}
    res = subprocess.run([str(DSFORGE), "stage", "exact-dedup", "--input", str(src), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0  # `stage` never needs Prefect
    res = subprocess.run([str(DSFORGE), "run", "alpaca-sft", "--input", str(src), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[-2:] == ["error: Failed to reach API at http://127.0.0.1:9/api/ (PREFECT_API_URL)",
                                            "hint: start the server (prefect server start) or use --no-prefect"]


def test_a_missing_api_key_is_one_line_and_a_traceback_only_with_v(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DSFORGE_NO_SUCH_KEY", raising=False)
    src = jsonl(tmp_path / "in.jsonl", [ROW])
    model = "model={backend: openai, model: m, api_key_env: DSFORGE_NO_SUCH_KEY}"
    code, err = cli(capsys, "stage", "judge", "--input", str(src), "--out", str(tmp_path / "o"), "--param", model)
    assert code == 2 and err == [
        "error: openai backend: no base_url and $DSFORGE_NO_SUCH_KEY is not set. Export the key "
        "(export DSFORGE_NO_SUCH_KEY=...) or point base_url at a local server (e.g. `vllm serve MODEL` then "
        "base_url: http://localhost:8000/v1)",
        "hint: fix the backend settings as the message says (docs/backends.md), then run again: finished steps are reused"]
    assert main(["stage", "judge", "--input", str(src), "--out", str(tmp_path / "o"), "--param", model, "-v"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "BackendFatalError" in err
