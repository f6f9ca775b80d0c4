"""A tiny randomly initialised model of SmolLM2's architecture (SmolLM2's tokenizer, 2 layers, 32 wide): trains in
seconds, so the ablation's mechanics can be tested without the real 135M model (bench/ablate.py runs that)."""

from __future__ import annotations

from pathlib import Path


def tiny_smollm2(folder: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from dsforge.pipelines.llm.embedded import smollm2_tokenizer_dir

    tok = AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir()))
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                      tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    LlamaForCausalLM(cfg).save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder
