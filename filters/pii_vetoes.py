"""Named vetoes (number-shaped spans, mailboxes, street addresses), and the span edge fixes every span gets.

    number_veto(text, span, negative)   # "decimal_or_version", "number_sequence", "date_shape", "negative_cue" or None
    email_veto(value)                   # "role_or_placeholder_mailbox" or None
    address_veto(text, span)            # "placeholder_address", "public_address" or None
    negative_cue_regex(cues)            # text ending with "order no.", "ISBN:", "版本" before a span
    trim(text, span); widen(text, start, end)

Why: a number-shaped entity (card, phone, SSN, IP, date) is often a decimal, a version, a counting
sequence or an order number (all seen in real instruction data: `python('100 * 0.621371')`, `"0123456789"`,
`1 2 3 4 5 6 7 8 9 10`, a letter-number cipher `18-5-1-12-9-20-25`, `[::2]`, "order no. 13812345678").
The cue words are data/filters/pii_rules.yaml `negative_cues`.
"""

from __future__ import annotations

import re

from dsforge.filters.pii_rules import rules
from dsforge.filters.pii_spans import Span

NUMBERISH = {"CREDIT_CARD", "PHONE_NUMBER", "CN_MOBILE", "US_SSN", "CN_RESIDENT_ID", "IBAN_CODE", "IP_ADDRESS", "DATE",
             "DATE_OF_BIRTH", "UK_NHS"}
_ASCENDING, _DESCENDING = "01234567890123456789", "98765432109876543210"
_VERSION_NEAR = re.compile(r"(?i)version|release|upgrade|update|build|firmware|bump|depend|changelog|package|\bv\d"
                           r"|版本|升级")
_STRAY_GROUPS = re.compile(r"(?<![\d.,])(?:\d{1,3}[ \t])+$")
_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")
_ISO_DATE = re.compile(r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")
_ROLE_LOCALS = frozenset(rules()["role_email_locals"])
_PLACEHOLDER_NUMBER = re.compile(r"(?:" + "|".join(rules()["placeholder_house_numbers"]) + r")(?!\w)")
_PLACEHOLDER_TOWN = re.compile(r"(?i)\b(?:" + "|".join(re.escape(t) for t in rules()["placeholder_towns"]) + r")\b")
_PUBLIC = [re.sub(r"\s+", " ", a).lower() for a in rules()["public_addresses"]]


def email_veto(value: str) -> str | None:
    """A role, system or placeholder mailbox ("alerts@...", "noreply@...", "example@...") belongs to no person."""
    local = value.split("@", 1)[0].lower().strip("'\"<")
    return "role_or_placeholder_mailbox" if local in _ROLE_LOCALS else None


def address_veto(text: str, s: Span) -> str | None:
    """A street address of the examples ("123 Main St, Anytown") or of a public landmark ("10 Downing Street")."""
    value = re.sub(r"\s+", " ", text[s.start:s.end]).lower()
    if any(value.startswith(a) for a in _PUBLIC):
        return "public_address"
    if _PLACEHOLDER_NUMBER.match(value) or _PLACEHOLDER_TOWN.search(text, s.start, min(len(text), s.end + 40)):
        return "placeholder_address"
    return None


def negative_cue_regex(cues: list[str]) -> re.Pattern | None:
    """Matches text that ends with a look-alike cue ("order #", "ISBN:", "版本") just before a span."""
    if not cues:
        return None
    words = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?:^|[^A-Za-z])(?:{words})\.?\s*(?:no\.?|number|num|id|code)?\s*(?:\([^()\n]{{0,24}}\)\s*)?"
                      rf"(?:is|was|[#:：=])?\s*[#:：=]?\s*$", re.IGNORECASE)


def number_veto(text: str, s: Span, negative: re.Pattern | None) -> str | None:
    """Why a number-shaped span is no one's (a veto name), or None when it may be."""
    value = text[s.start:s.end]
    before, after = text[max(0, s.start - 40):s.start], text[s.end:s.end + 2]
    stray = _STRAY_GROUPS.search(before)  # "ABN 17 " before "041 218 836": the cue stands before the whole run
    cue_before = text[max(0, s.start - len(stray.group()) - 24):s.start - len(stray.group())] if stray else before
    if re.search(r"\d[.,]$", before) or re.match(r"[.,]\d", after) or re.search(r"\d[.,]\d*$", before):
        return "decimal_or_version"  # 3.14159265359, 2.349014, v1.2.3
    if s.entity == "IP_ADDRESS" and (len(value) < 7 or _VERSION_NEAR.search(text, max(0, s.start - 30), s.start)):
        return "decimal_or_version"  # "::2" in a Python slice; "upgrade from 3.4.1.220"
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and (digits in _ASCENDING or digits in _DESCENDING):
        return "number_sequence"  # "0123456789" passes the NHS mod-11 check
    if s.entity in ("PHONE_NUMBER", "CN_MOBILE"):
        groups = re.findall(r"\d+", value.replace("(0)", ""))
        if len(digits) < 7 or value.count(".") == 1 and re.search(r"\d\.\d", value):
            return "decimal_or_version"  # one dot between digits is a decimal; 212.555.0188 has two
        if sum(len(g) == 1 for g in groups[1:]) >= 1:
            return "number_sequence"
        if _ISO_DATE.fullmatch(value):
            return "date_shape"  # '2021-11-09' in code
    if negative is not None and (negative.search(before) or negative.search(cue_before)):
        return "negative_cue"
    return None


def trim(text: str, s: Span) -> Span:
    """Trim quotes, `=` and brackets a recogniser took in at the edges (`EMAIL='user@x.com` -> `user@x.com`)."""
    if s.entity == "EMAIL_ADDRESS":
        m = re.search(r"[^\s'\"=<>(),;:`]+@[^\s'\"<>(),;:`]+$", text[s.start:s.end])
        if m and m.start():
            return Span(s.entity, s.start + m.start(), s.end, s.score, s.source, s.recognizer)
    return s


def widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that starts or ends inside an ASCII word/number so no fragment is left behind."""
    while start > 0 and _WORD_CHAR.match(text[start - 1]) and _WORD_CHAR.match(text[start]):
        start -= 1
    while end < len(text) and _WORD_CHAR.match(text[end]) and _WORD_CHAR.match(text[end - 1]):
        end += 1
    return start, end
