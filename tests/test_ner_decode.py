"""ner_decode.BatchNer: spaCy's greedy NER decoding done for a whole batch in numpy gives spaCy's entities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsforge.filters import pii_names
from dsforge.filters.ner_decode import BatchNer

DEV = Path(__file__).resolve().parent.parent / "bench" / "pii_eval" / "dev" / "en_dev.jsonl"
# the shapes at the edges of the transition system: empty, whitespace only, one token, an entity on the last
# token, whitespace inside and around names, a run of spaces
EDGES = ["", " ", "\n\n", "Paris", "John Smith", "Dear  Mr.  John\n\nSmith  ", "Call Anna on Monday 3 May",
         "  \t New York City\n", "I met Priya Sharma and Jean-Luc Picard in Lyon, France, last year."]


@pytest.fixture(scope="module")
def nlp():
    loaded = pii_names.load_spacy(pii_names.SPACY_MODEL)
    assert loaded is not None, f"{pii_names.SPACY_PACKAGE} is not installed (scripts/install.sh installs it)"
    return loaded


def entities(ents) -> list[tuple[str, int, int]]:
    return [(e.label_, e.start_char, e.end_char) for e in ents]


def test_batch_decoding_finds_spacys_entities_on_every_dev_text(nlp):
    assert BatchNer.supports(nlp)
    texts = EDGES + [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines()]
    want = [entities(doc.ents) for doc in nlp.pipe(texts, batch_size=64)]   # spaCy's own transition loop
    decode, got = BatchNer(nlp), []
    for i in range(0, len(texts), 256):
        got += [entities(ents) for ents in decode([nlp.make_doc(t) for t in texts[i:i + 256]])]
    assert sum(map(len, want)) > 10_000        # the 1,500 dev forms, letters, chats and CVs: real work
    assert got == want
    assert got[EDGES.index("Paris")] == [("GPE", 0, 5)]
    assert ("PERSON", 6, 18) in got[EDGES.index("I met Priya Sharma and Jean-Luc Picard in Lyon, France, last year.")]


def test_ner_spans_uses_the_batch_decoder_and_keeps_its_output(nlp, monkeypatch):
    texts = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines()[:200]]
    fast = pii_names.ner_spans(nlp, texts)
    calls = []
    monkeypatch.setattr(BatchNer, "supports", staticmethod(lambda nlp: calls.append(1) and False))
    slow = pii_names.ner_spans(nlp, texts)
    assert calls and fast == slow
    assert any(s.entity == "PERSON" for spans in fast for s in spans)


def test_other_pipelines_fall_back_to_spacys_loop(nlp):
    import spacy

    full = spacy.load(pii_names.SPACY_MODEL)          # a parser before ner sets sentence starts
    assert not BatchNer.supports(full)
    spans = pii_names.ner_spans(full, ["Hello, I am Maria Lopez and I live in Madrid."])
    assert [(s.entity, s.start, s.end) for s in spans[0]] == [("PERSON", 12, 23), ("LOCATION", 38, 44)]


def test_docs_with_preset_entities_are_refused(nlp):
    doc = nlp.make_doc("Maria Lopez lives in Madrid")
    doc.ents = [doc.char_span(0, 11, label="PERSON")]
    with pytest.raises(ValueError, match="freshly tokenised"):
        BatchNer(nlp)([doc])
