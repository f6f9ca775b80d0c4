"""Run the registry's recognisers on the rows that can hold PII, enhance scores with context, apply the
named vetoes and merge overlapping spans.

    engine = PiiEngine(EngineSettings(entities=["EMAIL_ADDRESS", "PERSON"]))
    for found in engine.analyze(texts): found.spans, found.vetoed     # kept Spans, [(Span, veto name)]

1. Pre-pass: every recogniser's `trigger` (a Rust-syntax regex) runs over the whole column at once in
   Polars; a recogniser then sees only the rows its trigger matched (one without a trigger sees all).
2. The recognisers are presidio EntityRecognizers from one RecognizerRegistry (pii_recognizers);
   spaCy's runs batched (nlp.pipe) over its rows.
3. presidio's LemmaContextAwareEnhancer raises the score of a span whose recogniser lists a context
   word within five tokens before it (tokens from spaCy's tokenizer, lower-cased as lemmas).
4. A DATE right after a birth cue becomes DATE_OF_BIRTH in a text that holds another identifier; vetoes drop what names no one, each by name:
   below_threshold, allow_list, documentation_value, decimal_or_version, number_sequence, negative_cue,
   placeholder_secret, the name vetoes of pii_precision, unsupported_name.
5. Overlapping spans merge into their union, named by the most specific, then highest-scoring member; a
   span ending inside an ASCII word is widened to the word (a redaction never leaves a fragment behind).

Everything depends only on the texts passed in (no state across calls other than loaded models), so a
stage can run this on any shard in any worker process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from dsforge.filters import pii_names, pii_patterns, pii_places, pii_precision
from dsforge.filters.pii_presidio import LemmaContextAwareEnhancer, NlpArtifacts, RecognizerResult
from dsforge.filters.pii_recognizers import ID_KEY, NER_ENTITIES, SELECTORS, build_registry, to_result, to_span
from dsforge.filters.pii_rules import documentation_values, rules
from dsforge.filters.pii_spans import Span
from dsforge.filters.pii_vetoes import NUMBERISH, address_veto, email_veto, negative_cue_regex, number_veto, trim, widen

SECRETS = {"API_KEY", "AWS_KEY", "SECRET"}
# When spans overlap, these narrower entities name the merged span whatever the scores (first wins).
SPECIFIC = ["PRIVATE_KEY", "API_KEY", "AWS_KEY", "CN_RESIDENT_ID", "IBAN_CODE", "CREDIT_CARD", "CN_MOBILE",
            "EMAIL_ADDRESS", "DATE_OF_BIRTH", "US_SSN", "UK_NHS", "UK_NINO"]
_RANK = {e: len(SPECIFIC) - i for i, e in enumerate(SPECIFIC)}


@dataclass
class EngineSettings:
    entities: list[str]
    spacy_model: str | None = pii_names.SPACY_MODEL
    batch_size: int = 256
    thresholds: dict[str, float] = field(default_factory=lambda: dict(rules()["thresholds"]))
    allow: list[str] = field(default_factory=list)
    allow_regex: list[str] = field(default_factory=list)
    allow_documentation_values: bool = True
    negative_cues: list[str] = field(default_factory=lambda: list(rules()["negative_cues"]))
    deny: dict[str, list[str]] = field(default_factory=dict)
    recognizers: list[str] = field(default_factory=list)
    recognizer_files: list[str] = field(default_factory=list)


@dataclass
class Found:
    spans: list[Span]
    vetoed: list[tuple[Span, str]]


_NOTHING = Found([], [])


class _Lexicon:
    """What presidio's NlpArtifacts asks of an NLP engine to pick context keywords (stop words, punctuation)."""

    def is_stopword(self, word: str, language: str) -> bool:
        from spacy.lang.en.stop_words import STOP_WORDS

        return word.lower() in STOP_WORDS

    def is_punct(self, word: str, language: str) -> bool:
        return bool(re.fullmatch(r"\W+", word))


_TOKEN = re.compile(r"\w+|[^\w\s]")


def artifacts(text: str) -> NlpArtifacts:
    """Word tokens and their lower case as lemmas: what presidio's context enhancer reads (the tokens' lengths
    and offsets, the lemmas around a span), without loading a model."""
    toks = list(_TOKEN.finditer(text))
    return NlpArtifacts(entities=[], tokens=[t.group() for t in toks], tokens_indices=[t.start() for t in toks],
                        lemmas=[t.group().lower() for t in toks], nlp_engine=_Lexicon(), language="en")


# What makes a text a record of one person: a birth date next to one of these is that person's; alone, in a
# biography or a fact sheet of a public figure ("Born: October 28, 1955"), it is the content (issue 27).
IDENTIFIERS = {"EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "UK_NHS", "UK_NINO", "CN_MOBILE", "CN_RESIDENT_ID", "IBAN_CODE",
               "CREDIT_CARD", "PERSON"}


