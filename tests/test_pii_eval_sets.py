"""The PII evaluation sets (bench/pii_eval/, JSONL read by bench/pii_eval/reader.py) are well formed: gold offsets
match their values, gold cards pass Luhn and gold IBANs mod 97, the issue-28 dev and held-out splits share no
template, the generator still writes exactly the committed files, the older sets hold the texts and spans their
Python builders made (MANIFEST.json), and the checksum and range claims of the hand-written sets hold. Nothing
here runs the detector: bench/pii.py does.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

EVAL = Path(__file__).resolve().parent.parent / "bench" / "pii_eval"
sys.path.insert(0, str(EVAL))
from checks import digits, gtin_ok, iban_ok, is_valid_cn_id, isbn_ok, luhn_ok  # noqa: E402
from reader import SetFormatError, check_rows, read_jsonl, read_set  # noqa: E402

STRAY = re.compile(r"\[\[|\]\]|\{\{|\}\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
FILES = sorted(EVAL.glob("**/*.jsonl"))
ORDER = ["seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth"]
OLDER = ["second_dev", "second_heldout", "third_dev", "third_heldout", "fourth", "fifth", "sixth"]
SCORED = ["PERSON", "LOCATION", "DATE", "DATE_OF_BIRTH", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
          "IP_ADDRESS", "URL", "US_SSN"]
SETS = {name: read_set(f"legacy/{name}") for name in ORDER}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(EVAL)))
def test_every_set_file_is_sound(path):
    rows = read_jsonl(path)
    assert rows and check_rows(rows) == []
    for r in rows:
        assert r.get("setting") == "real code" or not STRAY.search(r["text"]), r["id"]  # no mark left behind
        assert r["lang"] in ("en", "zh"), r["id"]
        for s in r["spans"] + r.get("lookalikes", []):
            assert s["value"] == s["value"].strip() and s["value"], (r["id"], s)


def test_reader_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x", "spans": [], "source": "s", "template": "t", "lang": "en"}\n{"id": \n')
    with pytest.raises(SetFormatError, match=r"bad\.jsonl:2: not JSON"):
        read_jsonl(bad)
    bad.write_text('{"id": "a", "text": "x", "spans": []}\n')
    with pytest.raises(SetFormatError, match=r"bad\.jsonl:1: missing source, template, lang"):
        read_jsonl(bad)


def test_checker_catches_wrong_offsets_and_checksums():
    row = {"id": "r", "text": "card 4111 1111 1111 1112 of Ann", "source": "s", "template": "t", "lang": "en",
           "spans": [{"start": 5, "end": 24, "entity": "CREDIT_CARD", "value": "4111 1111 1111 1112"},
                     {"start": 27, "end": 31, "entity": "PERSON", "value": "Ann"}]}
    problems = check_rows([row])
    assert any("fails Luhn" in p for p in problems) and any("span 27-31" in p for p in problems)


def test_issue28_splits_are_separate_and_varied():
    dev, held = read_set("dev/en_dev"), read_set("heldout/en_heldout")
    assert len(dev) == len(held) == 1500
    assert not {r["template"] for r in dev} & {r["template"] for r in held}
    assert not {r["text"] for r in dev} & {r["text"] for r in held}
    for rows in (dev, held):
        counts = Counter(s["entity"] for r in rows for s in r["spans"])
        assert all(counts[e] >= 40 for e in SCORED), counts
        assert sum(not r["spans"] for r in rows) >= 100  # texts without PII: the precision side
        assert len({r["kind"] for r in rows}) >= 12 and len({r["country"] for r in rows}) >= 18
        assert sum("\n" in s["value"] for r in rows for s in r["spans"] if s["entity"] == "LOCATION") >= 60
        phones = [s["value"] for r in rows for s in r["spans"] if s["entity"] == "PHONE_NUMBER"]
        assert sum(v.startswith("+") for v in phones) >= 150 and sum(bool(re.search(r"x|ext", v, re.I)) for v in phones) >= 40


def test_generator_writes_the_committed_files():
    import generate

    for split in ("dev", "heldout"):
        path = generate.SPLITS[split][2]
        assert generate.build(split, 300) == read_jsonl(path)[:300], split


def test_older_sets_hold_what_their_python_builders_made():
    manifest = json.loads((EVAL / "legacy" / "MANIFEST.json").read_text())
    for name, want in manifest.items():
        rows = read_set(f"legacy/{name}")
        got = {"texts": len(rows), "spans": sum(len(r["spans"]) for r in rows),
               "lookalikes": sum(len(r.get("lookalikes", [])) for r in rows),
               "sha256_texts": hashlib.sha256("\n\x00".join(r["text"] for r in rows).encode()).hexdigest()}
        assert got == want, name


# ---------------------------------------------------------------- the hand-written sets (seventh to fifteenth)


def _lookalike_docs(name: str) -> list[dict]:
    return [r for r in SETS[name] if r.get("part") != "pii"]


def _pii_docs(name: str) -> list[dict]:
    return [r for r in SETS[name] if r.get("part") == "pii"]


def _by_kind(name: str) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for doc in _lookalike_docs(name):
        by_kind.setdefault(doc["kind"], []).extend(la["value"] for la in doc["lookalikes"])
    return by_kind


def _pii_values(name: str, entity: str) -> list[str]:
    return [s["value"] for doc in _pii_docs(name) for s in doc["spans"] if s["entity"] == entity]


def _kinds_before(name: str) -> set[str]:
    rows = [r for older in OLDER for r in read_set(f"legacy/{older}")]
    rows += [r for before in ORDER[:ORDER.index(name)] for r in SETS[before]]
    return {la["kind"] for r in rows for la in r.get("lookalikes", [])}


@pytest.mark.parametrize("name", ORDER)
def test_hand_written_set_parts_kinds_and_counts(name):
    docs, pii = _lookalike_docs(name), _pii_docs(name)
    for doc in docs:
        assert doc["lookalikes"] and not doc["spans"], doc["id"]
        assert all(la["kind"] == doc["kind"] for la in doc["lookalikes"]), doc["id"]
    for doc in pii:
        assert doc["spans"] and not doc.get("lookalikes"), doc["id"]
    new = {d["kind"] for d in docs if d["part"] == "new"}
    familiar = {d["kind"] for d in docs if d["part"] == "familiar"}
    assert len(new) >= 20 and len(familiar) == 10 and not new & familiar
    assert sum(k.startswith("ZH_") for k in new) >= 4
    texts_per_kind = Counter(d["kind"] for d in docs)
    assert min(texts_per_kind.values()) >= 10
    assert all(HAN.search(d["text"]) for d in docs if d["kind"].startswith("ZH_"))
    assert len(pii) >= 60


@pytest.mark.parametrize("name", ORDER)
def test_new_kinds_and_texts_are_new_and_familiar_kinds_are_old(name):
    earlier = _kinds_before(name)
    docs = _lookalike_docs(name)
    assert not {d["kind"] for d in docs if d["part"] == "new"} & earlier
    if ORDER.index(name) >= ORDER.index("tenth"):  # from the tenth on, each set named the earlier kinds it reuses
        assert {d["kind"] for d in docs if d["part"] == "familiar"} <= earlier
    before = {r["text"] for b in OLDER + ORDER[:ORDER.index(name)] for r in read_set(f"legacy/{b}")}
    texts = [d["text"] for d in SETS[name]]
    assert len(texts) == len(set(texts)) and not before & set(texts)


@pytest.mark.parametrize("name", ORDER)
def test_true_pii_cards_and_resident_ids_are_valid(name):
    assert _pii_values(name, "CREDIT_CARD") and _pii_values(name, "CN_RESIDENT_ID")
    assert all(luhn_ok(digits(v)) for v in _pii_values(name, "CREDIT_CARD"))
    assert all(is_valid_cn_id(v) for v in _pii_values(name, "CN_RESIDENT_ID"))


CARD_PREFIX = re.compile(r"4|5[1-5]|2(22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)")  # Visa, Mastercard
DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


def _real_date(value: str) -> None:
    datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # raises on an impossible date


@pytest.mark.parametrize("name", ["seventh", "eighth", "eleventh", "twelfth", "fourteenth", "fifteenth"])
def test_wrong_checksum_look_alikes_really_fail(name):
    by_kind = _by_kind(name)
    assert all(not luhn_ok(digits(v)) and len(digits(v)) in (15, 16) for v in by_kind["BAD_LUHN_CARD"])
    assert all(len(v) == 18 and not is_valid_cn_id(v) for v in by_kind["BAD_CN_ID"])


@pytest.mark.parametrize("name", ["twelfth", "fourteenth", "fifteenth"])
def test_wrong_checksum_cards_carry_an_issuer_prefix(name):
    for value in (digits(v) for v in _by_kind(name)["BAD_LUHN_CARD"]):
        assert len(value) == 16 and CARD_PREFIX.match(value), value
        assert any(luhn_ok(value[:15] + c) for c in "0123456789"), value


@pytest.mark.parametrize("name", ["eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth"])
def test_wrong_checksum_resident_ids_carry_a_real_date(name):
    for value in _by_kind(name)["BAD_CN_ID"]:
        _real_date(value)
        if name != "eleventh":
            assert any(is_valid_cn_id(value[:17] + c) for c in "0123456789X"), value


@pytest.mark.parametrize("name", ["eighth", "thirteenth"])
def test_bad_ibans_fail_only_their_check_digits(name):
    for value in _by_kind(name)["BAD_IBAN"]:
        assert not iban_ok(value)
        assert sum(iban_ok(f"{value[:2]}{check:02d}{value[4:]}") for check in range(2, 99)) == 1, value


@pytest.mark.parametrize("name", ["seventh", "ninth", "eleventh"])
def test_isbns_are_valid_and_only_their_check_digit_passes(name):
    for value in _by_kind(name)["ISBN"]:
        body = digits(value) if len(digits(value)) == 13 else value.replace("-", "")
        assert isbn_ok(body), value
        if name != "seventh":
            others = [body[:-1] + c for c in "0123456789X" if c != body[-1] and not (len(body) == 13 and c == "X")]
            assert not any(isbn_ok(o) for o in others), value


@pytest.mark.parametrize("name", ["ninth", "thirteenth"])
def test_documentation_ips_lie_in_reserved_ranges(name):
    for value in _by_kind(name)["DOC_IP"]:
        net = ipaddress.ip_network(value)
        assert any(net.version == doc.version and net.subnet_of(doc) for doc in DOC_NETS), value


@pytest.mark.parametrize("name", ["thirteenth", "fourteenth", "fifteenth"])
def test_true_pii_ips_are_no_documentation_address(name):
    ips = _pii_values(name, "IP_ADDRESS")
    assert ips and not any(ipaddress.ip_address(v) in doc for v in ips for doc in DOC_NETS)


def test_other_checksums_of_the_hand_written_sets():
    """ABA routing numbers (3-7-1), CAS and EAN-13 check digits, published test cards, fiction phone ranges,
    contiguous netmasks, ISSN, LEI (ISO 17442) and ISIN (ISO 6166) check digits."""
    seventh, tenth, eleventh = _by_kind("seventh"), _by_kind("tenth"), _by_kind("eleventh")
    aba = [v for v in seventh["BANK_ROUTING"] if v.isdigit()]
    assert len(aba) >= 6 and all(sum(int(d) * w for d, w in zip(v, (3, 7, 1) * 3)) % 10 == 0 for v in aba)
    for value in tenth["CAS"] + _by_kind("thirteenth")["CAS"]:
        body, check = digits(value)[:-1], int(value[-1])
        assert re.fullmatch(r"\d{2,7}-\d\d-\d", value) and sum(i * int(d) for i, d in enumerate(reversed(body), 1)) % 10 == check
    assert all(len(v) == 13 and gtin_ok(v) for v in tenth["EAN13"])
    assert all(luhn_ok(digits(v)) and len(digits(v)) in (15, 16) for v in tenth["TEST_CARD"])
    fiction = re.compile(r"(1?\d{3})?55501\d\d|02079460\d{3}|01134960\d{3}|01614960\d{3}|01632960\d{3}|07700900\d{3}")
    assert all(fiction.fullmatch(digits(v)) for v in tenth["FICTION_PHONE"])
    for value in tenth["NETMASK"]:
        bits = int(ipaddress.IPv4Address(value))
        assert bits and "0" not in f"{bits:032b}".rstrip("0"), value
    for value in eleventh["ISSN"]:
        body = value.replace("-", "")
        check = -sum(int(d) * w for d, w in zip(body[:7], range(8, 1, -1))) % 11
        assert body[7] == ("X" if check == 10 else str(check)), value
    lei = lambda v: bool(re.fullmatch(r"[0-9A-Z]{18}\d\d", v)) and int("".join(str(int(c, 36)) for c in v)) % 97 == 1  # noqa: E731
    for value in _by_kind("thirteenth")["LEI"]:
        assert lei(value) and sum(lei(f"{value[:18]}{c:02d}") for c in range(100)) == 1, value
    isin = lambda v: bool(re.fullmatch(r"[A-Z]{2}[0-9A-Z]{9}\d", v)) and luhn_ok("".join(str(int(c, 36)) for c in v))  # noqa: E731
    for value in _by_kind("fifteenth")["ISIN"]:
        assert isin(value) and sum(isin(value[:11] + c) for c in "0123456789") == 1, value
