"""Before/after: what the steps of a run removed, by reason, read from the run directory the runner wrote
(stages/NN-id/{stats.json, rejected/}) — no recomputation.

    compare_paths([run_dir])            the whole run: ingest -> last step
    compare_paths([stage_dir])          one step: what it removed
    compare_paths([stage_a, stage_b])   the steps after a, up to and including b (e.g. inspect-before -> inspect-after)

When both ends are `inspect` steps, their key figures are shown side by side (rows, duplicates, lengths, languages).
Left out: diffs of kept rows that were changed rather than removed (lineage holds those).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from dsforge.pipelines.core import shards
from dsforge.pipelines.stages.inspect.sections import snippet
from dsforge.pipelines.core.readers import DataError


def _step_dirs(run_dir: Path) -> list[Path]:
    return sorted(p for p in (run_dir / "stages").iterdir() if p.is_dir() and (p / "stats.json").exists())


def _is_run(p: Path) -> bool:
    return (p / "stages").is_dir()


def _is_step(p: Path) -> bool:
    return (p / "stats.json").exists() and (p / "kept").is_dir()


def resolve_range(paths: list[str | Path]) -> tuple[list[Path], Path | None, Path | None]:
    """(steps whose rejects count, the 'before' step or None for the raw input, the 'after' step)."""
    ps = [Path(p).expanduser().resolve() for p in paths]
    if len(ps) == 1 and _is_run(ps[0]):
        steps = _step_dirs(ps[0])
        if not steps:
            raise DataError(f"{ps[0]}: no finished steps under stages/ (was the run interrupted?)")
        return steps, None, steps[-1]
    for p in ps:
        if not _is_step(p):
            raise DataError(f"{p}: not a run directory (with stages/) nor a finished step folder (with stats.json "
                            "and kept/). Give e.g. runs/NAME/stages/01-inspect-before")
    if len(ps) == 1:
        return [ps[0]], None, ps[0]
    if len(ps) != 2:
        raise DataError("--compare takes a run directory, one step folder, or two step folders of the same run")
    a, b = ps
    if a.parent != b.parent:
        raise DataError(f"{a} and {b} are not steps of the same run")
    steps = _step_dirs(a.parent.parent)
    ia, ib = steps.index(a), steps.index(b)
    if ia > ib:
        a, b, ia, ib = b, a, ib, ia
    return steps[ia + 1: ib + 1], a, b


def summarize_removed(steps: list[Path], before: Path | None, after: Path | None, examples: int = 3,
                      after_stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """The before/after section: per-step table, removed rows by reason with examples, key figures side by side."""
    step_rows, rejected = [], []
    for d in steps:
        s = json.loads((d / "stats.json").read_text())
        step_rows.append({"step": s.get("step", d.name), "stage": s.get("stage"), "rows_in": s.get("rows_in"),
                          "kept": s.get("kept"), "rejected": s.get("rejected"), "dir": d.name})
        if (d / "rejected").is_dir():
            r = shards.read_table(d, shards.REJECTED)
            if r.height:
                rejected.append(r.select(
                    pl.col("id"), pl.col("source"), pl.col("stage"), pl.col("reason"), pl.col("detail"),
                    pl.lit(s.get("step", d.name)).alias("step"),
                    pl.coalesce(pl.col("instruction"), pl.col("text"), pl.lit("")).alias("what")))
    before_stats = json.loads((before / "stats.json").read_text()) if before else None
    if after_stats is None and after is not None and (after / "stats.json").exists():
        after_stats = json.loads((after / "stats.json").read_text())
    if before_stats is not None:
        n_before = before_stats.get("kept")
    else:  # the first step's input (ingest counts what it read, kept or not)
        n_before = step_rows[0]["rows_in"] if step_rows else None
    n_after = step_rows[-1]["kept"] if step_rows else (after_stats or {}).get("kept")
    rej = pl.concat(rejected, how="diagonal_relaxed") if rejected else None
    by_reason = []
    if rej is not None:
        g = (rej.group_by("reason", maintain_order=True)
             .agg(pl.len().alias("rows"), pl.col("step").first(), pl.col("source").value_counts(sort=True).head(3)
                  .alias("sources"), pl.struct("id", "detail", "what").head(examples).alias("ex"))
             .sort("rows", descending=True))
        for r in g.iter_rows(named=True):
            by_reason.append({
                "reason": r["reason"], "step": r["step"], "rows": int(r["rows"]),
                "share_of_before": round(r["rows"] / n_before, 4) if n_before else None,
                "top_sources": [[s["source"], int(s["count"])] for s in r["sources"]],
                "examples": [{"id": e["id"], "detail": snippet(e["detail"], 200), "text": snippet(e["what"], 160)}
                             for e in r["ex"]],
            })
    out: dict[str, Any] = {
        "before": (before.name if before else "input (before ingest)"),
        "after": after.name if after else None,
        "rows_before": n_before, "rows_after": n_after,
        "removed": int(rej.height) if rej is not None else 0,
        "steps": step_rows, "by_reason": by_reason,
    }
    side = key_figures(before_stats, after_stats)
    if side:
        out["side_by_side"] = side
    return out


def key_figures(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[list[Any]]:
    """[[figure, before, after]] when both ends are inspect steps (their stats.json hold stage_stats)."""
    a = (before or {}).get("stage_stats") or {}
    b = (after or {}).get("stage_stats") or after or {}
    if "counts" not in a or "counts" not in b:
        return []
    rows = [["rows", a["counts"]["rows"], b["counts"]["rows"]],
            ["exact duplicate rows", a["counts"]["exact_duplicates"]["rows"], b["counts"]["exact_duplicates"]["rows"]]]
    for f in ("instruction", "response", "conversation"):
        fa, fb = a["lengths"]["fields"].get(f), b["lengths"]["fields"].get(f)
        if fa and fb and fa.get("n") and fb.get("n"):
            unit = a["lengths"]["unit"]
            rows.append([f"{f} {unit}: median", fa["p50"], fb["p50"]])
            rows.append([f"{f} {unit}: p99", fa["p99"], fb["p99"]])
            rows.append([f"{f} {unit}: max", fa["max"], fb["max"]])
    for key, label in (("same_prompt", "prompts with different responses"), ("same_answer", "responses given to different prompts")):
        rows.append([label, a.get("conflicts", {}).get(key, {}).get("groups"), b.get("conflicts", {}).get(key, {}).get("groups")])
    rows.append(["length outliers", a.get("outliers", {}).get("flagged"), b.get("outliers", {}).get("flagged")])
    la, lb = a.get("language", {}).get("counts", {}), b.get("language", {}).get("counts", {})
    if la and lb:
        rows.append(["languages", len(la), len(lb)])
    return rows


def compare_paths(paths: list[str | Path], examples: int = 3, after_stats: dict[str, Any] | None = None) -> dict[str, Any]:
    steps, before, after = resolve_range(paths)
    return summarize_removed(steps, before, after, examples, after_stats)


def compare_in_run(run, earlier_id: str, current: str, current_stats: dict[str, Any],
                   examples: int = 3) -> dict[str, Any]:
    """For the inspect stage inside a run: from the earlier step named `earlier_id` up to this one, from the
    RunInfo the runner hands the stage (run_info.py: the steps finished before this one, in order)."""
    steps = [r for r in run.steps if r.dir is not None and r.dir.name < current]
    match = [r for r in steps if r.stats.get("step") == earlier_id]
    if not match:
        names = ", ".join(str(r.stats.get("step")) for r in steps)
        raise DataError(f"compare_with: no finished step with id {earlier_id!r} before this one in run {run.name} "
                        f"(steps: {names})")
    a = match[-1]
    between = [r.dir for r in steps[steps.index(a) + 1:]]
    out = summarize_removed(between, a.dir, None, examples, {"stage_stats": current_stats})
    out["after"] = current
    out["rows_after"] = current_stats["counts"]["rows"]
    return out
