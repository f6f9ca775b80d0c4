"""The datatrove engine of minhash-dedup: datatrove's MinHash steps with its LocalPipelineExecutor.

Why: the in-process engine holds every signature in memory (N x num_perm x 4 bytes). datatrove writes
signatures per bucket to disk, sorts them per task, merges sorted files with a heap (memory O(files), not
O(N)) and keeps in memory only the union-find of rows that do have a duplicate. Input shards are processed
by `tasks` tasks on `workers` processes, so the same code scales to files larger than RAM
(`run_datatrove_minhash` works on a folder of JSONL files directly).

The stage config maps onto datatrove's MinhashConfig: ngram -> n_grams, bands -> num_buckets,
rows -> hashes_per_bucket, seed -> seed. Signatures (step 1) come from our NumPy hashing by default
(`signatures: numpy`, a datatrove PipelineStep writing datatrove's own sorted signature files, ~30x faster
than datatrove's per-shingle sha1 step); `signatures: datatrove` runs datatrove's MinhashDedupSignature
with HashConfig(precision=64, hash_fc="sha1"), because datatrove 0.10's default xxhash call fails with
xxhash 4.x (see shared/notes/environment.md). Steps 2 and 3 are datatrove's. Step 4
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
    """datatrove's MinhashConfig for a stage config. Our NumPy signatures are 32-bit values (precision 32);
    datatrove's own signature step hashes with sha1 at 64 bits (its xxhash default fails, see above)."""
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.utils.hashing import HashConfig

    bands, rows = cfg.lsh_params()
    precision = 32 if cfg.signatures == "numpy" else 64
    return MinhashConfig(n_grams=cfg.ngram, num_buckets=bands, hashes_per_bucket=rows, seed=seed,
                         hash_config=HashConfig(precision=precision, hash_fc="sha1"))


def numpy_signature_step(output_folder: str, cfg, seed: int, mh_config):
    """A datatrove PipelineStep writing datatrove's signature files (one sorted file per band and task,
    records `<rows x uint32, doc index uint32>`) from our vectorised NumPy MinHash (lsh.py), so the
    buckets and cluster steps of datatrove run unchanged on them. Memory: one task's signatures."""
    from datatrove.io import get_datafolder
    from datatrove.pipeline.base import PipelineStep

    from dsforge.pipelines.neardup import lsh
    from dsforge.pipelines.neardup.shingles import shingle_hashes

    bands, rows = mh_config.num_buckets, mh_config.hashes_per_bucket

    class NumpyMinhashSignature(PipelineStep):
        type = "🫂 - DEDUP"
        name = "🎯 MinHash signatures (dsforge NumPy)"

        def run(self, data, rank: int = 0, world_size: int = 1):
            folder = get_datafolder(output_folder)
            sigs, idx, offset = [], [], 0
            batch: list[str] = []

            def flush() -> None:
                nonlocal offset
                sh = shingle_hashes(pl.Series(batch, dtype=pl.String), cfg.ngram, "word", seed)
                sig = lsh.signatures(sh, bands * rows, seed)
                has = np.flatnonzero(sh.counts > 0)  # datatrove skips documents without shingles too
                sigs.append(sig[has])
                idx.append((has + offset).astype(np.uint32))
                offset += len(batch)
                batch.clear()

            with self.track_time():
                for doc in data:
                    self.stat_update("total")
                    batch.append(doc.text)
                    if len(batch) >= cfg.batch_rows:
                        flush()
                if batch:
                    flush()
                sig = np.concatenate(sigs) if sigs else np.zeros((0, bands * rows), np.uint32)
                doc_idx = np.concatenate(idx) if idx else np.zeros(0, np.uint32)
                record = np.dtype([(f"f{i}", "<u4") for i in range(rows)] + [("doc", "<u4")])
                for b in range(bands):
                    recs = np.empty(len(sig), dtype=record)
                    for i in range(rows):
                        recs[f"f{i}"] = sig[:, b * rows + i]
                    recs["doc"] = doc_idx
                    recs.sort(order=record.names)  # datatrove's bucket step merges sorted files
                    with folder.open(f"bucket_{b:03d}/{rank:05d}.minhash.sig", mode="wb") as f:
                        f.write(recs.tobytes())

    return NumpyMinhashSignature()


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
        signer = (numpy_signature_step(str(sigs), cfg, seed, mh) if cfg.signatures == "numpy"
                  else MinhashDedupSignature(str(sigs), config=mh))
        LocalPipelineExecutor([reader, signer], tasks=tasks, logging_dir=str(logs / "1-signatures"), **common).run()
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
                    "tasks": tasks, "workers": cfg.workers, "signatures": cfg.signatures, "datatrove_num_buckets": bands,
                    "datatrove_hashes_per_bucket": rows, "work_folder": str(work)}
