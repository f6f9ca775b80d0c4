"""Find PII spans in a list of texts: one vectorised trigger pass, patterns on candidates, NER where needed.

    det = PiiDetector(["EMAIL_ADDRESS", "PERSON"])      # models load lazily, once per instance
    spans = det.scan(texts)                            # list of raw Spans per text (pii.resolve_spans next)

1. Every detector's cheap trigger regex runs over the whole column at once (Polars, Rust regex engine);
   a detector's Python pattern and validator then run only on the rows its trigger matched.
2. PERSON/LOCATION: addresses, the place gazetteer and name cues on rows with capitalised Latin words;
   spaCy NER (`ner` only, nlp.pipe batches) on the rows that could hold a name (pii_names.needs_ner).
3. A DATE right after a birth cue becomes DATE_OF_BIRTH.

Everything depends only on the texts passed in (no state across calls other than loaded models), so a
stage can run this on any shard in any worker process.
"""

from __future__ import annotations

import polars as pl

from dsforge.filters import pii_lone, pii_names, pii_patterns, pii_places, pii_precision, pii_zh
from dsforge.filters.pii_spans import STRONG_SOURCES, Detector, Span

NER_ENTITIES = {"PERSON", "LOCATION"}
ALL_DETECTORS: list[Detector] = [*pii_patterns.DETECTORS, *pii_zh.DETECTORS, *pii_places.DETECTORS]
KNOWN_ENTITIES = sorted({d.entity for d in ALL_DETECTORS} | NER_ENTITIES | {"DATE_OF_BIRTH"})
_CAPITALISED = r"[A-Z][a-z]"


def relabel_birth_dates(text: str, spans: list[Span]) -> list[Span]:
    out = []
    for s in spans:
        if s.entity == "DATE" and (pii_patterns.BIRTH_CUE_BEFORE.search(text, max(0, s.start - 30), s.start)
                                   or pii_patterns.BIRTH_CUE_AFTER.match(text, s.end)):
            s = Span("DATE_OF_BIRTH", s.start, s.end, 0.85)
        out.append(s)
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


class PiiDetector:
    def __init__(self, entities: list[str], spacy_model: str | None = pii_names.SPACY_MODEL, batch_size: int = 64):
        unknown = set(entities) - set(KNOWN_ENTITIES)
        if unknown:
            raise ValueError(f"pii: unknown entities {sorted(unknown)}; known: {', '.join(KNOWN_ENTITIES)}")
        self.entities = set(entities)
        wanted = self.entities | ({"DATE"} if "DATE_OF_BIRTH" in self.entities else set())
        self.detectors = [d for d in ALL_DETECTORS if d.entity in wanted]
        self.names = bool(NER_ENTITIES & self.entities)
        self.spacy_model = spacy_model if self.names else None
        self.batch_size = batch_size
        self._nlp = None
        self._nlp_loaded = False
        self._tagger = None
        self._tagger_loaded = False

    @property
    def nlp(self):
        if not self._nlp_loaded:
            self._nlp, self._nlp_loaded = pii_names.load_spacy(self.spacy_model), True
        return self._nlp

    @property
    def tagger(self):
        if not self._tagger_loaded:
            self._tagger, self._tagger_loaded = pii_names.load_tagger(self.spacy_model), True
        return self._tagger

    def _drop_noun_modifiers(self, texts: list[str], out: list[list[Span]], rows: list[int]) -> None:
        """Remove weakly supported names, and places only spaCy knows, that modify the common noun after them
        (pii_names.modifies_next_noun)."""
        cands = [(i, s) for i in rows for s in out[i]  # a known place before a noun is still one ("our Munich office")
                 if (s.entity == "PERSON" and s.source not in STRONG_SOURCES)
                 or (s.entity == "LOCATION" and s.source == "ner")]
        cands = [(i, s) for i, s in cands if pii_names.noun_modifier_candidate(texts[i], s)]
        if not cands or self.tagger is None:
            return
        drop = {(i, s) for (i, s), hit in zip(cands, pii_names.modifies_next_noun(
            self.tagger, [(texts[i], s.start, s.end) for i, s in cands])) if hit}
        for i in {i for i, _ in drop}:
            out[i] = [s for s in out[i] if (i, s) not in drop]

    @property
    def has_ner(self) -> bool:
        return self.nlp is not None

    def _trigger_rows(self, texts: list[str]) -> dict[str, list[int]]:
        """trigger -> indexes of the texts it matches. One pass of the union of all triggers over the whole
        column, then each trigger only over the (usually few) texts the union matched."""
        triggers = sorted({d.trigger for d in self.detectors} | ({_CAPITALISED} if self.names else set()))
        if not triggers:
            return {}
        col = pl.Series("t", texts, dtype=pl.String).fill_null("")
        idx = col.str.contains("|".join(f"(?:{t})" for t in triggers)).arg_true()
        sub = col.gather(idx)
        return {t: idx.filter(sub.str.contains(t)).to_list() for t in triggers}

    def scan(self, texts: list[str]) -> list[list[Span]]:
        out: list[list[Span]] = [[] for _ in texts]
        if not texts:
            return out
        rows = self._trigger_rows(texts)
        for d in self.detectors:
            for i in rows[d.trigger]:
                out[i].extend(d.find(texts[i]))
        if self.names:
            ner_rows = [i for i in rows[_CAPITALISED] if pii_names.needs_ner(texts[i])]
            for i in rows[_CAPITALISED]:
                if "LOCATION" in self.entities:
                    out[i].extend(pii_places.find_places(texts[i]))
                if "PERSON" in self.entities:
                    out[i].extend(pii_names.find_names(texts[i]))
            if self.nlp is not None and ner_rows:
                for i, spans in zip(ner_rows, pii_names.ner_spans(self.nlp, [texts[i] for i in ner_rows], self.batch_size)):
                    out[i].extend(vote(texts[i], s) if s.entity in NER_ENTITIES else s for s in spans)
            for i in rows[_CAPITALISED]:
                out[i] = pii_precision.drop_unsupported_names(texts[i], out[i])
            if self.nlp is not None:
                self._drop_noun_modifiers(texts, out, rows[_CAPITALISED])
                pii_lone.drop_lone_names(self.tagger, texts, out, rows[_CAPITALISED])
        for i, spans in enumerate(out):
            if spans:
                spans = relabel_birth_dates(texts[i], spans) if "DATE_OF_BIRTH" in self.entities else spans
                out[i] = [s for s in spans if s.entity in self.entities]
        return out
