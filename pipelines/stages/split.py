"""split: a leak-free, reproducible train/validation/test split, stratified on request.

A test set that holds near-copies of training rows measures memory, not skill. So rows are first
merged into groups that must stay together:
- near-duplicate clusters: the `dup_cluster` column written by `minhash-dedup` when present (rows it
  kept with `action: flag`, or clusters left after dedup), else computed here with MinHash + LSH on
  `field` (word 3-grams, Jaccard >= `threshold`);
- same-source groups: every field (a column or `metadata.KEY`) in `group_by`, e.g. the document a QA pair was
  generated from, or `source` to keep whole inputs apart.
Groups that share any row are merged (connected components, scipy's csgraph). Whole groups are then
dealt to splits, largest first, each to the split furthest below its target share; with `stratify_by`
this runs per stratum (a group's stratum is its most common value), so every split gets each class in
proportion.
The order depends only on the seed and the row ids, so the same seed gives the same split.

Output: every row kept, with a `split` column; stats report sizes, groups, strata per split and a
leak check (groups spanning splits: always 0). `publish` writes one table per split.

Not here: time-based splits (sort and cut by date instead), k-fold.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator

from dsforge.pipelines.core.fields import TextField, ValueField, ref
from dsforge.pipelines.neardup.minhash import MinhashConfig, lsh_labels, minhash_keys
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult, Verdicts




def _key(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()


class SplitConfig(StageConfig):
    fractions: dict[str, float] = Field({"train": 0.8, "validation": 0.1, "test": 0.1},
                                        description="split name -> share of rows (normalised to sum 1)")
    group_by: list[ValueField] = Field([], description="columns or metadata.KEY whose equal values must share a split")
    near_duplicates: Literal["auto", "column", "compute", "off"] = Field(
        "auto", description="keep near-duplicate clusters together: auto uses cluster_column if present, else computes")
    cluster_column: str = Field("dup_cluster", description="near-duplicate cluster ids (from minhash-dedup)")
    field: TextField = Field(ref("prompt"), description="text compared when computing near-duplicates")
    threshold: float = Field(0.7, gt=0, lt=1, description="Jaccard similarity that makes two rows near-duplicates")
    stratify_by: ValueField | None = Field(None, description="column or metadata.KEY whose distribution each split keeps")
    seed: int | None = Field(None, description="default: the recipe seed")
    column: str = Field("split", description="output column")

    @field_validator("fractions")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, x in v.items() if not math.isfinite(x)]
        if bad:
            raise ValueError(f"fractions: {bad[0]} is {v[bad[0]]}; give finite numbers, e.g. {{train: 0.8, test: 0.2}}")
        if not v or any(x < 0 for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError("fractions must be non-negative and not all zero, e.g. {train: 0.8, test: 0.2}")
        return v


class Split(Stage[SplitConfig]):
    """Assign train/validation/test so that near-duplicates and same-source groups never span splits.

    Keyed (stage.py): each shard gives its rows' group keys (cluster ids or MinHash band keys, group_by
    values, the stratum); `decide` merges groups and deals them to splits over all shards at once."""

    name = "split"
    mode = "keyed"
    Config = SplitConfig
    version = "2"

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return self.process_keyed(df, ctx)

    def _seed(self, ctx: StageContext) -> int:
        return ctx.seed if self.config.seed is None else self.config.seed

    def _minhash(self):
        return MinhashConfig(field=self.config.field, ngram=3, num_perm=64, threshold=self.config.threshold)

    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        cfg = self.config
        mode = cfg.near_duplicates
        if mode == "auto":
            mode = "column" if cfg.cluster_column in df.columns else "compute"
        if mode == "column" and cfg.cluster_column not in df.columns:
            raise ConfigError(f"split: near_duplicates=column but there is no {cfg.cluster_column!r} column; "
                              "run minhash-dedup first or use near_duplicates: compute")
        cols: dict[str, Any] = {"id": df["id"], "__mode": [mode] * df.height}
        if mode == "column":
            cols["__dup"] = [None if v is None or v == -1 else f"dup:{v}" for v in df[cfg.cluster_column].to_list()]
        for n, spec in enumerate(cfg.group_by):
            cols[f"__g{n}"] = [None if v is None else f"{spec}:{v}" for v in spec.values(df).to_list()]
        if cfg.stratify_by:
            cols["__stratum"] = [None if v is None else str(v) for v in cfg.stratify_by.values(df).to_list()]
        keys = pl.DataFrame(cols, schema_overrides={"__dup": pl.String, "__stratum": pl.String,
                                                    **{f"__g{n}": pl.String for n in range(len(cfg.group_by))}})
        if mode == "compute":
            keys = keys.hstack(minhash_keys(df, self._minhash(), self._seed(ctx)).drop("id"))
        return keys

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> Verdicts:
        cfg = self.config
        seed = self._seed(ctx)
        names = keys.collect_schema().names()
        base = keys.select([c for c in names if c == "id" or c == "__mode" or c == "__dup" or c.startswith("__g")
                            or c == "__stratum"]).collect()
        n = base.height
        mode = base["__mode"][0] if n else cfg.near_duplicates
        key_lists: list[list[Any]] = []
        if "__dup" in base.columns:
            key_lists.append(base["__dup"].to_list())
        elif mode == "compute" and n > 1:
            active = keys.select("active").collect()["active"].to_numpy()
            labels, _ = lsh_labels(keys, self._minhash(), n, active)
            key_lists.append([None if v < 0 else f"dup:{v}" for v in labels])
        key_lists += [base[f"__g{k}"].to_list() for k in range(len(cfg.group_by))]
        strata = base["__stratum"].to_list() if cfg.stratify_by else [None] * n
        assignment, stats = assign_splits(base["id"].to_list(), key_lists, strata, cfg, seed)
        stats.update(near_duplicates=mode)
        table = pl.DataFrame({"id": base["id"], "reason": pl.Series([None] * n, dtype=pl.String),
                              "detail": pl.Series([None] * n, dtype=pl.String),
                              cfg.column: pl.Series(assignment, dtype=pl.String)})
        return Verdicts(table, stats=stats)


def assign_splits(ids: list[str], key_lists: list[list[Any]], strata: list[Any], cfg: SplitConfig,
                  seed: int) -> tuple[list[str], dict[str, Any]]:
    """Merge rows sharing any key into groups (connected components), then deal whole groups to splits,
    per stratum."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ids)
    left: list[int] = []
    right: list[int] = []
    for key_list in key_lists:
        first: dict[Any, int] = {}
        for i, k in enumerate(key_list):
            if k is not None:
                left.append(first.setdefault(k, i))
                right.append(i)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    labels = connected_components(graph, directed=False)[1] if n else []
    groups: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        groups[int(label)].append(i)
    by_stratum: dict[Any, list[list[int]]] = defaultdict(list)
    for members in groups.values():
        label = Counter(strata[i] for i in members).most_common(1)[0][0]
        by_stratum[label].append(members)
    total = sum(cfg.fractions.values())
    shares = {k: v / total for k, v in cfg.fractions.items()}
    assignment = [""] * n
    for label in sorted(by_stratum, key=lambda x: (x is None, str(x))):
        comps = by_stratum[label]
        comps.sort(key=lambda m: (-len(m), _key(seed, min(ids[i] for i in m))))
        size = sum(len(m) for m in comps)
        filled = {k: 0 for k in shares}
        for members in comps:
            # the split furthest below its target (ties: the order given in fractions)
            target = min(shares, key=lambda k: (filled[k] + len(members)) / (shares[k] * size) if shares[k] else float("inf"))
            filled[target] += len(members)
            for i in members:
                assignment[i] = target
    sizes = Counter(assignment)
    multi = [m for m in groups.values() if len(m) > 1]
    leaks = sum(1 for m in multi if len({assignment[i] for i in m}) > 1)
    stats: dict[str, Any] = {
        "rows": n, "seed": seed, "sizes": {k: sizes.get(k, 0) for k in shares},
        "groups": len(groups), "multi_row_groups": len(multi), "rows_in_multi_row_groups": sum(len(m) for m in multi),
        "largest_group": max((len(m) for m in groups.values()), default=0), "groups_spanning_splits": leaks,
    }
    if cfg.stratify_by:
        per: dict[str, Counter] = defaultdict(Counter)
        for a, st in zip(assignment, strata):
            per[a][str(st)] += 1
        stats["strata"] = {k: dict(v) for k, v in per.items()}
    return assignment, stats
