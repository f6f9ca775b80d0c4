"""LLM backends behind `dsforge.pipelines.llm.seam.Backend`: one module per engine, imported only when opened.

- transformers_local: in-process torch (the embedded SmolLM2 or any local model folder).
- openai_compat: any OpenAI-compatible chat-completions endpoint (OpenAI, `vllm serve`, llama.cpp, SGLang).
- vllm_offline: vLLM's offline `LLM` engine (optional extra: pip install 'dsforge[vllm]').

Use `dsforge.pipelines.llm.seam.open_backend(config)`; it wraps each backend in the response cache
(../cache.py). Each backend has its own config class in ../config.py.
"""
