"""What the pii stage's defaults find in one text, for the known-answer tests (test_pii_known.py,
test_pii_compounds.py): the detector, then pii.resolve_spans with the default thresholds, allow-list and
negative cues, as the stage runs them."""

from __future__ import annotations

import re

from dsforge.filters import pii
from dsforge.filters.pii_detect import PiiDetector

DET = PiiDetector(pii.DEFAULT_ENTITIES)
NEG = pii.negative_cue_regex(pii.DEFAULT_NEGATIVE_CUES)
ALLOW = [re.compile(p, re.I) for p in pii.DOCUMENTATION_VALUES]


def found(text: str, public_names: bool = True) -> list[tuple[str, str]]:
    raw = DET.scan([text])[0]
    return [(s.entity, text[s.start:s.end])
            for s in pii.resolve_spans(text, raw, pii.DEFAULT_THRESHOLDS, set(), ALLOW, NEG, public_names)]


def names(text: str) -> list[str]:
    return [v for e, v in found(text) if e in ("PERSON", "LOCATION")]


def check_pair(case: str, lookalike: str, private: str, want: tuple[str, str]) -> None:
    """A look-alike class in real-looking text is not PII, and the nearest private one in the same kind of text
    still is (so a rule cannot pass by finding nothing)."""
    assert names(lookalike) == [], (case, found(lookalike))
    assert want in found(private), (case, found(private))
