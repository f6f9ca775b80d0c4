"""The ninth look-alike set (bench/pii_eval/lookalike_ninth.py) is well formed: every mark parses, each kind has
10+ texts, no new kind is in an earlier set while every familiar kind is, no text repeats a sixth-, seventh- or
eighth-set text, and its checksum and reserved-range claims hold (checked with the project's own validators where
it has them). It does not run the detector: the set is held out for one run of the lead's round."""

from __future__ import annotations

import importlib.util
import ipaddress
import re
import sys
from pathlib import Path

from dsforge.filters.pii_checks import digits, is_valid_cn_id, isbn_ok, luhn_ok

EVAL = Path(__file__).resolve().parent.parent / "bench" / "pii_eval"
STRAY = re.compile(r"\[\[|\]\]|\{\{|\}\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
EARLIER = ("lookalike_set.py", "lookalike_fresh.py", "lookalike_fifth.py", "lookalike_sixth.py",
           "lookalike_seventh.py", "lookalike_eighth.py", "templates_lookalike.txt", "templates_lookalike_extra.txt")
# RFC 5737 (IPv4) and RFC 3849 (IPv6) documentation ranges; RFC 2606 / RFC 6761 reserved mail domains
DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
RESERVED_DOMAIN = re.compile(r"(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$")

sys.path.insert(0, str(EVAL))  # the sets import each other's parser, as bench/pii.py loads them


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"pii_eval_{name}", EVAL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ninth = _load("lookalike_ninth")
eighth = _load("lookalike_eighth")
seventh = _load("lookalike_seventh")
sixth = _load("lookalike_sixth")


def _values(doc: dict, key: str) -> list[tuple[str, str]]:
    return [(label, doc["text"][start:end]) for label, start, end in doc[key]]


def _by_kind() -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for doc in ninth.build():
        by_kind.setdefault(doc["kind"], []).extend(v for _, v in _values(doc, "lookalikes"))
    return by_kind


def test_every_text_parses_into_whole_marked_values():
    docs, pii = ninth.build(), ninth.build_pii()
    for doc in docs + pii:
        assert not STRAY.search(doc["text"]), doc["id"]
        assert doc["split"] == "heldout"
    for doc in docs:
        assert doc["lookalikes"] and not doc["spans"], doc["id"]
        for label, value in _values(doc, "lookalikes"):
            assert label == doc["kind"] and value == value.strip() and value, doc["id"]
    raw = [m.group(1) for kinds in (ninth.LOOKALIKES_NEW, ninth.LOOKALIKES_FAMILIAR)
           for texts in kinds.values() for _, text in texts for m in sixth._MARK.finditer(text)]
    assert [v for d in docs for _, v in _values(d, "lookalikes")] == raw
    entities = {m.group(1) for _, text in sixth.PII_TEXTS for m in sixth._PII.finditer(text)}
    entities |= {"CREDIT_CARD", "CN_RESIDENT_ID"}
    for doc in pii:
        assert doc["spans"] and not doc["lookalikes"], doc["id"]
        for label, value in _values(doc, "spans"):
            assert label in entities and value == value.strip() and value, doc["id"]


def test_kinds_and_counts():
    assert len(ninth.LOOKALIKES_NEW) >= 20 and len(ninth.LOOKALIKES_FAMILIAR) == 10
    assert sum(k.startswith("ZH_") for k in ninth.LOOKALIKES_NEW) >= 4
    for kind, texts in {**ninth.LOOKALIKES_NEW, **ninth.LOOKALIKES_FAMILIAR}.items():
        assert len(texts) >= 10, kind
        if kind.startswith("ZH_"):
            assert all(HAN.search(text) for _, text in texts), kind
    assert {d["part"] for d in ninth.build()} == {"new", "familiar"}
    assert not set(ninth.LOOKALIKES_NEW) & set(ninth.LOOKALIKES_FAMILIAR)


def test_true_pii_is_half_chinese_with_names_in_sentences():
    pii = ninth.build_pii()
    assert len(pii) >= 60
    zh = [d for d in pii if d["set"] == "zh"]
    assert 0.4 <= len(zh) / len(pii) <= 0.6
    # names inside running Chinese text, not only after a 姓名： form label
    in_sentence = [d for d in zh for label, start, _ in d["spans"]
                   if label == "PERSON" and not d["text"][:start].endswith(("姓名：", "联系人："))]
    assert len(in_sentence) >= 30


def test_new_kinds_are_not_in_earlier_sets_and_familiar_ones_are():
    earlier = "".join((EVAL / f).read_text(encoding="utf-8") for f in EARLIER)
    for kind in ninth.LOOKALIKES_NEW:
        assert f'"{kind}"' not in earlier and f"{{{kind}}}" not in earlier, kind
    for kind in ninth.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier or f"{{{kind}}}" in earlier, kind


def test_no_text_repeats_an_earlier_text():
    old = {sixth._parse(raw, sixth._MARK, lambda m: "")[0] for texts in sixth.LOOKALIKES.values() for _, raw in texts}
    old |= {sixth._parse(raw, sixth._PII, lambda m: "")[0] for _, raw in sixth.PII_TEXTS}
    old |= {d["text"] for d in seventh.build() + seventh.build_pii() + eighth.build() + eighth.build_pii()}
    texts = [d["text"] for d in ninth.build() + ninth.build_pii()]
    assert len(texts) == len(set(texts))
    assert not old & set(texts)


def test_checksum_and_reserved_range_claims_hold():
    by_kind = _by_kind()
    assert all(isbn_ok(digits(v) if len(digits(v)) == 13 else v.replace("-", "")) for v in by_kind["ISBN"])
    for value in by_kind["DOC_IP"]:
        net = ipaddress.ip_network(value, strict=True) if "/" in value else ipaddress.ip_network(value)
        assert any(net.version == doc.version and net.subnet_of(doc) for doc in DOC_NETS), value
    for value in by_kind["EMAIL_EXAMPLE"]:
        assert RESERVED_DOMAIN.search(value.rsplit("@", 1)[1]), value
    pii = [(label, v) for doc in ninth.build_pii() for label, v in _values(doc, "spans")]
    cards = [v for label, v in pii if label == "CREDIT_CARD"]
    ids = [v for label, v in pii if label == "CN_RESIDENT_ID"]
    assert cards and all(luhn_ok(digits(v)) for v in cards)
    assert ids and all(is_valid_cn_id(v) for v in ids)


def test_isbns_would_fail_with_any_other_check_digit():
    """A correct check digit is the claim: changing it must break every ISBN, so the validator really ran."""
    for value in _by_kind()["ISBN"]:
        body = digits(value) if len(digits(value)) == 13 else value.replace("-", "")
        others = [body[:-1] + c for c in "0123456789X" if c != body[-1] and not (len(body) == 13 and c == "X")]
        assert not any(isbn_ok(o) for o in others), value
