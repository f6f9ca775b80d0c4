"""Calling a model, for every stage that does: synthesis, AI judges, LLM classifiers.

- task.py: `LLMStage` and `ask()` — the one way a stage sends prompts and reads replies;
- prompt.py + prompts/: versioned prompt files (id + sha256 in lineage);
- parse.py: reading model text (lists, code, JSON, scores, pairwise verdicts);
- config.py: one config class per backend, and the sampling parameters;
- seam.py: the Backend protocol, `open_backend`, `generate_rows` (progress, budget), lineage and usage;
- cache.py: the on-disk response cache; backends/: transformers, openai-compatible, vLLM.

Lives in the core (dsforge.pipelines) so that synth/, validators/ and filters/ all use it without importing
each other (docs/architecture.md, "Layers").
"""
