"""The sharded runner: parts in parallel workers give the same rows as one process; the contract fails a
stage that loses rows; fingerprints see edited files; runs sharing an output folder do not collide; a
killed run is marked killed; the docs' example stage keeps rows whose field is null."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.recipe import Recipe, Step, build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import parts, read_table
from dsforge.pipelines.core.stage import Stage, StageConfig, StageResult
from dsforge.pipelines.core.worker import ContractError

DSFORGE = Path(sys.executable).with_name("dsforge")


def write_inputs(tmp_path: Path, external: Path, files: int = 3) -> list[Path]:
    """Real rows (alpaca-libre v2, malformed lines included) split over several files: several parts."""
    lines = (external / "alpaca_libre" / "alpaca_libre_tasks_v2.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    step = -(-len(lines) // files)
    for k in range(files):
        p = tmp_path / f"in{k}.jsonl"
        p.write_text("\n".join(lines[k * step:(k + 1) * step] + lines[:200]) + "\n", encoding="utf-8")  # copies
        out.append(p)
    return out


def chain(inputs: list[Path]) -> dict:
    return {"name": "chain", "inputs": [{"path": str(p), "mapping": "alpaca", "source": f"s{k}"} for k, p in enumerate(inputs)],
            "stages": [{"stage": "rules"}, {"stage": "clean-markup"}, {"stage": "quality-filter"},
                       {"stage": "exact-dedup", "fields": ["prompt", "response"]},
                       {"stage": "minhash-dedup", "threshold": 0.7},
                       {"stage": "length-filter", "field": "response", "min_chars": 1},
                       {"stage": "save", "formats": ["parquet"]}]}


def final(summary: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    run = Path(summary["run_dir"])
    last = sorted((run / "stages").iterdir())[-1]
    return read_table(last).sort("id"), pl.read_parquet(run / "rejected.parquet").sort("id")


def test_two_workers_give_the_rows_of_one(tmp_path, external):
    inputs = write_inputs(tmp_path, external)
    one = run_recipe(build_recipe(chain(inputs)), tmp_path / "a", executor=ExecutorSpec(workers=1))
    two = run_recipe(build_recipe(chain(inputs)), tmp_path / "b", executor=ExecutorSpec(workers=2))
    assert one["status"] == two["status"] == "ok"
    (k1, r1), (k2, r2) = final(one), final(two)
    assert k1.equals(k2) and r1.equals(r2)
    reasons = set(r1["reason"])
    assert {"ingest:bad_json", "exact-dedup:duplicate", "minhash-dedup:near_duplicate"} <= reasons
    ingest = two["steps"][0]
    assert ingest["parts"] == 3 and ingest["rows_in"] == ingest["kept"] + ingest["rejected"]
    steps = {s["step"]: s for s in two["steps"]}
    assert steps["exact-dedup"]["execution"] == "keyed" and steps["rules"]["execution"] == "rows"
    # save does not change rows: its kept parts are the previous step's files, hard-linked
    run = Path(two["run_dir"])
    save, before = sorted((run / "stages").iterdir())[-1], sorted((run / "stages").iterdir())[-2]
    assert [os.stat(p).st_ino for p in parts(save)] == [os.stat(p).st_ino for p in parts(before)]


class LoseNulls(Stage):
    """The bug the contract exists for: a filter whose mask is null on null fields drops those rows."""

    name = "lose-nulls"
    mode = "rows"
    batch_size = 100

    def process(self, df, ctx):
        bad = pl.col("input").str.len_chars() > 0
        return StageResult(kept=df.filter(~bad), rejected=self.reject(df.filter(bad), "has_input"))


def test_a_stage_that_loses_rows_fails_its_step_with_its_name(tmp_path):
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [
        {"instruction": "a", "input": "x", "output": "1"}, {"instruction": "b", "input": None, "output": "2"},
        {"instruction": "c", "input": "", "output": "3"}]))
    recipe = build_recipe({"name": "lossy", "inputs": [{"path": str(src), "mapping": "alpaca"}], "stages": []})
    recipe.steps.append(Step("lose-nulls", LoseNulls()))
    with pytest.raises(ContractError, match=r"stage 'lose-nulls' lost 1 of 3 input rows \(e.g. 'rows:line2'\)"):
        run_recipe(recipe, tmp_path / "runs")
    run_json = json.loads(next((tmp_path / "runs").glob("lossy-*/run.json")).read_text())
    assert run_json["status"] == "failed" and "ContractError" in run_json["error"]


def test_the_architecture_example_keeps_rows_with_a_null_field(tmp_path):
    doc = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    ns: dict = {}
    code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    exec(compile(code, "architecture.md", "exec", dont_inherit=True), ns)  # no __future__ of ours
    df = records.from_rows([{"id": "a", "source": "s", "kind": "document", "text": "a doc"},
                            {"id": "b", "source": "s", "kind": "instruction", "instruction": "Name a colour"}])
    res = ns["KeywordDrop"]({"words": ["colour"]}).process(df, None)
    assert res.kept["id"].to_list() == ["a"] and res.rejected["id"].to_list() == ["b"]


def test_an_edited_eval_file_or_template_recomputes_the_step(tmp_path):
    src = tmp_path / "rows.jsonl"
    q = "Please explain in some detail why the number {} is interesting to mathematicians and to other curious people"
    src.write_text("".join(json.dumps({"instruction": q.format(i), "output": f"Answer {i}."}) + "\n" for i in range(5)))
    ev = tmp_path / "eval.jsonl"
    ev.write_text(json.dumps({"instruction": "Something else entirely here", "output": "x"}) + "\n")
    tpl = tmp_path / "t.jinja"
    tpl.write_text("{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}")
    data = {"name": "fp", "inputs": [{"path": str(src), "mapping": "alpaca"}],
            "stages": [{"stage": "decontaminate", "eval_files": [str(ev)]},
                       {"stage": "chat-format", "template": str(tpl)}]}
    first = run_recipe(build_recipe(data), tmp_path / "runs")
    again = run_recipe(build_recipe(data), tmp_path / "runs")
    assert all(s["reused_from"] for s in again["steps"])
    tpl.write_text("{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}")
    third = run_recipe(build_recipe(data), tmp_path / "runs")
    assert [bool(s["reused_from"]) for s in third["steps"]] == [True, True, False]
    ev.write_text(json.dumps({"instruction": q.format(3), "output": "Answer 3."}) + "\n")
    fourth = run_recipe(build_recipe(data), tmp_path / "runs")
    assert [bool(s["reused_from"]) for s in fourth["steps"]] == [True, False, False]
    assert fourth["steps"][1]["rejected"] == 1 and first["steps"][1]["rejected"] == 0


def test_runs_into_the_same_out_folder_do_not_collide(tmp_path, external):
    inputs = write_inputs(tmp_path, external, files=2)
    recipe = tmp_path / "r.yaml"
    import yaml

    recipe.write_text(yaml.safe_dump(chain(inputs)))
    cmd = [str(DSFORGE), "run", str(recipe), "--no-prefect", "--quiet", "--force", "--workers", "1", "--out", str(tmp_path / "runs")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [r[1][-2000:] for r in results]
    runs = sorted((tmp_path / "runs").glob("chain-*"))
    assert len(runs) == 3
    tables = [read_table(sorted((r / "stages").iterdir())[-1]).sort("id") for r in runs]
    assert tables[0].equals(tables[1]) and tables[1].equals(tables[2])


def test_a_killed_run_is_marked_killed_and_its_parts_are_reused(tmp_path, external):
    inputs = write_inputs(tmp_path, external, files=3)
    data = chain(inputs)
    data["stages"].insert(0, {"stage": "language-filter", "languages": ["en"]})
    import yaml

    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(data))
    cmd = [str(DSFORGE), "run", str(recipe), "--no-prefect", "--quiet", "--workers", "1", "--out", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list((tmp_path / "runs").glob("chain-*/stages/01-language-filter/parts/*.json")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = next((tmp_path / "runs").glob("chain-*"))
    assert json.loads((killed / "run.json").read_text())["status"] == "running"  # nobody could say otherwise
    done_before = len(list((killed / "stages/01-language-filter/parts").glob("*.json")))
    summary = run_recipe(build_recipe(data), tmp_path / "runs", executor=ExecutorSpec(workers=1))
    assert json.loads((killed / "run.json").read_text())["status"] == "killed"
    assert summary["status"] == "ok" and summary["steps"][0]["reused_from"]
    assert done_before >= 1
