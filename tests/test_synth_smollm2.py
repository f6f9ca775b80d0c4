"""Every synthesis stage end to end with the embedded SmolLM2-135M on CPU, with small counts.

A 135M model writes poor text, so these tests assert what the pipeline guarantees whatever the model says:
row structure, lineage (backend, model, sampling, template, sources), that every input is accounted for,
and that rejects carry a `stage:problem` reason and the raw model text. One model per session; tiny
max_tokens; answers are cached in a session tmp folder."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.worker import check_contract
from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.stage import StageContext

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Decoding is hundreds of tiny ops per token; with 2 torch threads on a busy 2-core machine each op waits
    for a descheduled thread. Measured at load 6: 2 prompts x 16 tokens took 83 s with 2 threads, 2.6 s with 1."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def llm_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="session")
def smollm2(llm_cache):
    from dsforge.pipelines.llm.config import TransformersConfig
    from dsforge.pipelines.llm.seam import open_backend

    return open_backend(TransformersConfig(model="smollm2", batch_size=8, device="cpu",
                                      cache_dir=str(llm_cache)))


@pytest.fixture()
def ctx(tmp_path, smollm2) -> StageContext:
    return StageContext(work_dir=tmp_path, base_dir=tmp_path, seed=0, extras={"backend": smollm2})


def sampling(max_tokens: int, temperature: float = 0.0, **kw) -> dict:
    return {"max_tokens": max_tokens, "temperature": temperature, "seed": 0, **kw}


def run(name, df, ctx, **params):
    """Run a stage, check the runner's contract, and return (kept, rejects it made, stats): the input rows it
    used up as sources (`<stage>:used_as_source`) are checked by the contract and left out."""
    stage = stage_class(name)(params)
    result = stage.process(df, ctx)
    kept, rej = records.conform(result.kept), records.conform(result.rejected)
    records.validate(kept, name)
    records.validate(rej.select(records.CORE_COLUMNS), f"{name} rejects")
    check_contract(name, stage.creates_rows, df["id"], kept, rej)
    # Every reject says which stage and problem, and generated rejects keep the model's text.
    assert rej.height == 0 or rej["reason"].str.starts_with(f"{name}:").all()
    assert rej.height == 0 or (rej["detail"].str.len_chars() > 0).all()
    return kept, rej.filter(pl.col("reason") != f"{name}:used_as_source"), result.stats


def lineage_of(row: dict, stage: str) -> dict:
    entries = [e for e in row["lineage"] if e["stage"] == stage]
    assert entries, f"{row['id']} has no {stage} lineage: {row['lineage']}"
    info = json.loads(entries[-1]["info"])
    assert info["backend"]["model"] and "smollm2" in json.dumps(info["backend"]).lower()
    assert "max_tokens" in info["sampling"]
    return info


def rows(*prompts: str) -> pl.DataFrame:
    return records.from_rows([{"id": f"p:{i}", "source": "p", "kind": "instruction", "instruction": q, "input": "",
                               "response": "It depends on the details.", "lineage": []}
                              for i, q in enumerate(prompts)])


def test_self_instruct_with_smollm2(ctx):
    """SmolLM2-135M rarely writes a whole task with its Output inside its budget (all of them are rejected
    inline), so the answers come from a second call (`respond: separate`): with 4 prompts of 96 tokens at least
    one of its instructions survives every rule (at 2 of 40 tokens both were cut off), and this test fails if
    none does."""
    seeds = read_inputs([InputSpec(path="data:seed_tasks.jsonl", mapping="seed-tasks", limit=12)], ROOT).kept
    kept, rej, stats = run("self-instruct", seeds, ctx, sampling=sampling(96, 0.7), num_instructions=3,
                           prompts_per_round=4, max_prompts=4, keep_seeds=True, respond="separate")
    generated = kept.filter(pl.col("source") == "self-instruct")
    assert generated.height >= 1, f"no generated instruction kept; rejects: {rej['reason'].to_list()}"
    assert kept.height == 12 + generated.height and stats["generated_kept"] == generated.height
    f = stats["funnel"]
    # every candidate went through the funnel: kept at the end, or rejected by exactly one rule (or, after
    # the funnel, for an empty answer)
    assert f["rouge"]["kept"] == generated.height + rej.filter(pl.col("reason") == "self-instruct:empty_response").height
    assert generated.height + rej.height >= 2 and stats["prompts_sent"] == 4
    assert rej.height == 0 or rej["raw"].null_count() == 0
    for r in generated.iter_rows(named=True):
        info = lineage_of(r, "self-instruct")
        assert info["template"]["id"] == "self_instruct_short_v1" and len(info["sources"]) == 3
        assert info["respond_template"]["id"] == "respond_v1" and r["response"].strip()
        assert info["rouge_l_max"] < 0.7 and len(r["instruction"].split()) >= 4


def test_topic_tree_with_smollm2(ctx):
    kept, rej, stats = run("topic-tree", records.empty(), ctx, sampling=sampling(24), topics=["Cooking"],
                           subtopics=1, instructions=1)
    assert stats["topics"] == 1 and kept.height + rej.height >= 1
    for r in kept.iter_rows(named=True):
        assert r["kind"] == "instruction" and r["response"]
        assert json.loads(r["metadata"])["topic"] == "Cooking"
        assert lineage_of(r, "topic-tree")["path"][0] == "Cooking"
    assert rej.height == 0 or set(rej["reason"]) <= {"topic-tree:malformed_list", "topic-tree:empty_response"}


def test_backtranslate_with_smollm2(ctx):
    docs = records.from_rows([
        {"id": "d:0", "source": "d", "kind": "document",
         "text": "To boil an egg, put it in boiling water for nine minutes, then cool it in cold water."},
        {"id": "d:1", "source": "d", "kind": "document",
         "text": "Paris is the capital of France and its largest city, on the river Seine."}])
    kept, rej, stats = run("backtranslate-instructions", docs, ctx, sampling=sampling(24), num_examples=1,
                           judge_sampling=sampling(16), threshold=3)
    assert kept.height + rej.height == 2  # each text kept once or rejected once, with its best attempt
    for r in kept.iter_rows(named=True):
        info = lineage_of(r, "backtranslate-instructions")
        assert info["judge"]["score"] >= 3 and r["score"] == info["judge"]["score"]
        assert r["response"] in docs["text"].to_list()
    assert rej.height == 0 or rej["raw"].null_count() == 0


def test_paraphrase_with_smollm2(ctx):
    kept, rej, stats = run("paraphrase", rows("What are the health benefits of green tea?",
                                              "How do I change a flat tyre on a bicycle?"),
                           ctx, sampling=sampling(24, 0.9), n=2)
    new = kept.filter(pl.col("id").str.contains(":para"))
    assert kept.height == 2 + new.height and new.height + rej.height == 4
    for r in new.iter_rows(named=True):
        assert lineage_of(r, "paraphrase")["sources"] == [r["id"].split(":para")[0]]
        assert r["response"] == "It depends on the details."


def test_translate_with_smollm2(ctx):
    kept, rej, stats = run("translate", rows("What is the capital of France?"), ctx, sampling=sampling(24),
                           languages=["French"], fields=["instruction"], min_similarity=0.5)
    new = kept.filter(pl.col("id").str.ends_with(":french"))
    assert new.height + rej.height == 1 and kept.height == 1 + new.height
    for r in new.iter_rows(named=True):
        checks = lineage_of(r, "translate")["checks"]["instruction"]
        assert checks["similarity"] >= 0.5 and 0.5 <= checks["length_ratio"] <= 2.0
    assert rej.height == 0 or rej["raw"][0]


def test_dialogue_with_smollm2(ctx):
    kept, rej, stats = run("dialogue", rows("Tell me about the moon.", "How do bees make honey?"), ctx,
                           sampling=sampling(16, 0.7), turns=[2, 2], allow_truncated=True)
    assert kept.height + rej.height == 2
    for r in kept.iter_rows(named=True):
        roles = [m["role"] for m in r["messages"]]
        assert roles == ["user", "assistant", "user", "assistant"] and r["kind"] == "conversation"
        assert lineage_of(r, "dialogue")["user_template"]["id"] == "dialogue_user_v1"


def test_long_context_qa_with_smollm2(ctx):
    text = ("The Amazon rainforest covers much of the Amazon basin of South America. The basin is about seven "
            "million square kilometres, of which about five and a half million are covered by the rainforest. "
            "The region includes territory belonging to nine nations. Brazil has sixty percent of the forest. "
            "The rainforest likely formed during the Eocene era. It appeared after a global reduction of "
            "tropical temperatures when the Atlantic Ocean had widened enough to provide a warm, moist climate "
            "to the Amazon basin. Deforestation is the conversion of forested areas to non-forested areas. "
            "The main sources of deforestation in the Amazon are human settlement and development of the land.")
    doc = records.from_rows([{"id": "doc:amazon", "source": "wiki", "kind": "document", "text": text}])
    kept, rej, stats = run("long-context-qa", doc, ctx, sampling=sampling(40), chunk_words=60, qa_per_chunk=1,
                           min_words=50, min_answer_overlap=0.3)
    assert stats["chunks"] == 2 and kept.height + rej.height >= 1
    for r in kept.iter_rows(named=True):
        assert r["input"] == text and r["instruction"] and r["response"]
        assert lineage_of(r, "long-context-qa")["sources"] == ["doc:amazon"]


class HumanTests:
    """SmolLM2 writes the solutions, people wrote the tests: asked for asserts, the 135M model writes the
    function again instead (every row `code:no_tests`), which would leave the sandbox path untested. So the
    "Write unit tests" prompts get these asserts; every other prompt goes to the model."""

    TESTS = {"add": "assert add(2, 3) == 5\nassert add(-1, 1) == 0\nassert add(0, 0) == 0",
             "is_even": "assert is_even(4)\nassert not is_even(3)\nassert is_even(0)"}

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):  # usage, model_id, requests_per_call, config: the model's
        return getattr(self.model, name)

    def generate(self, conversations, params):
        from dsforge.pipelines.llm.seam import Generation

        def ours(conv):
            text = conv[-1]["content"]
            return next((t for fn, t in self.TESTS.items()
                         if text.startswith("Write unit tests") and f"function `{fn}`" in text), None)

        asked = [c for c in conversations if ours(c) is None]
        answers = iter(self.model.generate(asked, params) if asked else [])
        return [[Generation(f"```python\n{ours(c)}\n```", "stop", 0, 0, "human-tests")] if ours(c) is not None
                else next(answers) for c in conversations]

    def describe(self):
        return {**self.model.describe(), "tests": "written by people (tests/test_synth_smollm2.py)"}


def test_code_with_smollm2(ctx):
    ctx.extras["backend"] = HumanTests(ctx.extras["backend"])
    kept, rej, stats = run("code", rows("Write a function add(a, b) that returns the sum of two numbers.",
                                        "Write a function is_even(n) that returns True if n is even."),
                           ctx, sampling=sampling(64), max_repairs=1, timeout=20)
    assert kept.height + rej.height == 2 and stats["problems"] == 2
    # SmolLM2 solves these two (a + b, n % 2 == 0): at least one must pass the sandbox, or the test fails
    assert kept.height >= 1 and stats["passed"] == kept.height, rej.select("reason", "detail").to_dicts()
    for r in kept.iter_rows(named=True):  # kept means the sandbox ran the tests and they passed
        info = lineage_of(r, "code")
        meta = json.loads(r["metadata"])
        assert info["sandbox"]["status"] == "passed" and meta["asserts"] == 3
        assert meta["tests"] == HumanTests.TESTS[meta["function"]]
        assert r["response"].startswith("```python") and f"def {meta['function']}(" in r["response"]
    assert rej.height == 0 or set(rej["reason"]) <= {"code:no_function", "code:tests_failed"}


def test_preference_pairs_with_smollm2(ctx):
    kept, rej, stats = run("preference-pairs", rows("Name a fruit that is yellow.", "Give me a tip for sleeping well."),
                           ctx, sampling=sampling(16, 1.0), responses=2, judge_sampling=sampling(16))
    assert kept.height + rej.height == 2
    assert stats["pairs_judged"] == stats["agreed"] + stats["inconsistent"] + stats["tie"] + stats["unparsed"]
    for r in kept.iter_rows(named=True):
        assert r["kind"] == "preference" and r["chosen_response"] != r["rejected_response"]
        v = lineage_of(r, "preference-pairs")["verdicts"]
        assert {v["order_ab"], v["order_ba"]} == {"A", "B"}
    assert rej.height == 0 or rej["raw"].null_count() == 0


def test_a_recipe_opens_smollm2_from_its_model_block(tmp_path, llm_cache):
    """The path a user takes: a recipe's `model:` block -> open_backend -> stage -> chat-format -> dataset."""
    from dsforge.pipelines.core.recipe import build_recipe
    from dsforge.pipelines.core.runner import run_recipe

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"instruction": q, "output": "A short answer."}) + "\n"
                           for q in ["What is the boiling point of water?", "Name three primary colours."]))
    recipe = build_recipe({
        "name": "synth-mini", "seed": 0, "inputs": [{"path": str(src), "mapping": "alpaca"}],
        "stages": [{"stage": "paraphrase", "n": 1, "sampling": sampling(16, 0.8),
                    "model": {"backend": "transformers", "model": "smollm2", "device": "cpu",
                              "cache_dir": str(llm_cache)}},
                   {"stage": "chat-format", "template": "smollm2"}, {"stage": "save", "formats": ["parquet"], "prefer": "text"}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=False)
    assert summary["status"] == "ok"
    data = pl.read_parquet(next(Path(summary["run_dir"]).glob("stages/*-save/dataset/data/train/*.parquet")))
    assert data.height >= 2 and all("<|im_start|>user" in t for t in data["text"])
