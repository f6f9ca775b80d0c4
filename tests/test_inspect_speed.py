"""inspect's light loaders (issue 27: inspect under 30 s on 10k rows) give what the full libraries give, on real rows:
the torch-only MiniLM (pipelines/stages/inspect/minilm_torch.py) and the tokenizers-only token counter (tokens.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest


def real_texts(external, n: int = 120) -> list[str]:
    rows = []
    for line in (external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl").read_text(encoding="utf-8").splitlines()[:n]:
        r = json.loads(line)
        rows.append("\n\n".join(x for x in (r.get("instruction"), r.get("input"), r.get("output")) if x))
    rows += ["", "短文本：今天天气很好。", "x" * 3000]   # empty, Chinese, longer than the token limit
    return rows


def test_torch_only_minilm_matches_sentence_transformers(external):
    pytest.importorskip("sentence_transformers")
    from dsforge.pipelines.llm.embedded import embed, minilm_dir
    from dsforge.pipelines.stages.inspect.minilm_torch import embed_minilm

    texts = real_texts(external)
    ours = embed_minilm(texts, minilm_dir(), max_tokens=64, batch_size=16)
    ref = embed(texts, max_seq_length=64)
    assert ours.shape == ref.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * ref).sum(axis=1).min() > 0.9999


def test_tokenizer_file_counts_like_transformers(external):
    from dsforge.pipelines.llm.embedded import load_tokenizer
    from dsforge.pipelines.stages.inspect.tokens import TokenCounter, TokenizerFile

    texts = real_texts(external, 60)
    counter = TokenCounter("smollm2")
    assert isinstance(counter.tok, TokenizerFile)
    full = load_tokenizer("smollm2")
    assert counter.count(texts).tolist() == [len(x) for x in full(texts, add_special_tokens=False)["input_ids"]]
    assert counter.special_tokens() == sorted({t for t in full.all_special_tokens if len(t) > 1})
    assert counter.vocab_size() == len(full)
    assert counter.piece(full.convert_tokens_to_ids("<|im_start|>")) == "<|im_start|>"
