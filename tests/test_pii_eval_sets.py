"""The hand-written held-out PII sets (bench/pii_eval/lookalike_seventh.py, _eighth.py, ... _fifteenth.py) are well
formed: every mark parses into a whole value, each kind has 10+ texts, no new kind is in an earlier set, no
text repeats an earlier set's text, and the checksum and reserved-range claims each set makes hold (checked
with the project's own validators). Nothing here runs the detector: bench/pii.py does, once per set.
"""

from __future__ import annotations

import datetime
import importlib.util
import ipaddress
import re
import sys
from pathlib import Path

import pytest

from dsforge.filters.pii_checks import digits, gtin_ok, iban_ok, is_valid_cn_id, isbn_ok, luhn_ok

EVAL = Path(__file__).resolve().parent.parent / "bench" / "pii_eval"
STRAY = re.compile(r"\[\[|\]\]|\{\{|\}\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
# each written after the one before
ORDER = ["lookalike_seventh", "lookalike_eighth", "lookalike_ninth", "lookalike_tenth",
         "lookalike_eleventh", "lookalike_twelfth", "lookalike_thirteenth", "lookalike_fourteenth",
         "lookalike_fifteenth"]
OLDER_FILES = ["lookalike_set.py", "lookalike_fresh.py", "lookalike_fifth.py", "lookalike_sixth.py",
               "templates_lookalike.txt", "templates_lookalike_extra.txt"]
sys.path.insert(0, str(EVAL))  # the sets import the sixth set's parser, as bench/pii.py loads them


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"pii_eval_{name}", EVAL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETS = {name: _load(name) for name in ORDER}
sixth = _load("lookalike_sixth")


def _earlier_text(name: str) -> str:
    """The source of every set written before `name` (the older files and the sets before it in ORDER)."""
    before = ORDER[:ORDER.index(name)]
    return "".join((EVAL / f).read_text(encoding="utf-8") for f in OLDER_FILES + [f"{b}.py" for b in before])


def _values(doc: dict, key: str) -> list[tuple[str, str]]:
    return [(label, doc["text"][start:end]) for label, start, end in doc[key]]


def _by_kind(module) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for doc in module.build():
        by_kind.setdefault(doc["kind"], []).extend(v for _, v in _values(doc, "lookalikes"))
    return by_kind


def _pii_values(module, entity: str) -> list[str]:
    return [v for doc in module.build_pii() for label, v in _values(doc, "spans") if label == entity]


@pytest.mark.parametrize("name", ORDER)
def test_every_text_parses_into_whole_marked_values(name):
    module = SETS[name]
    docs, pii = module.build(), module.build_pii()
    for doc in docs + pii:
        assert not STRAY.search(doc["text"]), doc["id"]
        assert doc["split"] == "heldout"
    for doc in docs:
        assert doc["lookalikes"] and not doc["spans"], doc["id"]
        for label, value in _values(doc, "lookalikes"):
            assert label == doc["kind"] and value == value.strip() and value, doc["id"]
    raw = [m.group(1) for kinds in (module.LOOKALIKES_NEW, module.LOOKALIKES_FAMILIAR)
           for texts in kinds.values() for _, text in texts for m in sixth._MARK.finditer(text)]
    assert [v for d in docs for _, v in _values(d, "lookalikes")] == raw
    entities = {m.group(1) for _, text in sixth.PII_TEXTS for m in sixth._PII.finditer(text)}
    entities |= {"CREDIT_CARD", "CN_RESIDENT_ID"}  # as the earlier sets name them
    for doc in pii:
        assert doc["spans"] and not doc["lookalikes"], doc["id"]
        for label, value in _values(doc, "spans"):
            assert label in entities and value == value.strip() and value, doc["id"]


@pytest.mark.parametrize("name", ORDER)
def test_kinds_and_counts(name):
    module = SETS[name]
    assert len(module.LOOKALIKES_NEW) >= 20 and len(module.LOOKALIKES_FAMILIAR) == 10
    assert sum(k.startswith("ZH_") for k in module.LOOKALIKES_NEW) >= 4
    assert not set(module.LOOKALIKES_NEW) & set(module.LOOKALIKES_FAMILIAR)
    for kind, texts in {**module.LOOKALIKES_NEW, **module.LOOKALIKES_FAMILIAR}.items():
        assert len(texts) >= 10, kind
        if kind.startswith("ZH_"):
            assert all(HAN.search(text) for _, text in texts), kind
    assert len(module.PII_TEXTS) >= 60
    assert {d["part"] for d in module.build()} == {"new", "familiar"}


@pytest.mark.parametrize("name", ORDER)
def test_new_kinds_and_texts_are_new(name):
    module, before = SETS[name], ORDER[:ORDER.index(name)]
    earlier = _earlier_text(name)
    for kind in module.LOOKALIKES_NEW:
        assert f'"{kind}"' not in earlier and f"{{{kind}}}" not in earlier, kind
    old = {sixth._parse(raw, sixth._MARK, lambda m: "")[0] for texts in sixth.LOOKALIKES.values() for _, raw in texts}
    old |= {sixth._parse(raw, sixth._PII, lambda m: "")[0] for _, raw in sixth.PII_TEXTS}
    old |= {d["text"] for b in before for d in SETS[b].build() + SETS[b].build_pii()}
    texts = [d["text"] for d in module.build() + module.build_pii()]
    assert len(texts) == len(set(texts))
    assert not old & set(texts)


@pytest.mark.parametrize("name", ORDER)
def test_true_pii_cards_and_resident_ids_are_valid(name):
    assert all(luhn_ok(digits(v)) for v in _pii_values(SETS[name], "CREDIT_CARD"))
    assert all(is_valid_cn_id(v) for v in _pii_values(SETS[name], "CN_RESIDENT_ID"))
    assert _pii_values(SETS[name], "CREDIT_CARD") and _pii_values(SETS[name], "CN_RESIDENT_ID")


@pytest.mark.parametrize("name", ["lookalike_seventh", "lookalike_eighth", "lookalike_eleventh", "lookalike_twelfth",
                                  "lookalike_fourteenth", "lookalike_fifteenth"])
def test_wrong_checksum_look_alikes_really_fail(name):
    by_kind = _by_kind(SETS[name])
    assert all(not luhn_ok(digits(v)) and len(digits(v)) in (15, 16) for v in by_kind["BAD_LUHN_CARD"])
    assert all(len(v) == 18 and not is_valid_cn_id(v) for v in by_kind["BAD_CN_ID"])


def test_seventh_isbns_and_routing_numbers_are_valid():
    by_kind = _by_kind(SETS["lookalike_seventh"])
    assert all(isbn_ok(v) for v in by_kind["ISBN"])
    aba = [v for v in by_kind["BANK_ROUTING"] if v.isdigit()]  # ABA: 3-7-1 weights sum to a multiple of 10
    assert len(aba) >= 6 and all(sum(int(d) * w for d, w in zip(v, (3, 7, 1) * 3)) % 10 == 0 for v in aba)


DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]


