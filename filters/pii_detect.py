"""The detector interface older callers use (bench/pii.py, notebooks): PiiDetector(entities).scan(texts).

    det = PiiDetector(["EMAIL_ADDRESS", "PERSON"])
    spans = det.scan(texts)          # resolved Spans per text (pii_engine.PiiEngine with default settings)

A thin wrapper: detection lives in pii_engine and pii_recognizers.
"""

from __future__ import annotations

from dsforge.filters.pii_engine import EngineSettings, PiiEngine
from dsforge.filters.pii_names import SPACY_MODEL
from dsforge.filters.pii_recognizers import BUILTIN_ENTITIES
from dsforge.filters.pii_spans import Span

KNOWN_ENTITIES = BUILTIN_ENTITIES


class PiiDetector:
    def __init__(self, entities: list[str], spacy_model: str | None = SPACY_MODEL, batch_size: int = 256):
        unknown = set(entities) - set(KNOWN_ENTITIES)
        if unknown:
            raise ValueError(f"pii: unknown entities {sorted(unknown)}; known: {', '.join(KNOWN_ENTITIES)}")
        self.engine = PiiEngine(EngineSettings(list(entities), spacy_model, batch_size))

    @property
    def has_ner(self) -> bool:
        return self.engine.has_ner

    @property
    def tagger(self):
        return self.engine.has_ner or None

    def scan(self, texts: list[str]) -> list[list[Span]]:
        return [f.spans for f in self.engine.analyze(texts)]
