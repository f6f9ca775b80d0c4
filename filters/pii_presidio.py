"""presidio-analyzer, imported without the Hugging Face NLP engine dsforge never runs.

presidio_analyzer's package imports its TransformersNlpEngine, which imports `transformers`: about 5 s of
every pii worker's start-up, more than the rest of the stage's. dsforge uses presidio's registry,
recognisers and context enhancer with its own spaCy model, so `transformers` is hidden while presidio is
imported (presidio catches the ImportError and marks only that engine unavailable). When `transformers` is
already imported (an LLM stage in the same process), nothing is hidden; after the import it loads as usual.

Not here: the recognisers (pii_recognizers), the engine (pii_engine).
"""

from __future__ import annotations

import sys

if "presidio_analyzer" not in sys.modules and "transformers" not in sys.modules:
    sys.modules["transformers"] = None  # type: ignore[assignment]  # import of it raises ImportError
    try:
        import presidio_analyzer  # noqa: F401
    finally:
        del sys.modules["transformers"]

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
