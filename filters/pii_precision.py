"""Named vetoes for names and secrets on ordinary text: spans a recogniser found that name no one.

    name_veto(text, span)        # "eponym", "entity_head", "case_citation", ... or None
    placeholder_secret(value)    # a documentation key or a template value, not a credential
    unsupported_names(text, spans)  # (kept, [(span, "unsupported_name")])

Why here and not in the recognisers: the same span comes from spaCy, the name gazetteer or a cue, and the
evidence against it (what follows it, an article before it) is the same whichever found it. Each veto has
a name that `action: tag` records. Word lists are in data/filters/pii_rules.yaml.
- eponym: a one-word name that is no known first name right before a term of science, medicine or software
  ("Hooke's law", "the Doppler effect", "our Kafka cluster"); any name before a term only mathematics uses
  ("Zeno's paradox"); a full name before a term without a possessive ("the Ben Franklin effect").
- entity_head: a name followed (within three more capitalised words) by an institution, building, event or
  firm noun ("Johns Hopkins Hospital", "James Webb Space Telescope"), or ending in one ("Abbey Road").
- indefinite_article: "a Porsche Cayenne", "a Hopfield network": people are not counted with "a" (a title
  or a full name from the first-name list keeps it).
- storm_name, case_citation ("Miranda v. Arizona"), acronym (a one-word all-capitals PERSON of up to five
  letters, or a name before a version number), bank_of ("Bank of America"), label_number ("Bay 4").
- placeholder_name: John Doe, Max Mustermann, 张三, names anonymised with 某.
- unsupported_name: one weak signal only (spaCy alone, no known first name, no locative word before a
  place), or inside a longer span spaCy labels a thing (ORG, PRODUCT, WORK_OF_ART, EVENT, LAW).

Retired (issue 28): rules whose only purpose was to leave famous people, fictional characters and things
named like people untagged (pii_known, pii_compounds, pii_context, pii_lone): a public figure's name is PII.
"""

from __future__ import annotations

import re

from dsforge.filters import pii_names
from dsforge.filters.pii_rules import rules, word_alternation
from dsforge.filters.pii_spans import STRONG_SOURCES, Span

TERM_NOUNS = (word_alternation("term_nouns")
              # a medical term by its suffix ("Hashimoto's thyroiditis", "Guillain-Barré neuropathy")
              + r"|(?!diagnosis|prognosis|academia)[a-z]+(?:itis|osis|aemia|emia|pathy|plasia|algia|ectomy|otomy)")
# A storm's or a comet's name is not a person's ("Storm Dennis", "Typhoon Haiyan", "Comet McNaught").
_STORM = re.compile(r"(?:Hurricane|Storm|Typhoon|Cyclone|Tropical Storm|Tropical Depression|Comet)[ \t]+")
_EPONYM_AFTER = re.compile(rf"(?:'s|’s|'|’)?[ \t\-]+(?:{TERM_NOUNS})(?![A-Za-z])")
_TERM_AFTER = re.compile(rf"[ \t\-]+(?:{TERM_NOUNS})(?![A-Za-z])")
_STRONG_TERM_AFTER = re.compile(r"(?:'s|’s)?[ \t]+(?:theorem|lemma|conjecture|paradox|axiom|postulate|inequality)(?![A-Za-z])")
_ARTICLE_BEFORE = re.compile(r"(?:^|[^A-Za-z])(?:a|an|A|An)[ \t]+$")
_CAPITALISED_BEFORE = re.compile(r"(?:[A-Z][A-Za-z'’\-]*[ \t]+)+$")
_TITLE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)(?![A-Za-z])")
_TITLE_BEFORE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)\.?[ \t]+$")
_VERSION_AFTER = re.compile(r"[ \t]+v?\d+(?:\.\d+)+")
_NUMBER_BEFORE = re.compile(r"\d[ \t]+$")
_NUMBER_AFTER = re.compile(r"[ \t]+\d")
# "Marbury v. Madison": the parties' names in a reported case's title
_CASE_AFTER = re.compile(r"[ \t]+(?:v|vs)\.?[ \t]+[A-Z]")
_CASE_BEFORE = re.compile(r"[A-Z][\w'’.\-]*[ \t]+(?:v|vs)\.?[ \t]+$")
_CASE_INSIDE = re.compile(r"[ \t](?:v|vs)\.?(?:[ \t]|$)")
_BANK_OF_BEFORE = re.compile(r"(?:Bank|Banco|Banque|Company|Corporation)[ \t]+of[ \t]+(?:the[ \t]+)?$")
# Nouns that end the name of an institution, place, event, prize, instrument or law: a name followed by one
# (after at most three more capitalised words) is the head's modifier, not a person or a place of someone.
ENTITY_HEADS = word_alternation("entity_heads")
_ENTITY_HEAD_AFTER = re.compile(rf"(?:'s|’s|\.)?(?:[ \t]+[A-Z][\w'’\-.]*){{0,3}}?[ \t]+(?:{ENTITY_HEADS})(?![\w'’])")
_HEAD_LAST = re.compile(rf"[ \t](?:{ENTITY_HEADS})$")
_CJK_NAME = re.compile(r"[\u4e00-\u9fff·]{2,4}")
PLACEHOLDER_NAMES = frozenset(rules()["placeholder_names"])


