"""Every detector of the pii stage as a presidio recogniser, in one presidio RecognizerRegistry.

    registry = build_registry(entities, spacy_model, extra_classes, yaml_files, deny)
    for rec in registry.recognizers: rec.analyze(text, entities)      # presidio's own interface

What is registered (each has a `name` that `action: tag` records):
  - DetectorRecognizer: dsforge's validated patterns (pii_patterns: e-mail, URL, phone, Luhn cards, mod-97
    IBANs, SSN, IP, Bitcoin, keys, secrets, dates; pii_zh: Chinese mobile, resident ID, names, addresses;
    pii_places: street addresses), each with its checksum/validity check;
  - PhoneMatcherRecognizer: phonenumbers' PhoneNumberMatcher (leniency VALID) over several regions;
  - NameCueRecognizer (titles, "my name is", form labels, chat speakers, the first-name/surname gazetteer),
    PlaceGazetteerRecognizer (GeoNames cities, countries, states) and SpacyNerRecognizer (en_core_web_sm);
  - presidio's own predefined UK NHS and NINO recognisers;
  - deny lists (presidio PatternRecognizer(deny_list=...)), recogniser classes named by dotted path, and
    presidio YAML recogniser files, exactly as presidio users add them.
A recogniser may carry `trigger`, a Rust-syntax regex: the engine's vectorised pre-pass runs it over the
whole column and gives the recogniser only the rows it matches. One without a trigger sees every row.
"""

from __future__ import annotations

import importlib
import re

