"""Helpers the curation stages share: a group column read from a column or a metadata key, and a seeded
row order that depends only on the seed and the row ids (so a selection is the same whatever order the
rows arrive in).

Not here: anything that selects rows (mix.py, ladder.py) or labels them (classify.py).
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from dsforge.pipelines import records
from dsforge.pipelines.stage import ConfigError

MISSING = "(missing)"


def group_values(df: pl.DataFrame, spec: str, stage: str) -> pl.Series:
    """The group of every row as text: a column, or a metadata key written `meta:KEY`; nulls become "(missing)"."""
    if spec.startswith("meta:"):
        values = df.select(records.meta(spec[5:]))[spec[5:]]
    elif spec in df.columns:
        values = df[spec]
        if values.dtype != pl.String:
            values = values.cast(pl.String)
    else:
        raise ConfigError(f"{stage}: no column {spec!r} (have {', '.join(df.columns)}); name a column "
                          "(e.g. one written by `classify`) or a metadata key as meta:KEY")
    return values.fill_null(MISSING).rename("group")


def seeded_order(ids: list[str], seed: int) -> np.ndarray:
    """Positions of the rows in a random order fixed by the seed and each row's id (sha256 of seed:id)."""
    keys = [hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8] for i in ids]
    return np.array(sorted(range(len(ids)), key=keys.__getitem__), dtype=np.int64)


def largest_remainder(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Integer quotas summing exactly to `total`, each within 1 of total * share (Hamilton's method; ties by name)."""
    exact = {k: total * v for k, v in shares.items()}
    quota = {k: int(np.floor(x)) for k, x in exact.items()}
    left = total - sum(quota.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - quota[k]), k))[:left]:
        quota[k] += 1
    return quota
