"""The `faithfulness` step's `focused` check (validators/focus.py) on instructions SmolLM2-135M really wrote
for the shipped Wikipedia paragraphs, with the labels a careful reader gave them (bench/demo_labels/, run
sft-from-seeds-and-docs-20261207-150055: "Explain how ..." back-translation, before this check existed)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext
from dsforge.validators.faithfulness import Faithfulness
from dsforge.validators.focus import content_words, focus_problem, load_rules, split_sentences

ROOT = Path(__file__).resolve().parents[1]


def wiki(doc_id: str) -> str:
    path = ROOT / "data" / "wiki_passages.jsonl"
    return next(r["text"] for r in map(json.loads, path.read_text().splitlines()) if r["id"] == doc_id)


# (paragraph, instruction, the reason the check gives or None) -- all labelled bad by reading unless kept
BAD = [
    # false premise from words of different sentences: build 7989 of Windows 8 leaked on June 17, 2011
    ("wiki-006", "Explain how Windows 7 was leaked on June 17, 2011.", "scattered"),
    # Eisenhower went to Korea to learn what might end the war; the paragraph never says a visit ended it
    ("wiki-037", "Explain how Dwight D. Eisenhower's visit to Korea ended the Korean War.", "unsupported_words"),
    # asks what the paragraph never says
    ("wiki-007", "Explain how Microsoft's advertising campaign on Windows 8 began, how it impacted the market, "
                 "and how it has evolved over time.", "unsupported_words"),
    ("wiki-041", "Explain how incubation in monogamous species is energetically demanding, and how it affects "
                 "the eggshell production.", "unsupported_words"),
    # about one closing sentence (the paragraph is on the Hungnam evacuation)
    ("wiki-030", "Explain how the UN General Assembly adopted a draft resolution condemning China as an aggressor "
                 "in the Korean War.", "off_focus"),
]
GOOD = [
    ("wiki-004", "Explain how Mill's empiricism has its problems."),
    ("wiki-010", "Explain how Windows 8 Pro and Windows RT devices can be sideloaded from outside the Windows Store."),
    ("wiki-046", "Explain how birds use plumage to assess and assert social dominance, display breeding condition, "
                 "and make threatening displays."),
]


@pytest.mark.parametrize("doc_id,instruction,reason", BAD)
def test_focus_drops_bad_instructions_with_their_reason(doc_id, instruction, reason):
    problem = focus_problem(wiki(doc_id), instruction)
    assert problem is not None and problem[0] == reason, problem


@pytest.mark.parametrize("doc_id,instruction", GOOD)
def test_focus_keeps_good_instructions(doc_id, instruction):
    assert focus_problem(wiki(doc_id), instruction) is None


def test_focus_rules_come_from_the_data_file():
    rules = load_rules()
    assert {"describe", "explain", "the", "of"} <= rules.ignore and rules.window == 1 and rules.min_words == 3
    assert content_words("Describe the history of Windows 8.", rules) == ["history", "Windows", "8"]
    assert focus_problem(wiki("wiki-038"), "What is known about the Korean War?")[0] == "too_broad"
    # numbers match whole words: "7" is not build "7850"
    sentences = split_sentences(wiki("wiki-006"))
    assert sentences[1] == "Milestone 1, Build 7850, was leaked on April 12, 2011."


def rows(items) -> pl.DataFrame:
    return records.from_rows([{"id": rid, "source": "backtranslated", "kind": "instruction", "instruction": ins,
                               "input": "", "response": wiki(doc), "metadata": json.dumps({"backtranslated_from": doc})}
                              for rid, doc, ins in items])


def test_faithfulness_focused_keeps_the_first_passing_candidate_per_paragraph(tmp_path):
    df = rows([("wiki-006:bt", "wiki-006", "Explain how Windows 7 was leaked on June 17, 2011."),
               ("wiki-006:bt2", "wiki-006", "Describe the three milestone releases of Windows 8 that leaked."),
               ("wiki-006:bt3", "wiki-006", "Describe the leaked milestone releases of Windows 8."),
               ("wiki-046:bt", "wiki-046", GOOD[2][1])])
    ctx = StageContext(work_dir=tmp_path, base_dir=ROOT)
    res = Faithfulness({"source": "response", "response_field": "instruction", "min_similarity": 0.2,
                        "grounded": True, "focused": True, "use_judge": False,
                        "keep_first_per": "metadata.backtranslated_from"}).process(df, ctx)
    assert res.kept["id"].to_list() == ["wiki-006:bt2", "wiki-046:bt"]
    assert dict(zip(res.rejected["id"], res.rejected["reason"])) == {
        "wiki-006:bt": "faithfulness:scattered", "wiki-006:bt3": "faithfulness:another_candidate_kept"}
    assert res.stats["unfocused"] == 1
