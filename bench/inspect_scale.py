"""Inspect at scale: the `inspect` step of a recipe (ingest -> inspect) on the bench/scale_data.py rows, the
gathered table of an earlier checkout (`--baseline`, e.g. the main branch: the whole table in the driver)
against this checkout (summary execution: parts summarised in the workers, combined in the driver), in
the same run, both with `--workers 2`. Prints wall time, the inspect step's seconds and the peak RSS of
the whole process tree (driver + workers) of each, and the ratios.

    .venv/bin/python bench/inspect_scale.py --rows 250000 --baseline /work/main

Both runs use the same recipe (the stage's defaults: SmolLM2 tokens, 1,000 parsed instructions, 300
embedded rows) and the same input file; each checkout is put first on PYTHONPATH as `dsforge`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import BIN, OUT, data, machine, measure  # noqa: E402

RECIPE = """name: inspect-scale
inputs:
  - {{path: {path}, mapping: alpaca}}
stages:
  - inspect
"""


def run(checkout: Path, rows: int, workers: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="inspect-scale-", dir=OUT))
    (work / "pp").mkdir()
    (work / "pp" / "dsforge").symlink_to(checkout.resolve())
    recipe = work / "recipe.yaml"
    recipe.write_text(RECIPE.format(path=data(rows)))
    cmd = [str(BIN), "run", str(recipe), "--no-prefect", "--quiet", "--force", "--out", str(work / "runs"),
           "--workers", str(workers)]
    res = measure(cmd, env={"PYTHONPATH": str(work / "pp")})
    run_dir = next((work / "runs").glob("inspect-scale-*"))
    summary = json.loads((run_dir / "run.json").read_text())
    steps = {s["step"]: s for s in summary["steps"]}
    stats = json.loads(next(run_dir.glob("stages/*-inspect/stats.json")).read_text())["stage_stats"]
    res.pop("output")
    res.update(rows=rows, workers=workers, inspect_s=steps["inspect"]["seconds"],
               execution=steps["inspect"].get("execution"), duplicates=stats["counts"]["exact_duplicates"]["rows"],
               outliers=stats["outliers"]["flagged"], commit=subprocess.run(
                   ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip())
    subprocess.run(["rm", "-rf", str(work)])
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=250_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline", type=Path, required=True, help="checkout to compare with (the main branch)")
    args = ap.parse_args()
    print(machine(), flush=True)
    data(args.rows)
    here = Path(__file__).resolve().parents[1]
    old = run(args.baseline, args.rows, args.workers) | {"name": f"baseline {args.baseline}"}
    print(old, flush=True)
    new = run(here, args.rows, args.workers) | {"name": f"this checkout {here}"}
    print(new, flush=True)
    print("| contender | commit | inspect execution | rows | workers | run wall s | inspect step s | peak RSS MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in (old, new):
        print(f"| {r['name']} | {r['commit']} | {r['execution']} | {r['rows']:,} | {r['workers']} | {r['seconds']} | "
              f"{r['inspect_s']} | {r['peak_rss_mb']:,} |")
    print(f"inspect step speed-up {old['inspect_s'] / new['inspect_s']:.2f}x; run wall {old['seconds'] / new['seconds']:.2f}x; "
          f"peak RSS {new['peak_rss_mb'] / old['peak_rss_mb']:.2f} of the baseline's; same duplicates "
          f"{old['duplicates'] == new['duplicates']} ({new['duplicates']:,}), outliers {old['outliers']} vs {new['outliers']}")
    print(machine().replace("at start", "at end"))


if __name__ == "__main__":
    main()
