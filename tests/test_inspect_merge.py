"""Inspection as map and combine: the figures merged from per-part summaries equal those of the whole table,
on a mixed table of real rows (tests/inspect_mixed.py) cut into 1, 3 and 7 parts; the `inspect` step of a
recipe run with two workers (summary execution: parts summarised in the workers, combined in the driver);
and `dsforge inspect` reading its inputs chunk by chunk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsforge.pipelines.stages.inspect.stage import summarize_inputs
from dsforge.pipelines.stages.inspect.stats import InspectConfig, TokenCounter, combine, compute_stats, summarize
from dsforge.pipelines.core.readers import InputSpec
from dsforge.pipelines.core.readers.chunks import read_inputs
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import parts, read_table
from inspect_mixed import mixed_table, split

VOLATILE = ("timings", "generated", "seconds")


def figures(stats: dict) -> dict:
    """The figures as stats.json holds them, without timings and the generation time."""
    return json.loads(json.dumps({k: v for k, v in stats.items() if k not in VOLATILE}, default=str))


@pytest.fixture(scope="module")
def mixed(external):
    return mixed_table(external)


# a small embedded sample: MiniLM on two shared cores is the slow part (about 0.1 s a row)
CFG = InspectConfig(by=["source", "annotator", "date"], verb_sample=300, diversity_sample=40, examples=4)


def test_merged_parts_give_the_whole_tables_figures(mixed):
    whole = figures(compute_stats(mixed, CFG, seed=3))  # the table as one part
    # the table holds what the merge must get right (kinds, duplicates, conflicts, outliers, annotators)
    assert set(whole["counts"]["kinds"]) == {"instruction", "conversation", "preference", "scored", "document"}
    assert whole["counts"]["exact_duplicates"]["groups"] >= 90 and whole["conflicts"]["same_prompt"]["groups"] >= 40
    assert whole["outliers"]["most_extreme"][0]["id"] == "long:0" and whole["annotators"]["multi"]["items"] == 120
    assert whole["breakdowns"]["date"]["bucketed_by"] == "month" and whole["verb_noun"]["sampled"]
    counter = TokenCounter(CFG.tokenizer)
    for n in (3, 7):
        pieces = split(mixed, n)
        assert len(pieces) == n and sum(p.height for p in pieces) == mixed.height
        merged = combine([summarize(p, CFG, 3, counter) for p in pieces], CFG, counter=counter)
        got = figures(merged)
        for key in whole:  # section by section, so a failure names the section
            assert got[key] == whole[key], f"{n} parts: section {key!r} differs"


def test_every_figure_is_merged_without_a_sample_of_verbs_and_with_nested_annotations(external, word_free):
    """verb_sample 0 (every part parses its own rows, pair counts add up) and metadata.annotations rows."""
    df = mixed_table(external).head(900)
    cfg = InspectConfig(tokenizer=word_free, verb_sample=0, diversity_sample=0, by=["source"])
    nested = [json.dumps({"annotations": [{"annotator": a, "score": (i + k) % 3} for k, a in enumerate("xyz")]})
              if i % 4 == 0 else None for i in range(df.height)]
    import polars as pl

    df = df.with_columns(pl.Series("metadata", nested, dtype=pl.String))
    whole = figures(compute_stats(df, cfg))
    assert whole["annotators"]["layout"] == "metadata.annotations" and whole["verb_noun"]["parsed"] > 500
    counter = TokenCounter(cfg.tokenizer)
    merged = figures(combine([summarize(p, cfg, 0, counter) for p in split(df, 5)], cfg, counter=counter))
    assert merged == whole


@pytest.fixture()
def word_free(tmp_path):
    """No tokenizer folder: lengths in whitespace words (the fallback every inspection can take)."""
    return str(tmp_path / "no-tokenizer")


def test_inspect_step_with_two_workers_summarises_parts_and_links_them(mixed, tmp_path):
    inputs = []
    for n, piece in enumerate(split(mixed, 3)):  # three input files: three parts
        path = tmp_path / f"mixed-{n}.parquet"
        piece.write_parquet(path)
        inputs.append({"path": str(path)})
    params = {"by": ["source", "annotator"], "verb_sample": 200, "diversity_sample": 30, "title": "mixed"}
    recipe = build_recipe({"name": "inspect-merge", "inputs": inputs, "stages": [{"stage": "inspect", **params}]})
    result = run_recipe(recipe, tmp_path / "runs", executor=ExecutorSpec(workers=2))
    assert result["status"] == "ok"
    step = next(s for s in result["steps"] if s["stage"] == "inspect")
    assert step["execution"] == "summary" and step["parts"] == 3
    run = Path(result["run_dir"])
    ingest_dir, inspect_dir = sorted((run / "stages").iterdir())
    stats = json.loads((inspect_dir / "stats.json").read_text())
    rows = read_table(ingest_dir)
    assert rows.height == mixed.height
    assert figures(stats["stage_stats"]) == figures(compute_stats(rows, InspectConfig(**params)))
    assert (inspect_dir / "report.html").stat().st_size > 10_000 and not (inspect_dir / "summaries").exists()
    assert [os.stat(p).st_ino for p in parts(inspect_dir)] == [os.stat(p).st_ino for p in parts(ingest_dir)]


def test_dsforge_inspect_streams_its_inputs_chunk_by_chunk(external, tmp_path):
    specs = [InputSpec(path=str(external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl")),   # 14 malformed lines
             InputSpec(path=str(external / "gpteacher/codegen-instruct.json"), limit=700)]
    cfg = InspectConfig(by=["source", "status"], verb_sample=150, diversity_sample=0)
    summaries, rejected, manifest = summarize_inputs(specs, cfg, tmp_path, rows_per_chunk=600)
    assert len(summaries) == 5  # 2,294 JSONL lines in chunks of about 600, the JSON file in one
    streamed = figures(combine(summaries, cfg, input_rejects=rejected, inputs=manifest))
    read = read_inputs(specs)
    whole = figures(compute_stats(read.kept, cfg, input_rejects=read.rejected, inputs=read.manifest))
    assert streamed["input_rejects"]["count"] == 14
    assert [m.pop("chunks") for m in streamed["inputs"]] == [4, 1] and [m.pop("chunks") for m in whole["inputs"]] == [1, 1]
    for key in whole:
        assert streamed[key] == whole[key], f"section {key!r} differs"
