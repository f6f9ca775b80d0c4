"""Benchmark: the review page's queries on a big run, against reading the step whole (what a notebook does:
`shards.read_table(step)` then filter in Polars), measured in the same process on the same files.

The run is a step of N rows (default 1,000,000) in parts of 50,000, built from real Alpaca-style rows
(data/alpaca_libre_v1.jsonl, repeated with fresh ids), with one rejected part per ten kept ones under
three reasons. Each query is what one click on the page asks for; the peer answers the same question
from the whole table (read once per query, as a notebook cell that re-reads would; the read is also
reported alone). Peak RSS of each side is measured in a child process of its own.

    .venv/bin/python bench/review.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from dsforge.pipelines.core import records, shards
from dsforge.pipelines.apps.review.run_data import Query, RunData

ROOT = Path(__file__).resolve().parents[1]
PART = 50_000
REASONS = ["rules:generator-rejected", "length-filter:too_short", "exact-dedup:duplicate"]


def build_run(folder: Path, rows: int) -> Path:
    base = pl.read_ndjson(ROOT / "data" / "alpaca_libre_v1.jsonl").select(
        pl.col("instruction"), pl.col("input"), pl.col("output").alias("response"))
    step = folder / "run" / "stages" / "01-big"
    n_parts = (rows + PART - 1) // PART
    kept = rejected = 0
    for i in range(n_parts):
        size = min(PART, rows - i * PART)
        idx = pl.int_range(i * PART, i * PART + size, eager=True)
        df = base.sample(size, with_replacement=True, seed=i).with_columns(
            ("big:" + idx.cast(pl.String)).alias("id"), pl.lit("alpaca-libre").alias("source"),
            pl.lit("instruction").alias("kind"))
        df = records.conform(df)
        shards.atomic_write_parquet(df, shards.part_path(step, shards.KEPT, i))
        kept += df.height
        if i % 10 == 0:
            rej = records.rejects(df.head(5000).with_columns(("rej:" + pl.col("id")).alias("id")), "big",
                                  pl.Series([REASONS[j % 3] for j in range(5000)]), "why")
            shards.atomic_write_parquet(rej, shards.part_path(step, shards.REJECTED, i))
            rejected += rej.height
    (step / "stats.json").write_text(json.dumps({"step": "big", "stage": "big", "index": 1, "rows_in": kept + rejected,
                                                 "kept": kept, "rejected": rejected}))
    return folder / "run"


QUERIES = {
    "first page": dict(),
    "page 200 (offset 5,000)": dict(offset=5000),
    "text search 'photosynthesis'": dict(q="photosynthesis"),
    "rejected by reason": dict(which="rejected", reason="length-filter:too_short"),
    "seeded sample of 25": dict(sample=25, seed=1),
}


def ours(run: Path, name: str) -> tuple[float, int]:
    data = RunData(run)
    t = time.perf_counter()
    if name == "one row + before/after":
        data.row("01-big", "big:777777" if data.steps[0].kept > 777777 else "big:7")
        n = 1
    else:
        n = data.rows(Query(step="01-big", limit=25, **QUERIES[name]))["total"]
    return time.perf_counter() - t, n


def peer(run: Path, name: str) -> tuple[float, int]:
    step = run / "stages" / "01-big"
    t = time.perf_counter()
    which = QUERIES.get(name, {}).get("which", "kept")
    df = shards.read_table(step, which)
    if name == "one row + before/after":
        df.filter(pl.col("id") == ("big:777777" if df.height > 777777 else "big:7"))
        n = 1
    elif name.startswith("text search"):
        text = pl.concat_str([pl.col(c).fill_null("") for c in ("id", "instruction", "input", "response")], separator="\n")
        n = df.filter(text.str.to_lowercase().str.contains("photosynthesis", literal=True)).height
    elif name == "rejected by reason":
        n = df.filter(pl.col("reason") == "length-filter:too_short").height
    elif name.startswith("seeded sample"):
        df.sample(25, seed=1)
        n = 25
    else:
        df.slice(QUERIES[name].get("offset", 0), 25)
        n = df.height
    return time.perf_counter() - t, n


def _child(fn, run, names, q):
    times = {n: fn(run, n) for n in names}
    q.put((times, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(fn, run: Path, names: list[str]):
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=_child, args=(fn, run, names, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run = build_run(Path(tmp), args.rows)
        print(f"built a step of {args.rows:,} kept rows in {(args.rows + PART - 1) // PART} parts "
              f"in {time.perf_counter() - t:.1f} s")
        names = [*QUERIES, "one row + before/after"]
        mine, rss_mine = measure(ours, run, names)
        theirs, rss_theirs = measure(peer, run, names)
        print(f"\n{'query':34s} {'review (s)':>10s} {'read whole (s)':>14s} {'ratio':>7s}  matches")
        for n in names:
            a, b = mine[n][0], theirs[n][0]
            print(f"{n:34s} {a:10.3f} {b:14.3f} {b / a:6.1f}x  {mine[n][1]:,} (peer {theirs[n][1]:,})")
        print(f"\npeak RSS: review {rss_mine:,.0f} MB, read whole {rss_theirs:,.0f} MB "
              f"({rss_theirs / rss_mine:.1f}x)")


if __name__ == "__main__":
    main()
