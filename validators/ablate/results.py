"""The ablation's answer: a table per variant, whether differences are beyond the seed noise, and the scaling curve.

Noise: with two or more seeds a variant's eval loss is given as mean ± standard deviation; two variants differ
only when their means are further apart than twice the larger standard deviation. With one seed the spread is
unknown and the table says so. Scaling curve (the rungs of a ladder): eval loss against rows fitted as a power
law L(n) = a·n^(-b) in log-log space, and the gain of doubling the data is that fit read at twice the largest
rung, an extrapolation the table labels as such.

Not here: training (train.py).
"""

from __future__ import annotations

import base64
import html
import io
import math
from statistics import mean, stdev
from typing import Any


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per variant (in the given order) from the per-seed results."""
    by: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by.setdefault(r["variant"], []).append(r)
    rows = []
    for name, rs in by.items():
        losses = [r["eval_loss"] for r in rs]
        metric = [r["metric"] for r in rs if r.get("metric") is not None and not math.isnan(r["metric"])]
        rows.append({
            "variant": name, "group": rs[0].get("group"), "rows": rs[0]["rows"], "tokens": rs[0]["tokens"],
            "trained_tokens": rs[0]["trained_tokens"], "seeds": len(rs),
            "train_loss": mean(r["train_loss"] for r in rs), "eval_loss": mean(losses),
            "eval_loss_sd": stdev(losses) if len(losses) > 1 else None,
            "metric": mean(metric) if metric else None, "seconds": sum(r["seconds"] for r in rs),
        })
    return rows


def compare(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each variant against the first: the eval-loss difference and whether it is beyond the seed noise."""
    if not rows:
        return []
    base = rows[0]
    out = []
    for r in rows[1:]:
        diff = r["eval_loss"] - base["eval_loss"]
        sds = [s for s in (r["eval_loss_sd"], base["eval_loss_sd"]) if s is not None]
        if len(sds) < 2:
            verdict = "spread unknown (run with --seeds 2)"
        elif abs(diff) <= 2 * max(sds):
            verdict = "within noise"
        else:
            verdict = "better" if diff < 0 else "worse"
        out.append({"variant": r["variant"], "baseline": base["variant"], "eval_loss_diff": diff, "verdict": verdict})
    return out


def power_law(points: list[tuple[int, float]]) -> dict[str, float] | None:
    """Least-squares fit of log L = log a - b log n; None for fewer than two distinct sizes."""
    pts = [(n, y) for n, y in points if n > 0 and y > 0]
    if len({n for n, _ in pts}) < 2:
        return None
    xs = [math.log(n) for n, _ in pts]
    ys = [math.log(y) for _, y in pts]
    mx, my = mean(xs), mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a, b = math.exp(my - slope * mx), -slope
    n_max = max(n for n, _ in pts)
    at_max, at_double = a * n_max ** -b, a * (2 * n_max) ** -b
    return {"a": a, "b": b, "n_max": n_max, "fit_at_max": at_max, "fit_at_double": at_double,
            "doubling_gain": at_max - at_double}


def scaling(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The curve of the first ladder among the variants (rungs share a `group` that is not 'mix')."""
    groups = [r["group"] for r in rows if r.get("group") and r["group"] != "mix"]
    if not groups:
        return None
    rungs = [r for r in rows if r.get("group") == groups[0]]
    fit = power_law([(r["rows"], r["eval_loss"]) for r in rungs])
    return {"ladder": groups[0], "points": [(r["rows"], r["eval_loss"], r["eval_loss_sd"]) for r in rungs], "fit": fit}


def plot_png(curve: dict[str, Any]) -> bytes:
    """The scaling curve with the fitted power law and its extrapolation to twice the data, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    xs = [p[0] for p in curve["points"]]
    ax.errorbar(xs, [p[1] for p in curve["points"]], yerr=[p[2] or 0 for p in curve["points"]], fmt="o",
                capsize=3, label="eval loss (mean ± sd over seeds)")
    fit = curve["fit"]
    if fit:
        grid = [min(xs) * (2 * fit["n_max"] / min(xs)) ** (i / 50) for i in range(51)]
        ax.plot(grid, [fit["a"] * g ** -fit["b"] for g in grid], "--", label=f"fit L = a·n^(-b), b = {fit['b']:.3g}")
        ax.plot([2 * fit["n_max"]], [fit["fit_at_double"]], "x", ms=9, label="extrapolated: twice the data")
    ax.set_xscale("log")
    ax.set_xlabel("training rows (log)")
    ax.set_ylabel("held-out eval loss")
    ax.set_title(f"data-scaling curve: {curve['ladder']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _f(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{digits}f}" if isinstance(x, float) else f"{x:,}"


def markdown(rows: list[dict[str, Any]], comparisons: list[dict[str, Any]], curve: dict[str, Any] | None,
             meta: dict[str, Any]) -> str:
    lines = [f"Model {meta['model']}, {meta['budget_tokens']:,} tokens per variant, {meta['eval_rows']} held-out rows "
             f"({meta['eval_source']}), seeds {meta['seeds']}.", "",
             "| variant | rows | tokens | trained tokens | train loss | eval loss | ± sd | metric | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['rows']:,} | {r['tokens']:,} | {r['trained_tokens']:,} | "
                     f"{_f(r['train_loss'])} | {_f(r['eval_loss'])} | {_f(r['eval_loss_sd'])} | {_f(r['metric'])} | "
                     f"{r['seconds']:.1f} |")
    if comparisons:
        lines += ["", "| variant | vs | eval-loss difference | verdict |", "|---|---|---|---|"]
        lines += [f"| {c['variant']} | {c['baseline']} | {c['eval_loss_diff']:+.4f} | {c['verdict']} |" for c in comparisons]
    if curve and curve["fit"]:
        f = curve["fit"]
        lines += ["", f"Scaling ({curve['ladder']}): L(n) = a·n^(-b) with a = {f['a']:.4g}, b = {f['b']:.4g}; at {f['n_max']:,} rows "
                      f"{f['fit_at_max']:.4f}, extrapolated to {2 * f['n_max']:,} rows {f['fit_at_double']:.4f} "
                      f"(doubling the data gains {f['doubling_gain']:.4f} eval loss; an extrapolation from "
                      f"{len(curve['points'])} points)."]
    return "\n".join(lines) + "\n"


def html_page(md_table: str, png: bytes | None, title: str) -> str:
    """A self-contained page (the table and the curve inline), in the spirit of the inspect report."""
    body = []
    for line in md_table.splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("|"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        elif line.strip():
            body.append(f"</table><p>{html.escape(line)}</p><table>")
    img = f'<img alt="scaling curve" src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png else ""
    return (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            f"margin:2em}}td{{border-bottom:1px solid #ddd;padding:3px 8px}}</style><h1>{html.escape(title)}</h1>"
            f"<table>{''.join(body)}</table>{img}")