def _assert_bad_ibans(values: list[str]) -> None:
    """An IBAN that fails for its length would test nothing: each one must only miss mod-97."""
    for value in values:
        assert not iban_ok(value)
        assert sum(iban_ok(f"{value[:2]}{check:02d}{value[4:]}") for check in range(2, 99)) == 1, value


def _assert_doc_ips(values: list[str]) -> None:
    """Each address or network lies in an RFC 5737 / RFC 3849 documentation range."""
    for value in values:
        net = ipaddress.ip_network(value)
        assert any(net.version == doc.version and net.subnet_of(doc) for doc in DOC_NETS), value


def _assert_cas_valid(values: list[str]) -> None:
    """CAS: check digit = sum of the other digits times 1, 2, 3, ... from the right, mod 10."""
    for value in values:
        body, check = digits(value)[:-1], int(value[-1])
        assert re.fullmatch(r"\d{2,7}-\d\d-\d", value), value
        assert sum(i * int(d) for i, d in enumerate(reversed(body), 1)) % 10 == check, value


def test_eighth_bad_ibans_fail_only_their_check_digits():
    _assert_bad_ibans(_by_kind(SETS["lookalike_eighth"])["BAD_IBAN"])


def _assert_isbns_valid(values: list[str]) -> None:
    for value in values:  # a correct check digit, and no other would pass
        body = digits(value) if len(digits(value)) == 13 else value.replace("-", "")
        assert isbn_ok(body), value
        others = [body[:-1] + c for c in "0123456789X" if c != body[-1] and not (len(body) == 13 and c == "X")]
        assert not any(isbn_ok(o) for o in others), value


