"""Pattern detectors for PII with a fixed shape: e-mail, URL, phone, card, IBAN, US SSN, IP, Bitcoin,
API keys, AWS keys, PEM private keys, assigned secrets and dates (DATE; DATE_OF_BIRTH is a DATE next to
a birth cue, see pii_detect.relabel_birth_dates).

Boundaries are explicit ASCII classes, never `\\b`: in Python `\\w` includes Chinese characters, so
`\\b` finds no edge in `请联系zhang.wei@163.com获取` and such values were missed. Validators (pii_checks)
run only on candidates. Each Detector's `trigger` is a cheap Rust-syntax regex Polars runs over the whole
column first, so most rows never reach Python's `re`.

Not here: Chinese-only formats (pii_zh.py), names and places (pii_names.py, pii_places.py).
"""

from __future__ import annotations

import ipaddress
import re

from dsforge.filters import pii_checks as C
from dsforge.filters.pii_spans import Detector

# ---------------------------------------------------------------- contact

# Host names under these top-level domains are not on the public internet (RFC 2606 / 6761 and common
# private ones): `deploy@db-01.prod.internal` is a login on a machine, not anyone's mailbox.
PRIVATE_TLDS = {"internal", "local", "localdomain", "lan", "intranet", "corp", "home", "private", "test", "invalid",
                "localhost", "example", "arpa"}
_SCP_PATH = re.compile(r":[\w~./\-]")


def _email_check(text: str, m: re.Match, value: str):
    """`git@github.com:org/repo.git` is an SSH remote (user@host:path), and a private host name is a login."""
    if _SCP_PATH.match(text, m.end("v")) or value.rsplit(".", 1)[-1].lower() in PRIVATE_TLDS:
        return None
    return 1.0


EMAIL = Detector("EMAIL_ADDRESS", re.compile(
    r"(?<![A-Za-z0-9._%+\-])(?P<v>[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?@[A-Za-z0-9](?:[A-Za-z0-9\-]*"
    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?![A-Za-z0-9\-@]|\.[A-Za-z0-9])"),
    "@", 1.0, _email_check, name="email")

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%]"


def _url_check(text: str, m: re.Match, value: str):
    end = m.end("v")
    while end > m.start("v") and text[end - 1] in ".,;:!?":
        end -= 1  # sentence punctuation after a URL is not part of it
    return 0.6, m.start("v"), end


URL = Detector("URL", re.compile(rf"(?<![A-Za-z0-9])(?P<v>(?:(?i:https?|ftp)://|(?<![\w.@/])(?i:www\d{{0,3}})\.){_URL_CHARS}+)"),
               r"(?i)https?://|ftp://|www\d{0,3}\.", 0.6, _url_check, name="url")

# A run of digit groups with phone separators, an optional +CC / 00CC / (area) / (0) part. Checked with
# libphonenumber; a candidate that does not validate loses its last, then its first group and is tried again
# (so "call 0803 123 4567 2 times" still finds the number).
_PHONE = re.compile(
    r"(?<![A-Za-z0-9+\-/.,_:])(?P<v>(?:\(\+?\d{1,3}\)\s?|\+\d{1,3}[ .\-]?|00\d{1,3}[ .\-])?(?:\(0\)\s?)?"
    r"(?:\(\d{1,5}\)[ .\-]?)?\d{1,12}(?:[ .\-]\d{1,8}){0,5}(?:\s?(?:x|ext\.?)\s?\d{1,5})?)(?![0-9\-:]|\.\d|[A-Za-z])")
# North American shape with separators: a phone even where the area code is not (yet) assigned.
_NANP_SHAPE = re.compile(r"(?:\+?1[ .\-]?|001[ .\-])?(?:\(\d{3}\)\s?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?:\s?(?:x|ext\.?)\s?\d{1,5})?")
_PHONE_CUE = re.compile(r"(?i)(?:phone|tel\b|telephone|mobile|cell|call|text|sms|whatsapp|wechat|fax|contact|"
                        r"number|reach|ring|手机|电话|联系|致电|拨打|微信)[^\n]{0,24}$")
_GROUP = re.compile(r"\d+")
_IBAN_BEFORE = re.compile(r"[A-Z]{2}\d{2}(?: [A-Z0-9]{4})* $")  # the tail of an IBAN that failed its checksum
_YEAR_RANGE = re.compile(r"(?:1[5-9]|20)\d\d\s?[-–]\s?(?:1[5-9]|20)\d\d")
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def _looks_like_isbn(v: str, d: str) -> bool:
    """An ISBN written with hyphens: 978-/979- and 13 digits, or 10 digits in four groups (0-306-40615-2)."""
    return "-" in v and C.isbn_ok(v) and (d[:3] in ("978", "979") or len(_GROUP.findall(v)) == 4)