_BIRTH_LABEL = re.compile(r"(?i)(?:" + "|".join(rules()["birth_form_labels"]) + r")\s*[:：]?\s*$")
_BIRTH_RECORD = re.compile(r"(?i)(?:^|(?<![A-Za-z]))(?:" + "|".join(rules()["birth_record_words"]) + r")(?![A-Za-z])")


def relabel_birth_dates(text: str, spans: list[Span]) -> list[Span]:
    """A DATE right after a birth cue is a DATE_OF_BIRTH in a record: the text holds an identifier of a person (a
    contact, an ID, a name when names are asked for), the cue is a form label ("DOB:", "出生日期："), or a record
    word comes before it ("Patient born on", "I was born"). Otherwise, in a biography, it stays a DATE (kept
    only if DATE is asked for)."""
    record = any(s.entity in IDENTIFIERS or (s.entity == "LOCATION" and "address" in s.recognizer) for s in spans)
    out = []
    for s in spans:
        if s.entity == "DATE" and (pii_patterns.BIRTH_CUE_BEFORE.search(text, max(0, s.start - 30), s.start)
                                   or pii_patterns.BIRTH_CUE_AFTER.match(text, s.end)):
            before = text[max(0, s.start - 60):s.start]
            if record or _BIRTH_LABEL.search(text, max(0, s.start - 30), s.start) or _BIRTH_RECORD.search(before):
                s = Span("DATE_OF_BIRTH", s.start, s.end, 0.85, s.source, s.recognizer)
        out.append(s)
    return out


_LOCATIVE_BEFORE = re.compile(r"(?i)(?:\b(?:in|at|from|to|near|into|outside|visit|visited|visiting|based|born|lives|"
                              r"living|moved|relocated|office|branch|campus|city|town)|[,;·])[ \t]+$")


_STREET_WORD = re.compile("(?:" + "|".join(re.escape(w) for w in rules()["street_words_before"]) + r")[ \t]")


def relabel_places(text: str, spans: list[Span]) -> list[Span]:
    """A PERSON span the place gazetteer knows, after a locative word or address punctuation, is a place
    ("moved to Savannah", "Milton Keynes", "Reno, NV"); a title or a name cue keeps a person."""
    out = []
    for s in spans:
        if s.entity == "PERSON" and _STREET_WORD.match(text, s.start):
            s = Span("LOCATION", s.start, s.end, max(s.score, 0.75), s.source, s.recognizer)  # "Calle de Paulino Guillen"
        if s.entity == "PERSON" and s.source not in ("cue", "speaker") \
                and pii_places.gazetteer().get(pii_places.fold(text[s.start:s.end])) \
                and _LOCATIVE_BEFORE.search(text, max(0, s.start - 16), s.start):
            s = Span("LOCATION", s.start, s.end, max(s.score, 0.75), s.source, s.recognizer)
        out.append(s)
    return out


