"""Known answers for lone given names (pii_lone): one word called a person with nothing around it that
says so is a song, a unit, a machine or a fossil; the same word greeted, thanked, given a role, signed off
with, said to act or referred to as he/she is a person. Each pair's look-alike was found as a PERSON before
the rule. Runs with the spaCy model, like the stage's defaults."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dsforge.filters import pii_lone
from dsforge.filters.pii_spans import Span

sys.path.insert(0, str(Path(__file__).parent))
from pii_answers import DET, check_pair, found  # noqa: E402

# (look-alike in context, a private person in the same kind of context, the PII that must be found there)
PAIRS = {
    "a unit": (
        "why is the oven dial in Kelvin on this thing",
        "why is Kelvin on the oven rota this week, he did it last week",
        ("PERSON", "Kelvin")),
    "a supercomputer in a list": (
        "Simulations ran on Frontier and Leonardo; 2.1 million node-hours in all.",
        "Simulations were run by Leonardo; he booked 2.1 million node-hours.",
        ("PERSON", "Leonardo")),
    "a song": (
        "karaoke tonight, I'm doing Jolene and nobody can stop me",
        "karaoke tonight: Jolene says nobody can stop her",
        ("PERSON", "Jolene")),
    "a list of songs, and a list of people with one cue": (
        "Arranged Roxanne and Valerie for the college big band.",
        "Thanks to Roxanne and Valerie for the college big band arrangement.",
        ("PERSON", "Valerie")),
    "a fossil": (
        "Little Foot is older than Lucy?? just read that",
        "Little Foot is the nickname Lucy gave her brother, just read her card",
        ("PERSON", "Lucy")),
    "a minor planet": (
        "Astronomy club: find 4 Vesta with binoculars this week.",
        "Astronomy club: ask Vesta for the binoculars this week.",
        ("PERSON", "Vesta")),
    "a song on a playlist, and a role noun before a person": (
        "The hotel bar played Fernando all night.",
        "The hotel bar owner Fernando played all night.",
        ("PERSON", "Fernando")),
    "a programming language, and a signature": (
        "Which is faster, Haskell or Rust?",
        "Which is faster? I timed both builds this morning.\nThanks,\nHaskell",
        ("PERSON", "Haskell")),
}


@pytest.mark.parametrize("case", sorted(PAIRS))
def test_lone_name_pairs(case):
    check_pair(case, *PAIRS[case])


def test_each_look_alike_was_a_person_without_the_rule(monkeypatch):
    """So the pairs test the rule, not the recognisers."""
    monkeypatch.setattr(pii_lone, "drop_lone_names", lambda *a: None)
    for case, (lookalike, _, _) in PAIRS.items():
        assert any(e == "PERSON" for e, _ in found(lookalike)), case


def test_evidence_once_keeps_every_mention_and_a_full_name_is_never_a_candidate():
    text = "Hi Emre, the slides are fine. Later Emre and the team meet at 3."
    assert [v for e, v in found(text) if e == "PERSON"].count("Emre") == 2
    # a cue before a list of names, or before a given name spaCy left out of the span
    assert ("PERSON", "Finn") in found("Gift note: To Grandpa Ewan, happy 80th! From Isla and Finn")
    assert ("PERSON", "Gurung") in found('session start name="Anil Gurung" ip=94.173.20.8 device=android')
    text = "Priya Raman from accounts left; Priya was on the list for the quiz."
    assert ("PERSON", "Priya Raman") in found(text) and ("PERSON", "Priya") in found(text)
    assert pii_lone.candidates(text, [Span("PERSON", 0, 11, 0.85, "ner"), Span("PERSON", 32, 37, 0.85, "ner")]) == []
    assert pii_lone.candidates("the Lonely Dan box set", [Span("PERSON", 11, 14, 0.85, "ner")]) != []
    assert pii_lone.candidates("the Raman box set", [Span("PERSON", 4, 9, 0.85, "ner")]) != []
    assert pii_lone.candidates("Priya Raman's box set", [Span("PERSON", 6, 11, 0.85, "ner")]) == []  # split name


def test_without_the_tagger_nothing_is_dropped(monkeypatch):
    texts = ["Simulations ran on Frontier and Leonardo; 2.1 million node-hours in all."]
    drop = pii_lone.drop_lone_names
    monkeypatch.setattr(pii_lone, "drop_lone_names", lambda *a: None)
    out = DET.scan(texts)
    before = list(out[0])
    drop(None, texts, out, [0])
    assert out[0] == before and any(s.entity == "PERSON" for s in before)
    drop(DET.tagger, texts, out, [0])
    assert not any(s.entity == "PERSON" for s in out[0])
