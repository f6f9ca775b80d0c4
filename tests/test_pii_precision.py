"""Known answers for the look-alike precision rules (pii_patterns e-mail/phone/IP checks, pii_checks national
phone groupings, pii_precision names and template keys): each look-alike class in real-looking text is not
PII, and the nearest real PII in the same kind of text is still found, so a rule cannot pass by finding
nothing.

The names cases run with the spaCy model: the eponyms ("Hooke's law") come from en_core_web_sm itself.
"""

from __future__ import annotations

import re

import pytest

from dsforge.filters import pii
from dsforge.filters import pii_checks as C
from dsforge.filters import pii_precision as P
from dsforge.filters.pii_detect import PiiDetector

DET = PiiDetector(pii.DEFAULT_ENTITIES)
NEG = pii.negative_cue_regex(pii.DEFAULT_NEGATIVE_CUES)
ALLOW = [re.compile(p, re.I) for p in pii.DOCUMENTATION_VALUES]


def found(text: str) -> list[tuple[str, str]]:
    raw = DET.scan([text])[0]
    return [(s.entity, text[s.start:s.end]) for s in pii.resolve_spans(text, raw, pii.DEFAULT_THRESHOLDS, set(), ALLOW, NEG)]


# (look-alike in context, real PII in the same kind of context, the PII that must be found there)
PAIRS = {
    "ssh remote is not an e-mail": (
        "git clone git@github.com:acme/infra.git && cd infra",
        "Questions about the repo: write to priya.raghunathan@acme.io: she owns it.",
        ("EMAIL_ADDRESS", "priya.raghunathan@acme.io")),
    "login on a private host is not an e-mail": (
        "deploy@db-01.prod.internal:~$ sudo systemctl restart app",
        "Escalate to oncall.kenji@hotmail.co.uk if the restart fails.",
        ("EMAIL_ADDRESS", "oncall.kenji@hotmail.co.uk")),
    "a list of two-digit numbers is not a phone": (
        "Winning numbers: 04 07 16 22 25 48, bonus 11.",
        "Rappelez-moi au 06 12 34 56 78 avant midi.",
        ("PHONE_NUMBER", "06 12 34 56 78")),
    "a business number is not a number after a stray group": (
        "Registered office details: ABN 51 824 753 556.",
        "Room 4 0803 123 4567 is the ward phone.",
        ("PHONE_NUMBER", "0803 123 4567")),
    "digits grouped unlike a Spanish number": (
        "Invoice footer: VAT reg. GB 888 0097 82",
        "Llámame al 612 345 678 o al fijo 91 234 56 78.",
        ("PHONE_NUMBER", "612 345 678")),
    "a section number is not an IP address": (
        "### 4.6.15.17 Error handling\nSee clause 8.8.16.7 of the contract.",
        "Blocked after 5 failed logins from 4.6.15.17 at 02:14.",
        ("IP_ADDRESS", "4.6.15.17")),
    "an eponym is not a person": (
        "Explain Hooke's law with an example, then the Doppler effect.",
        "Dr Watanabe's test results came back normal.",
        ("PERSON", "Watanabe")),
    "a product after an article is not a person or a place": (
        "We compared a Porsche Cayenne with the rival and trained a Hopfield network.",
        "The form was signed by a Dr. Okafor on the ward.",
        ("PERSON", "Okafor")),
    "an acronym in capitals is not a person": (
        "Patent CN 115563154 A. Customs tariff code NAICS 076996",
        "GPU util 97%, mem 72.31 GB\nNext: ask Aisha Bello to restart the job.",
        ("PERSON", "Aisha Bello")),
    "a law report is not a place": (
        "The court relied on 410 U.S. 113 (1973).",
        "She moved to the U.S. in 2019 for work.",
        ("LOCATION", "U.S.")),
    "a template key is not a secret": (
        'export OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\napi_key = "AKIAIOSFODNN7EXAMPLE"  # placeholder\n'
        "SLACK_TOKEN=xoxb-your-token-here",
        "export OPENAI_API_KEY=sk-proj-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU",
        ("API_KEY", "sk-proj-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU")),
}


@pytest.mark.parametrize("case", list(PAIRS))
def test_lookalike_is_not_pii_and_the_real_value_is(case):
    lookalike, real, expected = PAIRS[case]
    assert found(lookalike) == []
    assert expected in found(real)
    if case == "an acronym in capitals is not a person":
        assert found(real) == [expected]  # en_core_web_sm calls the unit "GB" a PERSON there


def test_national_groupings_and_kept_name_cases():
    # libphonenumber alone accepts the digits; the grouping is what a Spanish number never has
    assert C.phone_ok("612 345 678") and C.phone_ok("91 234 56 78") and not C.phone_ok("888 0097 82")
    assert C.phone_ok("+34 888 0097 82") == C.phone_ok("+34 888009782")  # with a country code, grouping is free
    text = "Email Kenji about Kenji's code review."
    assert [v for e, v in found(text) if e == "PERSON"] == ["Kenji", "Kenji"]  # a known first name is no eponym


def test_placeholder_secret_rule():
    for v in ["sk-" + "x" * 40, "ghp_" + "X" * 36, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
              "xoxb-your-token-here", "sk_test_" + "0" * 24]:
        assert P.placeholder_secret(v), v
    for v in ["sk-proj-Ab3dE5fG7hJ9kL1mN3pQ5rS7tU", "AKIA4QWJX7RZ2HMB5KTE", "ghp_4fJ8kQ2mZ9xW1bN7cV3tY6uR0pL5sD8hG2aE"]:
        assert not P.placeholder_secret(v), v
