"""The transformers backend's two CPU savings, measured: prefix reuse and grouped-query decoding.

    .venv/bin/python bench/transformers_cpu.py [--prompts 32] [--max-tokens 40]

Prompts: the whole-chain recipe's back-translation prompts (backtranslate_subject_v1, its two few-shot turns
from data/backtranslate_subject_examples.jsonl, then one shipped Wikipedia paragraph's first 60 words), greedy,
one batch, one thread (as each worker of `make demo` runs). Each mode runs in a fresh process:
- plain: what the backend did before (left-padded batch, transformers' SDPA);
- prefix: the shared prefix's KV cache computed once and copied to every row;
- both: prefix reuse and `gqa_decode_attention` (the shipped default).
Prints seconds per mode, the speed-up over plain, and whether every mode wrote the same instructions.
Not here: GPU (transformers on CUDA keeps the same code path; use the vllm backend there).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_mode(mode: str, n: int, max_tokens: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from dsforge.pipelines.llm.backends import transformers_local as T
    from dsforge.pipelines.llm.backends.base import Request
    from dsforge.pipelines.llm.config import SamplingParams, TransformersConfig
    from dsforge.pipelines.llm.prompt import load_template

    template = load_template("backtranslate_subject_v1")
    shots = [json.loads(x) for x in (ROOT / "data" / "backtranslate_subject_examples.jsonl").read_text().splitlines()]
    turns = []
    for e in shots[:2]:
        turns += [{"role": "user", "content": template.render(text=e["output"])},
                  {"role": "assistant", "content": e["instruction"]}]
    texts = [json.loads(x)["text"] for x in (ROOT / "data" / "wiki_passages.jsonl").read_text().splitlines()][:n]
    backend = T.TransformersBackend(TransformersConfig(model="smollm2", batch_size=n, device="cpu"))
    if mode == "plain":
        T.MIN_SHARED_PREFIX = 10**9
    if mode in ("plain", "prefix"):
        backend.model.set_attn_implementation("sdpa")
    requests = [Request(messages=turns + [{"role": "user", "content": template.render(text=t)}]) for t in texts]
    start = time.perf_counter()
    out = backend.run_requests(requests, SamplingParams(temperature=0.0, max_tokens=max_tokens))
    return {"mode": mode, "seconds": time.perf_counter() - start, "texts": [g.text for g in out],
            "tokens": sum(g.completion_tokens for g in out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=40)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(one_mode(args.mode, args.prompts, args.max_tokens)))
        return
    results = {}
    for mode in ("plain", "prefix", "both"):
        proc = subprocess.run([sys.executable, __file__, "--mode", mode, "--prompts", str(args.prompts),
                               "--max-tokens", str(args.max_tokens)], capture_output=True, text=True, check=True,
                              env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    base = results["plain"]
    print(f"{args.prompts} back-translation prompts, greedy, {args.max_tokens} tokens max, one batch, one thread")
    for mode, r in results.items():
        print(f"  {mode:<7} {r['seconds']:6.1f} s  {base['seconds'] / r['seconds']:.2f}x  "
              f"{r['tokens']} tokens  same instructions as plain: {r['texts'] == base['texts']}")


if __name__ == "__main__":
    main()
