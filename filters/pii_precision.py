"""Precision rules: spans a recogniser found that name no one, judged from the words around them.

    not_a_name(text, span)       # PERSON/LOCATION that is an eponym, a product, an acronym or a citation
    placeholder_secret(value)    # a documentation key or a template value, not a credential

Why here and not in the recognisers: the same span comes from spaCy, the name gazetteer or a cue, and the
evidence against it (what follows it, an article before it) is the same whichever found it.
- Eponyms: a name right before a term of science, medicine or software ("Hooke's law", "the Doppler
  effect", "Prim's algorithm", "Hodgkin lymphoma", "our Kafka cluster") names an idea or a thing. Only a
  single word that is not a known first name and has no title before it: "Kenji's code" and "Dr
  Watanabe's test results" stay.
- An indefinite article before a capitalised run holding the span ("a Porsche Cayenne", "a Hopfield
  network"): people are not counted with "a"; a title in between ("a Dr. Okafor") keeps it, and so does a
  full name before an ordinary word ("a James Baldwin book", where "a" belongs to the book).
- A name right after Hurricane / Storm / Typhoon / Cyclone is a storm's.
- A one-word all-capitals PERSON of up to five letters is an acronym or a unit (GB, NAICS); one followed
  by a version number is a product ("Chrome 114.0.5406.153").
- A place between two numbers is a law report or a code ("333 U.S. 55"), not where someone is.
- A key or password that is a template ("sk-xxxxxxxx...", "AKIAIOSFODNN7EXAMPLE", "xoxb-your-token-here"):
  few distinct characters in its random part, or a placeholder word in it.

Not here: number-shaped look-alikes (pii._plausible_number), checksums (pii_checks), allow-lists (pii).
"""

from __future__ import annotations

import re

from dsforge.filters import pii_names
from dsforge.filters.pii_spans import Span

TERM_NOUNS = ("law|laws|theorem|lemma|conjecture|hypothesis|axiom|algorithm|equation|equations|constant|principle"
              "|effect|transform|transformation|distribution|test|method|network|filter|process|distance|index|sequence"
              "|series|formula|rule|paradox|inequality|coefficient|function|matrix|space|curve|diagram|attractor"
              "|machine|coding|search|tree|heap|graph|problem|criterion|integral|operator|polynomial|triangle"
              "|exchange|elimination|chain|chains|estimator|correction|kernel|entropy|bound|blur|syndrome|disease"
              "|reaction|cycle|number|numbers|ratio|limit|metric|spiral|scale|sort|encoding|cipher|code"
              "|phenomenon|manoeuvre|maneuver|lymphoma|sarcoma|palsy|reflex|sign|procedure"
              "|cluster|server|broker|notebook|database|plugin|library|pipeline|instance")
# A storm's name is not a person's ("Storm Dennis", "Typhoon Haiyan").
_STORM = re.compile(r"(?:Hurricane|Storm|Typhoon|Cyclone|Tropical Storm|Tropical Depression)[ \t]+")
_EPONYM_AFTER = re.compile(rf"(?:'s|’s|'|’)?[ \t\-]+(?:{TERM_NOUNS})(?![A-Za-z])")
_ARTICLE_BEFORE = re.compile(r"(?:^|[^A-Za-z])(?:a|an|A|An)[ \t]+$")
_CAPITALISED_BEFORE = re.compile(r"(?:[A-Z][A-Za-z'’\-]*[ \t]+)+$")
_TITLE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)(?![A-Za-z])")
_TITLE_BEFORE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)\.?[ \t]+$")
_VERSION_AFTER = re.compile(r"[ \t]+v?\d+(?:\.\d+)+")
_NEXT_WORD = re.compile(r"[ \t]+([a-z]+)")
_NUMBER_BEFORE = re.compile(r"\d[ \t]+$")
_NUMBER_AFTER = re.compile(r"[ \t]+\d")


def _modifies_a_noun(text: str, s: Span, toks: list[str]) -> bool:
    """A full name (known first name first) followed by an ordinary word: "a James Baldwin book", where the
    article belongs to the book. Not "a Porsche Cayenne with ...": a function word follows there."""
    from spacy.lang.en.stop_words import STOP_WORDS

    after = _NEXT_WORD.match(text, s.end)
    return len(toks) > 1 and toks[0] in pii_names.first_names() and after is not None \
        and after.group(1) not in STOP_WORDS


def not_a_name(text: str, s: Span) -> bool:
    """Whether a PERSON or LOCATION span is an eponym, a product, an acronym or a citation (see the module)."""
    value = text[s.start:s.end]
    if not value[:1].isupper():
        return False  # street addresses start with their number
    toks = value.split()
    if _TITLE_BEFORE.search(text, max(0, s.start - 6), s.start):
        return False  # "Dr Watanabe's test", "a Dr. Okafor"
    if _STORM.match(value) or re.search(rf"(?:{_STORM.pattern})$", text[max(0, s.start - 24):s.start]):
        return True
    run = _CAPITALISED_BEFORE.search(text, max(0, s.start - 40), s.start)  # "a Porsche " before "Cayenne"
    run_start = run.start() if run else s.start
    if _ARTICLE_BEFORE.search(text, max(0, run_start - 6), run_start) and not _TITLE.search(text, run_start, s.start) \
            and not _modifies_a_noun(text, s, toks):
        return True
    before = text[max(0, s.start - 6):s.start]
    if len(toks) == 1 and value not in pii_names.first_names() and _EPONYM_AFTER.match(text, s.end):
        return True
    if s.entity == "PERSON" and len(toks) == 1 and ((value.isupper() and len(value) <= 5)
                                                     or _VERSION_AFTER.match(text, s.end)):
        return True
    return s.entity == "LOCATION" and bool(_NUMBER_BEFORE.search(before)) and bool(_NUMBER_AFTER.match(text, s.end))


_KEY_PREFIX = re.compile(r"^(?:sk-(?:proj-|ant-)?|gh[pousr]_|github_pat_|xox[abprs]-|[sr]k_(?:live|test)_|hf_|glpat-"
                         r"|AKIA|ASIA|ABIA|ACCA|AIza)")
_PLACEHOLDER_WORD = re.compile(r"(?i)example|your|here|placeholder|dummy|redacted|changeme|xxxx|\*\*\*\*|<|>")


def placeholder_secret(value: str) -> bool:
    """A template, not a credential: a placeholder word, or under 6 distinct characters after the prefix."""
    body = _KEY_PREFIX.sub("", value)
    return bool(_PLACEHOLDER_WORD.search(value)) or len(set(body.lower())) < 6
