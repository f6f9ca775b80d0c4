"""Checksums and validity rules the PII patterns run on their candidates (never on whole texts).

A pattern finds something shaped like a card number; these say whether it can be one: Luhn and issuer
ranges for cards, ISO 7064 mod 97 and per-country lengths for IBANs, GB 11643 for Chinese resident IDs,
the SSA's never-issued ranges for US SSNs, base58check for Bitcoin addresses, ISBN-10/13 check digits (an
ISBN is a look-alike, so a valid one *rules out* a phone or card), and libphonenumber for phone numbers.

Not here: where the candidates come from (pii_patterns.py, pii_zh.py).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache

_NON_DIGIT = re.compile(r"\D")


def digits(value: str) -> str:
    return _NON_DIGIT.sub("", value)


def luhn_ok(number: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(number)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# (prefix regex, allowed lengths): Visa, Mastercard (51-55, 2221-2720), Amex, Discover, JCB, Diners, UnionPay, Maestro.
_CARD_RANGES = [(re.compile(r"4"), {13, 16, 19}), (re.compile(r"5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)"), {16}),
                (re.compile(r"3[47]"), {15}), (re.compile(r"6(?:011|5|4[4-9])"), {16, 19}),
                (re.compile(r"35(?:2[89]|[3-8])"), {16, 19}), (re.compile(r"3(?:0[0-5]|[689])"), {14, 16}),
                (re.compile(r"62"), {16, 17, 18, 19}), (re.compile(r"(?:50|5[6-9]|6\d)"), {13, 15, 16, 19})]


_CN_ID_SHAPE = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9X]")


def card_ok(value: str) -> bool:
    d = digits(value)
    if not 13 <= len(d) <= 19 or not luhn_ok(d) or len(set(d)) < 3 or _CN_ID_SHAPE.fullmatch(d):
        return False  # (an 18-digit number shaped like a resident ID is one, checksum or not)
    if len(d) == 13 and gtin_ok(d):
        return False  # a valid EAN-13 barcode (13-digit cards are no longer issued)
    return any(p.match(d) and len(d) in lengths for p, lengths in _CARD_RANGES)


def gtin_ok(d: str) -> bool:
    """GS1 check digit of an EAN-13 / UPC-A (weights 3 and 1 from the right, after the check digit)."""
    return sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(reversed(d))) % 10 == 0


IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
    "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26,
    "UA": 29, "VG": 24, "XK": 20,
}


def iban_ok(value: str) -> bool:
    v = re.sub(r"[\s-]", "", value).upper()
    if IBAN_LENGTHS.get(v[:2]) != len(v) or not v[2:4].isdigit():
        return False
    return int("".join(str(int(c, 36)) for c in v[4:] + v[:4])) % 97 == 1


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (ISO 7064 MOD 11-2 as in GB 11643)."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_valid_cn_id(value: str) -> bool:
    v = value.strip().upper()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return cn_id_check_char(v[:17]) == v[17]


def ssn_ok(value: str) -> bool:
    d = digits(value)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000" \
        and d not in ("123456789", "078051120", "219099999")


def isbn_ok(value: str) -> bool:
    v = re.sub(r"[\s-]", "", value).upper()
    if len(v) == 13 and v.isdigit() and v[:3] in ("978", "979"):
        return sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(v)) % 10 == 0
    if len(v) == 10 and v[:9].isdigit() and (v[9].isdigit() or v[9] == "X"):
        return sum((10 if c == "X" else int(c)) * (10 - i) for i, c in enumerate(v)) % 11 == 0
    return False


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def btc_ok(value: str) -> bool:
    if value.lower().startswith("bc1"):
        return True  # bech32: the pattern's charset and length are the check we make
    n = 0
    for c in value:
        i = _B58.find(c)
        if i < 0:
            return False
        n = n * 58 + i
    raw = n.to_bytes(25, "big") if n.bit_length() <= 200 else b""
    return len(raw) == 25 and hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def ipv4_ok(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 and (p == "0" or p[0] != "0") for p in parts)


# Numbers written without a country code. Most countries write national numbers with the trunk prefix 0:
# those are tried against these regions. Numbers without a leading 0 are North American (10 digits, or 11
# with the leading 1) or one of a few mobile formats written bare or with spaces (Spain 6-9 + 8 digits,
# Singapore 8/9 + 7, Italy 3 + 9, China 1[3-9] + 9, Brazil (area) 9 + 8): a part number "6379-750-25" or an
# invoice "3648-3784-0045" is then not "a valid number somewhere".
TRUNK_0_REGIONS = ("GB", "IN", "DE", "FR", "AU", "IE", "NG", "ZA", "KE", "JP", "BR", "MX", "NL", "PK", "PH", "IT",
                   "CN")
_NO_TRUNK = [(re.compile(r"1?[2-9]\d{2}[2-9]\d{6}"), ("US", "CA"), True), (re.compile(r"[6-9]\d{8}"), ("ES",), False),
             (re.compile(r"[89]\d{7}"), ("SG",), False), (re.compile(r"3\d{9}"), ("IT",), False),
             (re.compile(r"1[3-9]\d{9}"), ("CN",), False), (re.compile(r"\d{2}9\d{8}"), ("BR",), True)]
# How each of those countries groups its digits when it writes a national number (lengths of the digit groups):
# "888 0097 82" is then not a Spanish number nor "307603 1000" an American one, whatever libphonenumber says.
NATIONAL_GROUPS = {"US": {(10,), (11,), (3, 3, 4), (1, 3, 3, 4), (3, 7)},  # "9152-2978-70" is a drug code
                   "ES": {(9,), (3, 3, 3), (3, 2, 2, 2), (2, 3, 2, 2)}, "SG": {(8,), (4, 4)},
                   "IT": {(10,), (3, 3, 4), (3, 7), (3, 4, 3)}, "CN": {(11,), (3, 4, 4), (3, 8)},
                   "BR": {(11,), (2, 5, 4), (2, 9)}}


_SERVICE_TYPES = ("TOLL_FREE", "PREMIUM_RATE", "SHARED_COST", "UAN")


def _personal(number) -> bool:
    """Valid, and not in a range a country reserves for services (toll-free, premium, shared cost, UAN)."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) not in {
        getattr(PhoneNumberType, t) for t in _SERVICE_TYPES}


