"""mix: reach target proportions over a column (domain, task type, source, language, ...), by rows or tokens.

Chapter 8: what a model learns depends on the mix, so you set it on purpose (Llama 3's post-training mix is
52.66% general English, 21.19% reasoning and tools, 14.89% code, 8.14% exam-like, 3.01% multilingual and
0.11% long context, by examples). This stage makes a table hit such targets:

- targets: `targets: {code: 0.15, general: 0.53, ...}` (normalised to sum 1), or `temperature: T`, which sets
  each group's share to its natural share raised to 1/T (T = 1 keeps the mix, larger T flattens it towards
  uniform: the temperature sampling of multilingual pre-training, e.g. XLM-R, mT5).
- total: rows (or tokens) after mixing. By default the largest total reachable without repeating any
  row, so every group is down-sampled (without replacement) to its quota. A larger `total` up-samples the
  groups short of their quota by repetition: each row is copied floor(q/n) times and a seeded draw of the
  rows gets one copy more (at most `max_repeats` copies per row on average).
- unit: `rows` hits quotas exactly (Hamilton's largest-remainder method: quotas sum to total and each is
  within one row of total x share); `tokens` counts tokens of `token_field` with a real tokenizer and fills
  each group's token quota with whole rows (within one row's length of it).

Which rows are taken is a seeded order over row ids, so the same seed picks the same rows whatever their
order. Rows not selected go to the rejects as `mix:over_quota` with their group and quota (nothing is lost);
copies get new ids `<id>~mix<k>` and a lineage entry naming the source row. Stats show, per group, what was
available, the target, what was achieved and how many rows were repeated.

Not here: labelling the groups (classify), mixing separate files (ingest them with `source:` names and mix
over `source`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator, model_validator

from dsforge.filters.curate.common import MISSING, group_values, largest_remainder, seeded_order
from dsforge.pipelines.core import records
from dsforge.pipelines.core.fields import TextField, ValueField, ref
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult

log = logging.getLogger("dsforge")


class MixConfig(StageConfig):
    column: ValueField = Field(description="column (or metadata.KEY) whose values are the groups, e.g. task_type, domain, source")
    targets: dict[str, float] | None = Field(None, description="group -> share (normalised to sum 1); groups not "
                                             "named get none of their rows kept (\"(missing)\" names null values)")
    temperature: float | None = Field(None, gt=0, description="instead of targets: share of a group = its natural "
                                      "share ** (1/T), normalised (1 keeps the mix, larger flattens it)")
    unit: Literal["rows", "tokens"] = Field("rows", description="proportions and total count rows or tokens")
    total: int | None = Field(None, ge=1, description="rows (or tokens) after mixing; default: the largest total "
                              "reachable without repeating a row")
    max_repeats: float = Field(10.0, ge=1, description="most copies per row (on average within a group) when up-sampling")
    token_field: TextField = Field(ref("conversation"), description="unit tokens: text field counted (pipelines/core/fields.py)")
    tokenizer: str = Field("smollm2", description="unit tokens: 'smollm2' (embedded) or a local tokenizer folder")
    seed: int | None = Field(None, description="default: the recipe seed")

    @field_validator("targets")
    @classmethod
    def _shares(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and (not v or any(x < 0 for x in v.values()) or sum(v.values()) <= 0):
            raise ValueError("targets must be non-negative shares, not all zero, e.g. {code: 0.2, general: 0.8}")
        return v

    @model_validator(mode="after")
    def _one_way(self):
        if (self.targets is None) == (self.temperature is None):
            raise ValueError("give exactly one of `targets` (group -> share) or `temperature`")
        return self


class Mix(Stage[MixConfig]):
    """Down-sample and up-sample groups of rows to target proportions (by rows or tokens), with a seed."""

    name = "mix"
    mode = "table"
    Config = MixConfig
    creates_rows = True  # up-sampled copies are new rows whose lineage names their source row
    batch_size = None  # quotas are over the whole table

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        seed = ctx.seed if cfg.seed is None else cfg.seed
        groups = group_values(df, cfg.column, self.name).to_numpy()
        sizes = self._sizes(df)
        order = seeded_order(df["id"].to_list(), seed)
        members = {g: order[groups[order] == g] for g in dict.fromkeys(groups[order].tolist())}
        available = {g: float(sizes[m].sum()) for g, m in members.items()}
        shares, missing = self._shares(available)
        total = self._total(available, shares)
        if cfg.unit == "rows":
            quotas: dict[str, float] = {k: float(v) for k, v in largest_remainder(int(total), shares).items()}
        else:
            quotas = {g: total * s for g, s in shares.items()}
        copies = np.zeros(df.height, dtype=np.int64)  # how many times each row appears in the output
        report = []
        for g in sorted(set(available) | set(shares), key=lambda g: (-shares.get(g, 0.0), g)):
            m = members.get(g, np.zeros(0, np.int64))
            q = quotas.get(g, 0.0)
            taken = _fill(m, sizes, q, cfg.unit)
            copies[m] = taken
            achieved = float((sizes[m] * taken).sum())
            report.append({"group": g, "available": _num(available.get(g, 0.0)), "available_rows": int(len(m)),
                           "target_share": round(shares.get(g, 0.0), 6), "target": _num(q),
                           "achieved": _num(achieved), "rows": int(taken.sum()),
                           "repeated_rows": int((taken > 1).sum()), "copies_added": int(np.clip(taken - 1, 0, None).sum()),
                           "dropped_rows": int((taken == 0).sum())})
        achieved_total = sum(r["achieved"] for r in report)
        for r in report:
            r["achieved_share"] = round(r["achieved"] / achieved_total, 6) if achieved_total else 0.0
        kept, rejected = self._split(df, groups, copies, quotas, shares)
        stats: dict[str, Any] = {"column": cfg.column, "unit": cfg.unit, "seed": seed, "total_target": _num(total),
                                 "total_achieved": _num(achieved_total), "rows_in": df.height, "rows_out": kept.height,
                                 "copies_added": int(np.clip(copies - 1, 0, None).sum()),
                                 "over_quota": rejected.height, "groups": report}
        if cfg.temperature is not None:
            stats["temperature"] = cfg.temperature
        if missing:
            stats["targets_without_rows"] = missing
        return StageResult(kept=kept, rejected=rejected, stats=stats)

    def _sizes(self, df: pl.DataFrame) -> np.ndarray:
        cfg = self.config
        if cfg.unit == "rows":
            return np.ones(df.height, dtype=np.float64)
        from dsforge.filters.length import count_tokens

        texts = df.select(cfg.token_field.expr().fill_null("").alias("t"))["t"].to_list()
        return np.asarray(count_tokens(texts, cfg.tokenizer), dtype=np.float64)

    def _shares(self, available: dict[str, float]) -> tuple[dict[str, float], list[str]]:
        """Normalised target shares over groups that have rows; targets naming absent groups are reported."""
        cfg = self.config
        if cfg.temperature is not None:
            raw = {g: (a / sum(available.values())) ** (1.0 / cfg.temperature) for g, a in available.items() if a > 0}
        else:
            raw = {g: s for g, s in cfg.targets.items() if s > 0}
        missing = sorted(g for g in raw if available.get(g, 0.0) <= 0)
        if missing:
            log.warning("mix: targets %s have no rows in column %r (values: %s); their share is spread over the rest",
                        missing, cfg.column, sorted(available)[:20])
        raw = {g: s for g, s in raw.items() if g not in missing}
        if not raw:
            raise ConfigError(f"mix: none of the target groups {sorted(cfg.targets or {})} occur in column "
                              f"{cfg.column!r}; its values are {sorted(available)[:20]}")
        norm = sum(raw.values())
        return {g: s / norm for g, s in raw.items()}, missing

    def _total(self, available: dict[str, float], shares: dict[str, float]) -> float:
        """The requested total, or the largest one needing no repetition; checks the repeat limit."""
        cfg = self.config
        no_repeat = min(available[g] / s for g, s in shares.items())
        if cfg.unit == "rows":
            no_repeat = float(np.floor(no_repeat + 1e-9))
        if cfg.total is None:
            return no_repeat
        for g, s in shares.items():
            if cfg.total * s > cfg.max_repeats * available[g]:
                raise ConfigError(
                    f"mix: group {g!r} has {_num(available[g])} {cfg.unit} but total {cfg.total} x share {s:.4f} asks "
                    f"for {cfg.total * s:,.0f} (more than max_repeats {cfg.max_repeats:g} copies); lower `total` "
                    f"(the largest without repetition is {no_repeat:,.0f}) or raise `max_repeats`")
        return float(cfg.total)

    def _split(self, df: pl.DataFrame, groups: np.ndarray, copies: np.ndarray, quotas: dict[str, float],
               shares: dict[str, float]) -> tuple[pl.DataFrame, pl.DataFrame]:
        cfg = self.config
        taken = copies > 0
        kept = df.filter(pl.Series(taken))
        if (copies > 1).any():
            pos = np.repeat(np.arange(df.height), np.clip(copies - 1, 0, None))
            k = np.concatenate([np.arange(1, c) for c in copies if c > 1])
            src = df["id"].gather(pos).to_list()
            info = [json.dumps({"column": cfg.column, "copy": int(c), "group": str(g), "sources": [i]}, sort_keys=True,
                               ensure_ascii=False) for c, g, i in zip(k.tolist(), groups[pos].tolist(), src)]
            extra = df[pos.tolist()].with_columns(pl.Series("id", [f"{i}~mix{c}" for i, c in zip(src, k.tolist())]))
            extra = records.append_lineage(extra, self.name, pl.lit(pl.Series(info, dtype=pl.String)))
            kept = records.concat([kept, extra])
        dropped = df.filter(pl.Series(~taken))
        g = pl.Series(groups[~taken])
        detail = [f"{cfg.column}={v!r}: " + (f"quota {_num(quotas[v])} {cfg.unit} (share {shares[v]:.4f}) filled "
                                              "by other rows of the seeded draw" if v in quotas and quotas[v] > 0
                                              else "group has no target share")
                  for v in g.to_list()]
        rejected = self.reject(dropped, "over_quota", pl.Series(detail, dtype=pl.String))
        return kept, rejected


def _fill(members: np.ndarray, sizes: np.ndarray, quota: float, unit: str) -> np.ndarray:
    """How many times each member (in seeded order) is taken so the group reaches its quota."""
    n = len(members)
    taken = np.zeros(n, dtype=np.int64)
    if n == 0 or quota <= 0:
        return taken
    if unit == "rows":
        q = int(round(quota))
        taken[:] = q // n
        taken[: q % n] += 1
        return taken
    s = sizes[members]
    full = int(quota // s.sum()) if s.sum() > 0 else 0  # whole passes over the group
    taken[:] = full
    left = quota - full * s.sum()
    csum = np.cumsum(s)
    k = int(np.searchsorted(csum, left, side="right"))  # rows whose running total stays within the quota
    if k < n and abs(csum[k] - left) < abs(left - (csum[k - 1] if k else 0.0)):
        k += 1  # one more row lands nearer the quota than stopping short
    taken[:k] += 1
    return taken


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 3)


__all__ = ["Mix", "MixConfig", "MISSING"]
