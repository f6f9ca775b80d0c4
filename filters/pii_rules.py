"""The pii stage's rule data, read once from data/filters/pii_rules.yaml (word lists, cue words, ranges).

    rules()["negative_cues"]      # a list from the file
    word_alternation("term_nouns")  # "law|laws|..." for a regex

Why a file: rule data is reviewed and extended by people who do not read the code (issue 28).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "filters" / "pii_rules.yaml"


@lru_cache(maxsize=1)
def rules() -> dict:
    return yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def word_alternation(key: str, escape: bool = False) -> str:
    """The list under `key` as a regex alternation, longest first (so "Streets" is tried before "St")."""
    words = sorted(set(rules()[key]), key=len, reverse=True)
    return "|".join(re.escape(w) if escape else w for w in words)


def documentation_values() -> list[str]:
    """Full-match regexes of values reserved for documentation, the sandbox card numbers included."""
    cards = "|".join(r"[ \-]?".join(n) for n in rules()["test_card_numbers"])
    return [*rules()["documentation_values"], cards]
