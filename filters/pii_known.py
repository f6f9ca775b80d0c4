"""Names the language already knows: a span that is a name English has lexicalised, or a word of a closed
class that uses names as labels, is not a private person.

    lexicalised_name(text, span)   # "Abraham Lincoln", "Eggs Benedict", "Bunsen burner", "Queen Victoria"
    label_name(text, span)         # "Kilo Lima Mike", "Team Charlie", "Alice encrypts with Bob's key"

Why: the recognisers see a capitalised pair that starts with a known first name ("Abraham Lincoln",
"Granny Smith") and cannot tell it from a private person's name by its shape; only world knowledge can.
The knowledge here is Princeton WordNet's nouns (data/filters/wordnet_names.tsv, built by
data/filters/build_wordnet_names.py): its capitalised lemmas (famous people, some fictional characters,
places, dishes, breeds, typefaces) and its compounds holding a proper noun ("bunsen burner"). A span, with up
to two words before or after it, that spells such a lemma names that thing or that famous person.

Kept: spans with a strong cue ("Name: John Smith", "Dear Mr. Lincoln", a chat speaker): a private person may
share a famous name, and a form says whose it is. A place inside a lexicalised place ("Lake Victoria") stays a
place. One-word spans only go when WordNet knows the word as no person and it is no known first name
("Helvetica"): a lone surname ("Watson") is too often a private person's.

Closed classes (label_name), each a fixed set that writers use as labels, not as people:
- the ICAO spelling alphabet (Alfa ... Zulu) in a run of two or more ("Hotel India"), or with three of its
  words in the text ("Alpha -> Bravo -> Delta");
- a one-word name right after a label noun (LABEL_NOUNS: Team, Project, Operation, Phase, Round, ...):
  "Project Juliet", "Team Charlie"; kinship and rank words are not label nouns ("Uncle Bob", "Coach Carter");
- the cast of cryptography write-ups (Alice, Bob, Eve, Mallory, Trent, ...) in text about protocols: two of
  them and one protocol word, or one and two protocol words ("Mallory can replay the nonce").

Not here: names WordNet does not list (most fictional characters of the last fifty years, bands, products,
voice assistants); those need a larger knowledge base than ships on PyPI.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from dsforge.filters import pii_names
from dsforge.filters.pii_spans import STRONG_SOURCES, Span

WORDNET_FILE = Path(__file__).resolve().parent.parent / "data" / "filters" / "wordnet_names.tsv"
_WORDS_BEFORE = re.compile(r"(?:(?<=[ \t])|^)((?:[^\W\d][\w'’.\-]*[ \t]+){1,2})$")
_WORDS_AFTER = re.compile(r"((?:[ \t]+[^\W\d][\w'’\-]*){1,2})")
_POSSESSIVE_AFTER = re.compile(r"(?:'s|’s)")
_EDGE_PUNCT = re.compile(r"[.,;:!?)\]'\"’”]+$")
SPELLING_ALPHABET = frozenset("Alfa Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Juliet Kilo Lima Mike"
                              " November Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey Whisky X-ray Xray"
                              " Yankee Zulu".split())
_SPELLING_WORD = re.compile(r"(?<![\w\-])(?:" + "|".join(sorted(SPELLING_ALPHABET, key=len, reverse=True)) + r")(?![\w\-])")
_SPELLING_GAP = re.compile(r"[ \t\-]+")
# Nouns that take a name as a label after them ("Project Juliet"): not people, ranks or kin.
LABEL_NOUNS = frozenset("Team Project Operation Exercise Phase Stage Round Site Sector Zone Gate Wing Block Squad Unit"
                        " Group Camp Base Mission Programme Program Plan Codename Release Version Model Room Hall Level"
                        " Bay Channel Series Batch Lot Cohort Track Lane Tier Section Area Platform Terminal Hangar Cabin"
                        " House Ward Pod Cluster Node Branch Build Sprint Milestone Workstream Task Force".split())
_LABEL_BEFORE = re.compile(r"(?<![\w'’])([A-Z][a-z]+)[ \t]+$")
CRYPTO_CAST = frozenset("Alice Bob Carol Carlos Charlie Chuck Craig Dave Erin Eve Faythe Frank Grace Heidi Ivan Judy"
                        " Mallory Mike Niaj Olivia Oscar Pat Peggy Rupert Sybil Trent Trudy Victor Vanna Walter Wendy".split())
_CAST_CORE = frozenset("Alice Bob Carol Eve Mallory Trent Peggy Victor Trudy Oscar".split())
_PROTOCOL_WORD = re.compile(r"(?i)(?<![a-z])(?:en|de)?crypt\w*|cipher\w*|plaintext|nonces?|handshakes?|protocols?"
                            r"|signatures?|eavesdrop\w*|adversar\w*|attackers?|threat model|zero[ \-]knowledge"
                            r"|provers?|verifiers?|man[ \-]in[ \-]the[ \-]middle|mitm|replay\w*|commitments?"
                            r"|(?:public|private|shared|session|secret)[ \-]keys?|shared secret|key exchange|keys?(?![a-z])"
                            r"|diffie|hellman|\brsa\b|secrets?(?![a-z])")
_CAST_WORD = re.compile(r"(?<![\w'’])(?:" + "|".join(sorted(CRYPTO_CAST)) + r")(?![\w])")


@lru_cache(maxsize=1)
def wordnet_names() -> dict[str, frozenset[str]]:
    """lower-cased lemma -> WordNet lexicographer classes ("person!", "food", "location!", ...)."""
    out = {}
    for line in WORDNET_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            lemma, classes = line.split("\t")
            out[lemma] = frozenset(classes.split(","))
    return out


def _key(words: str) -> str:
    return " ".join(words.lower().split())


def _windows(text: str, s: Span, value: str) -> list[tuple[str, bool]]:
    """(lower-cased words, whether words around the span are part of it) for the span alone and with up
    to two words before / after it on the same line, at most four words in all."""
    before = _WORDS_BEFORE.search(text, max(0, s.start - 40), s.start)
    possessive = _POSSESSIVE_AFTER.match(text, s.end)  # "Murphy's law", "Jacob's ladder"
    after = _WORDS_AFTER.match(text, possessive.end() if possessive else s.end)
    pre = before.group(1).split() if before else []
    post = [_EDGE_PUNCT.sub("", w) for w in after.group(1).split()] if after else []
    if after:
        cut = next((i + 1 for i, w in enumerate(after.group(1).split()) if _EDGE_PUNCT.search(w)), len(post))
        post = post[:cut]  # "Catherine the Great." ends at the full stop
    n = len(value.split())
    out = [(_key(value), False)]
    for i in range(len(pre) + 1):
        for j in range(len(post) + 1):
            if (len(pre) - i or j) and n + (len(pre) - i) + j <= 4:
                middle = value + "'s" if possessive and j else value
                out.append((_key(" ".join(pre[i:] + [middle] + post[:j])), True))
    return out


def lexicalised_name(text: str, s: Span) -> bool:
    """Whether a PERSON or LOCATION span (with no strong cue) spells, alone or with the words next to it, a
    name WordNet lists: a famous person, a dish, a breed, an instrument, ... (see the module)."""
    if s.source in STRONG_SOURCES:
        return False
    value = pii_names.POSSESSIVE_END.sub("", text[s.start:s.end])
    known = wordnet_names()
    if _genus_before_epithet(text, s, value, known):
        return True  # "Homo neanderthalensis", "Vespa velutina": a binomial name
    for key, widened in sorted(_windows(text, s, value), key=lambda w: not w[1]):  # the widest reading first
        classes = known.get(key)
        if not classes:
            continue
        if s.entity == "LOCATION":
            if any(c.startswith(("location", "object", "group")) or c == "artifact!" for c in classes):
                return False  # "Lake Victoria", "Mount Everest", "University of Oxford", "Golden Gate Bridge"
            if widened or len(value.split()) == 1:
                return True  # "Waldorf salad", "Battle of Waterloo", "Canada goose"; "Stilton", "Rioja"
            continue  # "Eiffel Tower": a landmark is where someone can be
        if widened or len(value.split()) > 1:
            return True  # "Abraham Lincoln", "Eggs Benedict", "Queen Victoria", "Bunsen burner"
    words = value.split()
    if s.entity == "PERSON" and len(words) > 1 and any(_thing_word(w, known) for w in words):
        return True  # "Helvetica Neue", "Franklin Gothic": a word WordNet knows only as a thing
        if s.entity == "PERSON" and _thing_word(value, known):
            return True  # "Helvetica"
    return False


_EPITHET = re.compile(r"[ \t]+[a-z]{4,}(?![\w'’\-])")


def _genus_before_epithet(text: str, s: Span, value: str, known: dict) -> bool:
    """A one-word span WordNet has only as a plant or animal (a genus), followed by a lower-case word."""
    words = value.split()
    classes = known.get(words[0].lower(), ()) if words else ()
    return bool(classes) and all(c in ("plant", "animal") for c in classes) \
        and (len(words) == 2 and words[1].islower() or len(words) == 1 and bool(_EPITHET.match(text, s.end)))


def _thing_word(word: str, known: dict) -> bool:
    """A capitalised word WordNet has only as a thing (no person, no place) that is no known first name or
    surname: "Helvetica", "Gothic"."""
    classes = known.get(word.lower())
    return bool(classes) and not any(c.startswith(("person", "location")) for c in classes) \
        and word not in pii_names.first_names() and word not in pii_names.surnames()


def label_name(text: str, s: Span) -> bool:
    """Whether a PERSON or LOCATION span (with no strong cue) is a word of a closed labelling class: the
    spelling alphabet, a label after a label noun, the cryptographers' cast (see the module)."""
    if s.source in STRONG_SOURCES:
        return False
    value = pii_names.POSSESSIVE_END.sub("", text[s.start:s.end])
    words = value.split()
    if words and all(w in SPELLING_ALPHABET for w in words):
        if len(words) > 1 or _next_to_spelling_word(text, s.start, s.end) \
                or len(set(_SPELLING_WORD.findall(text))) >= 3:
            return True
    if len(words) == 1:
        before = _LABEL_BEFORE.search(text, max(0, s.start - 20), s.start)
        if before and before.group(1) in LABEL_NOUNS:
            return True
        if s.entity == "PERSON" and value in CRYPTO_CAST:
            cast = set(_CAST_WORD.findall(text))
            protocol = {m.group().lower() for m in _PROTOCOL_WORD.finditer(text)}
            if (len(cast) >= 2 and protocol) or (value in _CAST_CORE and len(protocol) >= 2):
                return True
    return False


def _next_to_spelling_word(text: str, start: int, end: int) -> bool:
    """Another spelling-alphabet word right before or after, with only spaces or a hyphen between."""
    after = _SPELLING_GAP.match(text, end)
    if after and _SPELLING_WORD.match(text, after.end()):
        return True
    gap = re.search(r"[ \t\-]+$", text[max(0, start - 12):start])
    return bool(gap) and bool(re.search(rf"(?:{_SPELLING_WORD.pattern})$", text[:start - len(gap.group())]))
