"""The figures of an inspection: one JSON-ready dict computed from a record table.

Everything a person checks before cleaning ("look at your data", chapter 8) in one pass: counts, token
lengths counted with a real tokenizer, turns, most common tokens and words, stray special tokens / HTML /
Markdown debris, languages, duplicates and conflicting pairs, outliers by source and breakdowns by any
metadata column. The sections are in sections.py and debris.py, the tokenizer in tokens.py; verb-noun
parsing (verbs.py), annotator agreement (annotators.py) and the before/after view (compare.py) live beside
this file; report.py turns the dict into HTML. The dict is what `stats.json`
holds, so a report can be re-rendered, diffed or published (Prefect artifact) without the data.

Left out on purpose: anything that changes rows (stages do that), near-duplicate clustering (dedup/),
quality scores (filters/ and validators/).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.inspect import diversity
from dsforge.pipelines.inspect.debris import debris_section
from dsforge.pipelines.inspect.sections import (breakdown_section, column_or_meta, conflicts_section, counts_section,
                                                distribution, duplicate_key, language_section, lengths_section,
                                                outliers_section, row_view, snippet, top_words, turns_section)
from dsforge.pipelines.inspect.tokens import TokenCounter
from dsforge.pipelines.stage import StageConfig

__all__ = ["InspectConfig", "TokenCounter", "column_or_meta", "compute_stats", "distribution", "findings",
           "lengths_section", "row_view", "snippet"]



class InspectConfig(StageConfig):
    tokenizer: str = Field("smollm2", description="'smollm2' (embedded) or a local tokenizer / model folder")
    by: list[str] = Field(default_factory=lambda: ["source"],
                          description="break figures down by these columns or metadata keys (annotator, date, ...)")
    top_n: int = Field(25, ge=1, description="rows in top-N tables (tokens, verb-noun pairs, conflicts)")
    examples: int = Field(5, ge=0, description="example rows shown per finding")
    verb_sample: int = Field(3000, ge=0, description="instructions parsed for (verb, noun) pairs (a seeded sample; 0 = all)")
    outlier_z: float = Field(3.5, gt=0, description="robust z-score (median/MAD of log tokens per source) that flags a row")
    annotator_key: str = Field("annotator", description="column or metadata key naming who scored a row")
    score_key: str = Field("score", description="column or metadata key holding the score")
    labels: str | None = Field(None, description="labels Parquet file of `dsforge review`: show annotator agreement on it")
    compare_with: str | None = Field(None, description="id of an earlier step of this run: report what the steps in "
                                                       "between removed (before/after view)")
    title: str | None = Field(None, description="report title (default: the input or step name)")
    diversity_sample: int = Field(1000, ge=0, description="rows embedded (seeded sample) for the diversity figures "
                                                           "per `by` group: mean pairwise distance, Vendi score; 0 = off")


def findings(stats: dict[str, Any]) -> list[str]:
    """Plain sentences about what deserves a look, most important first (shown at the top of the report)."""
    out = []
    c = stats["counts"]
    n = max(c["rows"], 1)
    pct = lambda k: f"{100 * k / n:.1f}%"  # noqa: E731
    if stats.get("input_rejects", {}).get("count"):
        r = stats["input_rejects"]
        out.append(f"{r['count']:,} input rows could not be read ({', '.join(f'{k} {v}' for k, v in r['by_reason'].items())}).")
    d = c["exact_duplicates"]
    if d["rows"]:
        out.append(f"{d['rows']:,} rows ({pct(d['rows'])}) are exact duplicates of another row ({d['groups']:,} groups).")
    for f in c["fields"]:
        if f["field"] != "input" and (f["missing"] or f["empty"]):
            out.append(f"{f['field']}: {f['missing']:,} missing and {f['empty']:,} empty of {f['rows']:,} rows.")
    for p in stats.get("debris", {}).get("patterns", []):
        if p["group"] in ("special token", "encoding"):
            out.append(f"{p['rows']:,} rows contain {p['pattern']} ({p['group']}).")
    cf = stats.get("conflicts", {})
    if cf.get("same_prompt", {}).get("groups"):
        g = cf["same_prompt"]
        out.append(f"{g['groups']:,} prompts appear with different responses ({g['rows']:,} rows).")
    if cf.get("same_answer", {}).get("groups"):
        g = cf["same_answer"]
        out.append(f"{g['groups']:,} responses are given to different prompts ({g['rows']:,} rows; "
                   f"{g.get('short_answer_groups', 0):,} of them are short labels under 5 words).")
    o = stats.get("outliers", {})
    if o.get("flagged"):
        out.append(f"{o['flagged']:,} rows are length outliers for their source ({o['flagged_high']:,} long, "
                   f"{o['flagged_low']:,} short).")
    langs = stats.get("language", {}).get("counts", {})
    if len(langs) > 1:
        top, k = next(iter(langs.items()))
        share = f"{100 * k / n:.1f}%" if 100 * k / n < 99.95 else ">99.9%"
        out.append(f"{share} of rows are '{top}'; {n - k:,} rows are in {len(langs) - 1} other languages "
                   f"({', '.join(list(langs)[1:6])}{', ...' if len(langs) > 6 else ''}).")
    if stats.get("tokenizer", {}).get("warning"):
        out.append(stats["tokenizer"]["warning"])
    for key in ("warning", "note"):
        if stats.get("verb_noun", {}).get(key):
            out.append(stats["verb_noun"][key] + ".")
    return out


# ---------------------------------------------------------------- all together


def compute_stats(df: pl.DataFrame, cfg: InspectConfig, title: str = "records",
                  input_rejects: pl.DataFrame | None = None, inputs: list[dict[str, Any]] | None = None,
                  compare: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Every figure of the report, as a JSON-ready dict (this is what stats.json holds)."""
    from dsforge.pipelines.inspect import annotators, verbs

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        return now

    df = records.conform(df)
    view = row_view(df)
    t0 = time.perf_counter()
    counter = TokenCounter(cfg.tokenizer)
    t0 = lap("load_tokenizer", t0)
    stats: dict[str, Any] = {
        "title": cfg.title or title,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tokenizer": {"spec": cfg.tokenizer, "name": counter.name, "unit": counter.unit, "warning": counter.warning},
        "config": cfg.model_dump(mode="json"),
        "inputs": inputs or [],
    }
    if input_rejects is not None and input_rejects.height:
        stats["input_rejects"] = {
            "count": input_rejects.height,
            "by_reason": {str(k): int(v) for k, v in input_rejects["reason"].value_counts(sort=True).iter_rows()},
            "examples": [{"id": r["id"], "detail": r["detail"]} for r in input_rejects.head(cfg.examples).iter_rows(named=True)],
        }
    dup_key = duplicate_key(df, view, cfg.annotator_key)
    stats["counts"] = counts_section(df, view, cfg.examples, dup_key)
    t0 = lap("counts", t0)
    stats["lengths"], lengths, stats["tokens"] = lengths_section(view, counter, cfg.top_n)
    t0 = lap("tokens", t0)
    stats["tokens"]["top_words"] = top_words(view, cfg.top_n)
    stats["turns"] = turns_section(view)
    stats["debris"] = debris_section(df, view, counter, cfg.top_n)
    t0 = lap("words_debris", t0)
    stats["language"], language = language_section(view)
    t0 = lap("language", t0)
    stats["verb_noun"] = verbs.verb_noun_section(view, language, cfg.verb_sample, cfg.top_n, seed)
    t0 = lap("verb_noun", t0)
    stats["conflicts"] = conflicts_section(view, cfg.examples, cfg.top_n)
    outliers = outliers_section(view, lengths, cfg.outlier_z, cfg.examples)
    z = outliers.pop("_z", None)
    stats["outliers"] = outliers
    t0 = lap("conflicts_outliers", t0)
    dup_flags = dup_key.is_duplicated() & ~dup_key.is_first_distinct()
    flagged = (z.abs() > cfg.outlier_z) if z is not None else pl.Series([False] * df.height)
    by = list(dict.fromkeys(cfg.by))
    stats["breakdowns"] = breakdown_section(df, view, lengths, language, flagged, dup_flags, by)
    stats["annotators"] = annotators.annotator_section(df, view, cfg.annotator_key, cfg.score_key, cfg.examples)
    t0 = lap("breakdowns_annotators", t0)
    if cfg.diversity_sample:
        groups = {key: df.select(column_or_meta(df, key)[0]).to_series() for key in by}
        stats["diversity"] = diversity.diversity_section(df, view["conversation"], groups, cfg.diversity_sample, seed)
        t0 = lap("diversity", t0)
    if compare:
        stats["compare"] = compare
    stats["findings"] = findings(stats)
    stats["timings"] = timings
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return stats
