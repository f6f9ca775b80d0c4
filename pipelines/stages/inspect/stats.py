"""The figures of an inspection: one JSON-ready dict computed from a record table.

Everything a person checks before cleaning ("look at your data", chapter 8) in one pass: counts, token
lengths counted with a real tokenizer, turns, most common tokens and words, stray special tokens / HTML /
Markdown debris, languages, duplicates and conflicting pairs, outliers by source and breakdowns by any
metadata column. The sections are in sections.py, lengths.py, conflicts.py and debris.py, the tokenizer in
tokens.py; verb-noun
parsing (verbs.py), annotator agreement (annotators.py) and the before/after view (compare.py) live beside
this file; report.py turns the dict into HTML. The dict is what `stats.json`
holds, so a report can be re-rendered, diffed or published (Prefect artifact) without the data.

Map and combine: `summarize(part)` turns one part of the rows into counters and small tables (in a worker
or a Ray task), `combine(summaries)` turns them into the figures (in the driver); `compute_stats(df)` is
`combine([summarize(df)])`, so one table and many parts give the same figures (merging.py says how).

Left out on purpose: anything that changes rows (stages do that), near-duplicate clustering (dedup/),
quality scores (filters/ and validators/).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.inspect import diversity
from dsforge.pipelines.stages.inspect.conflicts import conflicts_merge, conflicts_part
from dsforge.pipelines.stages.inspect.debris import debris_merge, debris_part
from dsforge.pipelines.stages.inspect.lengths import (breakdown_merge, breakdown_part, lengths_merge, lengths_part,
                                               outliers_merge, outliers_part, token_lengths)
from dsforge.pipelines.stages.inspect.merging import value_counts
from dsforge.pipelines.stages.inspect.merging import distribution as count_distribution
from dsforge.pipelines.stages.inspect.sections import (column_or_meta, counts_merge, counts_part, duplicate_key, language_merge,
                                                language_part, languages, row_view, snippet, top_words, turns_merge,
                                                turns_part, words_part)
from dsforge.pipelines.stages.inspect.tokens import TokenCounter
from dsforge.pipelines.core.stage import StageConfig

__all__ = ["InspectConfig", "TokenCounter", "column_or_meta", "combine", "compute_stats", "distribution", "findings",
           "row_view", "snippet", "summarize", "token_lengths"]


def distribution(values: np.ndarray, bins: int = 30) -> dict[str, Any]:
    """Summary figures and a histogram of integer values (the figures of one length field)."""
    return count_distribution(*value_counts(values), bins=bins)



class InspectConfig(StageConfig):
    tokenizer: str = Field("smollm2", description="'smollm2' (embedded) or a local tokenizer / model folder")
    by: list[str] = Field(default_factory=lambda: ["source"],
                          description="break figures down by these columns or metadata keys (annotator, date, ...)")
    top_n: int = Field(25, ge=1, description="rows in top-N tables (tokens, verb-noun pairs, conflicts)")
    examples: int = Field(5, ge=0, description="example rows shown per finding")
    verb_sample: int = Field(1000, ge=0, description="instructions parsed for (verb, noun) pairs (a seeded sample; 0 = all; "
                             "3,000 took 23 s of a 109 s inspect of 10k rows under load, issue 27)")
    outlier_z: float = Field(3.5, gt=0, description="robust z-score (median/MAD of log tokens per source) that flags a row")
    annotator_key: str = Field("annotator", description="column or metadata key naming who scored a row")
    score_key: str = Field("score", description="column or metadata key holding the score")
    labels: str | None = Field(None, description="labels Parquet file of `dsforge review`: show annotator agreement on it")
    compare_with: str | None = Field(None, description="id of an earlier step of this run: report what the steps in "
                                                       "between removed (before/after view)")
    title: str | None = Field(None, description="report title (default: the input or step name)")
    diversity_sample: int = Field(300, ge=0, description="rows embedded (seeded sample) for the diversity figures "
                                                          "per `by` group: mean pairwise distance, Vendi score; 0 = off. "
                                                          "Embedding is most of inspect's time (issue 27: 1,000 rows "
                                                          "took 121 of 216 s on 10k rows), so 300")


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


class Laps:
    """Seconds per section, added up over parts."""

    def __init__(self, into: dict[str, float] | None = None):
        self.timings = into if into is not None else {}
        self.t0 = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self.t0, 3)
        self.t0 = now


def summarize(df: pl.DataFrame, cfg: InspectConfig, seed: int = 0, counter: TokenCounter | None = None) -> dict[str, Any]:
    """What `combine` needs of one part of the rows: counters and small tables (with each row's `pos` in the
    part), never the rows themselves. Parts are summarised independently (in workers, on Ray), in any order."""
    from dsforge.pipelines.stages.inspect import annotators, verbs

    lap = Laps()
    counter = counter or TokenCounter(cfg.tokenizer)
    lap("load_tokenizer")
    df = records.conform(df)
    view = row_view(df)
    by = list(dict.fromkeys(cfg.by))
    values = {key: df.select(column_or_meta(df, key)[0]).to_series() for key in by}
    out: dict[str, Any] = {"tokenizer": {"spec": cfg.tokenizer, "name": counter.name, "unit": counter.unit,
                                         "warning": counter.warning}}
    out["counts"] = counts_part(df, view, duplicate_key(df, view, cfg.annotator_key), values)
    lap("counts")
    lengths, ids = token_lengths(view, counter)
    out["lengths"] = lengths_part(lengths, ids)
    lap("tokens")
    out["words"], out["turns"] = words_part(view), turns_part(view)
    out["debris"] = debris_part(df, view, counter)
    lap("words_debris")
    language = languages(view)
    out["language"] = language_part(view, language)
    lap("language")
    out["verb_noun"] = verbs.verb_noun_part(view, language, cfg.verb_sample, seed)
    lap("verb_noun")
    out["conflicts"] = conflicts_part(view)
    out["outliers"] = outliers_part(view, lengths, max(cfg.examples, 1) * 2)
    lap("conflicts_outliers")
    out["breakdowns"] = breakdown_part(df, view, lengths, language, by)
    out["annotators"] = annotators.annotator_part(df, view, cfg.annotator_key, cfg.score_key)
    lap("breakdowns_annotators")
    if cfg.diversity_sample:
        out["diversity"] = diversity.diversity_part(view, values, cfg.diversity_sample, seed)
        lap("diversity")
    out["timings"] = lap.timings
    return out


def combine(summaries: list[dict[str, Any]], cfg: InspectConfig, title: str = "records",
            input_rejects: pl.DataFrame | None = None, inputs: list[dict[str, Any]] | None = None,
            compare: dict[str, Any] | None = None, counter: TokenCounter | None = None) -> dict[str, Any]:
    """Every figure of the report, as a JSON-ready dict (this is what stats.json holds), from the summaries
    of all parts in input order. Tables in a summary may be DataFrames or LazyFrames (read from disk)."""
    from dsforge.pipelines.stages.inspect import annotators, verbs

    started = time.perf_counter()
    timings: dict[str, float] = {}
    for s in summaries:
        for k, v in s["timings"].items():
            timings[k] = round(timings.get(k, 0.0) + v, 3)
    lap = Laps(timings)
    counter = counter or TokenCounter(cfg.tokenizer)
    stats: dict[str, Any] = {
        "title": cfg.title or title,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tokenizer": summaries[0]["tokenizer"],
        "config": cfg.model_dump(mode="json"),
        "inputs": inputs or [],
    }
    if input_rejects is not None and input_rejects.height:
        stats["input_rejects"] = {
            "count": input_rejects.height,
            "by_reason": {str(k): int(v) for k, v in input_rejects["reason"].value_counts(sort=True).iter_rows()},
            "examples": [{"id": r["id"], "detail": r["detail"]} for r in input_rejects.head(cfg.examples).iter_rows(named=True)],
        }
    part = lambda name: [s[name] for s in summaries]  # noqa: E731
    by = list(dict.fromkeys(cfg.by))
    stats["counts"], firsts = counts_merge(part("counts"), cfg.examples, by)
    stats["lengths"], stats["tokens"] = lengths_merge(part("lengths"), counter, cfg.top_n)
    stats["tokens"]["top_words"] = top_words(part("words"), cfg.top_n)
    stats["turns"] = turns_merge(part("turns"))
    stats["debris"] = debris_merge(part("debris"), cfg.top_n)
    stats["language"] = language_merge(part("language"))
    lap("merge_counts_tokens_language")
    stats["verb_noun"] = verbs.verb_noun_merge(part("verb_noun"), cfg.verb_sample, cfg.top_n)
    lap("verb_noun")
    stats["conflicts"] = conflicts_merge(part("conflicts"), cfg.examples)
    stats["outliers"], flags = outliers_merge(part("outliers"), cfg.outlier_z, cfg.examples)
    lap("merge_conflicts_outliers")
    stats["breakdowns"] = breakdown_merge(part("breakdowns"), by, firsts, flags, stats["counts"]["rows"])
    stats["annotators"] = annotators.annotator_merge(part("annotators"), cfg.annotator_key, cfg.score_key, cfg.examples)
    lap("merge_breakdowns_annotators")
    if cfg.diversity_sample:
        stats["diversity"] = diversity.diversity_merge(part("diversity"), by, cfg.diversity_sample)
        lap("diversity")
    if compare:
        stats["compare"] = compare
    stats["findings"] = findings(stats)
    stats["timings"] = timings
    stats["seconds"] = round(time.perf_counter() - started + sum(sum(s["timings"].values()) for s in summaries), 3)
    return stats


def compute_stats(df: pl.DataFrame, cfg: InspectConfig, title: str = "records",
                  input_rejects: pl.DataFrame | None = None, inputs: list[dict[str, Any]] | None = None,
                  compare: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Every figure of the report for one table: `combine([summarize(df)])`, the one code path."""
    counter = TokenCounter(cfg.tokenizer)
    return combine([summarize(df, cfg, seed, counter)], cfg, title, input_rejects, inputs, compare, counter)
