"""The NER's matrix products on numpy's BLAS instead of thinc's blis: the same entities, only faster."""

from __future__ import annotations

import json
from pathlib import Path

from dsforge.filters import pii_names

DEV = Path(__file__).resolve().parent.parent / "bench" / "pii_eval" / "dev" / "en_dev.jsonl"


def test_numpy_blas_ops_find_the_same_entities_as_blis():
    import spacy   # a dependency of the project, as is the model (pyproject.toml): missing is a failure

    ours = pii_names.load_spacy(pii_names.SPACY_MODEL)
    assert ours is not None, f"{pii_names.SPACY_PACKAGE} is not installed (scripts/install.sh installs it)"
    layers = list(ours.get_pipe("ner").model.walk())
    assert {layer.ops.name for layer in layers} == {"numpy-blas"}
    stock = spacy.load(pii_names.SPACY_MODEL, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
    assert {layer.ops.name for layer in stock.get_pipe("ner").model.walk()} == {"numpy"}   # thinc's blis ops

    texts = [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines()[:300]]
    got = [[(e.label_, e.start_char, e.end_char) for e in d.ents] for d in ours.pipe(texts, batch_size=64)]
    want = [[(e.label_, e.start_char, e.end_char) for e in d.ents] for d in stock.pipe(texts, batch_size=64)]
    assert sum(map(len, want)) > 500          # real work: the dev set's forms, letters and chats
    assert got == want
    assert ("PERSON", 32) in [e[:2] for e in got[0]]   # "Full name: Jie Tang" in the first dev text
