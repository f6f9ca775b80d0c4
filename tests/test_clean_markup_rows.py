"""clean-markup never leaves a row broken (issue 27), and removes the end-of-text debris T0 rows carry."""

from __future__ import annotations

import polars as pl

from dsforge.filters.markup import CleanMarkup, looks_like_code
from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.stage import StageContext


def clean(df: pl.DataFrame, tmp_path) -> pl.DataFrame:
    res = CleanMarkup({}).process(df, StageContext(work_dir=tmp_path))
    assert res.rejected.height == 0
    return res.kept


def test_end_of_text_tokens_are_removed_from_real_t0_answers(external, tmp_path):
    rt = read_inputs([InputSpec(path=str(external / "self_instruct_t0/rotten_tomatoes_Reviewer_Enjoyment.jsonl"),
                                mapping="prompt-completion", source="rt")]).kept.head(50)
    assert rt["response"].str.ends_with("<|endoftext|>").all()
    out = clean(rt, tmp_path)
    assert not out["response"].str.contains("<|endoftext|>", literal=True).any()
    assert set(out["response"]) <= {"They loved it", "They didn't like it"}
    assert all("response: end_tokens 1" in c for c in out["markup_changes"])


def test_cleaning_that_would_erase_what_the_task_is_about_keeps_the_row(tmp_path):
    # Damage class: a spacing task (no such row in the external sets; the shape of one).
    row = {"id": "r0", "source": "s", "kind": "instruction", "instruction": "Remove the extra spaces in this sentence.",
           "input": "The  cat   sat on the mat.", "response": "The cat sat on the mat."}
    out = clean(records.from_rows([row]), tmp_path).row(0, named=True)
    assert (out["input"], out["response"]) == (row["input"], row["response"])
    assert out["markup_changes"] == ["kept_as_is: cleaning would make input and response the same"]


def test_real_rows_are_not_broken_by_the_defaults(external, tmp_path):
    specs = [InputSpec(path=str(external / p), mapping=m, source=s) for p, m, s in [
        ("alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca", "libre"),
        ("gpteacher/codegen-instruct.json", "gpteacher", "codegen"),
        ("stanford_alpaca/seed_tasks.jsonl", "seed-tasks", "seeds")]]
    df = read_inputs(specs).kept
    out = clean(df, tmp_path)
    before = {r["id"]: r for r in df.iter_rows(named=True)}
    for r in out.iter_rows(named=True):
        b = before[r["id"]]
        if b["input"] and b["response"] and b["input"].strip() != b["response"].strip():
            assert r["input"] != r["response"], r["id"]            # a task never loses what it asks about
        if b["response"] and looks_like_code(b["response"]):
            assert r["response"] == b["response"].strip("\n").rstrip(), r["id"]   # code: outer blank lines only
        if b["response"] and b["response"].strip():
            assert r["response"], r["id"]                           # no answer emptied
