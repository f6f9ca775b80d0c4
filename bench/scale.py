"""Scale benchmark: the cleaning chain over N rows, 1 worker vs every core, memory vs size, and datatrove.

    .venv/bin/python bench/scale.py workers --rows 1000000      # --workers 1 and all cores, same run: ratio
    .venv/bin/python bench/scale.py memory --rows 250000 1000000  # peak RSS (driver + workers) per size
    .venv/bin/python bench/scale.py datatrove --rows 1000000     # ours vs datatrove's nearest pipeline
    .venv/bin/python bench/scale.py big --rows 5000000           # one run that must finish
    .venv/bin/python bench/scale.py all                          # 250k and 1M, 1 and all workers, datatrove

The chain (`dsforge run --no-prefect`): ingest -> rules -> clean-markup -> language-filter -> quality-filter
-> exact-dedup -> minhash-dedup -> save (Parquet). Data: bench/scale_data.py (real rows from
../shared/data/external, repeated with edits, near-duplicates included), built once under bench/out/.
Peak RSS is the largest sum of RSS over the run's whole process tree (driver and workers), sampled
every 0.2 s. datatrove's contender: JsonlReader -> language filter -> GopherQualityFilter -> its 4 MinHash
steps -> ParquetWriter on LocalPipelineExecutor with the same number of tasks and workers; its own
LanguageFilter downloads a fastText model, so the offline stand-in is a LambdaFilter over py3langid,
the library our language-filter uses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).with_name("dsforge")
CHAIN = """name: scale-chain
inputs:
  - {{path: {path}, mapping: alpaca, source: docs}}
stages:
  - rules
  - clean-markup
  - language-filter
  - quality-filter
  - {{stage: exact-dedup, fields: [prompt, response]}}
  - minhash-dedup
  - {{stage: save, formats: [parquet]}}
