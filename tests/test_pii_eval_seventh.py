"""The seventh look-alike set (bench/pii_eval/lookalike_seventh.py) is well formed: every mark parses, each kind
has 10+ texts, none repeats a sixth-set text or an earlier kind, and its checksum claims hold (checked with the
project's own validators). It does not run the detector: the set is held out for one run of the lead's round."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from dsforge.filters.pii_checks import digits, is_valid_cn_id, isbn_ok, luhn_ok

EVAL = Path(__file__).resolve().parent.parent / "bench" / "pii_eval"
STRAY = re.compile(r"\[\[|\]\]|\{\{|\}\}")
sys.path.insert(0, str(EVAL))  # the sets import each other's parser, as bench/pii.py loads them


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"pii_eval_{name}", EVAL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seventh = _load("lookalike_seventh")
sixth = _load("lookalike_sixth")


def _values(doc: dict, key: str) -> list[tuple[str, str]]:
    return [(label, doc["text"][start:end]) for label, start, end in doc[key]]


def _aba_ok(number: str) -> bool:
    """ABA routing number check: 3-7-1 weights over nine digits sum to a multiple of 10."""
    return len(number) == 9 and sum(int(d) * w for d, w in zip(number, (3, 7, 1) * 3)) % 10 == 0


def test_every_text_parses_into_whole_marked_values():
    docs = seventh.build()
    pii = seventh.build_pii()
    for doc in docs + pii:
        assert not STRAY.search(doc["text"]), doc["id"]
        assert doc["split"] == "heldout"
    for doc in docs:
        assert doc["lookalikes"] and not doc["spans"], doc["id"]
        for label, value in _values(doc, "lookalikes"):
            assert label == doc["kind"] and value == value.strip() and value, doc["id"]
    raw_values = [m.group(1) for _, raw in (t for k in seventh.LOOKALIKES_NEW.values() for t in k)
                  for m in sixth._MARK.finditer(raw)]
    new_docs = [d for d in docs if d["part"] == "new"]
    assert [v for d in new_docs for _, v in _values(d, "lookalikes")] == raw_values
    # the sixth set's entity names, and the card and resident id names the earlier sets use
    entities = {m.group(1) for _, raw in sixth.PII_TEXTS for m in sixth._PII.finditer(raw)}
    entities |= {"CREDIT_CARD", "CN_RESIDENT_ID"}
    for doc in pii:
        assert doc["spans"] and not doc["lookalikes"], doc["id"]
        assert {label for label, _ in _values(doc, "spans")} <= entities, doc["id"]


def test_kinds_and_counts():
    assert len(seventh.LOOKALIKES_NEW) >= 20 and len(seventh.LOOKALIKES_FAMILIAR) == 10
    assert sum(k.startswith("ZH_") for k in seventh.LOOKALIKES_NEW) >= 4
    for kind, texts in {**seventh.LOOKALIKES_NEW, **seventh.LOOKALIKES_FAMILIAR}.items():
        assert len(texts) >= 10, kind
    assert len(seventh.PII_TEXTS) >= 60
    assert {d["part"] for d in seventh.build()} == {"new", "familiar"}


def test_new_kinds_are_not_in_earlier_sets_and_no_text_repeats():
    earlier = "".join((EVAL / f).read_text(encoding="utf-8") for f in (
        "lookalike_set.py", "lookalike_fresh.py", "lookalike_fifth.py", "lookalike_sixth.py",
        "templates_lookalike.txt", "templates_lookalike_extra.txt"))
    for kind in seventh.LOOKALIKES_NEW:
        assert f'"{kind}"' not in earlier and f"{{{kind}}}" not in earlier, kind
    old_texts = {sixth._parse(raw, sixth._MARK, lambda m: "")[0] for texts in sixth.LOOKALIKES.values()
                 for _, raw in texts}
    old_texts |= {sixth._parse(raw, sixth._PII, lambda m: "")[0] for _, raw in sixth.PII_TEXTS}
    texts = [d["text"] for d in seventh.build() + seventh.build_pii()]
    assert len(texts) == len(set(texts))
    assert not old_texts & set(texts)


def test_checksum_claims_hold():
    by_kind: dict[str, list[str]] = {}
    for doc in seventh.build():
        by_kind.setdefault(doc["kind"], []).extend(v for _, v in _values(doc, "lookalikes"))
    assert all(not luhn_ok(digits(v)) for v in by_kind["BAD_LUHN_CARD"])
    assert all(len(digits(v)) in (15, 16) for v in by_kind["BAD_LUHN_CARD"])
    assert all(len(v) == 18 and not is_valid_cn_id(v) for v in by_kind["BAD_CN_ID"])
    assert all(isbn_ok(v) for v in by_kind["ISBN"])
    aba = [v for v in by_kind["BANK_ROUTING"] if v.isdigit()]
    assert len(aba) >= 6 and all(_aba_ok(v) for v in aba)
    pii = [(label, v) for doc in seventh.build_pii() for label, v in _values(doc, "spans")]
    assert all(luhn_ok(digits(v)) for label, v in pii if label == "CREDIT_CARD")
    assert all(is_valid_cn_id(v) for label, v in pii if label == "CN_RESIDENT_ID")