def _phone_check(text: str, m: re.Match, value: str):
    start, end = m.span("v")
    if (_CARD_SHAPE.fullmatch(value) and len(C.digits(value)) >= 13) or _looks_like_isbn(value, C.digits(value)):
        return None  # a card number or an ISBN (valid or not) is not a phone number followed by more digits
    candidates = [(start, end)]
    groups = [(g.start() + start, g.end() + start) for g in _GROUP.finditer(value)]
    if len(groups) >= 6 and all(e - s <= 2 for s, e in groups) and not value.startswith(("+", "(", "00")):
        return None  # "04 07 16 22 25 48": a list of small numbers (a phone has at most 5 pairs: 06 12 34 56 78)
    if len(groups) >= 4 and len({e - s for s, e in groups}) == 1 and groups[0][1] - groups[0][0] >= 4 \
            and not value.startswith(("+", "(", "00")):
        return None  # "09276 34864 30875 34003": a code in equal blocks (a phone's groups differ: 0803 123 4567)
    for k in (1, 2):  # drop trailing groups, but only across spaces: "6810-5927-0213" is one token
        if len(groups) > k + 1 and text[groups[-k][0] - 1] == " ":
            candidates.append((start, groups[-1 - k][1]))
    if len(groups) > 2 and not value.startswith(("+", "(", "00")) and text[groups[0][1]] == " " \
            and (text[groups[1][0]] == "0" or _NANP_SHAPE.fullmatch(text, groups[1][0], end)):
        # a stray leading number ("room 4 0803 123 4567") is dropped only when a trunk 0 or a North American
        # shape follows: "ABN 30 966 150 859" is one business number, not "30" and a phone number
        candidates.append((groups[1][0], end))
    for s, e in candidates:
        v = text[s:e]
        d = C.digits(v)
        if not 7 <= len(d) <= 15 or _DATE_LIKE.match(v) or _looks_like_isbn(v, d):
            continue
        if len(set(d)) < 3 or d in "0123456789012345" or d in "9876543210987654" or _IBAN_BEFORE.search(text, max(0, s - 40), s):
            continue
        groups = _GROUP.findall(v)
        if _YEAR_RANGE.fullmatch(v) or (sum(len(g) <= 2 for g in groups) >= 4 and not v.startswith(("0", "+", "("))) \
                or sum(len(g) == 1 for g in groups[1:]) >= 2:
            continue  # "1887-1889", "6 92 55 27 41 16", "0 1 4 1 5 9": years and lists of numbers
        if "." in v and not v.startswith("+") and not _NANP_SHAPE.fullmatch(v):
            continue  # dotted groups are versions and part numbers unless North American (212.555.0188)
        cued = _PHONE_CUE.search(text, max(0, s - 40), s) is not None
        number = re.sub(r"\s?(?:x|ext\.?)\s?\d{1,5}$", "", v)
        if not C.phone_ok(number):
            if _NANP_SHAPE.fullmatch(v) and C.digits(number)[-10] in "23456789" and not C.service_number(number):
                return (0.55 + (0.2 if cued else 0.0)), s, e
            continue
        formatted = v.startswith(("+", "(", "00")) or len(groups) >= 2
        return (0.75 if formatted else 0.3) + (0.15 if cued else 0.0) + (0.25 if not formatted and cued else 0.0), s, e
    return None


PHONE = Detector("PHONE_NUMBER", _PHONE, r"\d(?:[ .\-()/+]{0,3}\d){6}", 0.75, _phone_check, name="phone")

# ---------------------------------------------------------------- money and identity numbers

_CARD_SHAPE = re.compile(r"\d{12,19}|\d{4}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ \-])\d{6}\2\d{4,5}"
                         r"|\d{4}([ \-])\d{4}\3\d{4}\3\d{1,4}")


def _card_check(text: str, m: re.Match, value: str):
    if _IBAN_BEFORE.search(text, max(0, m.start("v") - 40), m.start("v")):
        return None  # the middle of an IBAN that failed its checksum
    return 1.0 if _CARD_SHAPE.fullmatch(value) and C.card_ok(value) else None


CARD = Detector("CREDIT_CARD", re.compile(r"(?<![\dA-Za-z\-.,])(?P<v>\d(?:[ \-]?\d){11,18})(?![\d]|[.\-,]\d| \d{3})"),
                r"\d{4}[ \-]?\d{4,6}[ \-]?\d{4}", 1.0, _card_check, name="card")


def _iban_check(text: str, m: re.Match, value: str):
    """The match may run on into following capitals; cut it at the country's IBAN length."""
    want = C.IBAN_LENGTHS.get(value[:2])
    if want is None:
        return None
    n, end = 0, m.start("v")
    while end < m.end("v") and n < want:
        if text[end].isalnum():
            n += 1
        end += 1
    return (1.0, m.start("v"), end) if n == want and C.iban_ok(text[m.start("v"):end]) else None