def test_ninth_isbns_ranges_and_chinese_names_in_sentences():
    ninth = SETS["lookalike_ninth"]
    by_kind = _by_kind(ninth)
    _assert_isbns_valid(by_kind["ISBN"])
    _assert_doc_ips(by_kind["DOC_IP"])
    # mail domains reserved by RFC 2606 / RFC 6761
    reserved = re.compile(r"(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$")
    assert all(reserved.search(v.rsplit("@", 1)[1]) for v in by_kind["EMAIL_EXAMPLE"])
    pii = ninth.build_pii()
    zh = [d for d in pii if d["set"] == "zh"]
    assert 0.4 <= len(zh) / len(pii) <= 0.6
    in_sentence = [d for d in zh for label, start, _ in d["spans"]
                   if label == "PERSON" and not d["text"][:start].endswith(("姓名：", "联系人："))]
    assert len(in_sentence) >= 30


def test_tenth_checksums_reserved_numbers_and_familiar_kinds():
    """Test cards pass Luhn (published test numbers, not broken ones), CAS and EAN-13 check digits are right,
    phone numbers lie in the ranges reserved for fiction, masks are contiguous, and every familiar kind is an
    earlier set's kind."""
    tenth = SETS["lookalike_tenth"]
    by_kind = _by_kind(tenth)
    assert all(luhn_ok(digits(v)) and len(digits(v)) in (15, 16) for v in by_kind["TEST_CARD"])
    _assert_cas_valid(by_kind["CAS"])
    assert all(len(v) == 13 and gtin_ok(v) for v in by_kind["EAN13"])
    # US 555-0100..0199 (any area code); Ofcom drama ranges for London, Leeds, Manchester, 01632 and mobiles
    fiction = re.compile(r"(1?\d{3})?55501\d\d|02079460\d{3}|01134960\d{3}|01614960\d{3}|01632960\d{3}|07700900\d{3}")
    assert all(fiction.fullmatch(digits(v)) for v in by_kind["FICTION_PHONE"])
    for value in by_kind["NETMASK"]:
        bits = int(ipaddress.IPv4Address(value))
        assert bits and "0" not in f"{bits:032b}".rstrip("0"), value  # ones, then only zeros
    earlier = "".join((EVAL / f).read_text(encoding="utf-8") for f in OLDER_FILES)  # the older sets only
    for kind in tenth.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier, kind


def test_eleventh_checksums_seeds_and_familiar_kinds():
    """ISBN and ISSN check digits are right, wrong-checksum resident IDs still carry a real date (so only the check
    character gives them away), game seeds fit a signed 64-bit integer, and every familiar kind is an earlier set's."""
    eleventh = SETS["lookalike_eleventh"]
    by_kind = _by_kind(eleventh)
    _assert_isbns_valid(by_kind["ISBN"])
    for value in by_kind["ISSN"]:  # ISSN: weights 8..2 on the first seven digits, check = -sum mod 11 (10 is X)
        body = value.replace("-", "")
        assert re.fullmatch(r"\d{4}-?\d{3}[\dX]", value), value
        check = -sum(int(d) * w for d, w in zip(body[:7], range(8, 1, -1))) % 11
        assert body[7] == ("X" if check == 10 else str(check)), value
    for value in by_kind["BAD_CN_ID"]:
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # raises on an impossible date
    assert all(-2**63 <= int(v) < 2**63 for v in by_kind["GAME_SEED"])
    earlier = _earlier_text("lookalike_eleventh")
    for kind in eleventh.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier, kind


