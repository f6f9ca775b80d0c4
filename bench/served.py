"""A served engine kept busy: dsforge's openai backend against a bare asyncio OpenAI client, same server,
same prompts, same concurrency, in one run (`bench/generation.py --served` calls `run_served`).

The server is a real OpenAI-compatible vLLM server on this machine: started here by dsforge's own
`vllm-server` backend (start, health check, stop; its log in --log-dir), or one already running
(`--base-url`). Both sides send the same greedy requests (temperature 0, seed 0, max_tokens N) with at
most `concurrency` in flight; ours runs without the response cache (otherwise the second side would be
free). tokens/s = completion tokens reported by the server / wall time. Sides alternate over `repeats`
rounds and each keeps its best round, so a burst of load on the shared machine hurts both alike.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def _bare(base_url: str, model: str, convs: list, max_tokens: int, concurrency: int) -> tuple[int, list[str]]:
    """What a user writes by hand: AsyncOpenAI, a semaphore, gather."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=600)
    sem = asyncio.Semaphore(concurrency)

    async def one(conv):
        async with sem:
            r = await client.chat.completions.create(model=model, messages=conv, temperature=0.0, top_p=1.0,
                                                     max_tokens=max_tokens, n=1, seed=0)
        return r.usage.completion_tokens, r.choices[0].message.content

    try:
        got = await asyncio.gather(*(one(c) for c in convs))
    finally:
        await client.close()
    return sum(t for t, _ in got), [x for _, x in got]


def bare_side(base_url: str, model: str, convs: list, max_tokens: int, concurrency: int) -> dict[str, Any]:
    started = time.perf_counter()
    tokens, texts = asyncio.run(_bare(base_url, model, convs, max_tokens, concurrency))
    return {"seconds": time.perf_counter() - started, "tokens": tokens, "texts": texts}


def ours_side(base_url: str, model: str, convs: list, max_tokens: int, concurrency: int) -> dict[str, Any]:
    from dsforge.pipelines.llm.config import SamplingParams
    from dsforge.pipelines.llm.seam import generate_rows, open_backend

    backend = open_backend({"backend": "openai", "model": model, "base_url": base_url, "cache": False,
                            "concurrency": concurrency, "timeout": 600})
    started = time.perf_counter()
    gens = generate_rows(backend, convs, SamplingParams(temperature=0.0, max_tokens=max_tokens, seed=0),
                         progress=False)
    seconds = time.perf_counter() - started
    backend.close()
    return {"seconds": seconds, "tokens": sum(g[0].completion_tokens for g in gens), "texts": [g[0].text for g in gens]}


def run_served(convs: list, max_tokens: int, concurrency: int, repeats: int, base_url: str | None,
               log_dir: str) -> dict[str, Any]:
    server, started = None, time.perf_counter()
    model = "smollm2"
    if base_url is None:
        from dsforge.pipelines.llm.seam import open_backend

        server = open_backend({"backend": "vllm-server", "model": "smollm2", "cache": False, "log_dir": log_dir})
        base_url, model = server.base_url, server.model_id
        print(f"vllm-server started by dsforge in {time.perf_counter() - started:.1f} s: {base_url} "
              f"(log {server.log_path})", flush=True)
    try:
        bare_side(base_url, model, convs[:concurrency], max_tokens, concurrency)  # warm-up, not counted
        best: dict[str, dict] = {}
        for r in range(repeats):
            for name, side in (("bare", bare_side), ("ours", ours_side)) if r % 2 == 0 else (
                    ("ours", ours_side), ("bare", bare_side)):
                got = side(base_url, model, convs, max_tokens, concurrency)
                got["tok_s"] = got["tokens"] / got["seconds"]
                print(f"  round {r + 1} {name}: {got['tokens']} tokens in {got['seconds']:.2f} s = "
                      f"{got['tok_s']:.1f} tok/s", flush=True)
                if name not in best or got["tok_s"] > best[name]["tok_s"]:
                    best[name] = got
    finally:
        if server is not None:
            server.close()
    same = sum(a == b for a, b in zip(best["bare"]["texts"], best["ours"]["texts"]))
    row = {"engine": "vllm-server (OpenAI API)", "prompts": len(convs), "concurrency": concurrency,
           "max_tokens": max_tokens, "bare_tok_s": round(best["bare"]["tok_s"], 1),
           "ours_tok_s": round(best["ours"]["tok_s"], 1),
           "ratio": round(best["ours"]["tok_s"] / best["bare"]["tok_s"], 3),
           "tokens": f"{best['bare']['tokens']} / {best['ours']['tokens']}", "greedy_identical": f"{same}/{len(convs)}"}
    print(f"served: ours {row['ours_tok_s']} tok/s vs bare asyncio client {row['bare_tok_s']} tok/s = "
          f"{row['ratio']:.3f}x (goal >= 0.95); greedy outputs identical {row['greedy_identical']}", flush=True)
    return row