IBAN = Detector("IBAN_CODE", re.compile(r"(?<![A-Za-z0-9])(?P<v>[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,4})?)"),
                r"[A-Z]{2}\d{2}[ \-]?[A-Z0-9]{4}", 1.0, _iban_check, name="iban")

def _ssn_check(text: str, m: re.Match, value: str):
    """SSA rules; nine bare digits only right after "SSN:", space-separated ones only near an SSN word."""
    if not C.ssn_ok(value):
        return None
    if value.isdigit():
        return 0.85 if m.group("cue") else None
    cued = m.group("cue") or re.search(r"(?i)ssn|social|security|ss#|taxpayer|tin\b", text[max(0, m.start() - 40):m.start()])
    return 0.85 if "-" in value or cued else 0.45


SSN = Detector("US_SSN", re.compile(
    r"(?P<cue>(?i:\bssn|\bsocial security(?: number)?|\bss#)\s*(?:no\.?|number|#)?\s*[:#]?\s*)?"
    r"(?<![\d\-.])(?P<v>\d{3}([- ]?)\d{2}\3\d{4})(?![\d\-]|\.\d)"),
    r"\d{3}[- ]\d{2}[- ]\d{4}|(?i)(?:ssn|social security|ss#)\D{0,12}\d{9}", 0.85, _ssn_check, name="ssn")


_IP_CUE = re.compile(r"(?i)\bip\b|address|host|server|from|ping|connect|client|login|地址")


def _ipv4_check(text: str, m: re.Match, value: str):
    """A valid dotted quad. One whose first three parts are single digits (1.6.2.68), or whose parts are all
    small (4.6.15.17: a section or version number; the parts of real addresses spread over 0-255) needs an
    IP word before it. None from 0.x.x.x or 240.x.x.x up: no host has one (this network, reserved, broadcast),
    and that is where netmasks (255.255.240.0) and wildcard masks (0.0.0.255) fall."""
    if not C.ipv4_ok(value):
        return None
    parts = value.split(".")
    if int(parts[0]) == 0 or int(parts[0]) >= 240:
        return None
    small = all(len(p) == 1 for p in parts[:3]) or max(int(p) for p in parts) < 64
    if small and not _IP_CUE.search(text, max(0, m.start() - 30), m.start()):
        return None
    return 0.9


