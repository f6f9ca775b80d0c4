"""presidio-analyzer, imported without the Hugging Face NLP engine dsforge never runs.

presidio_analyzer's package imports its TransformersNlpEngine, which imports `transformers`: about 5 s of
every pii worker's start-up, more than the rest of the stage's. dsforge uses presidio's registry,
recognisers and context enhancer with its own spaCy model, so `transformers` is hidden while presidio is
imported (presidio catches the ImportError and marks only that engine unavailable). When `transformers` is
already imported (an LLM stage in the same process), nothing is hidden; after the import it loads as usual.

`torch` is hidden the same way, and for the same reason (2.2 s of start-up): thinc, under spaCy, imports it
only to offer its PyTorch wrappers, and presidio only to pick a GPU for its transformer engines; the
en_core_web_sm pipeline the stage runs uses neither. thinc then reports no torch for the rest of the
process, which matters only to spaCy transformer pipelines, so torch is not hidden when spacy-transformers
is installed, or when torch or thinc is already imported. torch itself imports as usual afterwards.

Not here: the recognisers (pii_recognizers), the engine (pii_engine).
"""

from __future__ import annotations

import importlib.util
import sys


def _hidden_while_presidio_loads() -> list[str]:
    if "presidio_analyzer" in sys.modules:
        return []
    hidden = [] if "transformers" in sys.modules else ["transformers"]
    if not {"torch", "thinc"} & sys.modules.keys() and importlib.util.find_spec("spacy_transformers") is None:
        hidden.append("torch")
    return hidden


_HIDDEN = _hidden_while_presidio_loads()
for _name in _HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # an import of it raises ImportError
try:
    import presidio_analyzer  # noqa: F401
finally:
    for _name in _HIDDEN:
        del sys.modules[_name]

from presidio_analyzer import (  # noqa: E402
    AnalysisExplanation,
    EntityRecognizer,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer  # noqa: E402
from presidio_analyzer.nlp_engine import NlpArtifacts  # noqa: E402

__all__ = ["AnalysisExplanation", "EntityRecognizer", "LemmaContextAwareEnhancer", "NlpArtifacts", "PatternRecognizer",
           "RecognizerRegistry", "RecognizerResult"]
