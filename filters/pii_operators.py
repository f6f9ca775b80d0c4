"""Anonymisation operators, chosen per entity the way presidio-anonymizer users choose them.

    operators = {"DEFAULT": {"type": "replace"},                      # "<EMAIL_ADDRESS>"
                 "PERSON": {"type": "pseudonymize"},                  # the same fake name for the same name
                 "CREDIT_CARD": {"type": "mask", "masking_char": "*", "chars_to_mask": 12, "from_end": False},
                 "IP_ADDRESS": {"type": "hash", "hash_type": "sha256"}, "URL": {"type": "keep"}}
    Anonymizer(operators, seed).row(row_texts_and_spans)

replace, mask, hash, redact and keep are presidio-anonymizer's own operators with their parameters
(new_value; masking_char, chars_to_mask, from_end; hash_type, salt). hash gets a salt derived from the run's
seed unless one is given, so a step is reproducible. pseudonymize is dsforge's: a fake value that is the
same for the same original throughout a row (all its fields), and for names:
  - each word of a name maps on its own, so "Vicente Ruiz" and later "Vicente" stay the same person;
  - a first name known to Faker's locales keeps its gender and its locale (culture), a surname its locale;
  - two different names in a row never get the same fake, and no fake is a name already in the row, so
    "Amon owns 55 more than Rhonda" stays solvable.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from functools import lru_cache

from dsforge.filters.pii_spans import Span

PRESIDIO_OPERATORS = {"replace": "Replace", "mask": "Mask", "hash": "Hash", "redact": "Redact", "keep": "Keep"}
OPERATOR_TYPES = [*PRESIDIO_OPERATORS, "pseudonymize"]
_FAKERS = {  # entity -> (locale, Faker method) for pseudonymize on anything but a name
    "EMAIL_ADDRESS": ("en_US", "email"), "PHONE_NUMBER": ("en_US", "phone_number"),
    "CREDIT_CARD": ("en_US", "credit_card_number"), "IBAN_CODE": ("en_GB", "iban"), "IP_ADDRESS": ("en_US", "ipv4"),
    "URL": ("en_US", "url"), "LOCATION": ("en_US", "city"), "US_SSN": ("en_US", "ssn"),
    "DATE_OF_BIRTH": ("en_US", "date_of_birth"), "DATE": ("en_US", "date"), "CN_MOBILE": ("zh_CN", "phone_number"),
    "CN_RESIDENT_ID": ("zh_CN", "ssn"), "CRYPTO": ("en_US", "sha1"),
}


def check_operator(entity: str, spec: dict) -> None:
    """A clear error for an unknown operator type or parameters presidio's operator rejects."""
    kind = spec.get("type")
    if kind not in OPERATOR_TYPES:
        raise ValueError(f"pii: operator for {entity}: unknown type {kind!r}; known: {', '.join(OPERATOR_TYPES)}")
    if kind in PRESIDIO_OPERATORS and kind != "hash":
        params = {k: v for k, v in spec.items() if k != "type"}
        _presidio(kind).validate(params)


@lru_cache(maxsize=8)
def _presidio(kind: str):
    return getattr(importlib.import_module("presidio_anonymizer.operators"), PRESIDIO_OPERATORS[kind])()


@lru_cache(maxsize=64)
def _faker(locale: str):
    from faker import Faker

    return Faker(locale)


@lru_cache(maxsize=1)
def name_gazetteer() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(first name -> (gender "male"/"female", locale), surname -> locale) from every Faker locale with
    gendered first-name lists. A name's culture is the language most of its locales share (Vicente: es, pt
    -> es_ES; Amon: en_KE only; Michael: mostly en -> en_US), Faker's catch-all "en" list not counted."""
    from faker.config import AVAILABLE_LOCALES

    seen_first: dict[str, dict[str, list[str]]] = {}
    seen_last: dict[str, list[str]] = {}
    for loc in sorted(AVAILABLE_LOCALES):
        try:
            prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ImportError:
            continue
        if not (hasattr(prov, "first_names_male") and hasattr(prov, "first_names_female")):
            continue
        for gender in ("male", "female"):
            for n in getattr(prov, f"first_names_{gender}"):
                if isinstance(n, str) and n.isalpha():
                    seen_first.setdefault(n, {}).setdefault(gender, []).append(loc)
        for n in getattr(prov, "last_names", ()):
            if isinstance(n, str) and n.isalpha():
                seen_last.setdefault(n, []).append(loc)
    firsts = {}
    for n, by_gender in seen_first.items():
        gender = max(by_gender, key=lambda g: len(by_gender[g]))
        firsts[n] = (gender, _culture(by_gender[gender]))
    return firsts, {n: _culture(locs) for n, locs in seen_last.items()}