CARD_PREFIX = re.compile(r"4|5[1-5]|2(22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)")  # Visa, Mastercard
_DART = re.compile(r"([SDT])(\d{1,2})|(Bull)")


def _dart_score(dart: str) -> tuple[int, bool]:
    """(points, is a double) of one dart: S/D/T and a segment 1-20, or Bull (50, a double)."""
    m = _DART.fullmatch(dart)
    assert m, dart
    if m.group(3):
        return 50, True
    assert int(m.group(2)) in range(1, 21), dart
    return int(m.group(2)) * "SDT".index(m.group(1)) + int(m.group(2)), m.group(1) == "D"


def test_twelfth_card_prefixes_darts_bag_tags_and_familiar_kinds():
    """Wrong-checksum cards still carry an issuer prefix (Visa 4, Mastercard 51-55 or 2221-2720), so only Luhn gives
    them away; every darts checkout ends on a double and adds up to the finish its text names (where it names one);
    bag tags are IATA licence plates or an airline code and six digits; every familiar kind is an earlier set's."""
    twelfth = SETS["lookalike_twelfth"]
    by_kind = _by_kind(twelfth)
    cards = [digits(v) for v in by_kind["BAD_LUHN_CARD"]]
    assert all(len(v) == 16 and CARD_PREFIX.match(v) for v in cards)
    for value in by_kind["BAD_CN_ID"]:
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # raises on an impossible date
    named = 0
    for doc in twelfth.build():
        if doc["kind"] != "DARTS_CHECKOUT":
            continue
        rest = doc["text"]
        for _, start, end in sorted(doc["lookalikes"], reverse=True):
            rest = rest[:start] + " " + rest[end:]
        finishes = {int(n) for n in re.findall(r"\b\d{2,3}\b", rest)}
        for _, value in _values(doc, "lookalikes"):
            darts = [_dart_score(d) for d in value.split()]
            assert len(darts) in (1, 2, 3) and darts[-1][1], value
            total = sum(points for points, _ in darts)
            assert total <= 170 and (not finishes or total in finishes), (value, finishes)
            named += bool(finishes)
    assert named >= 7
    assert all(re.fullmatch(r"0\d{3} ?\d{6}|[A-Z0-9]{2} \d{6}", v) for v in by_kind["BAG_TAG"])
    earlier = _earlier_text("lookalike_twelfth")
    for kind in twelfth.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier, kind


def _lei_ok(value: str) -> bool:
    """ISO 17442 (ISO 7064 mod 97-10): letters as 10..35, the whole number mod 97 is 1."""
    return bool(re.fullmatch(r"[0-9A-Z]{18}\d\d", value)) and int("".join(str(int(c, 36)) for c in value)) % 97 == 1


def test_thirteenth_checksums_ranges_and_familiar_kinds():
    """LEIs pass ISO 17442 and no other check pair would; wrong-checksum resident IDs carry a real date and fail only
    GB 11643; bad IBANs fail only mod-97; CAS check digits are right; documentation IPs lie in RFC 5737 / 3849;
    every familiar kind is an earlier set's kind."""
    thirteenth = SETS["lookalike_thirteenth"]
    by_kind = _by_kind(thirteenth)
    for value in by_kind["LEI"]:
        assert _lei_ok(value), value
        assert sum(_lei_ok(f"{value[:18]}{check:02d}") for check in range(100)) == 1, value
    for value in by_kind["BAD_CN_ID"]:
        assert len(value) == 18 and not is_valid_cn_id(value), value
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # raises on an impossible date
        assert any(is_valid_cn_id(value[:17] + c) for c in "0123456789X"), value
    _assert_bad_ibans(by_kind["BAD_IBAN"])
    _assert_cas_valid(by_kind["CAS"])
    _assert_doc_ips(by_kind["DOC_IP"])
    for value in _pii_values(thirteenth, "IP_ADDRESS"):  # true PII must not be a documentation address
        assert not any(ipaddress.ip_address(value) in doc for doc in DOC_NETS), value
    earlier = _earlier_text("lookalike_thirteenth")
    for kind in thirteenth.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier, kind


