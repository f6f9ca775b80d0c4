"""Ingest speed: read_chunk over plan_chunks against datatrove's JsonlReader, same file, same run.

    PYTHONPATH=... python bench/ingest.py [--rows 1000000] [--peer-rows 200000] [--dirty]

Builds an Alpaca-style JSONL of --rows rows from ../shared/data/external (alpaca_libre v1 with its status /
similarity fields, gpteacher codegen + toolformer renamed to instruction/input/output), repeating rows with a
variant suffix so they stay distinct; --dirty adds alpaca_libre v2's 14 malformed lines every 50k rows. Then
times, in one process:
  new    plan_chunks + read_chunk for every chunk (+ the cross-chunk id check) on the whole file
  peer   datatrove's JsonlReader (orjson per line, an adapter mapping instruction/input/output to a Document's
         text and the other fields to its metadata; it skips a malformed line with a warning) on the first
         --peer-rows rows
  polars pl.read_ndjson on the same bytes: parse only, no mapping or checks (a ceiling, not a peer:
         it coerces 42 to "42" and cannot say which line is bad)
and prints rows/s of wall time and rows per CPU-second (the per-core figure, meaningful on a shared machine)
and the new/peer ratios. Results: bench/RESULTS-ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from dsforge.pipelines.core.readers import InputSpec, duplicate_id_rejects, plan_chunks, read_chunk

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "external"


def base_rows() -> list[dict]:
    rows = [json.loads(line) for line in (EXTERNAL / "alpaca_libre/alpaca_libre_tasks_v1.jsonl").open() if line.strip()]
    for name in ("codegen-instruct.json", "toolformer-dedupe-only-dataset.json"):
        for r in json.loads((EXTERNAL / "gpteacher" / name).read_text()):
            rows.append({"instruction": r["instruction"], "input": r.get("input", ""), "output": r["response"]})
    return rows


def build(path: Path, n: int, dirty: bool) -> None:
    rows = base_rows()
    bad = [ln for ln in (EXTERNAL / "alpaca_libre/alpaca_libre_tasks_v2.jsonl").read_text().splitlines()
           if ln.strip() and not _parses(ln)]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            r = rows[i % len(rows)]
            if i >= len(rows):
                r = {**r, "instruction": f"{r['instruction']} (variant {i // len(rows)})"}
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            if dirty and i % 50_000 == 0:
                f.write("\n".join(bad) + "\n")


def _parses(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def timed(fn):
    """(wall seconds, CPU seconds of this process, all threads) of fn(), and its result. On a shared machine
    the CPU figure is the per-core one: it does not count time spent waiting for a core."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def read_new(path: Path) -> tuple[int, int]:
    spec = InputSpec(path=str(path), mapping="alpaca", source="bench")
    parts = [read_chunk(spec, c) for c in plan_chunks(spec, 0, None)]
    duplicate_id_rejects(pl.concat([p.id_keys for p in parts]))
    return sum(p.kept.height for p in parts), sum(p.rejected.height for p in parts)


def read_peer(path: Path, rows: int) -> int:
    from datatrove.pipeline.readers import JsonlReader

    def alpaca(self, data: dict, source: str, id_in_file: int) -> dict:
        text = "\n\n".join(str(data.pop(k, "") or "") for k in ("instruction", "input", "output"))
        return {"text": text, "id": f"bench:line{id_in_file}", "media": [], "metadata": data}

    reader = JsonlReader(str(path.parent), glob_pattern=path.name, limit=rows, adapter=alpaca)
    return sum(1 for _ in reader.run())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--peer-rows", type=int, default=200_000)
    ap.add_argument("--dirty", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alpaca-1m.jsonl"
        build(path, args.rows, args.dirty)
        size = path.stat().st_size
        print(f"file: {args.rows:,} rows{' + malformed lines' if args.dirty else ''}, {size / 1e6:.0f} MB; "
              f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        wall, cpu, (kept, rej) = timed(lambda: read_new(path))
        n = kept + rej
        print(f"new    read_chunk: {n:,} rows ({kept:,} kept, {rej:,} rejected): {wall:.1f} s wall = {n / wall:,.0f} rows/s; "
              f"{cpu:.1f} s CPU = {n / cpu:,.0f} rows per CPU-second")
        pwall, pcpu, pn = timed(lambda: read_peer(path, args.peer_rows))
        print(f"peer   datatrove JsonlReader: {pn:,} rows: {pwall:.1f} s wall = {pn / pwall:,.0f} rows/s; "
              f"{pcpu:.1f} s CPU = {pn / pcpu:,.0f} rows per CPU-second")
        if not args.dirty:
            qwall, qcpu, df = timed(lambda: pl.read_ndjson(path))
            print(f"polars read_ndjson (parse only, not a peer): {df.height:,} rows: {df.height / qwall:,.0f} rows/s wall; "
                  f"{df.height / qcpu:,.0f} rows per CPU-second")
        per_core = n / cpu
        print(f"ratio new/peer: {(n / wall) / (pn / pwall):.1f}x wall, {per_core / (pn / pcpu):.1f}x CPU; "
              f"target >= 100,000 rows/s per core: {'met' if per_core >= 100_000 else 'NOT met'} "
              f"({per_core:,.0f} rows per CPU-second); load now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
