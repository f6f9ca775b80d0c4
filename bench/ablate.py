"""Does cleaning help, and would more data? Small-model ablations on real data with the embedded SmolLM2-135M.

    .venv/bin/python bench/ablate.py                      # the figures in bench/RESULTS-ablate.md
    .venv/bin/python bench/ablate.py --budget 2000 --seeds 1 --eval-rows 16   # a quick look

1. The shipped `clean-instructions` chain on alpaca-libre v2 (../shared/data/external, CC0: real LLM-generated
   rows, with the generator's own "too similar"/"failed" rows still in), then a 3-rung ladder (25/50/100%) of
   what is left. 2. Ablation A: the rows before the chain (ingest) against after it (pii, the last cleaning
   step). 3. Ablation B: the three rungs, the data-scaling curve. Every variant × seed trains the same model for
   the same token budget and is evaluated on the same held-out rows (drawn from the cleaned rows, trained on by
   no variant). Prints both tables with the time per variant.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

from dsforge.pipelines.core.recipe import build_recipe, find_recipe
from dsforge.pipelines.core.runner import run_recipe
from dsforge.validators.ablate.stage import Ablate

ROOT = Path(__file__).resolve().parents[1]
NOISY = ROOT.parent / "shared" / "data" / "external" / "alpaca_libre" / "alpaca_libre_tasks_v2.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=int, default=6000, help="tokens per variant")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--eval-rows", type=int, default=64)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "ablate"))
    ap.add_argument("--json", help="write both ablations' figures here")
    args = ap.parse_args()

    data = yaml.safe_load(Path(find_recipe("clean-instructions")).read_text())
    data["inputs"] = [{"path": str(NOISY), "mapping": "auto", "source": "alpaca-libre-v2"}]
    save = data["stages"].pop()  # keep save last
    data["stages"] += [{"stage": "ladder", "sizes": ["25%", "50%", "100%"], "write": False}, save]
    started = time.perf_counter()
    summary = run_recipe(build_recipe(data, base_dir=ROOT), Path(args.out), progress=False)
    assert summary["status"] == "ok", summary.get("error")
    run_dir = Path(summary["run_dir"])
    print(f"cleaning chain: {run_dir.name} in {time.perf_counter() - started:.0f} s")
    for s in summary["steps"]:
        print(f"  {s['step']:<16} {s['rows_in']:>6,} in {s['kept']:>6,} kept")
    common = {"model": args.model, "budget_tokens": args.budget, "seeds": args.seeds, "max_length": args.max_length,
              "eval_rows": args.eval_rows}
    out = {}
    for name, variants in (("A: before vs after the cleaning chain", ["ingest", "pii"]),
                           ("B: the data-scaling ladder", ["ladder"])):
        t = time.perf_counter()
        figures = Ablate({**common, "variants": variants}).on_run_dir(run_dir, progress=False)
        n = figures["trained"] + figures["reused"]
        print(f"\n## {name}\n\n{figures['results_md']}\n{figures['trained']} models trained, {figures['reused']} reused, "
              f"{time.perf_counter() - t:.0f} s ({(time.perf_counter() - t) / max(n, 1):.0f} s per variant x seed)")
        out[name] = {k: figures[k] for k in ("variants", "comparisons", "scaling", "trained", "reused")}
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