class PiiEngine:
    def __init__(self, settings: EngineSettings):
        self.settings = st = settings
        self.entities = set(st.entities)
        wanted = set(self.entities) | ({"DATE"} if "DATE_OF_BIRTH" in self.entities else set())
        self.registry = build_registry(wanted, st.spacy_model, st.batch_size, st.recognizers, st.recognizer_files, st.deny)
        self.recognizers = self.registry.recognizers
        self.user_entities = {e for r in self.recognizers if not hasattr(r, "trigger") for e in r.supported_entities}
        self.enhancer = LemmaContextAwareEnhancer()
        self.allow = {a.strip().lower() for a in st.allow}
        self.allow_patterns = [re.compile(p, re.I) for p in st.allow_regex]
        self.doc_patterns = [re.compile(p, re.I) for p in documentation_values()] if st.allow_documentation_values else []
        self.negative = negative_cue_regex(st.negative_cues)
        self.selected = {n: parent for e, (parent, names) in SELECTORS.items() if e in self.entities for n in names}

    @property
    def has_ner(self) -> bool:
        return any(getattr(r, "batched", False) and r.nlp is not None for r in self.recognizers)

    def _rows(self, texts: list[str]) -> dict[str | None, list[int]]:
        """trigger -> indexes of the texts it matches: the union of all triggers over the whole column, then
        each trigger only over the (usually few) texts the union matched. None -> every non-empty text."""
        triggers = sorted({r.trigger for r in self.recognizers if hasattr(r, "trigger")})
        col = pl.Series("t", texts, dtype=pl.String).fill_null("")
        everyone = any(not hasattr(r, "trigger") for r in self.recognizers)
        out: dict[str | None, list[int]] = {None: [i for i, t in enumerate(texts) if t] if everyone else []}
        if triggers:
            idx = col.str.contains("|".join(f"(?:{t})" for t in triggers)).arg_true()
            sub = col.gather(idx)
            out.update({t: idx.filter(sub.str.contains(t)).to_list() for t in triggers})
        return out

    def analyze(self, texts: list[str]) -> list[Found]:
        results: dict[int, list[RecognizerResult]] = {}
        rows = self._rows(texts)
        for rec in self.recognizers:
            idx = rows[getattr(rec, "trigger", None)]
            if not idx:
                continue
            if getattr(rec, "batched", False):
                for i, found in zip(idx, rec.analyze_batch([texts[i] for i in idx], list(rec.supported_entities))):
                    if found:
                        results.setdefault(i, []).extend(found)
            else:
                ents = list(rec.supported_entities)
                for i in idx:
                    found = rec.analyze(texts[i], ents, None)
                    if found:
                        results.setdefault(i, []).extend(found)
        with_context = {r.id for r in self.recognizers if r.context}
        out = [_NOTHING] * len(texts)  # (shared and never changed: a text with no candidate)
        for i, res in sorted(results.items()):
            ctx = [r for r in res if (r.recognition_metadata or {}).get(ID_KEY) in with_context and r.score < 1.0]
            if ctx:  # (the enhancer deep-copies what it is given: only the results it can change)
                res = [r for r in res if not any(r is c for c in ctx)] + self.enhancer.enhance_using_context(
                    texts[i], ctx, artifacts(texts[i]), self.recognizers)
            out[i] = self.resolve(texts[i], [to_span(r) for r in res])
        return out

    def _asked(self, s: Span) -> bool:
        if s.entity in self.entities or s.entity in self.user_entities:
            return s.entity != "DATE" or "DATE" in self.entities
        return self.selected.get(s.recognizer) == s.entity and s.entity != "DATE"

    def resolve(self, text: str, found: list[Span]) -> Found:
        """Birth dates, vetoes by name, then overlapping spans merged into their union."""
        found = relabel_places(text, relabel_birth_dates(text, found))
        vetoed: list[tuple[Span, str]] = []
        if NER_ENTITIES & {s.entity for s in found}:
            found, vetoed = pii_precision.unsupported_names(text, found)
        th = self.settings.thresholds
        keep = []
        for s in found:
            if not self._asked(s):
                continue
            veto = None
            s = trim(text, s)
            value = text[s.start:s.end].strip()
            if s.score < th.get(s.entity, th.get("default", 0.5)):
                veto = "below_threshold"
            elif value.lower() in self.allow or any(p.fullmatch(value) for p in self.allow_patterns):
                veto = "allow_list"
            elif any(p.fullmatch(value) for p in self.doc_patterns):
                veto = "documentation_value"
            elif s.entity in NUMBERISH:
                veto = number_veto(text, s, self.negative)
            elif s.entity == "EMAIL_ADDRESS":
                veto = email_veto(value)
            elif s.entity == "LOCATION" and "address" in s.recognizer:
                veto = address_veto(text, s)
            elif s.entity in ("PERSON", "LOCATION"):
                veto = pii_precision.name_veto(text, s)
            elif s.entity in SECRETS and pii_precision.placeholder_secret(value):
                veto = "placeholder_secret"
            if veto:
                vetoed.append((s, veto))
            else:
                keep.append(Span(s.entity, *widen(text, s.start, s.end), s.score, s.source, s.recognizer))
        merged = merge(keep)
        if any(s.entity == "LOCATION" for s in merged):
            merged = merge(assemble_addresses(text, merged))
        return Found(merged, [(s, v) for s, v in vetoed if self._asked(s)])


def row_values(texts: list[str], found: list[Found]) -> dict[str, str]:
    """Every value found in a row's texts with its entity, and the words of its full names ("Vicente Ruiz" ->
    "Vicente", "Ruiz")."""
    out: dict[str, str] = {}
    for text, f in zip(texts, found):
        for s in f.spans:
            value = text[s.start:s.end]
            out.setdefault(value, s.entity)
            if s.entity == "PERSON":
                for w in value.split():
                    if len(w) > 2 and w[0].isupper() and w.lower() not in pii_names.common_words():
                        out.setdefault(w, "PERSON")
    return out


def propagate(text: str, found: Found, values: dict[str, str]) -> Found:
    """Every other occurrence of a value the row already holds is the same data ("Vicente bought ... How much did
    Vicente spend?": spaCy saw only the second; a phone after "Phone:" and again alone under a signature): a
    redaction must not leave one copy behind."""
    if not values:
        return found
    extra = [Span(values[text[start:end]], start, end, 0.85, "propagated",
                  "name propagation" if values[text[start:end]] == "PERSON" else "value propagation")
             for start, end in occurrences(text, set(values))
             if not any(s.start < end and start < s.end for s in found.spans)]
    return Found(merge([*found.spans, *extra]), found.vetoed) if extra else found


