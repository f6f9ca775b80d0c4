"""`dsforge inspect` on the team's real datasets, the `inspect` stage twice in one recipe with a before/after
view, and the Prefect artifact. Lengths here use the real embedded SmolLM2 tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import run_recipe
from dsforge.pipelines.core.shards import read_table


def _inspect(args, tmp_path, capsys):
    out = tmp_path / "insp"
    assert main(["inspect", *map(str, args), "--out", str(out), "--verb-sample", "300"]) == 0
    printed = capsys.readouterr().out
    stats = json.loads((out / "stats.json").read_text())
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "https://" not in page
    return stats, printed


def test_alpaca_libre_with_malformed_lines(external, tmp_path, capsys):
    stats, printed = _inspect([external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl", "--by", "status"], tmp_path, capsys)
    assert stats["input_rejects"]["count"] == 14 and stats["input_rejects"]["by_reason"] == {"ingest:bad_json": 14}
    assert stats["counts"]["rows"] == 2294 - 14
    assert stats["tokenizer"]["unit"] == "tokens" and "smollm2" in stats["tokenizer"]["name"]
    assert stats["language"]["counts"]["en"] > 0.95 * stats["counts"]["rows"]
    # the generator's own status column, from metadata
    status = {v["value"]: v["rows"] for v in stats["breakdowns"]["status"]["values"]}
    raw = [json.loads(l) for l in (external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl").open() if _is_json(l)]
    assert status["ok"] == sum(r.get("status") == "ok" for r in raw)
    assert stats["verb_noun"]["sampled"] and stats["verb_noun"]["parsed"] == 300
    assert "2,280 rows" in printed and "report:" in printed


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def test_gpteacher_and_self_instruct_together(external, tmp_path, capsys):
    files = [external / "gpteacher/codegen-instruct.json",
             external / "self_instruct_t0/imdb_Movie_Expressed_Sentiment.jsonl",
             external / "self_instruct_t0/trec_trec1.jsonl"]
    stats, _ = _inspect(files, tmp_path, capsys)
    c = stats["counts"]
    assert c["sources"] == {"codegen-instruct": 4535, "imdb_Movie_Expressed_Sentiment": 200, "trec_trec1": 200}
    # debris counted against the raw files: T0 completions end with a stray <|endoftext|>, code rows carry fences
    found = {p["pattern"]: p["rows"] for p in stats["debris"]["patterns"]}
    t0 = [json.loads(l) for f in files[1:] for l in f.open()]
    assert found["<|endoftext|>"] == sum("<|endoftext|>" in r["prompt"] + r["completion"] for r in t0) > 0
    code = json.loads(files[0].read_text())
    assert found["code fence ```"] == sum("```" in r["instruction"] + r["input"] + r["response"] for r in code) > 0
    # the T0 templates repeat a handful of labels across prompts
    sa = stats["conflicts"]["same_answer"]
    assert sa["short_answer_groups"] >= 2          # e.g. "positive" / "negative" answered to many reviews
    o = stats["outliers"]["by_source"]
    assert set(o) == set(c["sources"]) and o["imdb_Movie_Expressed_Sentiment"]["median"] > o["trec_trec1"]["median"]


def test_chinese_sample(external, tmp_path, capsys):
    files = [external / f"alpaca_chinese/zh_{n}.json" for n in ("08", "09", "13")]
    stats, _ = _inspect(files, tmp_path, capsys)
    by_source = stats["language"]["by_source"]
    for src in ("zh_08", "zh_09"):                  # terms and academic questions
        assert by_source[src]["zh"] >= 0.95 * stats["counts"]["sources"][src]
    assert by_source["zh_13"].get("zh", 0) == 0     # zh_13 is integer arithmetic ("12+34=46"): no language
    assert stats["lengths"]["fields"]["response"]["p50"] > 0
    # Han characters are counted one by one among the most common words
    assert any(len(w) == 1 and "\u4e00" <= w <= "\u9fff" for w, _ in stats["tokens"]["top_words"])
    # byte-level BPE splits many Han characters: those tokens are shown as their bytes, not as mojibake
    assert any(t.startswith("⟨") and t.endswith("⟩") for t, _ in stats["tokens"]["top_tokens"])
    v = stats["verb_noun"]                         # the parser is English-only: skipped, and said so
    assert v["english"] == 0 and "English" in v["warning"]


def test_inspect_stage_twice_in_a_recipe_with_before_after(tmp_path):
    rows = ([{"instruction": f"Write a poem about topic {i}.", "input": "", "output": f"A poem {i}."} for i in range(20)]
            + [{"instruction": "Write a poem about topic 1.", "input": "", "output": "A poem 1."}] * 3
            + [{"instruction": "Say nothing.", "input": "", "output": ""}] * 2)
    src = tmp_path / "toy.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    recipe = build_recipe({
        "name": "inspect-twice",
        "inputs": [{"path": str(src), "source": "toy"}],
        "stages": [
            {"stage": "inspect", "id": "inspect-before", "verb_sample": 0},
            {"stage": "exact-dedup", "fields": ["prompt", "answer"]},
            {"stage": "length-filter", "field": "response", "min_chars": 1},
            {"stage": "inspect", "id": "inspect-after", "compare_with": "inspect-before", "verb_sample": 0},
        ],
    })
    summary = run_recipe(recipe, tmp_path / "runs", progress=False)
    run = Path(summary["run_dir"])
    before, after = run / "stages/01-inspect-before", run / "stages/04-inspect-after"
    for d in (before, after):
        assert (d / "report.html").exists()
        assert read_table(d).height == read_table(d.parent / "00-ingest").height if d is before else True
    sb = json.loads((before / "stats.json").read_text())
    assert sb["stage"] == "inspect" and sb["rejected"] == 0 and sb["kept"] == 25
    assert sb["stage_stats"]["counts"]["exact_duplicates"]["rows"] == 4      # 3 copies of row 1 + 1 of "Say nothing."
    sa = json.loads((after / "stats.json").read_text())
    cmp = sa["stage_stats"]["compare"]
    assert (cmp["rows_before"], cmp["rows_after"], cmp["removed"]) == (25, 20, 5)
    assert {r["reason"]: r["rows"] for r in cmp["by_reason"]} == {"exact-dedup:duplicate": 4,
                                                                   "length-filter:too_short": 1}
    side = {r[0]: r[1:] for r in cmp["side_by_side"]}
    assert side["rows"] == [25, 20] and side["exact duplicate rows"] == [4, 0]
    page = (after / "report.html").read_text()
    assert 'id="compare"' in page and "exact-dedup:duplicate" in page

    # The command line gives the same view from the run directory afterwards.
    out = tmp_path / "cmp"
    assert main(["inspect", str(after), "--out", str(out), "--verb-sample", "0", "--compare", str(before), str(after)]) == 0
    cli = json.loads((out / "stats.json").read_text())["compare"]
    assert cli["removed"] == 5 and cli["rows_before"] == 25
    assert main(["inspect", str(run), "--out", str(tmp_path / "cmp2"), "--verb-sample", "0", "--compare", str(run)]) == 0
    whole = json.loads((tmp_path / "cmp2/stats.json").read_text())["compare"]
    assert whole["rows_before"] == 25 and whole["rows_after"] == 20 and whole["removed"] == 5


def test_compare_with_an_unknown_step_names_the_steps(tmp_path):
    src = tmp_path / "toy.jsonl"
    src.write_text(json.dumps({"instruction": "a", "input": "", "output": "b"}) + "\n")
    recipe = build_recipe({"name": "x", "inputs": [str(src)],
                           "stages": [{"stage": "inspect", "compare_with": "befor", "verb_sample": 0}]})
    with pytest.raises(Exception, match="no finished step with id 'befor'.*ingest"):
        run_recipe(recipe, tmp_path / "runs", progress=False)


@pytest.mark.slow
def test_prefect_artifact_for_an_inspect_step(prefect_harness, tmp_path):
    import anyio
    from prefect.client.orchestration import get_client

    from dsforge.flows.recipe_flow import recipe_flow

    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: insp\ninputs:\n  - path: data:alpaca_libre_v1.jsonl\n    source: alpaca-libre\n"
                      "stages:\n  - {stage: inspect, id: look, verb_sample: 50}\n")
    summary = recipe_flow(recipe=str(recipe), out=str(tmp_path / "runs"), sample=60, progress=False)
    assert summary["status"] == "ok"

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts()

    found = {a.key: a for a in anyio.run(artifacts)}  # keys are unique per recipe (issue 31)
    summary_md, report = found["dsforge-insp-inspect-look"], found["dsforge-insp-inspect-look-report"]
    assert "| rows | 60 |" in summary_md.data
    assert report.type == "markdown" and "report.html" in report.data  # a link artifact (Prefect stores it as markdown)


def test_conversation_length_from_parts_equals_tokenizing_the_joined_text(external):
    """Each part is tokenized once and a conversation is summed from its parts; with SmolLM2 that is exact."""
    from dsforge.pipelines.stages.inspect.stats import TokenCounter, row_view, token_lengths
    from dsforge.pipelines.core.readers import InputSpec, read_input

    df = read_input(InputSpec(path=str(external / "gpteacher/toolformer-dedupe-only-dataset.json"), limit=1500)).kept
    df = df.with_columns(pl.when(pl.col("input").str.strip_chars() == "").then(None).otherwise(pl.col("input"))
                         .alias("input"))           # joined text has no empty-input separator either
    counter = TokenCounter("smollm2")
    view = row_view(df)
    lengths, _ = token_lengths(view, counter)
    assert lengths["tok_conversation"].to_list() == counter.count(view["conversation"].to_list()).tolist()