def test_fourteenth_checksums_prefixes_addresses_and_familiar_kinds():
    """Wrong-checksum cards carry a Visa or Mastercard prefix, so only Luhn gives them away; wrong-checksum resident
    IDs carry a real date and fail only GB 11643; true-PII IP addresses are no documentation address; every familiar
    kind is an earlier set's kind."""
    fourteenth = SETS["lookalike_fourteenth"]
    by_kind = _by_kind(fourteenth)
    assert all(len(v) == 16 and CARD_PREFIX.match(v) for v in (digits(v) for v in by_kind["BAD_LUHN_CARD"]))
    for value in by_kind["BAD_CN_ID"]:
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # raises on an impossible date
        assert any(is_valid_cn_id(value[:17] + c) for c in "0123456789X"), value
    ips = _pii_values(fourteenth, "IP_ADDRESS")
    assert ips and not any(ipaddress.ip_address(v) in doc for v in ips for doc in DOC_NETS)
    earlier = _earlier_text("lookalike_fourteenth")
    for kind in fourteenth.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier, kind


def _isin_ok(value: str) -> bool:
    """ISO 6166: letters as 10..35, then Luhn over the digit string (check digit included)."""
    return bool(re.fullmatch(r"[A-Z]{2}[0-9A-Z]{9}\d", value)) and luhn_ok("".join(str(int(c, 36)) for c in value))


def test_fifteenth_checksums_formats_and_familiar_kinds():
    """Wrong-checksum cards carry an issuer prefix and another last digit would pass Luhn; wrong-checksum resident IDs
    carry a real date and fail only GB 11643; ISINs pass ISO 6166 and no other check digit would; option symbols
    follow the OCC layout with a real expiry; Ensembl ids have an Ensembl prefix and 11 digits; true-PII IPs are not
    documentation addresses; every familiar kind is an earlier set's kind."""
    fifteenth = SETS["lookalike_fifteenth"]
    by_kind = _by_kind(fifteenth)
    for value in (digits(v) for v in by_kind["BAD_LUHN_CARD"]):
        assert len(value) == 16 and CARD_PREFIX.match(value), value
        assert any(luhn_ok(value[:15] + c) for c in "0123456789"), value
    for value in by_kind["BAD_CN_ID"]:
        assert len(value) == 18 and not is_valid_cn_id(value), value
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))  # raises on an impossible date
        assert any(is_valid_cn_id(value[:17] + c) for c in "0123456789X"), value
    for value in by_kind["ISIN"]:
        assert _isin_ok(value), value
        assert sum(_isin_ok(value[:11] + c) for c in "0123456789") == 1, value
    for value in by_kind["OPTION_SYMBOL"]:  # root, yymmdd, C/P, strike x 1000 in 8 digits
        m = re.fullmatch(r"([A-Z]{1,6})(\d\d)(\d\d)(\d\d)([CP])(\d{8})", value)
        assert m and int(m.group(6)) > 0, value
        datetime.date(2000 + int(m.group(2)), int(m.group(3)), int(m.group(4)))
    assert all(re.fullmatch(r"ENS[A-Z]*[GTP]\d{11}(\.\d+)?", v) for v in by_kind["ENSEMBL_ID"])
    for value in _pii_values(fifteenth, "IP_ADDRESS"):
        assert not any(ipaddress.ip_address(value) in doc for doc in DOC_NETS), value
    earlier = _earlier_text("lookalike_fifteenth")
    for kind in fifteenth.LOOKALIKES_FAMILIAR:
        assert f'"{kind}"' in earlier, kind
