"""classify, quality-classifier and inspect's diversity figures with the real MiniLM model, on labelled data.

The labelled sets come from public data whose labels are known from where it comes from, and none of it was
used to write the label lists (data/labels/sft-axes.yaml) or to choose the classifier: T0 templates and
GPTeacher code instructions for task types, the alpaca-libre generator's own status for quality.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from dsforge.filters.curate.classify import Classify
from dsforge.filters.curate.quality_classifier import QualityClassifier
from dsforge.pipelines.core import records
from dsforge.pipelines.core.fields import ref
from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.stage import ConfigError, StageContext

sys.path.insert(0, str(Path(__file__).parent))
from synth_fakes import ScriptedBackend  # noqa: E402

pytestmark = pytest.mark.slow

TASKS = {"self_instruct_t0/xsum_DOC_tldr.jsonl": ("prompt-completion", "summarization"),
         "self_instruct_t0/imdb_Movie_Expressed_Sentiment.jsonl": ("prompt-completion", "classification"),
         "self_instruct_t0/duorc_ParaphraseRC_answer_question.jsonl": ("prompt-completion", "closed_qa"),
         "gpteacher/codegen-instruct.json": ("gpteacher", "code")}


def read(path, mapping, source, n=None, seed=0):
    df = read_inputs([InputSpec(path=str(path), mapping=mapping, source=source)]).kept
    return df if n is None else df.sample(n, seed=seed, shuffle=True)


@pytest.fixture()
def ctx(tmp_path):
    return StageContext(work_dir=tmp_path / "step", seed=3, progress=False)


def test_classify_embedding_beats_majority_on_labelled_task_types(external, ctx):
    df = pl.concat([read(external / p, m, Path(p).stem[:12], 10).with_columns(pl.lit(t).alias("gold"))
                    for p, (m, t) in TASKS.items()], how="diagonal_relaxed")
    out = Classify({"axes": ["task_type", "format", "turns", "language"]}).process(df, ctx).kept
    acc = (out["task_type"] == out["gold"]).mean()
    majority = max(Counter(out["gold"]).values()) / out.height
    assert acc >= majority + 0.25, out.select("gold", "task_type").to_dicts()
    assert out["task_type_score"].is_between(-1, 1).all()
    code = out.filter(pl.col("gold") == "code")
    assert (code["format"] == "code").mean() >= 0.7  # GPTeacher answers are programs
    assert set(out["turns"]) == {"single"} and (out["language"] == "en").mean() >= 0.9
    assert out["lineage"][0][-1]["stage"] == "classify"


def test_classify_llm_method_uses_the_rubric_and_counts_unparsable(ctx):
    rows = [{"id": f"q{i}", "source": "t", "kind": "instruction", "instruction": text, "input": "", "response": "ok"}
            for i, text in enumerate(["Write a poem about rain.", "Solve 2x = 4.", "Say something."])]
    df = records.conform(records.from_rows(rows))

    def script(prompt, conv, i):
        assert "- summarization: shorten a given text" in prompt  # the label descriptions are the rubric
        request = prompt.split("EXAMPLE REQUEST:\n", 1)[1]
        if request.startswith("Write a poem"):
            return '{"task_type": "Generation", "domain": "arts"}'
        if request.startswith("Solve"):
            return 'Sure! ```json\n{"task_type": "math", "domain": "mathematics"}\n```'
        return "I think it is a nice request."

    backend = ScriptedBackend(script)
    ctx.extras["backend"] = backend
    res = Classify({"method": "llm", "axes": ["task_type", "domain"]}).process(df, ctx)
    assert res.kept["task_type"].to_list() == ["generation", "math", None]
    assert res.kept["domain"].to_list() == ["arts", "mathematics", None]
    assert res.stats["unparsable"] == 1 and res.kept.height == 3  # nothing dropped
    info = json.loads(res.kept["lineage"][0][-1]["info"])
    assert info["method"] == "llm" and info["template"]["id"] == "classify_v1"


def test_classify_label_file_errors_name_the_file(tmp_path, ctx):
    bad = tmp_path / "labels.yaml"
    bad.write_text("task_type:\n  labels:\n    code: {description: programs}\n")
    with pytest.raises(ConfigError, match="labels.yaml.*'code'.*examples"):
        Classify({"labels": str(bad), "axes": ["task_type"]}).process(
            records.conform(records.from_rows([{"id": "a", "source": "s", "kind": "instruction", "instruction": "x"}])), ctx)


def test_quality_classifier_beats_majority_on_a_labelled_toy_set(ctx):
    """Toy set: 100 alpaca-libre rows its generator marked ok and 100 it marked blacklist / too short. The judge
    is scripted to return that mark (5 / 1): the classifier must learn it from 96 judged rows and score the rest."""
    df = read("data:alpaca_libre_v1.jsonl", "alpaca", "alpaca-libre").with_columns(ref("metadata.status").expr().alias("status"))
    toy = pl.concat([df.filter(pl.col("status") == "ok").sample(100, seed=1),
                     df.filter(pl.col("status").is_in(["blacklist", "too short"])).sample(100, seed=1)])
    good = dict(zip(toy["response"].to_list(), (toy["status"] == "ok").to_list()))

    def judge(prompt, conv, i):
        response = prompt.split("RESPONSE:\n", 1)[1].rsplit("\n\nReply with JSON", 1)[0]
        return json.dumps({"score": 5 if good[response] else 1, "reason": "status"})

    ctx.extras["backend"] = ScriptedBackend(judge, model_id="status-oracle")
    res = QualityClassifier({"sample_size": 120, "max_seq_length": 128}).process(toy, ctx)
    assert res.kept.height + res.rejected.height == toy.height
    assert set(res.rejected["reason"]) <= {"quality-classifier:below_threshold"}
    a = res.stats["agreement"]
    assert a["rows"] == 24 and a["keep_agreement"] > a["majority_baseline"]
    unjudged = pl.concat([res.kept, res.rejected], how="diagonal_relaxed").filter(pl.col("judge_score").is_null())
    assert unjudged.height == 80
    ok = unjudged["status"] == "ok"
    accuracy = ((unjudged["quality_score"] >= 3) == ok).mean()
    assert accuracy > max(ok.mean(), 1 - ok.mean()) + 0.15
    info = json.loads(res.kept["lineage"][0][-1]["info"])
    assert info["judge"]["backend"]["model"] == "status-oracle" and info["training_sample"]["rows"] == 96
    sample = pl.read_parquet(ctx.work_dir / "training_sample.parquet")
    assert sample.height == 120 and sample["used_for_training"].sum() == 96


def test_inspect_diversity_and_coverage_per_group(word_tokenizer_free_cfg):
    from dsforge.pipelines.stages.inspect.stats import compute_stats

    same = ["Tell me the capital of France."] * 30
    varied = ["Write a haiku about autumn leaves.", "Explain how a transistor works.", "What is 17 times 23?",
              "Summarize the plot of Hamlet.", "Give three tips for sleeping well.", "Translate 'good morning' to German.",
              "List the planets of the solar system.", "Write a SQL query counting orders per day.",
              "Why do cats purr?", "Describe the water cycle."] * 3
    rows = [{"id": f"{g}{i}", "source": g, "kind": "instruction", "instruction": t, "input": "", "response": "Sure.",
             "task_type": "open_qa" if g == "same" else ("code" if i % 3 == 0 else "generation")}
            for g, texts in (("same", same), ("varied", varied)) for i, t in enumerate(texts)]
    df = records.conform(records.from_rows(rows))
    s = compute_stats(df, word_tokenizer_free_cfg(by=["source", "task_type"]))
    d = {r["value"]: r for r in s["diversity"]["by"]["source"]}
    assert d["same"]["vendi"] == pytest.approx(1.0, abs=0.05) and d["same"]["mean_pairwise_distance"] < 0.01
    assert d["varied"]["vendi"] > 5 and d["same"]["near_duplicate_density"] == 1.0
    cov = s["breakdowns"]["task_type"]["coverage"]
    assert cov["distinct"] == 3 and cov["evenness"] < 1 and 2 < cov["effective_groups"] < 3


@pytest.fixture()
def word_tokenizer_free_cfg():
    from dsforge.pipelines.stages.inspect.stats import InspectConfig

    return lambda **kw: InspectConfig(tokenizer="smollm2", verb_sample=0, diversity_sample=100, **kw)


def test_mix_sft_recipe_labels_mixes_and_writes_a_ladder(tmp_path):
    """The shipped recipe on a seeded sample of the shipped data: labels, an exact mix, nested rungs as splits."""
    import datasets

    from dsforge.pipelines.core.recipe import load_recipe
    from dsforge.pipelines.core.runner import run_recipe

    recipe = load_recipe("mix-sft")
    summary = run_recipe(recipe, tmp_path / "runs", sample=300, progress=False)
    assert summary["status"] == "ok"
    run = Path(summary["run_dir"])
    steps = {s["step"]: s for s in summary["steps"]}
    mix_dir = next((run / "stages").glob("*-mix"))
    mix = json.loads((mix_dir / "stats.json").read_text())["stage_stats"]
    targets = next(s for s in recipe.steps if s.name == "mix").stage.config.targets
    norm = sum(targets.values())
    for g in mix["groups"]:  # rows: every quota is hit exactly and within one row of total x share
        assert g["achieved"] == g["target"]
        if g["group"] in targets and g["group"] not in mix.get("targets_without_rows", []):
            assert abs(g["target"] - mix["total_target"] * targets[g["group"]] / norm) <= 1
    assert steps["mix"]["rejected_by_reason"] == {"mix:over_quota": steps["mix"]["rows_in"] - steps["mix"]["kept"]}
    from dsforge.pipelines.core.shards import read_table

    kept = read_table(mix_dir)
    assert {"task_type", "domain", "format", "length_bucket", "turns", "language"} <= set(kept.columns)
    ladder = datasets.load_from_disk(str(next((run / "stages").glob("*-ladder")) / "ladder" / "hf"))
    ids = {k: set(v["id"]) for k, v in ladder.items()}
    assert set(ids) == {"n50", "p25", "p50", "p100"}
    sizes = sorted(ids, key=lambda k: len(ids[k]))
    assert all(ids[a] <= ids[b] for a, b in zip(sizes, sizes[1:])) and ids["p100"] == set(kept["id"])
    saved = datasets.load_from_disk(str(run / "dataset" / "hf"))["train"]
    assert "ladder" in saved.column_names and len(saved) == kept.height
