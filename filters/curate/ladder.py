"""ladder: nested subsets of the data for the data-scaling experiment chapter 8 recommends.

"How much data do I need?" is answered by training on growing subsets (e.g. 50 examples, 25%, 50%, 100%)
and plotting the score against size: if it still climbs at 100%, more data will help. The subsets must be
nested (each smaller one inside the larger ones), otherwise the curve mixes the effect of size with the
effect of which rows were drawn; and each should keep the set's composition (stratified by a column such
as the mix's `task_type`), otherwise the small rungs measure a different mix.

How: rows of each stratum are put in a seeded order (by row id), and the strata are interleaved so that
every prefix of the combined order holds each stratum in proportion (the i-th row of a stratum of n rows
goes to position (i + 0.5) / n). Each rung is a prefix, so rungs are nested by construction and each
stratum's count in a rung is within one row of its proportional share.

Output: every row is kept, with a `ladder` column listing the rungs that contain it (e.g.
["p50", "p100"]); `df.filter(pl.col("ladder").list.contains("p25"))` is one rung. With `write: true` the
rungs are also written to the step folder as one Hugging Face DatasetDict with a split per rung
(`ladder/hf`, load with datasets.load_from_disk) and a Parquet file per rung (`ladder/<rung>.parquet`).
Rung names: `n50` for a count, `p25` for a percentage.

Not here: training the models on the rungs (a trainer's job) and mixing (mix).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field, field_validator

from dsforge.filters.curate.common import group_values, seeded_order
from dsforge.pipelines.core.fields import ValueField
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult


class LadderConfig(StageConfig):
    sizes: list[int | str] = Field([50, "25%", "50%", "100%"], description="rungs: row counts (50) or percentages ('25%')")
    stratify_by: ValueField | None = Field(None, description="column (or metadata.KEY) whose proportions every rung keeps")
    column: str = Field("ladder", description="output column: the list of rungs holding each row")
    write: bool = Field(True, description="also write the rungs to the step folder (ladder/hf DatasetDict, ladder/*.parquet)")
    formats: list[str] = Field(["hf", "parquet"], description="write: any of hf, parquet")
    seed: int | None = Field(None, description="default: the recipe seed")

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, v: list[int | str]) -> list[int | str]:
        if not v:
            raise ValueError("give at least one rung, e.g. [50, '25%', '100%']")
        for s in v:
            if isinstance(s, str):
                try:
                    pct = float(s.rstrip("%"))
                except ValueError:
                    raise ValueError(f"rung {s!r}: use a row count (50) or a percentage ('25%')") from None
                if not s.endswith("%") or not 0 < pct <= 100:
                    raise ValueError(f"rung {s!r}: a percentage must look like '25%' and lie in (0, 100]")
            elif s < 1:
                raise ValueError(f"rung {s}: a row count must be at least 1")
        return v

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str]) -> list[str]:
        if set(v) - {"hf", "parquet"}:
            raise ValueError(f"unknown formats {sorted(set(v) - {'hf', 'parquet'})}; use hf, parquet")
        return v


def rung_name(size: int | str) -> str:
    if isinstance(size, str):
        return "p" + size.rstrip("%").replace(".", "_")
    return f"n{size}"


def rung_rows(size: int | str, n: int) -> int:
    if isinstance(size, str):
        return int(round(n * float(size.rstrip("%")) / 100))
    return min(int(size), n)


def stratified_order(strata: np.ndarray, ids: list[str], seed: int) -> np.ndarray:
    """Row positions in an order whose every prefix holds each stratum in proportion (see the module doc)."""
    base = seeded_order(ids, seed)
    pos = np.empty(len(ids), dtype=np.float64)
    tie = np.empty(len(ids), dtype=np.float64)
    for k, s in enumerate(sorted(set(strata.tolist()))):
        members = base[strata[base] == s]  # this stratum, in seeded order
        pos[members] = (np.arange(len(members)) + 0.5) / len(members)
        tie[members] = k
    return np.lexsort((tie, pos))


class Ladder(Stage[LadderConfig]):
    """Mark nested, stratified subsets (50 rows, 25%, 50%, 100%, ...) and write each as a named split."""

    name = "ladder"
    mode = "table"
    Config = LadderConfig
    batch_size = None  # rungs are shares of the whole table

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        seed = ctx.seed if cfg.seed is None else cfg.seed
        n = df.height
        strata = (group_values(df, cfg.stratify_by, self.name).to_numpy() if cfg.stratify_by
                  else np.array(["all"] * n, dtype=object))
        order = stratified_order(strata, df["id"].to_list(), seed)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        rungs = sorted({rung_name(s): rung_rows(s, n) for s in cfg.sizes}.items(), key=lambda kv: (kv[1], kv[0]))
        member = [[name for name, k in rungs if r < k] for r in rank.tolist()]
        out = df.with_columns(pl.Series(cfg.column, member, dtype=pl.List(pl.String)))
        stats: dict[str, Any] = {"rows": n, "seed": seed, "stratify_by": cfg.stratify_by,
                                 "rungs": {name: k for name, k in rungs}}
        if cfg.stratify_by:
            stats["strata"] = {name: _counts(strata[order[:k]]) for name, k in rungs}
            stats["strata_all"] = _counts(strata)
        if cfg.write and n:
            stats["written"] = write_rungs(out, cfg.column, [name for name, _ in rungs], ctx.work_dir / "ladder",
                                           cfg.formats)
        return StageResult(kept=out, stats=stats)


def _counts(values: np.ndarray) -> dict[str, int]:
    u, c = np.unique(values.astype(str), return_counts=True)
    return {str(a): int(b) for a, b in zip(u, c)}


def write_rungs(df: pl.DataFrame, column: str, names: list[str], out_dir: Path, formats: list[str]) -> dict[str, Any]:
    """One split per rung: a DatasetDict (hf/) and a Parquet file per rung, written atomically."""
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tables = {name: df.filter(pl.col(column).list.contains(name)) for name in names}
    written: dict[str, Any] = {"splits": {k: t.height for k, t in tables.items()}}
    if "parquet" in formats:
        for name, t in tables.items():
            t.write_parquet(tmp / f"{name}.parquet")
        written["parquet"] = [str(out_dir / f"{name}.parquet") for name in tables]
    if "hf" in formats:
        import datasets

        datasets.disable_progress_bars()
        datasets.DatasetDict({k: datasets.Dataset(t.to_arrow()) for k, t in tables.items()}).save_to_disk(str(tmp / "hf"))
        written["hf"] = str(out_dir / "hf")
    (tmp / "rungs.json").write_text(json.dumps(written["splits"], indent=1))
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return written
