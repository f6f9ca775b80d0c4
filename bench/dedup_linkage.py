"""How many rows each `linkage` of minhash-dedup drops, and how many of them are below the threshold from
the row kept for them (issue 14: chains of pairs drop rows at est. Jaccard 0.65 under threshold 0.8).

    .venv/bin/python bench/dedup_linkage.py [--threshold 0.7]

Data: real files from ../shared/data/external (gpteacher toolformer and codegen, alpaca-libre v2). Field
`conversation`, word 5-grams, 128 permutations, verify on. Results: docs/dedup.md ("Which rows form a cluster").
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import polars as pl

from dsforge.dedup.minhash import MinhashDedup
from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.stage import StageContext

EXTERNAL = Path(__file__).resolve().parent.parent.parent / "shared/data/external"
FILES = [("gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher"), ("gpteacher/codegen-instruct.json", "gpteacher"),
         ("alpaca_libre/alpaca_libre_tasks_v2.jsonl", "auto")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=0.7)
    args = ap.parse_args()
    print("| file | rows | linkage | removed | removed below threshold from kept row | min est. Jaccard to kept row |")
    print("|---|---|---|---|---|---|")
    for name, mapping in FILES:
        df = read_input(InputSpec(path=str(EXTERNAL / name), mapping=mapping)).kept
        for linkage in ("components", "representative"):
            with tempfile.TemporaryDirectory() as d:
                cfg = {"field": "conversation", "threshold": args.threshold, "linkage": linkage}
                res = MinhashDedup(cfg).process(df, StageContext(work_dir=Path(d)))
                sims = pl.read_parquet(Path(d) / "dup_cluster-clusters.parquet").explode("est_jaccard")["est_jaccard"]
                dropped = sims.filter(sims < 1.0)  # the kept row itself has 1.0
                print(f"| {name} | {df.height} | {linkage} | {res.rejected.height} | "
                      f"{int((dropped < args.threshold).sum())} | {dropped.min() if len(dropped) else '-'} |")


if __name__ == "__main__":
    main()
