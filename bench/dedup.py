"""Benchmark minhash-dedup: quality against exact Jaccard, and speed/memory against datasketch and datatrove.

    .venv/bin/python bench/dedup.py quality [--originals 3000]   # P/R/F1 vs true Jaccard, S-curve table
    .venv/bin/python bench/dedup.py speed   [--copies 5]         # 100k+ docs: docs/s, peak RSS, ratios
    .venv/bin/python bench/dedup.py all

Data: real texts from ../shared/data/external (gpteacher, alpaca-libre, self-instruct T0) plus edited copies
with known edit types and rates (tests/neardup_set.py). Every speed contender runs in its own
subprocess on the same documents (peak RSS = that process and its children), with the same MinHash
parameters: word 5-grams, 128 permutations, threshold 0.8 -> 9 bands x 13 rows (datasketch's optimum).

Contenders:
  ours            minhash-dedup, engine in-process (NumPy), verify on (whole stage: keep rule, audit table)
  ours-noverify   the same without the candidate verification (plain LSH semantics, like the others)
  ours-datatrove  minhash-dedup, engine datatrove: our NumPy signatures written as datatrove's signature
                  files, then datatrove's bucket and cluster steps (LocalPipelineExecutor, 4 tasks, 1 worker)
  ours-datatrove-dtsig  the same with datatrove's own signature step (signatures: datatrove)
  datasketch      MinHash + MinHashLSH used the obvious way: one MinHash per doc, update() per shingle,
                  insert, then query every doc and union the results
  datatrove       datatrove's own 4-step MinHash pipeline as in its example (examples/minhash_deduplication.py)
                  reading JSONL, with HashConfig(precision=64, hash_fc="sha1") (xxhash bug), 9x13 buckets
Recall (speed run): share of (original, copy) and (copy, copy) pairs of a family with true Jaccard >= 0.8
that end in the same cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
THRESHOLD, NUM_PERM, NGRAM = 0.8, 128, 5
sys.path.insert(0, str(ROOT / "tests"))  # neardup_set: the labelled set is a test fixture, not library code
METHODS = ("ours", "ours-noverify", "ours-datatrove", "ours-datatrove-dtsig", "datasketch", "datatrove")


# ------------------------------------------------------------------ helpers


def build_set(originals: int | None, copies: int, seed: int = 0) -> pl.DataFrame:
    from neardup_set import load_real_texts, make_set

    real = load_real_texts(EXTERNAL)
    if originals:
        real = real.sample(n=min(originals, real.height), seed=seed, shuffle=True)
    return make_set(real, copies=copies, rates=(0.01, 0.35), seed=seed)


def py_shingles(text: str) -> list[str]:
    """The obvious Python shingling for datasketch: lower, punctuation -> space, word 5-grams."""
    words = re.sub(r"[^\w\s]+", " ", text.lower()).split()
    if len(words) < NGRAM:
        return [" ".join(words)] if words else []
    return [" ".join(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)]


def union_find_labels(n: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    from dsforge.pipelines.neardup.lsh import components

    if not pairs:
        return np.full(n, -1)
    a = np.array(pairs, dtype=np.int64)
    return components(n, a[:, 0], a[:, 1])


def labels_from_result(df_ids: list[str], res) -> np.ndarray:
    pos = {i: k for k, i in enumerate(df_ids)}
    labels = np.full(len(df_ids), -1)
    for part in (res.kept, res.rejected):
        idx = np.array([pos[i] for i in part["id"].to_list()], dtype=np.int64)
        labels[idx] = part["dup_cluster"].fill_null(-1).to_numpy()
    return labels


def rss_mb() -> dict:
    """This process's own peak RSS (VmHWM: reset at exec, unlike getrusage's ru_maxrss, which a child
    inherits from the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return {"own_peak_rss_mb": round(int(line.split()[1]) / 1024, 1)}
    return {"own_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_measured(cmd: list[str], log: Path) -> tuple[int, float]:
    """Run a command; return (exit code, peak of the summed RSS of it and all its descendants, in MB),
    sampled every 20 ms with psutil (datatrove's executor starts a Manager and worker processes)."""
    import psutil

    with open(log, "w") as err:
        proc = psutil.Popen(cmd, stdout=err, stderr=err)
        peak = 0
        while proc.poll() is None:
            total = 0
            try:
                for p in [proc, *proc.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peak = max(peak, total)
            time.sleep(0.02)
    return proc.returncode, peak / 2**20


# ------------------------------------------------------------------ contenders (run in a subprocess each)


def run_ours(texts: list[str], work: Path, engine: str, verify: bool = True,
             signatures: str = "numpy") -> tuple[np.ndarray, dict]:
    from dsforge.dedup.minhash import MinhashDedup
    from dsforge.pipelines.core import records
    from dsforge.pipelines.core.stage import StageContext

    df = records.from_rows({"id": str(i), "source": "b", "kind": "document", "text": t} for i, t in enumerate(texts))
    stage = MinhashDedup({"threshold": THRESHOLD, "num_perm": NUM_PERM, "ngram": NGRAM, "engine": engine,
                          "verify": verify, "tasks": 4, "workers": 1, "field": "text",
                          "signatures": signatures})
    t0 = time.perf_counter()
    res = stage.process(df, StageContext(work_dir=work, seed=1))
    seconds = time.perf_counter() - t0
    return labels_from_result(df["id"].to_list(), res), {"seconds": seconds, "phases": res.stats}


def run_datasketch(texts: list[str]) -> tuple[np.ndarray, dict]:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    sigs = []
    t_shingle = t_update = t_insert = 0.0
    for i, text in enumerate(texts):
        a = time.perf_counter()
        sh = py_shingles(text)
        b = time.perf_counter()
        m = MinHash(num_perm=NUM_PERM)
        for s in sh:
            m.update(s.encode("utf8"))
        c = time.perf_counter()
        lsh.insert(i, m)
        sigs.append(m)
        t_shingle += b - a
        t_update += c - b
        t_insert += time.perf_counter() - c
    a = time.perf_counter()
    pairs = [(i, j) for i, m in enumerate(sigs) for j in lsh.query(m) if j != i]
    t_query = time.perf_counter() - a
    labels = union_find_labels(len(texts), pairs)
    seconds = time.perf_counter() - t0
    return labels, {"seconds": seconds, "phases": {"shingle_s": t_shingle, "minhash_update_s": t_update,
                                                    "lsh_insert_s": t_insert, "lsh_query_s": t_query,
                                                    "bands": lsh.b, "rows": lsh.r}}


def run_datatrove_own(texts: list[str], work: Path) -> tuple[np.ndarray, dict]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from loguru import logger

    from dsforge.dedup.minhash_datatrove import read_cluster_ids

    tasks = 4
    bounds = np.linspace(0, len(texts), tasks + 1).astype(int)
    inp = work / "input"
    inp.mkdir(parents=True)
    for k in range(tasks):  # the user's JSONL files (not timed)
        pl.DataFrame({"id": [str(i) for i in range(bounds[k], bounds[k + 1])],
                      "text": texts[bounds[k]:bounds[k + 1]]}).write_ndjson(inp / f"{k:05d}.jsonl")
    cfg = MinhashConfig(n_grams=NGRAM, num_buckets=9, hashes_per_bucket=13, seed=1,
                        hash_config=HashConfig(precision=64, hash_fc="sha1"))
    logger.disable("datatrove")
    phases = {}
    t0 = time.perf_counter()
    LocalPipelineExecutor([JsonlReader(str(inp)), MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)],
                          tasks=tasks, workers=1, logging_dir=str(work / "logs1")).run()
    phases["1_signatures_s"] = time.perf_counter() - t0
    LocalPipelineExecutor([MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"),
                                               config=cfg)], tasks=cfg.num_buckets, workers=1,
                          logging_dir=str(work / "logs2")).run()
    phases["2_buckets_s"] = time.perf_counter() - t0 - sum(phases.values())
    LocalPipelineExecutor([MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"),
                                               config=cfg, save_cluster_id=True)], tasks=1,
                          logging_dir=str(work / "logs3")).run()
    phases["3_clusters_s"] = time.perf_counter() - t0 - sum(phases.values())
    LocalPipelineExecutor([JsonlReader(str(inp)), MinhashDedupFilter(input_folder=str(work / "remove"),
                                                                     exclusion_writer=JsonlWriter(str(work / "removed"))),
                           JsonlWriter(output_folder=str(work / "out"))],
                          tasks=tasks, workers=1, logging_dir=str(work / "logs4")).run()
    phases["4_filter_s"] = time.perf_counter() - t0 - sum(phases.values())
    seconds = time.perf_counter() - t0
    labels = np.full(len(texts), -1)
    for k in range(tasks):
        doc, cid = read_cluster_ids(work / "remove", k)
        labels[bounds[k] + doc] = cid
    return labels, {"seconds": seconds, "phases": phases}


