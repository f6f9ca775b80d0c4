"""Benchmark: `dsforge inspect` on ~52k Alpaca-style rows (the size of Stanford Alpaca), rows/s and peak memory,
against datatrove's statistics pipeline (DocStats + TokenStats with the same SmolLM2 tokenizer) on the same rows.

The 52k rows are built by concatenating the team's English instruction files (alpaca-libre v1+v2, GPTeacher
toolformer/codegen/roleplay, Self-Instruct T0) and repeating them until 52,002 rows (so about 60% are exact
duplicates, which the inspection reports; speed does not depend on it). datatrove computes fewer figures
(document and token statistics: no languages, verbs, conflicts, outliers or report); the ratio is printed
to put the number in context, not as a like-for-like race.

    .venv/bin/python bench/inspection.py [--rows 52002] [--skip-datatrove]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
FILES = ["alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca_libre/alpaca_libre_tasks_v2.jsonl",
         "gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher/codegen-instruct.json",
         "gpteacher/roleplay-simple-deduped-roleplay-instruct.json",
         *[f"self_instruct_t0/{p.name}" for p in sorted((EXTERNAL / "self_instruct_t0").glob("*.jsonl"))]]


def load_rows() -> list[dict]:
    rows = []
    for rel in FILES:
        path = EXTERNAL / rel
        text = path.read_text(encoding="utf-8")
        items = json.loads(text) if text.lstrip().startswith("[") else []
        if not items:
            for line in text.splitlines():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    continue  # alpaca-libre v2 has 14 malformed lines
        for r in items:
            instruction = r.get("instruction", r.get("prompt", ""))
            output = r.get("output", r.get("response", r.get("completion", "")))
            rows.append({"instruction": instruction, "input": r.get("input", ""), "output": output,
                         "source": path.stem.split(".")[0]})
    return rows


def build(n: int, folder: Path) -> tuple[Path, Path]:
    base = load_rows()
    rows = [base[i % len(base)] for i in range(n)]
    alpaca = folder / "alpaca52k.jsonl"
    with alpaca.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({k: r[k] for k in ("instruction", "input", "output")}, ensure_ascii=False) + "\n")
    docs = folder / "docs" / "alpaca52k_docs.jsonl"
    docs.parent.mkdir()
    with docs.open("w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            text = "\n\n".join(x for x in (r["instruction"], r["input"], r["output"]) if x)
            f.write(json.dumps({"id": str(i), "text": text}, ensure_ascii=False) + "\n")
    return alpaca, docs


CHILD_DSFORGE = """
import json, resource, sys, time
from dsforge.pipelines.stages.inspect.stage import inspect_path
from dsforge.pipelines.stages.inspect.stats import InspectConfig
t = time.perf_counter()
stats, _ = inspect_path([sys.argv[1]], sys.argv[2], InspectConfig(by=["source"]))
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "rows": stats["counts"]["rows"], "timings": stats["timings"],
                  "cpu": u.ru_utime + u.ru_stime, "peak_mb": u.ru_maxrss / 1024}))
"""

CHILD_DATATROVE = """
import json, resource, sys, time
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.stats import DocStats, TokenStats
t = time.perf_counter()
groups = ["summary", "histogram"]  # the default groups want a URL per document
LocalPipelineExecutor(pipeline=[JsonlReader(sys.argv[1]), DocStats(sys.argv[2] + "/stats", groups_to_compute=groups),
                                TokenStats(sys.argv[2] + "/stats", tokenizer_name_or_path=sys.argv[3],
                                           groups_to_compute=groups)],
                      tasks=1, workers=1, logging_dir=sys.argv[2] + "/logs").run()
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": u.ru_utime + u.ru_stime, "peak_mb": u.ru_maxrss / 1024}))
"""


def run_child(code: str, *args: str) -> dict:
    """Each tool runs in its own process so that peak memory (ru_maxrss) is its own, imports and model load included."""
    env = {**os.environ, "OMP_NUM_THREADS": "2", "RAYON_NUM_THREADS": "2", "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["wall_with_imports"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=52_002)
    ap.add_argument("--skip-datatrove", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        alpaca, docs = build(args.rows, tmp)
        print(f"input: {args.rows:,} rows ({alpaca.stat().st_size / 1e6:.1f} MB JSONL), cpus: {os.cpu_count()}, "
              f"load average: {os.getloadavg()[0]:.1f} (machine shared with other jobs)")
        d = run_child(CHILD_DSFORGE, str(alpaca), str(tmp / "inspect"))
        print(f"dsforge inspect: {d['seconds']:.1f} s wall ({d['wall_with_imports']:.1f} s with imports), "
              f"{d['rows'] / d['seconds']:,.0f} rows/s; CPU time {d['cpu']:.1f} s (all threads, imports included: "
              f"the wall time on 2 idle cores is at most this), {d['rows'] / d['cpu']:,.0f} rows per CPU-second; "
              f"peak memory {d['peak_mb']:,.0f} MB")
        print("  stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in d["timings"].items()))
        size = (tmp / "inspect" / "report.html").stat().st_size
        print(f"  report.html {size / 1e6:.2f} MB, stats.json {(tmp / 'inspect' / 'stats.json').stat().st_size / 1e6:.2f} MB")
        if not args.skip_datatrove:
            from dsforge.pipelines.llm.embedded import smollm2_tokenizer_dir

            tok = str(smollm2_tokenizer_dir() / "tokenizer.json")
            p = run_child(CHILD_DATATROVE, str(docs.parent), str(tmp / "dt"), tok)
            print(f"datatrove DocStats+TokenStats: {p['seconds']:.1f} s wall ({p['wall_with_imports']:.1f} s with "
                  f"imports), {args.rows / p['seconds']:,.0f} rows/s; CPU time {p['cpu']:.1f} s, "
                  f"{args.rows / p['cpu']:,.0f} rows per CPU-second; peak memory {p['peak_mb']:,.0f} MB")
            print(f"ratio dsforge/datatrove: rows/s {p['seconds'] / d['seconds']:.2f}x, rows per CPU-second "
                  f"{p['cpu'] / d['cpu']:.2f}x, peak memory {d['peak_mb'] / p['peak_mb']:.1f}x  "
                  f"(dsforge computes many more figures and writes a report)")
    print(f"bench process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