"""


def data(rows: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"alpaca-{rows}.jsonl"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "bench"))
        from scale_data import build

        build(rows, path)
    return path


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Wall seconds and peak RSS (MB) of a command's whole process tree."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    out = proc.stdout.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak / 2**20), "output": out}


def run_chain(rows: int, workers: int | None) -> dict:
    path = data(rows)
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=OUT))
    recipe = work / "chain.yaml"
    recipe.write_text(CHAIN.format(path=path))
    cmd = [str(BIN), "run", str(recipe), "--no-prefect", "--quiet", "--force", "--out", str(work / "runs")]
    if workers:
        cmd += ["--workers", str(workers)]
    res = measure(cmd)
    run_dir = next((work / "runs").glob("scale-chain-*"))
    summary = json.loads((run_dir / "run.json").read_text())
    res.update(rows=rows, workers=workers or os.cpu_count(), rows_per_s=round(rows / res["seconds"]),
               kept=summary["steps"][-1]["kept"],
               steps={s["step"]: s["seconds"] for s in summary["steps"]})
    res.pop("output")
    subprocess.run(["rm", "-rf", str(work)])
    return res


def datatrove_chain(rows: int, tasks: int) -> dict:
    path = data(rows)
    work = Path(tempfile.mkdtemp(prefix="dt-", dir=OUT))
    res = measure([sys.executable, __file__, "_datatrove", str(path), str(work), str(tasks)])
    res.update(rows=rows, workers=tasks, rows_per_s=round(rows / res["seconds"]))
    res["kept"] = int(res.pop("output").strip().splitlines()[-1])
    subprocess.run(["rm", "-rf", str(work)])
    return res


def _datatrove_child(path: str, work: str, tasks: int) -> None:
    """datatrove's nearest equivalent pipeline, as its examples run it (prints the rows written)."""
    import polars as pl
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.pipeline.filters import GopherQualityFilter, LambdaFilter
    from datatrove.pipeline.readers import JsonlReader, ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.hashing import HashConfig
    from loguru import logger

    logger.disable("datatrove")
    w = Path(work)
    # the same input cut into `tasks` files, as datatrove reads one file per task (not timed apart: part of it)
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    (w / "in").mkdir(parents=True)
    step = -(-len(lines) // tasks)
    for k in range(tasks):
        (w / "in" / f"{k:05d}.jsonl").write_text("".join(lines[k * step:(k + 1) * step]), encoding="utf-8")
    del lines

    def adapter(self, data: dict, path: str, id_in_file: int | str) -> dict:
        text = "\n\n".join(x for x in (data.get("instruction"), data.get("input"), data.get("output")) if x)
        return {"text": text, "id": data.get("id", f"{path}/{id_in_file}"), "metadata": {}}

    def english(doc) -> bool:
        import py3langid

        return py3langid.classify(doc.text)[0] == "en"

    cfg = MinhashConfig(n_grams=5, num_buckets=9, hashes_per_bucket=13, seed=1,
                        hash_config=HashConfig(precision=64, hash_fc="sha1"))
    LocalPipelineExecutor([JsonlReader(str(w / "in"), adapter=adapter), LambdaFilter(english), GopherQualityFilter(),
                           ParquetWriter(str(w / "filtered")),], tasks=tasks, workers=tasks,
                          logging_dir=str(w / "l0")).run()
    LocalPipelineExecutor([ParquetReader(str(w / "filtered")), MinhashDedupSignature(str(w / "sigs"), config=cfg)],
                          tasks=tasks, workers=tasks, logging_dir=str(w / "l1")).run()
    LocalPipelineExecutor([MinhashDedupBuckets(str(w / "sigs"), str(w / "buckets"), config=cfg)],
                          tasks=cfg.num_buckets, workers=tasks, logging_dir=str(w / "l2")).run()
    LocalPipelineExecutor([MinhashDedupCluster(str(w / "buckets"), str(w / "remove"), config=cfg)],
                          tasks=1, logging_dir=str(w / "l3")).run()
    LocalPipelineExecutor([ParquetReader(str(w / "filtered")), MinhashDedupFilter(str(w / "remove")),
                           ParquetWriter(str(w / "out"))], tasks=tasks, workers=tasks, logging_dir=str(w / "l4")).run()
    print(sum(pl.scan_parquet(str(f)).select(pl.len()).collect().item() for f in (w / "out").rglob("*.parquet")))


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start"


def table(results: list[dict]) -> str:
    lines = ["| contender | rows | workers | seconds | rows/s | peak RSS MB | kept |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['name']} | {r['rows']:,} | {r['workers']} | {r['seconds']} | {r['rows_per_s']:,} | "
                     f"{r['peak_rss_mb']:,} | {r.get('kept', '')} |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_datatrove":
        return _datatrove_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("workers", "memory", "datatrove", "big", "all"))
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {machine()}")
    results = []
    if args.what == "all":
        small = run_chain(250_000, cores) | {"name": f"dsforge --workers {cores}"}
        one = run_chain(1_000_000, 1) | {"name": "dsforge --workers 1"}
        all_ = run_chain(1_000_000, cores) | {"name": f"dsforge --workers {cores}"}
        dt = datatrove_chain(1_000_000, cores) | {"name": f"datatrove LocalPipelineExecutor tasks={cores} workers={cores}"}
        results += [small, one, all_, dt]
        print(f"1M rows: {cores} workers / 1 worker = {one['seconds'] / all_['seconds']:.2f}x rows/s")
        print(f"peak RSS at 1M / at 250k = {all_['peak_rss_mb'] / small['peak_rss_mb']:.2f}x "
              f"({all_['peak_rss_mb']:,} MB / {small['peak_rss_mb']:,} MB)")
        print(f"1M rows: dsforge / datatrove = {dt['seconds'] / all_['seconds']:.2f}x rows/s")
    elif args.what == "workers":
        for n in args.rows:
            one = run_chain(n, 1) | {"name": "dsforge --workers 1"}
            all_ = run_chain(n, cores) | {"name": f"dsforge --workers {cores}"}
            results += [one, all_]
            print(f"{n:,} rows: {cores} workers / 1 worker = {one['seconds'] / all_['seconds']:.2f}x rows/s")
    elif args.what == "memory":
        for n in args.rows:
            results.append(run_chain(n, cores) | {"name": f"dsforge --workers {cores}"})
        base = results[0]["peak_rss_mb"]
        for r in results:
            print(f"{r['rows']:,} rows: peak RSS {r['peak_rss_mb']:,} MB = {r['peak_rss_mb'] / base:.2f}x the "
                  f"{results[0]['rows']:,}-row run")
    elif args.what == "datatrove":
        for n in args.rows:
            ours = run_chain(n, cores) | {"name": f"dsforge --workers {cores}"}
            dt = datatrove_chain(n, cores) | {"name": f"datatrove LocalPipelineExecutor tasks={cores} workers={cores}"}
            results += [ours, dt]
            print(f"{n:,} rows: dsforge / datatrove = {dt['seconds'] / ours['seconds']:.2f}x rows/s")
    else:
        for n in args.rows:
            results.append(run_chain(n, cores) | {"name": f"dsforge --workers {cores}"})
    print(table(results))
    for r in results:
        if "steps" in r:
            print(f"{r['name']} {r['rows']:,} rows, seconds per step: {json.dumps(r['steps'])}")


if __name__ == "__main__":
    main()