def child(method: str, data: Path, out: Path) -> None:
    texts = pl.read_parquet(data)["text"].to_list()
    base = rss_mb()["own_peak_rss_mb"]
    work = Path(tempfile.mkdtemp(prefix=f"bench-{method}-"))
    if method == "ours":
        labels, info = run_ours(texts, work, "in-process")
    elif method == "ours-noverify":
        labels, info = run_ours(texts, work, "in-process", verify=False)
    elif method == "ours-datatrove":
        labels, info = run_ours(texts, work, "datatrove")
    elif method == "ours-datatrove-dtsig":
        labels, info = run_ours(texts, work, "datatrove", signatures="datatrove")
    elif method == "datasketch":
        labels, info = run_datasketch(texts)
    elif method == "datatrove":
        labels, info = run_datatrove_own(texts, work)
    elif method == "baseline":
        labels, info = np.full(len(texts), -1), {"seconds": 0.0, "phases": {}}
    else:
        raise SystemExit(f"unknown method {method}")
    np.save(out.with_suffix(".npy"), labels)
    out.write_text(json.dumps({"method": method, "docs": len(texts), "rss_after_load_mb": base, **info, **rss_mb()},
                              default=float))


# ------------------------------------------------------------------ speed


def family_truth(data: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pairs inside a family (original + its copies) with exact Jaccard >= THRESHOLD."""
    from dsforge.pipelines.neardup.shingles import shingle_hashes

    sh = shingle_hashes(data["text"], NGRAM)
    sets = [set(x.tolist()) for x in np.split(sh.hashes, np.cumsum(sh.counts)[:-1])]
    fam = data["family"].to_numpy()
    left, right = [], []
    starts = np.flatnonzero(np.r_[True, fam[1:] != fam[:-1]])
    ends = np.r_[starts[1:], len(fam)]
    for s, e in zip(starts, ends):
        for i in range(s, e):
            for j in range(i + 1, e):
                a, b = sets[i], sets[j]
                if a and b and len(a & b) >= THRESHOLD * len(a | b):
                    left.append(i), right.append(j)
    return np.array(left), np.array(right)


def speed(args) -> dict:
    data = build_set(args.originals_speed, args.copies, seed=0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    data_path = tmp / "docs.parquet"
    data.select("text").write_parquet(data_path)
    print(f"speed set: {data.height:,} docs ({data['family'].n_unique():,} originals + edited copies), "
          f"{data['text'].str.len_chars().sum() / 1e6:.1f} M chars; workdir {tmp}", flush=True)
    li, ri = family_truth(data)
    print(f"true family pairs with Jaccard >= {THRESHOLD}: {len(li):,}", flush=True)
    results = {}
    for method in ("baseline", *args.methods):
        out = tmp / f"{method}.json"
        t0 = time.perf_counter()
        log = tmp / f"{method}.log"
        rc, peak = run_measured([sys.executable, __file__, "_child", method, str(data_path), str(out)], log)
        if rc != 0:
            print(f"{method}: FAILED\n{log.read_text()[-3000:]}", flush=True)
            continue
        r = json.loads(out.read_text())
        r["peak_rss_mb"] = round(peak, 1)
        labels = np.load(out.with_suffix(".npy"))
        found = (labels[li] >= 0) & (labels[li] == labels[ri]) if len(li) else np.zeros(0, bool)
        r["recall"] = float(found.mean()) if len(li) else float("nan")
        in_clusters = labels >= 0
        r["rows_in_clusters"] = int(in_clusters.sum())
        r["clusters"] = int(len(np.unique(labels[in_clusters])))
        r["removed"] = r["rows_in_clusters"] - r["clusters"]
        r["docs_per_s"] = data.height / r["seconds"] if r["seconds"] else float("nan")
        r["wall_s"] = time.perf_counter() - t0
        results[method] = r
        if method != "baseline":
            print(f"{method:15s} {r['seconds']:8.1f} s  {r['docs_per_s']:9,.0f} docs/s  peak RSS {r['peak_rss_mb']:7.0f} MB"
                  f" (main process {r['own_peak_rss_mb']:.0f} MB)  recall {r['recall']:.4f}  removed {r['removed']:,}",
                  flush=True)
        else:
            print(f"baseline (python + polars + the texts loaded): peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    if "ours" in results:
        print("\nratios (ours in-process vs each; >1 = ours faster / smaller):")
        o = results["ours"]
        for m, r in results.items():
            if m in ("ours", "baseline"):
                continue
            print(f"  vs {m:15s} speed x{o['docs_per_s'] / r['docs_per_s']:6.1f}   peak RSS x{r['peak_rss_mb'] / o['peak_rss_mb']:5.2f}"
                  f"   recall {o['recall']:.4f} vs {r['recall']:.4f}")
        print("\nwhere the time goes:")
        for m, r in results.items():
            if m != "baseline":
                ph = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r["phases"].items()
                      if k.endswith("_s") or k in ("bands", "rows")}
                print(f"  {m:15s} {ph}")
    return {"docs": data.height, "results": results}


# ------------------------------------------------------------------ quality


def all_bucket_pairs(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Every pair that shares a bucket in some band (as MinHashLSH.query returns), as i * N + j codes."""
    from dsforge.pipelines.neardup.lsh import band_keys

    n = len(sig)
    codes = []
    for band in range(bands):
        keys = band_keys(sig, band, rows)
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        bounds = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1], True])
        for s, e in zip(bounds[:-1], bounds[1:]):
            if e - s > 1:
                m = np.sort(order[s:e])
                i, j = np.triu_indices(len(m), 1)
                codes.append(m[i].astype(np.int64) * n + m[j])
    return np.unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)


def prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    tp = len(np.intersect1d(pred, truth, assume_unique=True))
    p = tp / len(pred) if len(pred) else 1.0
    r = tp / len(truth) if len(truth) else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def row_prf(pred_rows: np.ndarray, truth_rows: np.ndarray) -> tuple[float, float, float]:
    tp = (pred_rows & truth_rows).sum()
    p = tp / max(pred_rows.sum(), 1)
    r = tp / max(truth_rows.sum(), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def quality(args) -> dict:
    from datasketch import MinHash

    from dsforge.pipelines.neardup import lsh
    from dsforge.dedup.minhash import MinhashDedup
    from dsforge.pipelines.neardup.minhash import minhash_signatures
    from neardup_set import exact_jaccard_pairs

    data = build_set(args.originals, 2, seed=1)
    n = data.height
    cfg = MinhashDedup.Config(threshold=THRESHOLD, num_perm=NUM_PERM, ngram=NGRAM)
    bands, rows = cfg.lsh_params()
    print(f"quality set: {n:,} docs ({args.originals:,} originals + 2 edited copies each); "
          f"word {NGRAM}-grams, {NUM_PERM} perms, threshold {THRESHOLD} -> {bands} bands x {rows} rows", flush=True)
    t0 = time.perf_counter()
    pairs = exact_jaccard_pairs(data["text"], NGRAM, min_jaccard=0.2)
    print(f"exact Jaccard of all pairs (sparse X Xt): {pairs.height:,} pairs >= 0.2 in {time.perf_counter() - t0:.1f} s")
    pi, pj, pjac = pairs["i"].to_numpy(), pairs["j"].to_numpy(), pairs["jaccard"].to_numpy()
    truth = np.sort(pi[pjac >= THRESHOLD] * n + pj[pjac >= THRESHOLD])

    sig, _, _ = minhash_signatures(data["text"], cfg, seed=1)
    ds_sig = np.empty((n, NUM_PERM), dtype=np.uint64)
    for k, text in enumerate(data["text"].to_list()):
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([s.encode("utf8") for s in py_shingles(text)])
        ds_sig[k] = m.hashvalues

    def candidate(s: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(pi), dtype=bool)
        for b in range(bands):
            hit |= (s[pi, b * rows:(b + 1) * rows] == s[pj, b * rows:(b + 1) * rows]).all(axis=1)
        return hit

    ours_c, ds_c = candidate(sig), candidate(ds_sig)
    print("\nS-curve: P(pair becomes an LSH candidate) by true Jaccard, theory 1-(1-s^r)^b vs observed")
    print(f"{'true J':>11s} {'pairs':>9s} {'theory':>8s} {'ours':>8s} {'datasketch':>10s}")
    edges = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0001]
    curve = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (pjac >= lo) & (pjac < hi)
        if not sel.any():
            continue
        row = (lo, min(hi, 1.0), int(sel.sum()), float(lsh.s_curve(pjac[sel], bands, rows).mean()),
               float(ours_c[sel].mean()), float(ds_c[sel].mean()))
        curve.append(row)
        print(f"[{lo:.2f},{min(hi, 1):.2f}) {row[2]:9,d} {row[3]:8.3f} {row[4]:8.3f} {row[5]:10.3f}")
    print("theoretical S-curve of the chosen bands/rows:")
    print("  s:    " + " ".join(f"{s:5.2f}" for s in np.arange(0.5, 1.0001, 0.05)))
    print("  P:    " + " ".join(f"{lsh.s_curve(s, bands, rows):5.3f}" for s in np.arange(0.5, 1.0001, 0.05)))

    # pair level: predicted pairs against true Jaccard >= threshold
    ours_pairs = all_bucket_pairs(sig, bands, rows)
    est = lsh.estimated_jaccard(sig, ours_pairs // n, ours_pairs % n)
    ours_verified = ours_pairs[est >= THRESHOLD]
    ds_pairs = all_bucket_pairs(ds_sig, bands, rows)
    print(f"\npair level (truth: {len(truth):,} pairs with exact Jaccard >= {THRESHOLD}):")
    print(f"{'method':34s} {'pairs':>8s} {'precision':>9s} {'recall':>7s} {'F1':>6s}")
    table = {}
    for name, pred in (("ours LSH candidates", ours_pairs), ("ours candidates verified (default)", ours_verified),
                       ("datasketch MinHashLSH query", ds_pairs)):
        p, r, f = prf(pred, truth)
        table[name] = (len(pred), p, r, f)
        print(f"{name:34s} {len(pred):8,d} {p:9.3f} {r:7.3f} {f:6.3f}")

    # row level: is a row flagged as (part of) a duplicate cluster, against "has a partner with J >= t"
    truth_rows = np.zeros(n, bool)
    truth_rows[truth // n] = truth_rows[truth % n] = True
    from dsforge.pipelines.core import records
    from dsforge.pipelines.core.stage import StageContext

    df = records.from_rows({"id": str(i), "source": "q", "kind": "document", "text": t}
                           for i, t in enumerate(data["text"].to_list()))
    print(f"\nrow level (truth: {truth_rows.sum():,} rows that have a partner with exact Jaccard >= {THRESHOLD}):")
    print(f"{'method':34s} {'flagged':>8s} {'precision':>9s} {'recall':>7s} {'F1':>6s}")
    rowtab = {}
    with tempfile.TemporaryDirectory() as work:
        for name, params in (("ours in-process (verify)", {}), ("ours in-process (no verify)", {"verify": False}),
                             ("ours datatrove engine", {"engine": "datatrove", "tasks": 2})):
            res = MinhashDedup({"threshold": THRESHOLD, "field": "text", **params}).process(
                df, StageContext(work_dir=Path(work) / name.replace(" ", "_"), seed=1))
            flagged = labels_from_result(df["id"].to_list(), res) >= 0
            rowtab[name] = (int(flagged.sum()), *row_prf(flagged, truth_rows))
        ds_labels = union_find_labels(n, list(zip((ds_pairs // n).tolist(), (ds_pairs % n).tolist())))
        rowtab["datasketch MinHashLSH"] = (int((ds_labels >= 0).sum()), *row_prf(ds_labels >= 0, truth_rows))
    for name, (k, p, r, f) in rowtab.items():
        print(f"{name:34s} {k:8,d} {p:9.3f} {r:7.3f} {f:6.3f}")

    # edits: how edit type and rate map to Jaccard, and what is caught
    orig = {f: k for k, f in enumerate(data["family"].to_list()) if data["edit"][k] == "original"}
    copy_rows = data.with_row_index("k").filter(pl.col("edit") != "original")
    code_pairs = np.array([min(orig[f], k) * n + max(orig[f], k) for f, k in zip(copy_rows["family"], copy_rows["k"])])
    jac = dict(zip((pi * n + pj).tolist(), pjac.tolist()))
    copy_rows = copy_rows.with_columns(
        pl.Series("jaccard", [jac.get(int(c), 0.0) for c in code_pairs]),
        pl.Series("caught", np.isin(code_pairs, ours_verified)),
        pl.when(pl.col("rate") <= 0.05).then(pl.lit("a <=5%")).when(pl.col("rate") <= 0.1).then(pl.lit("b 5-10%"))
        .when(pl.col("rate") <= 0.2).then(pl.lit("c 10-20%")).otherwise(pl.lit("d >20%")).alias("rate_bin"))
    by_edit = (copy_rows.group_by("edit", "rate_bin").agg(
        pl.len().alias("copies"), pl.col("jaccard").mean().round(3).alias("mean_true_J"),
        (pl.col("jaccard") >= THRESHOLD).mean().round(3).alias("share_J>=t"),
        pl.col("caught").mean().round(3).alias("caught_by_ours"))
        .sort("edit", "rate_bin"))
    print("\n(copy, original) pairs by edit type and edit rate:")
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(by_edit)
    return {"bands": bands, "rows": rows, "curve": curve, "pairs": table, "rows_level": rowtab}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["quality", "speed", "all"])
    ap.add_argument("--originals", type=int, default=3000, help="quality: originals sampled (2 copies each)")
    ap.add_argument("--originals-speed", type=int, default=None, help="speed: originals (default: all ~17k)")
    ap.add_argument("--copies", type=int, default=5, help="speed: edited copies per original")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    args = ap.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    print(f"machine: {os.cpu_count()} CPU cores (shared with other jobs; load average {os.getloadavg()[0]:.1f})")
    if args.what in ("quality", "all"):
        quality(args)
    if args.what in ("speed", "all"):
        speed(args)


if __name__ == "__main__":
    main()
