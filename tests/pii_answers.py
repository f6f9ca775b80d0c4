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