def _someone_called(s: Span, toks: list[str]) -> bool:
    """A full name starting with a known first name after "a": "a John Smith waiting in reception"."""
    return len(toks) > 1 and toks[0] in pii_names.first_names()


def _with_words_before(text: str, start: int, value: str) -> str:
    """The span with the capitalised words right before it (a name list trims "John" off "John Doe")."""
    run = _CAPITALISED_BEFORE.search(text, max(0, start - 24), start)
    return (run.group() if run else "") + value


_PLACEHOLDER_NAME_WORD = re.compile(r"(?i)(?<![a-z])(?:firstname|lastname|surname|forename|givenname|testerson|placeholder"
                               r"|dummy)(?![a-z])")


def placeholder_name(value: str) -> bool:
    """A stand-in for a name, not anyone's: the placeholder names of forms and manuals in several languages
    (John Doe, Max Mustermann, Mario Rossi, 张三, 山田太郎, ...) and Chinese names anonymised with 某 (王某, 李某某)."""
    words = value.split()
    v = " ".join(words)
    return any(" ".join(words[i:]) in PLACEHOLDER_NAMES for i in range(len(words))) or bool(_PLACEHOLDER_NAME_WORD.search(v)) \
        or (bool(_CJK_NAME.fullmatch(v)) and "某" in v)


def name_veto(text: str, s: Span) -> str | None:
    """The name of the veto that says a PERSON or LOCATION span is no one (see the module), or None."""
    value = text[s.start:s.end]
    if s.entity == "PERSON" and placeholder_name(_with_words_before(text, s.start, value)):
        return "placeholder_name"
    if not value[:1].isupper():
        return None  # street addresses start with their number
    toks = value.split()
    if not any(c.isdigit() for c in value) and (  # (not a street address: "Flat 12, 42 Queen's Drive")
            _ENTITY_HEAD_AFTER.match(text, s.end) or (s.entity == "PERSON" and _HEAD_LAST.search(value))):
        return "entity_head"  # "James Webb Space Telescope", "Johns Hopkins Hospital", "Abbey Road"
    if s.source not in STRONG_SOURCES and (_CASE_AFTER.match(text, s.end) or _CASE_INSIDE.search(value)
                                           or _CASE_BEFORE.search(text, max(0, s.start - 40), s.start)):
        return "case_citation"  # "Miranda v. Arizona"
    if s.entity == "LOCATION" and _BANK_OF_BEFORE.search(text, max(0, s.start - 30), s.start):
        return "bank_of"  # "Bank of America"
    if _TITLE_BEFORE.search(text, max(0, s.start - 6), s.start):
        return None  # "Dr Watanabe's test", "a Dr. Okafor"
    if _STORM.match(value) or re.search(rf"(?:{_STORM.pattern})$", text[max(0, s.start - 24):s.start]):
        return "storm_name"
    run = _CAPITALISED_BEFORE.search(text, max(0, s.start - 40), s.start)  # "a Porsche " before "Cayenne"
    run_start = run.start() if run else s.start
    if _ARTICLE_BEFORE.search(text, max(0, run_start - 6), run_start) and not _TITLE.search(text, run_start, s.start) \
            and not _someone_called(s, toks) and s.source not in STRONG_SOURCES:
        return "indefinite_article"
    if (len(toks) == 1 and value not in pii_names.first_names() and _EPONYM_AFTER.match(text, s.end)) \
            or (len(toks) > 1 and _TERM_AFTER.match(text, s.end)) or _STRONG_TERM_AFTER.match(text, s.end):
        return "eponym"  # "Hooke's law", "the Ben Franklin effect", "Zeno's paradox"
    if s.entity == "PERSON" and len(toks) == 1 and ((value.isupper() and len(value) <= 5)
                                                     or _VERSION_AFTER.match(text, s.end)):
        return "acronym"
    if len(toks) == 1 and s.source not in STRONG_SOURCES and value.lower() in pii_names.common_words() \
            and _NUMBER_AFTER.match(text, s.end):
        return "label_number"  # "Bay 4", "Gate 12" ("Nice 06000" stays: not a common word)
    if s.entity == "LOCATION" and _NUMBER_BEFORE.search(text[max(0, s.start - 6):s.start]) \
            and _NUMBER_AFTER.match(text, s.end):
        return "case_citation"  # "333 U.S. 55"
    return None


