"""What every section's `*_part` / `*_merge` pair shares: per-part tables in input order, weighted
quantiles over count tables, counters that add up, and seeded bottom-k samples.

An inspection is `combine([summarize(part) for part in parts])` (stats.py): each section summarises
one part into counters and small tables, and merges the summaries of all parts in input order. The
rules that make the merged figures equal the whole-table ones:
  - tables carry `pos` (the row's index in its part); `cat` adds `__part`, so (`__part`, `pos`) is
    the row's place in the whole table and "the first rows" are the same whatever the parts are;
  - texts are grouped by 64-bit hashes, so the driver holds a few integers per distinct key and reads
    text only for the rows it shows;
  - length figures come from (value, count) tables: token lengths are integers, so medians, MADs,
    percentiles and histograms over a count table are the exact figures of the rows;
  - samples are the k rows with the smallest hash of (seed, id): the same rows whatever the parts.
Left out: the sections themselves (sections.py, lengths.py, conflicts.py, debris.py, verbs.py,
annotators.py, diversity.py).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

import numpy as np
import polars as pl

ORDER = ["__part", "pos"]  # a row's place in the whole table


def positions() -> pl.Expr:
    """The `pos` column: each row's index in its part."""
    return pl.int_range(pl.len(), dtype=pl.Int64).alias("pos")


def cat(tables: Iterable[pl.LazyFrame | pl.DataFrame | None]) -> pl.LazyFrame | None:
    """The parts' tables of one kind, lazily, in input order, each with its part number as `__part`."""
    out = [(t.lazy() if isinstance(t, pl.DataFrame) else t).with_columns(pl.lit(n, dtype=pl.Int32).alias("__part"))
           for n, t in enumerate(tables) if t is not None]
    return pl.concat(out, how="diagonal_relaxed") if out else None


def add_counters(counters: Iterable[dict]) -> Counter:
    """Counters added in input order (so ties keep first-appearance order)."""
    total: Counter = Counter()
    for c in counters:
        total.update(c)
    return total


def by_count(counts: dict) -> dict[str, int]:
    """A counter as {str(key): count}, most common first, ties in first-appearance order."""
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


def value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, their counts) of integer values: the count table a part sends."""
    v, c = np.unique(np.asarray(values, dtype=np.int64), return_counts=True)
    return v, c.astype(np.int64)


def merge_counts(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and summed counts of concatenated count tables."""
    if not len(values):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    v, inv = np.unique(np.asarray(values, dtype=np.int64), return_inverse=True)
    return v, np.bincount(inv, weights=np.asarray(counts, dtype=np.float64)).astype(np.int64)


def _at(values: np.ndarray, cum: np.ndarray, i: np.ndarray) -> np.ndarray:
    """The i-th smallest row value (0-based) of a count table with cumulative counts `cum`."""
    return values[np.searchsorted(cum, i, side="right")]


def percentiles(values: np.ndarray, counts: np.ndarray, qs: list[float]) -> list[float]:
    """NumPy's default ('linear') percentiles of the rows a sorted count table stands for."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    h = (n - 1) * (np.asarray(qs, dtype=np.float64) / 100.0)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    a, b = _at(values, cum, lo).astype(np.float64), _at(values, cum, hi).astype(np.float64)
    t = h - lo
    diff = b - a
    return [float(x) for x in np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)]


def median(values: np.ndarray, counts: np.ndarray) -> float | None:
    """The median (mean of the two middle rows when their number is even) of a sorted count table."""
    n = int(counts.sum())
    if not n:
        return None
    cum = np.cumsum(counts)
    a, b = _at(values, cum, np.array([(n - 1) // 2, n // 2]))
    return (float(a) + float(b)) / 2.0


def nearest(values: np.ndarray, counts: np.ndarray, q: float) -> int | None:
    """The row value at rank round(q (n - 1)) of a sorted count table (the 'nearest' quantile)."""
    n = int(counts.sum())
    if not n:
        return None
    return int(_at(values, np.cumsum(counts), np.array([int(round(q * (n - 1)))]))[0])


def distribution(values: np.ndarray, counts: np.ndarray, bins: int = 30) -> dict[str, Any]:
    """Summary figures and a histogram of a sorted count table: bins span 0..p99 (at least 1); rows above go
    to `overflow`."""
    n = int(counts.sum())
    if n == 0:
        return {"n": 0}
    p = percentiles(values, counts, [5, 25, 50, 75, 90, 95, 99])
    total = int((values * counts).sum())
    upper = max(float(math.ceil(p[6])), float(values[0]) + 1, 1.0)
    width = max(1.0, math.ceil(upper / bins))
    edges = np.arange(0.0, upper + width, width)
    inside = values <= edges[-1]
    hist, _ = np.histogram(values[inside], bins=edges, weights=counts[inside])
    return {
        "n": n, "total": total, "mean": round(total / n, 2), "min": int(values[0]),
        "p5": p[0], "p25": p[1], "p50": p[2], "p75": p[3], "p90": p[4], "p95": p[5], "p99": p[6],
        "max": int(values[-1]),
        "hist": {"edges": [float(e) for e in edges], "counts": [int(c) for c in hist],
                 "overflow": int(counts[~inside].sum())},
    }


def sample_hash(ids: pl.Series, seed: int) -> pl.Series:
    """The 64-bit hash of (seed, id) that orders rows for every seeded sample of the inspection."""
    return ids.hash(seed=seed % (1 << 64)).alias("h")


def bottom_k(tables: list[pl.LazyFrame | pl.DataFrame | None], k: int) -> pl.DataFrame:
    """The k rows with the smallest `h` over all parts' candidates (each part sends its own k smallest)."""
    lf = cat(tables)
    if lf is None:
        return pl.DataFrame()
    ordered = lf.sort("h", "__part")
    return (ordered.head(k) if k else ordered).collect()
