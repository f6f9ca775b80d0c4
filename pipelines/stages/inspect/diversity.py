"""Coverage and diversity figures for `inspect`: "is this set diverse enough?" as numbers, per group.

- coverage per axis (every `by` key): distinct values, entropy, effective number of groups exp(H) (how many
  equally large groups would have the same entropy) and evenness H / ln(k) (1 = all groups the same size).
  Run `classify` first and inspect `--by task_type --by domain --by format` to see coverage on the book's axes.
- diversity per group (and overall) on a seeded sample of `diversity_sample` rows (the smallest hashes of
  seed and id, so the same rows whatever the parts; embedded once, when the parts are merged) embedded with
  all-MiniLM-L6-v2 (minilm_torch.py: torch only, no transformers import): mean pairwise cosine distance (1 - mean cosine over distinct pairs) and the Vendi score
  (Friedman & Dieng 2023): exp of the entropy of the eigenvalues of K/n, K the cosine-similarity matrix —
  the effective number of distinct rows (1 when all rows say the same thing, n when all are orthogonal).
  Computed from the d x d matrix X^T X / n, so it costs O(n d^2), not O(n^2). It grows with n (at most n), so
  compare groups by vendi / sample_rows or at equal sample sizes.
- near-duplicate density per group: the share of a group's rows that have a MinHash near-duplicate anywhere
  in the set (word 5-grams, Jaccard >= 0.8: minhash-dedup's defaults), over all rows, not a sample: each part
  sends its rows' MinHash band keys and signatures (about 0.6 kB a row, no text), and LSH runs over all of them.

A missing embedding model gives a warning in the figures, not a failed inspection.
Not here: removing near-duplicates (dedup/) and labelling rows (filters/curate/classify.py).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import polars as pl

from dsforge.pipelines.stages.inspect.merging import bottom_k, cat, sample_hash

log = logging.getLogger("dsforge")
EMBED_TOKENS = 64  # the opening of a row says what it is about; the embedding's cost grows with its length


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


def diversity_part(view: pl.DataFrame, groups: dict[str, pl.Series], sample: int, seed: int) -> dict[str, Any]:
    """MinHash keys of every row (band keys and signature, no text) with its group values, and the `sample`
    rows with the smallest hash of (seed, id) as candidates for the embedded sample."""
    from dsforge.pipelines.neardup import lsh
    from dsforge.pipelines.neardup.minhash import MinhashConfig, minhash_signatures

    cfg = MinhashConfig()
    bands, rows = cfg.lsh_params()
    texts = view["conversation"].fill_null("")
    sig, active, _ = minhash_signatures(texts, cfg, 0)
    values = {f"v_{key}": v for key, v in groups.items()}
    keys = pl.DataFrame({"active": active, **values}).with_columns(
        *[pl.Series(f"b{b}", lsh.band_keys(sig, b, rows)) for b in range(bands)],
        pl.Series("sig", sig, dtype=pl.Array(pl.UInt32, cfg.num_perm)))
    cand = pl.DataFrame({"h": sample_hash(view["id"], seed), "text": texts, **values}).sort("h").head(sample)
    return {"keys": keys, "candidates": cand}


def diversity_merge(parts: list[dict[str, Any]], groups: list[str], sample: int, max_values: int = 25) -> dict[str, Any]:
    """Diversity overall and per value of each grouping on the merged sample (embedded here, once), plus
    near-duplicate density per value from LSH over every part's MinHash keys (one band in memory at a time)."""
    from dsforge.pipelines.neardup.minhash import MinhashConfig, lsh_labels

    keys = cat(p["keys"] for p in parts)
    values = keys.select("active", *[f"v_{k}" for k in groups]).collect()
    n = values.height
    out: dict[str, Any] = {"method": (f"all-MiniLM-L6-v2 embeddings of a seeded sample of up to {sample:,} rows "
                                      f"(their first {EMBED_TOKENS} tokens of conversation text; the rows with the smallest hash of seed and id): mean "
                                      "pairwise cosine distance and Vendi score; near-duplicates: MinHash word "
                                      "5-grams, Jaccard >= 0.8, over all rows")}
    if n == 0:
        return out
    labels, _ = lsh_labels(keys, MinhashConfig(), n, values["active"].to_numpy())
    near = np.asarray(labels) >= 0
    out["near_duplicate_rows"] = int(near.sum())
    picked = bottom_k([p["candidates"] for p in parts], sample)
    try:
        from dsforge.pipelines.llm.embedded import minilm_dir
        from dsforge.pipelines.stages.inspect.minilm_torch import embed_minilm

        emb = embed_minilm(picked["text"].to_list(), minilm_dir(), max_tokens=EMBED_TOKENS)
    except Exception as e:  # MissingModelError, a broken install: report, do not fail the inspection
        log.warning("inspect: diversity figures skipped: %s", e)
        out["warning"] = f"diversity figures skipped: {e}"
        emb = None
    out["sampled"] = picked.height
    if emb is not None:
        out["overall"] = diversity_figures(emb)
    out["by"] = {}
    for key in groups:
        v = values[f"v_{key}"].fill_null("(missing)")
        top = (pl.DataFrame({"v": v}).group_by("v").len().sort(["len", "v"], descending=[True, False])
               .head(max_values))
        v, in_sample = v.to_numpy(), picked[f"v_{key}"].fill_null("(missing)").to_numpy()
        rows = []
        for name in top["v"].to_list():
            members = v == name
            entry = {"value": name, "rows": int(members.sum()),
                     "near_duplicate_density": round(float(near[members].mean()), 4)}
            if emb is not None:
                entry.update({f"sample_{k}" if k == "rows" else k: val
                              for k, val in diversity_figures(emb[in_sample == name]).items()})
            rows.append(entry)
        out["by"][key] = rows
    return out