def service_number(value: str) -> bool:
    """A toll-free, shared-cost, premium-rate or universal-access number of the first region (North America,
    China, then the trunk-0 regions) it is valid in: a service's line, not a person's."""
    import phonenumbers

    try:
        for r in ("US", "CN", *TRUNK_0_REGIONS):
            n = phonenumbers.parse(value, r)
            if phonenumbers.is_valid_number(n):
                return not _personal(n)
    except phonenumbers.NumberParseException:
        return False
    return False


def _personal_somewhere(value: str, regions) -> bool:
    """Valid and not a service number in at least one of the regions (a national number's country is a guess)."""
    import phonenumbers

    return any(_personal(phonenumbers.parse(value, r)) for r in regions)


@lru_cache(maxsize=65536)
def phone_ok(value: str) -> bool:
    """A valid number for its country code, or (written nationally) for a region its shape fits, that can be a
    person's: toll-free, shared-cost, premium-rate and universal-access numbers (1-800, 0800, 0845, 400, 13 xx xx)
    are services' lines, whatever the service (libphonenumber knows each country's ranges)."""
    import phonenumbers

    v = value.strip()
    try:
        if v.startswith(("+", "00", "(+")):
            return _personal(phonenumbers.parse(v.replace("(+", "+").replace("(0)", ""), None))
        d = digits(v)
        if d.startswith("0"):
            # 0 + 8-10 digits everywhere we try; hyphenated numbers end in a group of 3+ ("0371-980-71" is a part no.)
            if not 9 <= len(d) <= 11 or ("-" in v and len(re.findall(r"\d+", v)[-1]) < 3):
                return False
            return _personal_somewhere(v, TRUNK_0_REGIONS)
        grouping = tuple(len(g) for g in re.findall(r"\d+", v))
        for shape, regions, hyphens in _NO_TRUNK:
            if shape.fullmatch(d) and (hyphens or "-" not in v.split(")")[-1]) \
                    and (regions[0] not in NATIONAL_GROUPS or grouping in NATIONAL_GROUPS[regions[0]]):
                if _personal_somewhere(v, regions):
                    return True
    except phonenumbers.NumberParseException:
        return False
    return False
