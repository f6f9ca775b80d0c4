"""vLLM's offline engine (`vllm.LLM`) in this process: the throughput path on one GPU node.

Why: vLLM's continuous batching and paged attention keep a GPU busy far better than transformers'
`generate`. We hand vLLM every request of a batch in one `LLM.chat` call (it schedules them itself) with
one `SamplingParams` per request (seed = seed + completion index, like the other backends), and only map
the outputs back. JSON schemas use vLLM's structured outputs (`StructuredOutputsParams`, or
`GuidedDecodingParams` on vLLM < 0.12).

Optional: vLLM is the `vllm` extra (`pip install 'dsforge[vllm]'`, Linux + CUDA); it is imported when the
backend opens, so nothing else pays for it. `engine_args` go to `vllm.LLM(...)` unchanged
(tensor_parallel_size, gpu_memory_utilization, max_model_len, ...).
For several GPUs or nodes, run `vllm serve MODEL --data-parallel-size N --tensor-parallel-size M` and use the
openai backend with base_url=http://HOST:8000/v1 (vLLM's own parallelism; dsforge adds none): see
docs/backends.md.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from dsforge.synth.backends.base import BaseBackend, OnDone, Request, timer
from dsforge.synth.llm import BackendConfig, Generation, SamplingParams

INSTALL_HINT = "pip install 'dsforge[vllm]'   (or: pip install vllm; needs Linux with a CUDA GPU)"


def import_vllm():
    try:
        import vllm
    except ImportError as e:
        raise ImportError(f"the vllm backend needs vLLM, which is not installed ({e}). Install it with:  "
                          f"{INSTALL_HINT}. Without a GPU use backend: transformers.") from e
    return vllm


@lru_cache(maxsize=2)
def _engine(path: str, engine_args_json: str):
    """One vLLM engine per (model, engine args) per process: a second engine would not fit on the GPU."""
    return import_vllm().LLM(model=path, **json.loads(engine_args_json))


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

    def __init__(self, config: BackendConfig, llm: Any = None):
        super().__init__(config)
        self.vllm = import_vllm()
        if config.model == "smollm2":
            from dsforge.pipelines.embedded import SMOLLM2_ID, smollm2_model_dir

            path, self.model_id = str(smollm2_model_dir()), SMOLLM2_ID
        else:
            path = config.model
        self.engine_args = dict(config.engine_args)
        self.engine_args.setdefault("seed", 0)
        self.llm = llm if llm is not None else _engine(path, json.dumps(self.engine_args, sort_keys=True))

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