_NAME_WORD_BEFORE = re.compile(r"(?<![\w'’])[A-ZÀ-Þ][a-zà-ÿ]+[ \t]+$")  # "Elif Demir": spaCy found only "Demir"
_SPEAKER_AT = re.compile(r"[ \t]*:")  # "[10:42] Tendai: ..." (a chat speaker)
_LINE_START = re.compile(r"(?:^|[\n.!?][ \t]*|[\n.!?]\s*\[[\d:]+\][ \t]*)$")
_LOCATIVE_BEFORE = re.compile(r"(?i)(?:\b(?:in|at|from|to|near|into|outside|around|across|via|of|visit|visited"
                              r"|visiting|based|born|lives|living|moved|toward|towards)|,)[ \t]+$")


def unsupported_names(text: str, spans: list[Span]) -> tuple[list[Span], list[tuple[Span, str]]]:
    """Names with only one weak signal, judged against the other spans of the same text (after every
    recogniser has run; spans with a strong cue are never touched): inside a longer span spaCy labels a
    thing, or the same span labelled PRODUCT / WORK_OF_ART / EVENT / LAW with one signal ("Roman" in "Times New
    Roman"); one word only spaCy calls a PERSON that is no known first name nor part of a full name in the
    text ("Kepler"); one word only spaCy calls a place with no locative word before it. The thing-label spans
    are evidence, not PII: they are removed. Returns (kept, vetoed)."""
    names = [s for s in spans if s.entity not in pii_names.THING_LABELS]
    things = [_without_possessive(text, t) for t in spans
              if t.entity in pii_names.THING_LABELS and not _sentence_word_only(text, t, spans)]
    strong = [s for s in names if s.entity == "PERSON" and s.source in STRONG_SOURCES]
    full_name_words = {w for s in names if s.entity == "PERSON" and len(text[s.start:s.end].split()) > 1
                       for w in text[s.start:s.end].split()}
    kept, vetoed = [], []
    for s in names:
        if s.entity not in ("PERSON", "LOCATION") or s.source in STRONG_SOURCES \
                or any(c.start < s.end and s.start < c.end for c in strong) \
                or _supported(text, s, names, things, full_name_words):
            kept.append(s)
        else:
            vetoed.append((s, "unsupported_name"))
    return kept, vetoed


def _supported(text: str, s: Span, names: list[Span], things: list[Span], full_name_words: set[str]) -> bool:
    value = text[s.start:s.end]
    signals = {o.source for o in names if o.entity == s.entity and o.start < s.end and s.start < o.end}
    for t in things:
        if s.entity == "LOCATION" and t.entity == "ORG":
            continue
        longer = t.start <= s.start and s.end <= t.end and t.end - t.start > s.end - s.start
        same = (t.start, t.end) == (s.start, s.end) and t.entity not in ("ORG", "NORP") and len(signals) < 2
        if longer or same:
            return False
    words = value.split()
    if len(words) > 1 or s.source != "ner":
        return True
    if s.entity == "PERSON":
        return value in pii_names.first_names() or value in full_name_words or bool(_SPEAKER_AT.match(text, s.end)) \
            or _name_word_before(text, s.start)
    return bool(_LOCATIVE_BEFORE.search(text, max(0, s.start - 12), s.start))


def _name_word_before(text: str, start: int) -> bool:
    """A capitalised word right before that may itself be part of a name ("Elif Demir", spaCy found only
    "Demir"); not a capitalised common noun labelling what follows ("Team Charlie", "Project Juliet")."""
    m = _NAME_WORD_BEFORE.search(text, max(0, start - 30), start)
    if m is None:
        return False
    word = m.group().strip()
    return word in pii_names.first_names() or word.lower() not in pii_names.common_words()


def _without_possessive(text: str, t: Span) -> Span:
    """spaCy often ends a thing at a possessive ("Magnus Thorsen's" ORG): that 's is no extra word."""
    m = pii_names.POSSESSIVE_END.search(text, t.start, t.end)
    return Span(t.entity, t.start, m.start(), t.score, t.source) if m else t


def _sentence_word_only(text: str, thing: Span, spans: list[Span]) -> bool:
    """A thing span that is a name plus only the first word of its sentence ("Call Björn", "Recipient Rustam
    Nazarov"): spaCy's misreading of a capitalised sentence start, no evidence against the name."""
    for s in spans:
        if s.entity == "PERSON" and s.end == thing.end and s.start > thing.start:
            if len(text[thing.start:s.start].split()) == 1 and _LINE_START.search(text[:thing.start]):
                return True
    return False


_KEY_PREFIX = re.compile(r"^(?:sk-(?:proj-|ant-)?|gh[pousr]_|github_pat_|xox[abprs]-|[sr]k_(?:live|test)_|hf_|glpat-"
                         r"|AKIA|ASIA|ABIA|ACCA|AIza)")
_PLACEHOLDER_WORD = re.compile(r"(?i)example|your|here|placeholder|dummy|redacted|changeme|xxxx|\*\*\*\*|<|>")


def placeholder_secret(value: str) -> bool:
    """A template, not a credential: a placeholder word, or under 6 distinct characters after the prefix."""
    body = _KEY_PREFIX.sub("", value)
    return bool(_PLACEHOLDER_WORD.search(value)) or len(set(body.lower())) < 6