def _culture(locales: list[str]) -> str:
    """The main locale of the language most of these locales share (es_ES for es, en_US for en)."""
    specific = [loc for loc in locales if "_" in loc] or locales
    langs = [loc.split("_")[0] for loc in specific]
    lang = max(dict.fromkeys(langs), key=langs.count)
    main = {"en": "en_US"}.get(lang, f"{lang}_{lang.upper()}")
    return main if main in specific else next(loc for loc in specific if loc.startswith(lang))


def _seeded(locale: str, *key: str):
    fake = _faker(locale)
    fake.seed_instance(int.from_bytes(hashlib.sha256(":".join(key).encode()).digest()[:8], "big"))
    return fake


class Pseudonymizer:
    """Consistent fakes within one row: call `value` for every span of the row's texts, in any order."""

    def __init__(self, seed: int, row_text: str = ""):
        self.seed = str(seed)
        self.map: dict[tuple[str, str], str] = {}
        self.used: set[str] = set(re.findall(r"[A-Z][a-z]+", row_text))  # fakes never collide with the row's names

    def value(self, entity: str, original: str) -> str:
        if entity == "PERSON":
            return re.sub(r"[^\W\d_][\w'’\-]*", lambda m: self._name_word(m.group(), m.start() == 0), original)
        key = (entity, original)
        if key not in self.map:
            gen = _FAKERS.get(entity)
            self.map[key] = str(getattr(_seeded(gen[0], self.seed, entity, original), gen[1])()) if gen else f"<{entity}>"
        return self.map[key]

    def _name_word(self, word: str, first: bool) -> str:
        key = ("PERSON", word)
        if key in self.map:
            return self.map[key]
        if not word[:1].isupper() or len(word) < 2:
            return word  # particles ("van", "de") and initials stay
        firsts, lasts = name_gazetteer()
        for attempt in range(20):
            if word in firsts and (first or word not in lasts):
                gender, loc = firsts[word]
                fake = getattr(_seeded(loc, self.seed, word, str(attempt)), f"first_name_{gender}")()
            elif word in lasts:
                fake = _seeded(lasts[word], self.seed, word, str(attempt)).last_name()
            else:
                f = _seeded("en_US", self.seed, word, str(attempt))
                fake = f.first_name() if first else f.last_name()
            fake = fake.split()[0]
            if fake != word and fake not in self.used:
                break
        self.used.add(fake)
        self.map[key] = fake
        return fake


class Anonymizer:
    """Applies the configured operator per entity (key DEFAULT for the rest) to one row's texts."""

    def __init__(self, operators: dict[str, dict], seed: int = 0):
        self.operators = operators
        self.seed = seed
        for entity, spec in operators.items():
            check_operator(entity, spec)

    def spec(self, entity: str) -> dict:
        return self.operators.get(entity) or self.operators.get("DEFAULT") or {"type": "replace"}

    def apply(self, text: str, spans: list[Span], pseudo: Pseudonymizer) -> str:
        """Replace non-overlapping spans right to left."""
        out = text
        for s in sorted(spans, key=lambda s: s.start, reverse=True):
            out = out[:s.start] + self.one(s.entity, text[s.start:s.end], pseudo) + out[s.end:]
        return out

    def one(self, entity: str, value: str, pseudo: Pseudonymizer) -> str:
        spec = self.spec(entity)
        kind = spec["type"]
        params = {k: v for k, v in spec.items() if k != "type"}
        if kind == "pseudonymize":
            return pseudo.value(entity, value)
        if kind == "replace":
            params.setdefault("new_value", f"<{entity}>")
        elif kind == "hash":
            params.setdefault("salt", hashlib.sha256(f"dsforge-pii:{self.seed}".encode()).hexdigest()[:32])
        return _presidio(kind).operate(value, params)