def _word_char(c: str) -> bool:
    return c.isalnum() or c in "_-'’"


def occurrences(text: str, names: set[str]) -> list[tuple[int, int]]:
    """Whole-word occurrences of any of the names, left to right, the longest at each start, none overlapping
    (what one alternation regex finds, without compiling a regex per row: that was a tenth of the stage's time)."""
    hits = []
    for name in names:
        i = text.find(name)
        while i != -1:
            j = i + len(name)
            if (i == 0 or not _word_char(text[i - 1])) and (j == len(text) or not (_word_char(text[j]) and text[j] not in "'’")):
                hits.append((i, j))
            i = text.find(name, i + 1)
    out, end = [], -1
    for i, j in sorted(hits, key=lambda h: (h[0], -h[1])):
        if i >= end:
            out.append((i, j))
            end = j
    return out


def _rank(s: Span) -> float:
    """Specific entities first; then an address recogniser's LOCATION over a name inside it ("Calle Norte Mota 16")."""
    return _RANK.get(s.entity, 0.5 if "address" in s.recognizer else 0)


# Between the parts of one address: a comma, a semicolon, a middle dot, a dash or a line break.
_ADDRESS_GLUE = re.compile(r"[ \t]*(?:[,;·–\-|][ \t]*\n?[ \t]*|\n[ \t]*)")
_REGION_CODE = re.compile(r",?[ \t]+(?:" + pii_places.US_STATES + "|" + "|".join(rules()["other_region_codes"]) + r")(?:[ \t]+(?:\d{4,5}(?:-\d{4})?|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d))?(?![\w])"
                          r"|,?[ \t]+(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|\d{4,6})(?![\w])")
_POSTCODE_BEFORE = re.compile(r"(?:\d{2}-\d{3}|\d{4,6}(?:[ \t]?[A-Z]{2})?)[ \t]+$")


def assemble_addresses(text: str, spans: list[Span]) -> list[Span]:
    """One span per address: LOCATION parts that touch across address punctuation are joined when one of them
    holds a digit (a house number or a postcode: "4828 Cedar Ct, Suite 140; Columbus, OH 32203"), a place
    takes the region code and postcode after it ("Springfield, IL", "Halifax, NS B3H 4R2") and a postcode
    before it ("16-666 Katowice"). Two places alone stay two ("Paris, France")."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: s.start):
        prev = out[-1] if out else None
        if prev is not None and prev.entity == "LOCATION" and s.start >= prev.start and s.end <= prev.end:
            continue  # inside the address already ("VA" of "Richmond, VA")
        if s.entity == "PERSON" and s.source not in ("cue", "speaker") and prev is not None \
                and prev.entity == "LOCATION" and any(c.isdigit() for c in text[prev.start:prev.end]) \
                and _ADDRESS_GLUE.fullmatch(text, prev.end, s.start):
            s = Span("LOCATION", s.start, s.end, s.score, s.source, s.recognizer)  # the town of an address
        if s.entity == "LOCATION":
            m = _REGION_CODE.match(text, s.end)
            end = m.end() if m else s.end
            b = _POSTCODE_BEFORE.search(text, max(0, s.start - 12), s.start)
            s = Span("LOCATION", b.start() if b else s.start, end, s.score, s.source, s.recognizer)
            if prev is not None and prev.entity == "LOCATION" and _ADDRESS_GLUE.fullmatch(text, prev.end, s.start) \
                    and (any(c.isdigit() for c in text[prev.start:prev.end]) or any(c.isdigit() for c in text[s.start:s.end])):
                best = prev if "address" in prev.recognizer else s
                out[-1] = Span("LOCATION", prev.start, max(prev.end, s.end), max(prev.score, s.score), best.source,
                               best.recognizer)
                continue
        out.append(s)
    return out


def merge(spans: list[Span], text: str | None = None) -> list[Span]:
    """Overlapping spans -> their union, named by the most specific, then highest-scoring, then longest member."""
    spans = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for s in spans:
        if merged and s.start < merged[-1].end:
            prev = merged[-1]
            best = max((prev, s), key=lambda x: (_rank(x), x.score, x.end - x.start))
            merged[-1] = Span(best.entity, prev.start, max(prev.end, s.end), best.score, best.source, best.recognizer)
        else:
            merged.append(s)
    return merged


__all__ = ["EngineSettings", "Found", "PiiEngine", "merge", "to_result"]