IPV4 = Detector("IP_ADDRESS", re.compile(r"(?<![\d.])(?P<v>\d{1,3}(?:\.\d{1,3}){3})(?![\d]|\.\d)"),
                r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", 0.9, _ipv4_check, name="ipv4")


def _ipv6_check(text: str, m: re.Match, value: str):
    if value.count(":") < 3 or len(re.findall(r"[0-9A-Fa-f]{1,4}", value)) < 3:
        return None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return None
    return 0.9


IPV6 = Detector("IP_ADDRESS", re.compile(r"(?<![\w:.])(?P<v>(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w:])"),
                r"[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:", 0.9, _ipv6_check, name="ipv6")

CRYPTO = Detector("CRYPTO", re.compile(r"(?<![A-Za-z0-9])(?P<v>[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[ac-hj-np-z02-9]{11,71})"
                                       r"(?![A-Za-z0-9])"),
                  r"[13][1-9A-HJ-NP-Za-km-z]{25}|bc1[ac-hj-np-z02-9]{11}", 1.0,
                  lambda t, m, v: 1.0 if C.btc_ok(v) else None, name="btc")

# ---------------------------------------------------------------- secrets

_KEY_EDGE = r"(?<![A-Za-z0-9_\-])"
API_KEY = Detector("API_KEY", re.compile(
    _KEY_EDGE + r"(?P<v>sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}|gh[pousr]_[A-Za-z0-9]{36,}"
    r"|github_pat_[A-Za-z0-9_]{40,}|xox[abprs]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|[sr]k_(?:live|test)_[0-9A-Za-z]{16,}"
    r"|hf_[A-Za-z]{30,}|glpat-[A-Za-z0-9_\-]{20})(?![A-Za-z0-9_\-])"),
    r"sk-|gh[pousr]_|github_pat_|xox[abprs]-|AIza|[sr]k_(?:live|test)_|hf_|glpat-", 0.9, name="api key")

AWS_SECRET = Detector("AWS_KEY", re.compile(
    r"(?i:aws_?secret(?:_?access)?_?key)[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
    r"(?i)aws_?secret", 0.9, name="aws secret")
AWS_KEY = Detector("AWS_KEY", re.compile(r"(?<![A-Z0-9])(?P<v>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])"),
                   r"AKIA|ASIA|ABIA|ACCA", 0.9, name="aws key id")

PRIVATE_KEY = Detector("PRIVATE_KEY", re.compile(
    r"(?P<v>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY"
    r"(?: BLOCK)?-----|[A-Za-z0-9+/=\s]*(?:\.{3}|…)?))"), "-----BEGIN", 1.0, name="pem")

# `password = "..."`, `api_key: ...`, `密码：...`: the value after a secret-sounding name. Values that are
# code, not secrets (os.environ[...], ${VAR}, <placeholder>, getenv(...)) are left alone.
_SECRET_NAME = (r"(?i:api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|client[_-]?secret"
                r"|password|passwd|pwd|passcode)|密码|口令")


def _secret_check(text: str, m: re.Match, value: str):
    v = value.rstrip(".,;，。")
    if len(v) < 8 or not re.search(r"\d", v) or not re.search(r"[A-Za-z]", v) or re.search(r"[()\[\]{}<>]", v) \
            or v.startswith(("$", "os.", "env", "process.", "getenv", "input")):
        return None
    return 0.7, m.start("v"), m.start("v") + len(v)


SECRET = Detector("SECRET", re.compile(rf"(?:{_SECRET_NAME})[\"']?\s*(?:[:=：]|is)\s*[\"'`]?(?P<v>[^\s\"'`]{{8,}})"),
                  r"(?i)pass|pwd|secret|token|api[_-]?key|apikey|密码|口令", 0.7, _secret_check, name="secret")

# ---------------------------------------------------------------- dates

MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
         r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?|JAN|FEB|MAR|APR|MAY|JUNE?|JULY?|AUG|SEPT?|OCT|NOV|DEC)")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_ORD = rf"{_DAY}(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
_YEAR = r"(?:1[89]\d{2}|20\d{2})"
_DATE = re.compile(
    rf"(?<![A-Za-z0-9.\-/])(?P<v>{_WEEKDAY}(?:"
    rf"{_YEAR}-(?:0?[1-9]|1[0-2])-{_DAY}(?:T\d{{2}}:\d{{2}}(?::\d{{2}})?Z?)?|{_YEAR}/(?:0?[1-9]|1[0-2])/{_DAY}|{_YEAR}\.(?:0[1-9]|1[0-2])\.(?:0[1-9]|[12]\d|3[01])"
    rf"|{_DAY}([/.\-]){_DAY}\2(?:{_YEAR}|\d{{2}})"
    rf"|(?:the\s+)?{_ORD}(?:\s+of)?[\s\-]+{MONTH}\.?(?:,?[\s\-]+(?:{_YEAR}|'\d{{2}}))?"
    rf"|{MONTH}\.?\s+{_ORD}(?:,?\s+(?:{_YEAR}|'\d{{2}}))?|{MONTH}\.?,?\s+{_YEAR}"
    rf"|{_YEAR}\s*年\s*\d{{1,2}}\s*月(?:\s*\d{{1,2}}\s*[日号])?|\d{{1,2}}\s*月\s*\d{{1,2}}\s*[日号]"
    rf"))(?![A-Za-z0-9\-/]|\.\d)")


def _date_check(text: str, m: re.Match, value: str):
    nums = [int(n) for n in re.findall(r"\d+", value)]
    if re.fullmatch(r"\d{1,2}[.\-]\d{1,2}[.\-]\d{2}", value) and not re.fullmatch(r"\d\d([.\-])\d\d\1\d\d", value):
        return None  # "3.14.15", "1-2-10": a version or a score unless written dd.mm.yy
    if re.fullmatch(r"[\d/.\-]+", value):  # numeric: day and month must both exist (one of them <= 12)
        a, b = (nums[1], nums[2]) if nums[0] > 31 else (nums[0], nums[1])
        if a > 12 and b > 12:
            return None
    if not any(n > 31 for n in nums) and not re.search(r"\d", value.split()[-1] if value.split() else ""):
        return 0.5  # no year ("March 5th")
    return 0.6


DATE = Detector("DATE", _DATE, rf"\d{{1,4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,4}}|{MONTH}|\d\s*[年月]", 0.6, _date_check, name="date")

# A date is a date of birth when a birth cue stands right before it (or 出生 right after it).
BIRTH_CUE_BEFORE = re.compile(r"(?i)(?:\bborn(?:\s+on)?|\bd\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday(?:\s+is)?"
                              r"|出生(?:日期|年月日|于|在|时间)?|生日(?:是)?)\s*[:：,]?\s*(?:is\s+|on\s+|was\s+)?$")
BIRTH_CUE_AFTER = re.compile(r"\s*(?:出生|生)")

DETECTORS = [EMAIL, URL, PHONE, CARD, IBAN, SSN, IPV4, IPV6, CRYPTO, API_KEY, AWS_KEY, AWS_SECRET, PRIVATE_KEY, SECRET,
             DATE]
