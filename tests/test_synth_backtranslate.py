"""Instruction back-translation (Humpback): self-curation threshold, rounds, length bounds, examples as turns."""

from __future__ import annotations

import json

import polars as pl
from synth_fakes import ScriptedBackend
from test_synth_stages import ROOT, ctx_with, info, run

from dsforge.pipelines.core import records
from dsforge.pipelines.llm.seam import Generation


DOCS = ["To remove a red wine stain, blot it, cover it with salt, then wash with cold water and dish soap.",
        "Our shop is open daily. Click here to buy cheap sneakers!!! Free shipping today only.",
        "The French Revolution began in 1789 and ended the absolute monarchy of Louis XVI."]


def doc_rows(texts=DOCS) -> pl.DataFrame:
    return records.from_rows([{"id": f"doc:{i}", "source": "web", "kind": "document", "text": t}
                              for i, t in enumerate(texts)])


def test_backtranslate_keeps_only_pairs_scored_at_or_above_threshold(tmp_path):
    def script(prompt, conv, i):
        if prompt.startswith("Below is an instruction from an user"):
            ans = prompt.rsplit("<answer>", 1)[1]
            return "Reasoning: ...\nScore: " + ("5" if "wine" in ans else "2" if "sneakers" in ans else "4")
        text = prompt.rsplit("Response:", 1)[1]
        return ("Instruction: How do I get a red wine stain out?" if "wine" in text else
                "What does this shop sell?" if "sneakers" in text else "When did the French Revolution begin?")

    kept, rej, stats = run("backtranslate-instructions", doc_rows(), ctx_with(tmp_path, ScriptedBackend(script)),
                           threshold=4, num_examples=1)
    assert kept["instruction"].to_list() == ["How do I get a red wine stain out?",
                                             "When did the French Revolution begin?"]
    assert kept["response"].to_list() == [DOCS[0], DOCS[2]] and kept["score"].to_list() == [5.0, 4.0]
    assert rej["reason"].to_list() == ["backtranslate-instructions:below_threshold"]
    assert "score 2 < threshold 4" in rej["detail"][0] and "Score: 2" in rej["raw"][0]
    lin = info(kept.row(0, named=True), "backtranslate-instructions")
    assert lin["judge"]["score"] == 5 and lin["judge"]["template"]["id"] == "backtranslate_curate_v1"
    assert lin["sources"] == ["doc:0"] and kept["lineage"][0][0]["stage"] == "backtranslate-instructions"


def test_backtranslate_rounds_feed_curated_pairs_back_as_examples(tmp_path):
    seen_round2 = []

    def script(prompt, conv, i):
        if prompt.startswith("Below is an instruction from an user"):
            return "Score: 5" if "wine" in prompt.rsplit("<answer>", 1)[1] else "Score: 1"
        if "How do I get a red wine stain out?" in prompt.split("Response: " + DOCS[1])[0] and DOCS[1] in prompt:
            seen_round2.append(prompt)
        return "How do I get a red wine stain out?" if "wine" in prompt.rsplit("Response:", 1)[1] else "Tell me about shoes."

    kept, rej, stats = run("backtranslate-instructions", doc_rows(DOCS[:2]),
                           ctx_with(tmp_path, ScriptedBackend(script)), rounds=2, num_examples=1)
    assert stats["rounds"] == [{"round": 1, "pairs": 2, "kept": 1}, {"round": 2, "pairs": 1, "kept": 0}]
    assert seen_round2, "round 2 should show the pair curated in round 1 as its example"
    assert kept.height == 1 and rej["reason"].to_list() == ["backtranslate-instructions:below_threshold"]


def test_backtranslate_rejects_texts_out_of_length_bounds_without_calls(tmp_path):
    backend = ScriptedBackend(lambda p, c, i: "Score: 5")
    kept, rej, _ = run("backtranslate-instructions", doc_rows(["too short"]), ctx_with(tmp_path, backend))
    assert kept.height == 0 and rej["reason"].to_list() == ["backtranslate-instructions:bad_length"]
    assert backend.prompts == []


def test_backtranslate_examples_as_chat_turns_without_curation(tmp_path):
    """few_shot: turns shows the shipped examples as earlier turns; curate: false sends no curation call and
    keeps every readable instruction (score None), rejecting one cut off at max_tokens."""
    def script(prompt, conv, i):
        if "wine" in prompt:
            return "How do I get a red wine stain out of a carpet?"
        if "sneakers" in prompt:
            return Generation("Tell me about the shop that sells", "length", 40, 40, "scripted-1")
        return "Explain how the French Revolution began."

    backend = ScriptedBackend(script)
    kept, rej, stats = run("backtranslate-instructions", doc_rows(), ctx_with(tmp_path, backend), few_shot="turns",
                           curate=False, reject_truncated=True, generate_template="backtranslate_turn_v1",
                           examples_path="data:backtranslate_examples.jsonl", examples_mapping="alpaca")
    assert len(backend.prompts) == 3  # three instructions, no curation prompt
    examples = [json.loads(line) for line in (ROOT / "data" / "backtranslate_examples.jsonl").read_text().splitlines()]
    conv = backend.conversations[0]
    assert [m["role"] for m in conv] == ["user", "assistant", "user", "assistant", "user"]
    assert {conv[1]["content"], conv[3]["content"]} == {e["instruction"] for e in examples}
    assert conv[0]["content"].startswith("Write the request that this paragraph answers:")
    assert {conv[0]["content"].split("\n\n", 1)[1], conv[2]["content"].split("\n\n", 1)[1]} == {e["output"] for e in examples}
    assert kept["instruction"].to_list() == ["How do I get a red wine stain out of a carpet?",
                                             "Explain how the French Revolution began."]
    assert kept["score"].to_list() == [None, None] and stats["threshold"] is None
    assert rej["reason"].to_list() == ["backtranslate-instructions:truncated"]
    lin = info(kept.row(0, named=True), "backtranslate-instructions")
    assert lin["curation"] == "off" and lin["few_shot"] == "turns" and "judge" not in lin
    assert lin["template"]["id"] == "backtranslate_turn_v1"