from dsforge.filters import pii_names, pii_patterns, pii_places, pii_zh
from dsforge.filters.pii_presidio import (
    AnalysisExplanation,
    EntityRecognizer,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from dsforge.filters.pii_rules import rules
from dsforge.filters.pii_spans import Detector, Span

NAME_KEY = RecognizerResult.RECOGNIZER_NAME_KEY
ID_KEY = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
NER_ENTITIES = {"PERSON", "LOCATION"}
CAPITALISED = r"[A-Z][a-z]"


def to_result(s: Span, rec: EntityRecognizer) -> RecognizerResult:
    return RecognizerResult(s.entity, s.start, s.end, s.score,
                            AnalysisExplanation(rec.name, s.score, textual_explanation=s.source or None),
                            {NAME_KEY: rec.name, ID_KEY: rec.id, "source": s.source})


def to_span(r: RecognizerResult) -> Span:
    meta = r.recognition_metadata or {}
    return Span(r.entity_type, r.start, r.end, r.score, meta.get("source", ""), meta.get(NAME_KEY, ""))


class DetectorRecognizer(EntityRecognizer):
    """A dsforge Detector (pattern + validator) as a presidio recogniser."""

    def __init__(self, detector: Detector, context: list[str] | None = None):
        self.detector, self.trigger = detector, detector.trigger
        super().__init__([detector.entity], name=detector.name, context=context)

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        return [to_result(s, self) for s in self.detector.find(text)]


_PHONE_CANDIDATE = re.compile(r"(?<![\w+\-./])(?:\+|00|\(\+?)?\d[\d \-.()/]{5,22}\d(?:[ \t]*(?:ext\.?|x|#)[ \t]*\d{1,5})?(?![\w])")


class PhoneMatcherRecognizer(EntityRecognizer):
    """libphonenumber (phonenumbers.parse + validity and number type) on phone-shaped candidates, tried as each
    region in turn: international formats, extensions and national formats of many countries that the dsforge
    pattern leaves out. (PhoneNumberMatcher, leniency VALID, found the same on the dev set at four times the
    cost: it rescans the whole text once per region.)"""

    trigger = r"\d(?:[ .\-()/+]{0,3}\d){6}"

    def __init__(self, regions: list[str], context: list[str] | None = None):
        self.regions = regions
        super().__init__(["PHONE_NUMBER"], name="phone matcher", context=context)

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        """Each phone-shaped candidate is parsed as each region in turn (once when written with + or 00); the
        first region where it is a valid number that is no service line wins."""
        import phonenumbers

        from dsforge.filters.pii_checks import _personal

        out = []
        for m in _PHONE_CANDIDATE.finditer(text):
            raw = m.group().rstrip(" .-/")
            score = self._score(raw)
            if not score or len(re.sub(r"\D", "", raw)) > 17:
                continue
            regions = [None] if raw.startswith(("+", "(+")) else ["US"] if raw.startswith("00") else self.regions
            for region in regions:
                try:
                    number = phonenumbers.parse(raw.replace("(+", "+").replace("(0)", ""), region)
                except phonenumbers.NumberParseException:
                    break
                if _personal(number):
                    end = m.start() + len(raw)
                    out.append(to_result(Span("PHONE_NUMBER", m.start(), end, score, region or "intl"), self))
                    break
            else:
                if len(re.findall(r"\d+", raw)) >= 3:  # two numbers run together ("020 7183 0321 / 07700 900123")
                    out += self._matcher(text, m.start(), m.start() + len(raw))
        return out

    def _matcher(self, text: str, start: int, end: int) -> list:
        """PhoneNumberMatcher (leniency VALID) over one candidate's window, region by region."""
        import phonenumbers

        from dsforge.filters.pii_checks import _personal

        window, found = text[start:end], []
        for region in self.regions:
            for m in phonenumbers.PhoneNumberMatcher(window, region, leniency=phonenumbers.Leniency.VALID):
                score = self._score(m.raw_string)
                if score and _personal(m.number):
                    found.append(to_result(Span("PHONE_NUMBER", start + m.start, start + m.end, score, region), self))
            if found:
                return found
        return found

    @staticmethod
    def _score(raw: str) -> float | None:
        """0.6 written internationally (+, 00) or with an extension; 0.35 written nationally, which a context
        word ("call", "mobile") lifts over the threshold; None for lists of small numbers and equal blocks."""
        groups = re.findall(r"\d+", raw)
        international = raw.startswith(("+", "00", "(+")) or bool(re.search(r"(?i)ext|x\s?\d", raw))
        if not international and (sum(len(g) <= 2 for g in groups) >= 3 or (len(groups) >= 3 and len(set(map(len, groups))) == 1
                                                                           and len(groups[0]) >= 4)):
            return None
        return 0.6 if international else 0.35


class NameCueRecognizer(EntityRecognizer):
    """PERSON from cues (titles, "my name is", form labels, greetings, sign-offs), chat speakers and the
    first-name/surname gazetteer of every Latin-script Faker locale; no model."""

    trigger = CAPITALISED + r"|(?i)\b(?:hi|hey|hello|dear|thanks|thank you|cheers|bye|i'm|i am|my name is|this is)[ ,]+[a-z]"

    def __init__(self):
        super().__init__(["PERSON"], name="name cues and gazetteer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        return [to_result(s, self) for s in pii_names.find_names(text, pii_places.is_place)]


class PlaceGazetteerRecognizer(EntityRecognizer):
    """LOCATION from GeoNames: countries, US states, cities of 15,000+ people (pii_places.gazetteer)."""

    trigger = CAPITALISED

    def __init__(self):
        super().__init__(["LOCATION"], name="place gazetteer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        return [to_result(s, self) for s in pii_places.find_places(text)]


class SpacyNerRecognizer(EntityRecognizer):
    """spaCy NER (only its `ner` component) for PERSON and LOCATION, with a second opinion from the
    gazetteers; spans spaCy labels a thing (ORG, PRODUCT, ...) come back with score 0 as evidence for the
    `unsupported_name` veto. `analyze_batch` runs nlp.pipe over many texts at once."""

    trigger = CAPITALISED
    batched = True

    def __init__(self, model: str | None, batch_size: int = 256):
        self.model, self.batch_size, self._nlp, self._loaded = model, batch_size, None, False
        super().__init__(["PERSON", "LOCATION"], name="spacy ner")

    def load(self) -> None:
        pass  # lazily, on first use: each worker process loads the model once

    @property
    def nlp(self):
        if not self._loaded:
            self._nlp, self._loaded = pii_names.load_spacy(self.model), True
        return self._nlp

    def analyze(self, text, entities, nlp_artifacts=None):
        return self.analyze_batch([text], entities)[0]

    def analyze_batch(self, texts: list[str], entities) -> list[list[RecognizerResult]]:
        out: list[list[RecognizerResult]] = [[] for _ in texts]
        idx = [i for i, t in enumerate(texts) if pii_names.needs_ner(t)]
        if self.nlp is None or not idx:
            return out
        for i, spans in zip(idx, pii_names.ner_spans(self.nlp, [texts[i] for i in idx], self.batch_size)):
            out[i] = [to_result(vote(texts[i], s) if s.entity in NER_ENTITIES else s, self) for s in spans]
        return out


def vote(text: str, s: Span) -> Span:
    """Second opinion on an NER span from the gazetteers: en_core_web_sm calls many towns PERSON
    ("Thessaloniki") and unfamiliar names GPE ("Olumide Adeyemi")."""
    value = text[s.start:s.end]
    place = pii_places.gazetteer().get(pii_places.fold(value))
    toks = value.split()
    person = toks[0] in pii_names.first_names() or (len(toks) > 1 and toks[-1] in pii_names.surnames())
    if s.entity == "PERSON" and place and not person:
        return Span("LOCATION", s.start, s.end, 0.85, "ner+gazetteer")
    if s.entity == "LOCATION":
        if place:
            return Span("LOCATION", s.start, s.end, 0.85, "ner+gazetteer")
        if person:
            return Span("PERSON", s.start, s.end, 0.8, "ner+gazetteer")
    return s


def _uk_recognizers() -> list[EntityRecognizer]:
    """presidio's own UK NHS number (mod-11 checked) and National Insurance number recognisers."""
    from presidio_analyzer.predefined_recognizers import NhsRecognizer, UkNinoRecognizer

    class ContextNhsRecognizer(NhsRecognizer):
        """presidio's NHS recogniser scores any mod-11-valid 10 digits 1.0, phone numbers too: here 0.3, which
        one of its context words ("nhs", "health service") lifts over the threshold."""

        def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
            found = super().analyze(text, entities, nlp_artifacts, regex_flags)
            for r in found:
                r.score = 0.3
            return found

    nhs, nino = ContextNhsRecognizer(), UkNinoRecognizer()
    nhs.trigger = r"\d{3}[ \-]?\d{3}[ \-]?\d{4}"
    nino.trigger = r"[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Da-d]"
    return [nhs, nino]


# Entities a recipe may ask for that select part of another entity's recognisers.
SELECTORS = {"STREET_ADDRESS": ("LOCATION", {"street address", "cn address", "eu street address"}),
             "DATE_OF_BIRTH": ("DATE", {"date"})}
BUILTIN_ENTITIES = sorted({d.entity for d in [*pii_patterns.DETECTORS, *pii_zh.DETECTORS, *pii_places.DETECTORS]}
                          | NER_ENTITIES | set(SELECTORS) | {"UK_NHS", "UK_NINO"})


def builtin_recognizers(entities: set[str], spacy_model: str | None, batch_size: int = 256) -> list[EntityRecognizer]:
    """The built-in recognisers for the asked entities (a selector entity adds only its part)."""
    context = rules()["context"]
    wanted = {e for e in entities if e not in SELECTORS}
    names_only = {n for e in entities if e in SELECTORS and SELECTORS[e][0] not in wanted for n in SELECTORS[e][1]}
    recs: list[EntityRecognizer] = []
    for d in [*pii_patterns.DETECTORS, *pii_zh.DETECTORS, *pii_places.DETECTORS]:
        if d.entity in wanted or d.name in names_only:
            recs.append(DetectorRecognizer(d, context.get(d.name)))
    if "PHONE_NUMBER" in wanted:
        recs.append(PhoneMatcherRecognizer(rules()["phone_regions"], context.get("phone matcher")))
    if "PERSON" in wanted:
        recs.append(NameCueRecognizer())
    if "LOCATION" in wanted:
        recs.append(PlaceGazetteerRecognizer())
    if NER_ENTITIES & wanted:
        recs.append(SpacyNerRecognizer(spacy_model, batch_size))
    if {"UK_NHS", "UK_NINO"} & wanted:
        recs += [r for r in _uk_recognizers() if set(r.supported_entities) & wanted]
    return recs


def load_class(path: str) -> type:
    """`package.module:Class` or `package.module.Class` -> the class (a clear error naming the path)."""
    mod, _, cls = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        return getattr(importlib.import_module(mod), cls)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"pii: cannot load recognizer class {path!r}: {e}") from e


def build_registry(entities: set[str], spacy_model: str | None, batch_size: int = 256,
                   classes: list[str] = (), yaml_files: list[str] = (),
                   deny: dict[str, list[str]] | None = None) -> RecognizerRegistry:
    """One presidio RecognizerRegistry: the built-ins, deny lists, user classes and YAML recogniser files."""
    registry = RecognizerRegistry(recognizers=builtin_recognizers(entities, spacy_model, batch_size),
                                  supported_languages=["en"])
    for entity, words in (deny or {}).items():
        registry.add_recognizer(PatternRecognizer(supported_entity=entity, deny_list=words, name=f"deny list {entity}"))
    for path in classes:
        cls = load_class(path)
        if not (isinstance(cls, type) and issubclass(cls, EntityRecognizer)):
            raise ValueError(f"pii: {path!r} is not a presidio EntityRecognizer subclass")
        registry.add_recognizer(cls())
    for f in yaml_files:
        registry.add_recognizers_from_yaml(f)
    return registry
