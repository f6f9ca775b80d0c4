"""`dsforge inspect PATH ...`: the arguments and the command body (pipelines/apps/cli.py only wires them in).

Kept free of heavy imports at module level so `dsforge --help` stays fast.
"""

from __future__ import annotations

import argparse


def add_inspect_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("path", nargs="+", metavar="PATH",
                    help="data file(s) (JSONL/JSON/Parquet/CSV/HF dataset), a folder of them, a step folder or a run directory")
    sp.add_argument("--out", metavar="DIR", help="where stats.json and report.html go (default: ./inspect-<name>)")
    sp.add_argument("--tokenizer", default="smollm2", help="'smollm2' (embedded, default) or a local tokenizer/model folder")
    sp.add_argument("--by", action="append", metavar="COL",
                    help="break down by a column or metadata key (repeat; default: source)")
    sp.add_argument("--compare", nargs="+", metavar="RUN_DIR_OR_STEP",
                    help="before/after: a run directory, one step folder, or two step folders of one run")
    sp.add_argument("--mapping", default="auto", help="field mapping preset for raw inputs (default: guessed)")
    sp.add_argument("--top", type=int, default=25, help="rows in top-N tables (default 25)")
    sp.add_argument("--examples", type=int, default=5, help="example rows per finding (default 5)")
    sp.add_argument("--verb-sample", type=int, default=1000,
                    help="instructions parsed for (verb, noun) pairs; 0 = all (default 1000; ~800/s)")
    sp.add_argument("--diversity-sample", type=int, default=300,
                    help="rows embedded for diversity per group (mean pairwise distance, Vendi); 0 = off (default 300)")
    sp.add_argument("--annotator-key", default="annotator", help="column/metadata key naming the annotator")
    sp.add_argument("--score-key", default="score", help="column/metadata key holding the score")
    sp.add_argument("--labels", metavar="FILE",
                    help="labels Parquet file of `dsforge review`: show annotator agreement on it "
                         "(default: RUN_DIR/labels.parquet when PATH is a run folder that has one)")
    sp.add_argument("--title", help="report title")


def run_inspect_command(args: argparse.Namespace) -> int:
    from dsforge.pipelines.stages.inspect.report import summary_text
    from dsforge.pipelines.stages.inspect.stage import inspect_path
    from dsforge.pipelines.stages.inspect.stats import InspectConfig

    by = list(dict.fromkeys(["source", *(args.by or [])]))
    cfg = InspectConfig(tokenizer=args.tokenizer, by=by, top_n=args.top, examples=args.examples,
                        verb_sample=args.verb_sample, diversity_sample=args.diversity_sample, annotator_key=args.annotator_key, score_key=args.score_key,
                        title=args.title)
    stats, written = inspect_path(args.path, args.out, cfg, mapping=args.mapping, compare=args.compare,
                                  labels=args.labels)
    print(summary_text(stats))
    if stats.get("review_labels"):  # agreement on `dsforge review` labels (pipelines/stages/inspect/annotators.py)
        from dsforge.pipelines.stages.inspect.annotators import agreement_line

        print(f"review {agreement_line(stats['review_labels'])}  [{stats['review_labels']['file']}]")
    print(f"\nreport: {written['report']}\nstats:  {written['stats']}  ({stats['seconds']:.1f} s)")
    return 0