def test_backtranslate_candidates_one_instruction_per_prompt_variant(tmp_path):
    """`candidates` adds one instruction per extra prompt variant (its own template, examples and sampling):
    rows <id>:bt, <id>:bt2 in that order per text, each naming its template and candidate number; a text is
    rejected only when no variant gave a readable instruction."""
    def script(prompt, conv, i):
        first_turn = conv[0]["content"]
        if "sneakers" in prompt:
            return Generation("Tell me about the shop that sells", "length", 40, 40, "scripted-1")
        if first_turn.startswith("Write a short request about the main subject"):
            return "Describe the French Revolution." if "French" in prompt else "Describe red wine stains."
        return "Explain how the French Revolution began." if "French" in prompt else "How do I remove a wine stain?"

    backend = ScriptedBackend(script)
    kept, rej, stats = run("backtranslate-instructions", doc_rows(), ctx_with(tmp_path, backend), few_shot="turns",
                           curate=False, reject_truncated=True, generate_template="backtranslate_subject_v1",
                           examples_path="data:backtranslate_subject_examples.jsonl", examples_mapping="alpaca",
                           candidates=[{"generate_template": "backtranslate_turn_v1",
                                        "examples_path": "data:backtranslate_examples.jsonl",
                                        "sampling": {"temperature": 0.0, "max_tokens": 30}}])
    assert len(backend.prompts) == 6  # 3 texts x 2 variants
    assert kept["id"].to_list() == ["doc:0:bt", "doc:0:bt2", "doc:2:bt", "doc:2:bt2"]
    assert kept["instruction"].to_list() == ["Describe red wine stains.", "How do I remove a wine stain?",
                                             "Describe the French Revolution.", "Explain how the French Revolution began."]
    assert rej["reason"].to_list() == ["backtranslate-instructions:truncated"]
    first, second = (info(kept.row(k, named=True), "backtranslate-instructions") for k in (0, 1))
    assert (first["template"]["id"], first["candidate"]) == ("backtranslate_subject_v1", 1)
    assert (second["template"]["id"], second["candidate"]) == ("backtranslate_turn_v1", 2)
    assert second["sampling"]["max_tokens"] == 30 and first["sampling"]["max_tokens"] != 30
    assert (first["examples"], second["examples"]) == ("data:backtranslate_subject_examples.jsonl",
                                                       "data:backtranslate_examples.jsonl")
    assert json.loads(kept["metadata"][1]) == {"backtranslated_from": "doc:0", "candidate": 2,
                                                "curation_score": None, "round": 1}
    # the subject prompt shows only the paragraph's first 60 words
    long_doc = " ".join(f"w{i}" for i in range(100))
    backend2 = ScriptedBackend(lambda p, c, i: "Describe the words.")
    run("backtranslate-instructions", doc_rows([long_doc]), ctx_with(tmp_path / "b", backend2), few_shot="turns",
        curate=False, generate_template="backtranslate_subject_v1",
        examples_path="data:backtranslate_subject_examples.jsonl", examples_mapping="alpaca")
    last = backend2.conversations[0][-1]["content"]
    assert "w59" in last and "w60" not in last


def test_a_candidate_variant_can_be_limited_to_some_sources(tmp_path):
    """A variant with `only_sources` is asked only for texts of those sources (the whole-chain recipe asks
    "What is known about ..." of Wikipedia paragraphs only); the first variant is asked for every text."""
    rows = records.from_rows([{"id": f"doc:{i}", "source": src, "kind": "document", "text": t}
                              for i, (src, t) in enumerate(zip(["wiki", "pyref", "wiki"], DOCS))])
    backend = ScriptedBackend(lambda p, c, i: "Describe the text.")
    kept, rej, _ = run("backtranslate-instructions", rows, ctx_with(tmp_path, backend), few_shot="turns",
                       curate=False, generate_template="backtranslate_subject_v1",
                       examples_path="data:backtranslate_subject_examples.jsonl", examples_mapping="alpaca",
                       candidates=[{"generate_template": "backtranslate_subject_v1",
                                    "examples_path": "data:backtranslate_known_examples.jsonl",
                                    "only_sources": ["wiki"]}])
    assert len(backend.prompts) == 5  # 3 texts for the first variant, the 2 wiki texts for the second
    assert kept["id"].to_list() == ["doc:0:bt", "doc:0:bt2", "doc:1:bt", "doc:2:bt", "doc:2:bt2"]
    assert rej.height == 0
