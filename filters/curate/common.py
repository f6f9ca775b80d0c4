"""Helpers the curation stages share: a group read from a field (a column or metadata.KEY), and a seeded
row order that depends only on the seed and the row ids (so a selection is the same whatever order the
rows arrive in).

Not here: anything that selects rows (mix.py, ladder.py) or labels them (classify.py).
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from dsforge.pipelines.core.fields import FieldError, FieldRef

MISSING = "(missing)"


def group_values(df: pl.DataFrame, field: FieldRef, stage: str) -> pl.Series:
    """The group of every row as text (a column, metadata.KEY, any field); nulls become "(missing)"."""
    try:
        values = pl.Series("group", field.texts(df), dtype=pl.String)
    except FieldError as e:
        raise FieldError(f"{stage}: {e}") from None
    return values.fill_null(MISSING)


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
