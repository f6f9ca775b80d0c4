"""The datatrove engine of minhash-dedup: datatrove's MinHash steps with its LocalPipelineExecutor.

Why: the in-process engine holds every signature in memory (N x num_perm x 4 bytes). datatrove writes
signatures per bucket to disk, sorts them per task, merges sorted files with a heap (memory O(files), not
O(N)) and keeps in memory only the union-find of rows that do have a duplicate. Input shards are processed
by `tasks` tasks on `workers` processes, so the same code scales to files larger than RAM
(`run_datatrove_minhash` works on a folder of JSONL files directly).

The stage config maps onto datatrove's MinhashConfig: ngram -> n_grams, bands -> num_buckets,
rows -> hashes_per_bucket, seed -> seed. Hashing uses HashConfig(precision=64, hash_fc="sha1") because
datatrove 0.10's default xxhash call fails with xxhash 4.x (see shared/notes/environment.md). Step 4
(MinhashDedupFilter) is not run: we read datatrove's cluster ids and apply our own keep rule, so both
engines keep rows by the same rule. `verify` and character shingles do not exist in datatrove.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl


def datatrove_config(cfg, seed: int):
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    bands, rows = cfg.lsh_params()
    return MinhashConfig(n_grams=cfg.ngram, num_buckets=bands, hashes_per_bucket=rows, seed=seed,
                         hash_config=HashConfig(precision=64, hash_fc="sha1"))


def run_datatrove_minhash(input_folder: Path, work: Path, cfg, seed: int, tasks: int, workers: int,
                          text_key: str = "text", glob_pattern: str = "*.jsonl") -> Path:
    """Signatures -> buckets -> clusters for a folder of JSONL files; returns the folder with the
    `<task:06d>.clusters` / `.remove` files (doc index within task file, cluster id)."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupSignature
    from datatrove.pipeline.readers import JsonlReader

    from loguru import logger

    mh = datatrove_config(cfg, seed)
    sigs, buckets, clusters, logs = (work / d for d in ("signatures", "buckets", "clusters", "logs"))
    reader = JsonlReader(str(input_folder), text_key=text_key, glob_pattern=glob_pattern, add_file_path=False)
    common = dict(workers=min(workers, tasks), skip_completed=False)
    logger.disable("datatrove")  # per-task logs flood the terminal; stats still land in logs/*/stats.json
    try:
        LocalPipelineExecutor([reader, MinhashDedupSignature(str(sigs), config=mh)], tasks=tasks,
                              logging_dir=str(logs / "1-signatures"), **common).run()
        LocalPipelineExecutor([MinhashDedupBuckets(str(sigs), str(buckets), config=mh)], tasks=mh.num_buckets,
                              workers=min(workers, mh.num_buckets), logging_dir=str(logs / "2-buckets"),
                              skip_completed=False).run()
        LocalPipelineExecutor([MinhashDedupCluster(str(buckets), str(clusters), config=mh, save_cluster_id=True)],
                              tasks=1, workers=1, logging_dir=str(logs / "3-clusters"), skip_completed=False).run()
    finally:
        logger.enable("datatrove")
    return clusters


def read_cluster_ids(clusters: Path, task: int) -> tuple[np.ndarray, np.ndarray]:
    """(doc index within the task's input, cluster id) pairs written by MinhashDedupCluster."""
    f = clusters / f"{task:06d}.clusters"
    if not f.exists():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = np.fromfile(f, dtype="<u4").reshape(-1, 2).astype(np.int64)
    return pairs[:, 0], pairs[:, 1]


def datatrove_clusters(texts: pl.Series, cfg, seed: int, work: Path) -> tuple[np.ndarray, dict]:
    """Cluster label per row (-1: no duplicate) for a table's texts via datatrove, in `work`."""
    started = time.perf_counter()
    if work.exists():
        shutil.rmtree(work)
    inputs = work / "input"
    inputs.mkdir(parents=True)
    n = len(texts)
    tasks = max(1, min(cfg.tasks, n))
    bounds = np.linspace(0, n, tasks + 1).astype(int)
    # one file per task, in order: datatrove gives task k the k-th file, so (task, doc index) -> row
    for k in range(tasks):
        part = texts.slice(bounds[k], bounds[k + 1] - bounds[k])
        pl.DataFrame({"id": [str(i) for i in range(bounds[k], bounds[k + 1])], "text": part}).write_ndjson(
            inputs / f"{k:05d}.jsonl")
    t_write = time.perf_counter()
    clusters = run_datatrove_minhash(inputs, work, cfg, seed, tasks, cfg.workers)
    t_run = time.perf_counter()
    labels = np.full(n, -1, dtype=np.int64)
    for k in range(tasks):
        doc, cid = read_cluster_ids(clusters, k)
        labels[bounds[k] + doc] = cid
    bands, rows = cfg.lsh_params()
    return labels, {"write_s": round(t_write - started, 3), "datatrove_s": round(t_run - t_write, 3),
                    "tasks": tasks, "workers": cfg.workers, "datatrove_num_buckets": bands,
                    "datatrove_hashes_per_bucket": rows, "work_folder": str(work)}
