"""all-MiniLM-L6-v2 sentence embeddings with torch and `tokenizers` only, for inspect's diversity sample.

Why: inspect embeds a few hundred rows once; loading them through sentence-transformers imports all of
transformers first (~7 s of CPU, more than the embedding itself; bench/RESULTS-inspect.md). This is the
same model and the same computation (BERT encoder, mean pooling over real tokens, L2 norm), read from the
embedded package's safetensors file: tests/test_inspect_speed.py checks it agrees with `embedded.embed`
(cosine > 0.9999 on real rows). Not for training or anything that needs the full library.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def _load(folder: str):
    import tokenizers
    from safetensors.torch import load_file

    cfg = json.loads((Path(folder) / "config.json").read_text())
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
        raise ValueError(f"{folder}: not a BERT encoder with gelu ({cfg.get('model_type')}, {cfg.get('hidden_act')})")
    tok = tokenizers.Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    weights = {k: v.float() for k, v in load_file(str(Path(folder) / "model.safetensors")).items()}
    return tok, weights, cfg


def _encode(w: dict, cfg: dict, ids, mask):
    import torch
    import torch.nn.functional as F

    eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    b, n = ids.shape
    x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = F.layer_norm(x, (x.shape[-1],), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    keep = mask.bool()[:, None, None, :]
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def lin(t, name):
            return F.linear(t, w[p + name + ".weight"], w[p + name + ".bias"])

        def split(t):
            return t.view(b, n, heads, -1).transpose(1, 2)

        q, k, v = (split(lin(x, f"attention.self.{m}")) for m in ("query", "key", "value"))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep).transpose(1, 2).reshape(b, n, -1)
        x = F.layer_norm(x + lin(a, "attention.output.dense"), (x.shape[-1],),
                         w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        h = lin(F.gelu(lin(x, "intermediate.dense")), "output.dense")
        x = F.layer_norm(x + h, (x.shape[-1],), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    m = mask.unsqueeze(-1).to(x.dtype)
    pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return F.normalize(pooled, dim=-1)


def embed_minilm(texts: list[str], folder: str | Path, max_tokens: int = 64, batch_size: int = 64) -> np.ndarray:
    """L2-normalised float32 embeddings (one row per text), texts cut at `max_tokens` word pieces."""
    import torch

    tok, w, cfg = _load(str(folder))
    tok.enable_truncation(max_length=max_tokens)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    out = np.zeros((len(texts), cfg["hidden_size"]), dtype=np.float32)
    order = np.argsort([len(t or "") for t in texts], kind="stable")  # similar lengths share a batch: less padding
    for s in range(0, len(texts), batch_size):
        idx = order[s:s + batch_size]
        enc = tok.encode_batch([texts[i] or "" for i in idx])
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
        with torch.inference_mode():  # no autograd here; never switched off for the whole process (a later
            out[idx] = _encode(w, cfg, ids, mask).numpy()  # ablate step in the same process trains a model)
    return out
