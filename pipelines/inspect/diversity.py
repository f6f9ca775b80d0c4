"""Coverage and diversity figures for `inspect`: "is this set diverse enough?" as numbers, per group.

- coverage per axis (every `by` key): distinct values, entropy, effective number of groups exp(H) (how many
  equally large groups would have the same entropy) and evenness H / ln(k) (1 = all groups the same size).
  Run `classify` first and inspect `--by task_type --by domain --by format` to see coverage on the book's axes.
- diversity per group (and overall) on a seeded sample of `diversity_sample` rows embedded with
  all-MiniLM-L6-v2: mean pairwise cosine distance (1 - mean cosine over distinct pairs) and the Vendi score
  (Friedman & Dieng 2023): exp of the entropy of the eigenvalues of K/n, K the cosine-similarity matrix —
  the effective number of distinct rows (1 when all rows say the same thing, n when all are orthogonal).
  Computed from the d x d matrix X^T X / n, so it costs O(n d^2), not O(n^2). It grows with n (at most n), so
  compare groups by vendi / sample_rows or at equal sample sizes.
- near-duplicate density per group: the share of a group's rows that have a MinHash near-duplicate anywhere
  in the set (word 5-grams, Jaccard >= 0.8: minhash-dedup's defaults), over all rows, not a sample.

A missing embedding model gives a warning in the figures, not a failed inspection.
Not here: removing near-duplicates (dedup/) and labelling rows (filters/curate/classify.py).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import polars as pl

log = logging.getLogger("dsforge")


def coverage(counts: list[int]) -> dict[str, Any]:
    """Entropy-based coverage of one axis from its group sizes."""
    c = np.asarray([x for x in counts if x > 0], dtype=np.float64)
    if not c.size:
        return {"distinct": 0}
    p = c / c.sum()
    h = float(-(p * np.log(p)).sum())
    return {"distinct": int(c.size), "entropy_nats": round(h, 4), "effective_groups": round(math.exp(h), 2),
            "evenness": round(h / math.log(c.size), 4) if c.size > 1 else 1.0,
            "smallest_share": round(float(p.min()), 4), "largest_share": round(float(p.max()), 4)}


def diversity_figures(emb: np.ndarray) -> dict[str, Any]:
    """Mean pairwise cosine distance and Vendi score of unit-length embeddings (rows)."""
    n = len(emb)
    if n < 2:
        return {"rows": n}
    s = emb.sum(axis=0)
    mean_cos = (float(s @ s) - n) / (n * (n - 1))  # sum over i != j of x_i . x_j
    lam = np.linalg.eigvalsh((emb.T @ emb) / n)
    lam = lam[lam > 1e-12]
    lam = lam / lam.sum()
    vendi = math.exp(float(-(lam * np.log(lam)).sum()))
    return {"rows": n, "mean_pairwise_distance": round(1 - mean_cos, 4), "vendi": round(vendi, 2)}


def diversity_section(df: pl.DataFrame, texts: pl.Series, groups: dict[str, pl.Series], sample: int, seed: int,
                      max_values: int = 25) -> dict[str, Any]:
    """Diversity overall and per value of each grouping, plus near-duplicate density per value."""
    n = df.height
    out: dict[str, Any] = {"method": (f"all-MiniLM-L6-v2 embeddings of a seeded sample of up to {sample:,} rows "
                                      "(conversation text): mean pairwise cosine distance and Vendi score; "
                                      "near-duplicates: MinHash word 5-grams, Jaccard >= 0.8, over all rows")}
    if n == 0:
        return out
    near = _near_duplicate_flags(texts)
    out["near_duplicate_rows"] = int(near.sum())
    pick = np.sort(np.random.default_rng(seed).permutation(n)[: min(sample, n)])
    try:
        from dsforge.pipelines.embedded import embed

        emb = embed(texts.gather(pick).fill_null("").to_list(), max_seq_length=128)
    except Exception as e:  # MissingModelError, a broken install: report, do not fail the inspection
        log.warning("inspect: diversity figures skipped: %s", e)
        out["warning"] = f"diversity figures skipped: {e}"
        emb = None
    out["sampled"] = int(len(pick))
    if emb is not None:
        out["overall"] = diversity_figures(emb)
    out["by"] = {}
    for key, values in groups.items():
        v = values.fill_null("(missing)").to_numpy()
        names = [str(x) for x, _ in pl.Series(v).value_counts(sort=True).head(max_values).iter_rows()]
        rows = []
        for name in names:
            members = v == name
            entry = {"value": name, "rows": int(members.sum()),
                     "near_duplicate_density": round(float(near[members].mean()), 4)}
            if emb is not None:
                entry.update({f"sample_{k}" if k == "rows" else k: val
                              for k, val in diversity_figures(emb[members[pick]]).items()})
            rows.append(entry)
        out["by"][key] = rows
    return out


def _near_duplicate_flags(texts: pl.Series) -> np.ndarray:
    from dsforge.pipelines.neardup.minhash import MinhashConfig, in_process_clusters

    labels, _, _ = in_process_clusters(texts.fill_null(""), MinhashConfig(), 0)
    return np.asarray(labels) >= 0
