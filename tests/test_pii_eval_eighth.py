"""The eighth look-alike set (bench/pii_eval/lookalike_eighth.py) is well formed: every mark parses, each kind
has 10+ texts, no new kind is in an earlier set, no text repeats a sixth- or seventh-set text, and its checksum
claims hold (checked with the project's own validators). It does not run the detector: the set is held out for
one run of the lead's round."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from dsforge.filters.pii_checks import digits, iban_ok, is_valid_cn_id, luhn_ok

EVAL = Path(__file__).resolve().parent.parent / "bench" / "pii_eval"
STRAY = re.compile(r"\[\[|\]\]|\{\{|\}\}")
EARLIER = ("lookalike_set.py", "lookalike_fresh.py", "lookalike_fifth.py", "lookalike_sixth.py",
           "lookalike_seventh.py", "templates_lookalike.txt", "templates_lookalike_extra.txt")

if str(EVAL) not in sys.path:  # the eighth set imports _parse from lookalike_sixth, as the bench does
    sys.path.insert(0, str(EVAL))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"pii_eval_{name}", EVAL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


eighth = _load("lookalike_eighth")
seventh = _load("lookalike_seventh")
sixth = _load("lookalike_sixth")


def _values(doc: dict, key: str) -> list[tuple[str, str]]:
    return [(label, doc["text"][start:end]) for label, start, end in doc[key]]


def _by_kind() -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for doc in eighth.build():
        by_kind.setdefault(doc["kind"], []).extend(v for _, v in _values(doc, "lookalikes"))
    return by_kind


def test_every_text_parses_into_whole_marked_values():
    docs, pii = eighth.build(), eighth.build_pii()
    for doc in docs + pii:
        assert not STRAY.search(doc["text"]), doc["id"]
        assert doc["split"] == "heldout"
    for doc in docs:
        assert doc["lookalikes"] and not doc["spans"], doc["id"]
        for label, value in _values(doc, "lookalikes"):
            assert label == doc["kind"] and value == value.strip() and value, doc["id"]
    raw = [m.group(1) for kinds in (eighth.LOOKALIKES_NEW, eighth.LOOKALIKES_FAMILIAR)
           for texts in kinds.values() for _, text in texts for m in sixth._MARK.finditer(text)]
    assert [v for d in docs for _, v in _values(d, "lookalikes")] == raw
    entities = {m.group(1) for _, text in sixth.PII_TEXTS for m in sixth._PII.finditer(text)}
    entities |= {"CREDIT_CARD", "CN_RESIDENT_ID"}
    for doc in pii:
        assert doc["spans"] and not doc["lookalikes"], doc["id"]
        assert {label for label, _ in _values(doc, "spans")} <= entities, doc["id"]


def test_kinds_and_counts():
    assert len(eighth.LOOKALIKES_NEW) >= 20 and len(eighth.LOOKALIKES_FAMILIAR) == 10
    assert sum(k.startswith("ZH_") for k in eighth.LOOKALIKES_NEW) >= 4
    for kind, texts in {**eighth.LOOKALIKES_NEW, **eighth.LOOKALIKES_FAMILIAR}.items():
        assert len(texts) >= 10, kind
    assert len(eighth.PII_TEXTS) >= 60
    assert {d["part"] for d in eighth.build()} == {"new", "familiar"}
    assert not set(eighth.LOOKALIKES_NEW) & set(eighth.LOOKALIKES_FAMILIAR)


def test_new_kinds_are_not_in_earlier_sets_and_no_text_repeats():
    earlier = "".join((EVAL / f).read_text(encoding="utf-8") for f in EARLIER)
    for kind in eighth.LOOKALIKES_NEW:
        assert f'"{kind}"' not in earlier and f"{{{kind}}}" not in earlier, kind
    old = {sixth._parse(raw, sixth._MARK, lambda m: "")[0] for texts in sixth.LOOKALIKES.values() for _, raw in texts}
    old |= {sixth._parse(raw, sixth._PII, lambda m: "")[0] for _, raw in sixth.PII_TEXTS}
    old |= {d["text"] for d in seventh.build() + seventh.build_pii()}
    texts = [d["text"] for d in eighth.build() + eighth.build_pii()]
    assert len(texts) == len(set(texts))
    assert not old & set(texts)


def test_checksum_claims_hold():
    by_kind = _by_kind()
    assert all(not iban_ok(v) for v in by_kind["BAD_IBAN"])
    assert all(not luhn_ok(digits(v)) and len(digits(v)) in (15, 16) for v in by_kind["BAD_LUHN_CARD"])
    assert all(len(v) == 18 and not is_valid_cn_id(v) for v in by_kind["BAD_CN_ID"])
    pii = [(label, v) for doc in eighth.build_pii() for label, v in _values(doc, "spans")]
    cards = [v for label, v in pii if label == "CREDIT_CARD"]
    ids = [v for label, v in pii if label == "CN_RESIDENT_ID"]
    assert cards and all(luhn_ok(digits(v)) for v in cards)
    assert ids and all(is_valid_cn_id(v) for v in ids)


def test_bad_ibans_are_right_shaped_so_only_the_checksum_fails():
    """An IBAN that fails for its length would test nothing: each one must only miss mod-97."""
    for value in _by_kind()["BAD_IBAN"]:
        body = value[4:]
        fixed = [f"{value[:2]}{check:02d}{body}" for check in range(2, 99)]
        assert sum(iban_ok(f) for f in fixed) == 1, value
