"""Synthesis stages with a scripted backend: known model outputs -> known rows, filters, rejects and lineage.

The real-model runs (embedded SmolLM2) are in test_synth_smollm2.py; here every answer is chosen so the
expected result can be written down."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from synth_fakes import ScriptedBackend

from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.stage import StageContext
from dsforge.pipelines.llm.parse import code_block, extract_json, numbered_list, parse_score, parse_winner
from dsforge.pipelines.llm.seam import Generation
from dsforge.synth.long_context import parse_qa
from dsforge.synth.self_instruct import parse_tasks
from dsforge.pipelines.core.shards import read_table
from dsforge.pipelines.core.worker import check_contract

ROOT = Path(__file__).resolve().parents[1]


def ctx_with(tmp_path: Path, backend, **extras) -> StageContext:
    return StageContext(work_dir=tmp_path, base_dir=tmp_path, seed=0, extras={"backend": backend, **extras})


def run(name: str, df: pl.DataFrame, ctx: StageContext, **params):
    """Run a stage, check the runner's contract on its result, and return (kept, rejects it made, stats):
    input rows it used up as sources (`<stage>:used_as_source`) are checked here and left out."""
    stage = stage_class(name)(params)
    result = stage.process(df, ctx)
    kept = records.conform(result.kept)
    records.validate(kept, name)
    rejected = records.conform(result.rejected) if result.rejected is not None else records.empty_rejects()
    check_contract(name, stage.creates_rows, df["id"], kept, rejected)
    used = pl.col("reason") == f"{name}:used_as_source"
    assert rejected.filter(used)["id"].is_in(df["id"].implode()).all()
    return kept, rejected.filter(~used), result.stats


def info(row: dict, stage: str) -> dict:
    entry = [e for e in row["lineage"] if e["stage"] == stage][-1]
    return json.loads(entry["info"])


def instruction_rows(*pairs: tuple[str, str]) -> pl.DataFrame:
    return records.from_rows([{"id": f"in:{i}", "source": "in", "kind": "instruction", "instruction": q, "input": "",
                               "response": a, "lineage": [{"stage": "ingest", "info": "{}"}]}
                              for i, (q, a) in enumerate(pairs)])


@pytest.fixture(scope="module")
def seeds() -> pl.DataFrame:
    return read_inputs([InputSpec(path="data:seed_tasks.jsonl", mapping="seed-tasks")], ROOT).kept


# ---------------------------------------------------------------- parsing


def test_parsers_read_well_formed_and_tolerate_malformed_text():
    assert numbered_list("1. Cats\n2) Dogs\n- Birds\n\n3. Cats") == ["Cats", "Dogs", "Birds"]
    assert numbered_list("no list here") == []
    assert parse_score("Reasoning: fine.\nScore: 4") == (4.0, "fine.")
    assert parse_score("Score: 9 out of 10")[0] is None
    assert parse_score("I would say\n5")[0] == 5
    assert parse_score("garbage")[0] is None
    assert code_block("x\n```python\ndef f():\n    return 1\n```\n") == "def f():\n    return 1"
    assert code_block("```\nprint(1)\n") == "print(1)"  # unterminated fence
    assert code_block("no code") is None
    assert extract_json('Sure! ```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    assert extract_json("{broken") is None
    assert parse_winner("A is better.\nVerdict: B")[0] == "B"
    assert parse_winner("[[A]]")[0] == "A"
    assert parse_winner("Verdict: tie")[0] == "tie"
    assert parse_winner("both are nice")[0] is None
    assert parse_qa("Q: What is 2+2?\nA: 4\nQ: Capital of France?\nA: Paris") == [
        ("What is 2+2?", "4"), ("Capital of France?", "Paris")]
    tasks = parse_tasks(" Name a fruit that is red.\n4. Input:\n<noinput>\n4. Output:\nA cherry.\n###\n"
                        "5. Instruction: Sort these numbers.\n5. Input:\n3, 1, 2\n5. Output:\n1, 2, 3", 4)
    assert [t for t, _ in tasks] == [
        {"instruction": "Name a fruit that is red.", "input": "", "response": "A cherry."},
        {"instruction": "Sort these numbers.", "input": "3, 1, 2", "response": "1, 2, 3"}]


# ---------------------------------------------------------------- self-instruct


def _task(n: int, instruction: str, output: str, inp: str = "<noinput>") -> str:
    return f"{n}. Instruction: {instruction}\n{n}. Input:\n{inp}\n{n}. Output:\n{output}"


def test_self_instruct_applies_each_filter_and_counts_it(tmp_path, seeds):
    calls = {"n": 0}
    novel = ["Explain how a bicycle gear system trades speed for torque.",
             "List three differences between a violin and a cello in terms of sound.",
             "Suggest a polite reply to a neighbour who complains about noise at night."]

    def script(prompt, conv, i):
        calls["n"] += 1
        k = calls["n"]
        blocks = [
            novel[k - 1] + "\n4. Input:\n<noinput>\n4. Output:\nSome answer.",  # starts mid-task
            _task(5, "Draw a picture of the sunset over the ocean.", "ok"),                      # blacklist
            _task(6, "Write a program that sorts a list of numbers.", "code"),                    # program
            _task(7, "Hi there.", "short"),                                                      # too short
            _task(8, seeds["instruction"][0], "copy of a seed"),                                  # rouge vs seeds
            _task(9, "Repeat the given sentence back to me exactly.", "same", "same"),           # output == input
            _task(10, "Describe the water cycle in a few steps for", ""),                             # truncated
        ]
        text = "\n###\n".join(blocks)
        return Generation(text, "length", 10, 10, "scripted-1")

    backend = ScriptedBackend(script)
    kept, rej, stats = run("self-instruct", seeds, ctx_with(tmp_path, backend), num_instructions=10,
                           prompts_per_round=1, max_prompts=3, keep_seeds=False, template="self_instruct_v1",
                           respond="inline")
    assert kept["instruction"].to_list() == novel
    assert set(rej["reason"]) == {f"self-instruct:{r}" for r in (
        "blacklisted_word", "write_a_program", "too_short", "too_similar", "output_is_input", "truncated")}
    assert (rej["reason"] == "self-instruct:too_similar").sum() == 3
    assert rej["raw"].null_count() == 0 and rej.filter(pl.col("reason") == "self-instruct:too_short")["raw"][0] \
        .startswith("7. Instruction: Hi there.")
    f = stats["funnel"]
    assert f["parsed"] == {"seen": 21, "kept": 21}
    assert f["not_truncated"] == {"seen": 21, "kept": 18}
    assert f["rouge"] == {"seen": 6, "kept": 3}
    assert stats["short_of_target"] == 7
    lin = info(kept.row(0, named=True), "self-instruct")
    assert lin["backend"] == {"backend": "scripted", "model": "scripted-1"}
    assert lin["template"]["id"] == "self_instruct_v1" and len(lin["template"]["sha256"]) == 12
    assert len(lin["sources"]) == 3 and all(s.startswith("seed_task_") for s in lin["sources"])  # the seeds' own ids
    assert lin["sampling"]["temperature"] == 0.7
    # three seed examples were shown, numbered 1-3, and the prompt asks for task 4 next
    assert backend.prompts[0].rstrip().endswith("4. Instruction:")


def test_self_instruct_rouge_rejects_near_duplicates_of_kept_instructions(tmp_path, seeds):
    def script(prompt, conv, i):
        if not prompt.startswith("You are asked to come up with"):
            return "Because of Rayleigh scattering."
        return (" Explain why the ocean looks blue on a clear sunny day.\n4. Input:\n<noinput>\n4. Output:\nLight.\n###\n"
                + _task(5, "Explain why the ocean looks blue on a clear and sunny day.", "Light scattering."))

    kept, rej, stats = run("self-instruct", seeds.head(5), ctx_with(tmp_path, ScriptedBackend(script)),
                           num_instructions=5, prompts_per_round=2, max_prompts=2, respond="separate",
                           template="self_instruct_v1")
    generated = kept.filter(pl.col("source") == "self-instruct")
    assert generated.height == 1 and kept.height == 6  # seeds pass through
    # separate responses: the scripted answer to the plain instruction replaces the inline one
    assert generated["response"].to_list() == ["Because of Rayleigh scattering."]
    assert "respond_template" in info(generated.row(0, named=True), "self-instruct")
    too_similar = rej.filter(pl.col("reason") == "self-instruct:too_similar")
    assert too_similar.height == 3 and "ROUGE-L" in too_similar["detail"][0]


def test_self_instruct_survives_garbage_and_failing_calls(tmp_path, seeds):
    state = {"n": 0}

    def script(prompt, conv, i):
        state["n"] += 1
        if state["n"] == 2:
            return Generation("", "error", 0, 0, "scripted-1", error="HTTP 500")
        return "I am a small model and I do not understand."

    backend = ScriptedBackend(script)
    kept, rej, stats = run("self-instruct", seeds.head(4), ctx_with(tmp_path, backend), num_instructions=2,
                           prompts_per_round=3, max_prompts=3, keep_seeds=False, respond="inline")
    assert kept.height == 0
    # prose with no task format reads as an instruction without an Output
    assert sorted(rej["reason"]) == ["self-instruct:empty_output", "self-instruct:empty_output",
                                     "self-instruct:llm_error"]
    assert rej["raw"][0].endswith("I am a small model and I do not understand.")
    assert rej.filter(pl.col("reason") == "self-instruct:llm_error")["detail"][0] == "prompt 1 completion 0: HTTP 500"


def test_a_backend_that_raises_is_rejected_per_call_and_all_failing_is_an_error(tmp_path):
    df = instruction_rows(*[(f"Question number {i} about cats?", "Cats.") for i in range(70)])

    def flaky(prompt, conv, i):
        if "number 65" in prompt:
            raise ConnectionError("connection reset")
        return "Ask about cats in other words."

    kept, rej, _ = run("paraphrase", df, ctx_with(tmp_path, ScriptedBackend(flaky, requests_per_call=64)), n=1)
    # the backend takes 64 requests per call: the second call (rows 64-69) failed as a whole
    assert (rej["reason"] == "paraphrase:llm_error").sum() == 6
    assert "connection reset" in rej.filter(pl.col("reason") == "paraphrase:llm_error")["detail"][0]

    def down(prompt, conv, i):
        raise ConnectionError("refused")

    with pytest.raises(RuntimeError, match="every backend call failed"):
        run("paraphrase", df.head(3), ctx_with(tmp_path, ScriptedBackend(down)), n=1)


# ---------------------------------------------------------------- topic-tree


def test_topic_tree_respects_per_node_counts_and_rejects_unparseable_nodes(tmp_path):
    def script(prompt, conv, i):
        if "subtopics of the topic \"Cooking\"" in prompt:
            return "1. Baking bread\n2. Knife skills\n3. Spices\n4. Soups\n5. Grilling"
        if "subtopics of the topic \"Travel\"" in prompt:
            return "Sorry, I cannot help."
        if "Write " in prompt and "questions or requests" in prompt:
            n = int(re.search(r"Write (\d+)", prompt).group(1))
            sub = re.search(r'about "([^"]+)"', prompt).group(1)
            return "\n".join(f"{k + 1}. How do I get better at {sub.lower()} step {k}?" for k in range(n + 1))
        return "A helpful answer."

    kept, rej, stats = run("topic-tree", records.empty(), ctx_with(tmp_path, ScriptedBackend(script)),
                           topics=["Cooking", "Travel"], subtopics=2, instructions=1,
                           overrides={"Cooking": {"subtopics": 4}, "Knife skills": {"instructions": 3}})
    meta = [json.loads(m) for m in kept["metadata"]]
    assert [m["subtopic"] for m in meta] == ["Baking bread", "Knife skills", "Knife skills", "Knife skills",
                                             "Spices", "Soups"]
    assert stats["per_topic"] == {"Cooking": 6}
    assert kept["response"].to_list() == ["A helpful answer."] * 6
    assert rej["reason"].to_list() == ["topic-tree:malformed_list"] and rej["raw"][0] == "Sorry, I cannot help."
    lin = info(kept.row(0, named=True), "topic-tree")
    assert lin["path"] == ["Cooking", "Baking bread"]
    assert [t["id"] for t in lin["templates"]] == ["subtopic_list_v1", "topic_questions_v1"]


def test_topic_tree_reads_the_shipped_topic_file(tmp_path):
    backend = ScriptedBackend(lambda p, c, i: "1. What is a good first question about this area?")
    kept, _, stats = run("topic-tree", records.empty(), ctx_with(tmp_path, backend),
                         topics_file="data:topics/general.yaml", subtopics=0, instructions=1, respond=False)
    assert stats["topics"] == 10 and kept.height == 10


# ---------------------------------------------------------------- paraphrase


def test_paraphrase_keeps_distinct_rewrites_and_rejects_copies(tmp_path):
    outs = ["What are the health benefits of green tea?", "Rephrased request: List green tea's benefits for health.",
            "List green tea's benefits for health.", "", "Name the health benefits of green tea?"]
    backend = ScriptedBackend(lambda p, c, i: outs[i] if "Rephrase" in p else "Regenerated answer.")
    df = instruction_rows(("What are the health benefits of green tea?", "Antioxidants."))
    kept, rej, stats = run("paraphrase", df, ctx_with(tmp_path, backend), n=5, max_similarity=0.75,
                           response="regenerate")
    new = kept.filter(pl.col("id") != "in:0")
    assert new["instruction"].to_list() == ["List green tea's benefits for health."]
    assert new["response"].to_list() == ["Regenerated answer."]
    assert sorted(rej["reason"]) == ["paraphrase:duplicate", "paraphrase:duplicate", "paraphrase:empty",
                                     "paraphrase:too_similar"]
    lin = [e["stage"] for e in new["lineage"][0]]
    assert lin == ["ingest", "paraphrase"]
    assert json.loads(new["metadata"][0])["paraphrase_of"] == "in:0"


# ---------------------------------------------------------------- translate


def test_translate_keeps_faithful_round_trips_only(tmp_path):
    fr = {"How do I boil an egg?": "Comment faire cuire un œuf ?",
          "Put it in boiling water for nine minutes.": "Mettez-le dans l'eau bouillante pendant neuf minutes.",
          "What is the tallest mountain on Earth?": "Quelle est la plus haute montagne de la Terre ?",
          "Mount Everest.": "Le mont Everest, qui est la plus haute montagne du monde entier, situé dans l'Himalaya."}
    back = {v: k for k, v in fr.items()}
    back["Quelle est la plus haute montagne de la Terre ?"] = "My cat likes to sleep in the sun all afternoon."

    def script(prompt, conv, i):
        text = prompt.split("\n\n", 1)[1]
        return fr[text] if prompt.startswith("Translate the following text from English") else back[text]

    df = instruction_rows(("How do I boil an egg?", "Put it in boiling water for nine minutes."),
                          ("What is the tallest mountain on Earth?", "Mount Everest."))
    kept, rej, stats = run("translate", df, ctx_with(tmp_path, ScriptedBackend(script)), languages=["French"],
                           min_similarity=0.8)
    new = kept.filter(pl.col("id").str.ends_with(":french"))
    assert new["instruction"].to_list() == ["Comment faire cuire un œuf ?"]
    assert json.loads(new["metadata"][0])["language"] == "French"
    checks = info(new.row(0, named=True), "translate")["checks"]
    assert checks["instruction"]["similarity"] > 0.99 and 0.5 < checks["response"]["length_ratio"] < 2
    assert rej["reason"].to_list() == ["translate:low_similarity"]
    assert "instruction: back-translation similarity" in rej["detail"][0]


def test_translate_length_ratio_catches_rambling_translations(tmp_path):
    long = "Le mont Everest, " * 10

    def script(prompt, conv, i):
        return long if prompt.startswith("Translate the following text from English") else "Mount Everest."

    df = instruction_rows(("Mount Everest.", ""))
    kept, rej, _ = run("translate", df, ctx_with(tmp_path, ScriptedBackend(script)), languages=["French"],
                       fields=["instruction"])
    assert rej["reason"].to_list() == ["translate:length_ratio"] and kept.height == 1


# ---------------------------------------------------------------- dialogue


def test_dialogue_alternates_roles_within_the_turn_range(tmp_path):
    def script(prompt, conv, i):
        if prompt.startswith("You are playing a curious human user"):
            return "User: Can you tell me more about that?" if "conversation so far" in prompt else "What is tea?"
        return f"Answer {len(conv)}."

    df = records.concat([instruction_rows(("How do plants grow?", "")),
                         records.from_rows([{"id": "t:0", "source": "t", "kind": "document", "text": "Tea"}])])
    kept, rej, _ = run("dialogue", df, ctx_with(tmp_path, ScriptedBackend(script)), turns=[2, 3],
                       system="Be brief.")
    assert kept.height == 2 and rej.height == 0
    for msgs in kept["messages"].to_list():
        roles = [m["role"] for m in msgs]
        assert roles[0] == "system" and roles[1::2] == ["user"] * (len(roles) // 2)
        assert 2 <= roles.count("user") <= 3 and roles[-1] == "assistant"
        assert all(m["content"] for m in msgs)
        assert msgs[3]["content"] == "Can you tell me more about that?"  # "User:" label stripped
    assert kept["messages"][1][1]["content"] == "What is tea?"  # topic row: the simulated user opened


def test_dialogue_rejects_a_conversation_with_an_empty_turn(tmp_path):
    backend = ScriptedBackend(lambda p, c, i: "" if p.startswith("You are playing") else "Sure.")
    kept, rej, _ = run("dialogue", instruction_rows(("Hello there, how are you?", "")), ctx_with(tmp_path, backend),
                       turns=[2, 2])
    assert kept.height == 0 and rej["reason"].to_list() == ["dialogue:empty_turn"]
    assert [m["role"] for m in rej["messages"][0]] == ["user", "assistant"]


# ---------------------------------------------------------------- long-context-qa


def test_long_context_qa_uses_the_whole_document_as_context(tmp_path):
    doc = " ".join(f"Paragraph {k}: the river Arn{k} flows past Vel{k} town today." for k in range(30))  # 10 words

    def script(prompt, conv, i):
        m = re.search(r"Paragraph (\d+):", prompt)
        k = m.group(1)
        return (f"Q: Which town does the river Arn{k} flow past?\nA: The town of Vel{k}.\n"
                f"Q: What colour is the sky?\nA: Purple with green dragons.")

    df = records.from_rows([{"id": "book:1", "source": "books", "kind": "document", "text": doc}])
    kept, rej, stats = run("long-context-qa", df, ctx_with(tmp_path, ScriptedBackend(script)), chunk_words=100,
                           qa_per_chunk=2)
    assert stats["chunks"] == 3 and kept.height == 3
    assert set(kept["input"]) == {doc}
    assert kept["response"][0] == "The town of Vel0."
    assert json.loads(kept["metadata"][1])["chunk_words"] == [100, 200]
    assert set(rej["reason"]) == {"long-context-qa:ungrounded"} and rej.height == 3


# ---------------------------------------------------------------- code

SOLUTIONS = {
    "Add two numbers.": ["```python\ndef add(a, b):\n    return a + b\n```"],
    "Reverse a string.": ["```python\ndef rev(s):\n    return s\n```",
                          "```python\ndef rev(s):\n    return s[::-1]\n```"],
    "Return the maximum of a list.": ["```python\ndef biggest(xs):\n    return min(xs)\n```"] * 3,
    "Say hello.": ["Hello! I cannot write code."],
}
TESTS = {"add": "```python\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\n```",
         "rev": "```python\nassert rev('abc') == 'cba'\n```",
         "biggest": "assert biggest([1, 5, 2]) == 5"}


def test_code_runs_tests_in_the_sandbox_and_repairs_failures(tmp_path):
    counts: dict[str, int] = {}

    def script(prompt, conv, i):
        if prompt.startswith("Write unit tests"):
            return TESTS[re.search(r"function `(\w+)`", prompt).group(1)]
        problem = re.search(r"Problem: (.+)", prompt).group(1).strip()
        k = counts[problem] = counts.get(problem, -1) + 1
        return SOLUTIONS[problem][min(k, len(SOLUTIONS[problem]) - 1)]

    df = instruction_rows(*[(p, "") for p in SOLUTIONS])
    kept, rej, stats = run("code", df, ctx_with(tmp_path, ScriptedBackend(script)), max_repairs=2, timeout=20)
    assert kept["instruction"].to_list() == ["Add two numbers.", "Reverse a string."]
    assert kept["response"][1] == "```python\ndef rev(s):\n    return s[::-1]\n```"
    meta = [json.loads(m) for m in kept["metadata"]]
    assert [m["repairs"] for m in meta] == [0, 1] and meta[0]["tests"].startswith("assert add(2, 3) == 5")
    assert stats["passed_after_repair"] == 1
    assert sorted(rej["reason"]) == ["code:no_function", "code:tests_failed"]
    failed = rej.filter(pl.col("reason") == "code:tests_failed")
    assert "AssertionError" in failed["detail"][0] and "after 2 repair rounds" in failed["detail"][0]
    assert "Error:" not in failed["raw"][0].split("---")[0]
    lin = info(kept.row(1, named=True), "code")
    assert lin["sandbox"]["status"] == "passed" and lin["repairs"][0]["status"] == "failed"


# ---------------------------------------------------------------- rule-augment


def test_rule_augment_fills_templates_consistently_and_swaps_gender(tmp_path):
    df = records.from_rows([
        {"id": "r:0", "source": "s", "kind": "instruction", "instruction": "She's a fantastic nurse. Praise her work.",
         "input": "", "response": "Mr. Alex Wang says her patients love her."},
        {"id": "r:1", "source": "s", "kind": "instruction", "instruction": "Write to {{ first_name }} in {{ city }}.",
         "input": "", "response": "Dear {{ first_name }}, greetings from {{ city }}."},
        {"id": "r:2", "source": "s", "kind": "instruction", "instruction": "Add 2 and 2.", "input": "", "response": "4"},
        {"id": "r:3", "source": "s", "kind": "instruction", "instruction": "Hi {{ not_a_provider }}", "input": "",
         "response": "x"},
    ])
    kept, rej, stats = run("rule-augment", df, StageContext(work_dir=tmp_path, seed=0), copies=2)
    by_id = {r["id"]: r for r in kept.iter_rows(named=True)}
    swap = by_id["r:0:swap"]
    assert swap["instruction"] == "He's a fantastic nurse. Praise his work."
    assert swap["response"] == "Ms. Alexa Wang says his patients love him."
    fills = [by_id[f"r:1:fill{c}"] for c in range(2)]
    for f in fills:
        name = re.match(r"Write to (.+) in (.+)\.", f["instruction"])
        assert f["response"] == f"Dear {name.group(1)}, greetings from {name.group(2)}."
    assert fills[0]["instruction"] != fills[1]["instruction"]
    assert {"r:0", "r:2"} <= set(by_id) and "r:1" not in by_id
    assert sorted(rej["reason"]) == ["rule-augment:template_consumed", "rule-augment:unknown_placeholder"]
    assert stats["filled"] == 2 and stats["nothing_to_swap"] >= 1
    assert info(swap, "rule-augment")["swaps"][:2] == ["She->He", "her->his"]
    # deterministic with the run's seed
    again, _, _ = run("rule-augment", df, StageContext(work_dir=tmp_path, seed=0), copies=2)
    assert again["instruction"].to_list() == kept["instruction"].to_list()


# ---------------------------------------------------------------- preference-pairs


def test_preference_pairs_keep_only_order_consistent_verdicts(tmp_path):
    answers = {"What is 2+2?": ["4", "5"], "Name a colour.": ["Blue.", "Red."], "Say hi.": ["Hi!", "Hi!"]}

    def script(prompt, conv, i):
        if prompt.startswith("Please act as an impartial judge"):
            a = prompt.split("[Assistant A's answer]\n")[1].split("\n")[0]
            if "2+2" in prompt:  # a consistent judge: the right answer wins in both orders
                return "Verdict: A" if a == "4" else "Verdict: B"
            return "Verdict: A"  # position bias: always the first
        return answers[prompt][i]

    df = instruction_rows(*[(q, "") for q in answers])
    kept, rej, stats = run("preference-pairs", df, ctx_with(tmp_path, ScriptedBackend(script)), responses=2)
    assert kept.to_dicts()[0] | {} and kept["chosen_response"].to_list() == ["4"] and kept["rejected_response"].to_list() == ["5"]
    assert kept["kind"].to_list() == ["preference"]
    assert sorted(rej["reason"]) == ["preference-pairs:identical_responses", "preference-pairs:inconsistent"]
    assert stats["agreed"] == 1 and stats["inconsistent"] == 1
    v = info(kept.row(0, named=True), "preference-pairs")["verdicts"]
    assert v == {"order_ab": "A", "order_ba": "B", "winner": "a"}


# ---------------------------------------------------------------- recipes and CLI


def test_rule_augment_runs_through_the_cli(tmp_path):
    src = tmp_path / "rows.jsonl"
    src.write_text(json.dumps({"instruction": "Thank him for his help.", "output": "Thanks, he was great."}) + "\n")
    dsforge = Path(sys.executable).with_name("dsforge")
    out = subprocess.run([str(dsforge), "stage", "rule-augment", "--input", str(src), "--out", str(tmp_path / "runs"),
                          "--param", "fill=false"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    kept = read_table(next((tmp_path / "runs").glob("*/stages/01-rule-augment")))
    assert kept["instruction"].to_list() == ["Thank him for his help.", "Thank her for her help."]


def test_shipped_synth_recipe_is_valid():
    from dsforge.pipelines.core.recipe import load_recipe

    recipe = load_recipe("synth-sft")
    names = [s.name for s in recipe.steps]
    assert names[0] == "ingest" and "self-instruct" in names and names[-1] == "save"
    assert names.index("chat-format") > names.index("self-instruct")
