"""The inspection report's plots: matplotlib (Agg) figures returned as base64 PNG, to inline in report.html.

Each function draws one figure from figures already in the stats dict (histogram counts, percentiles,
box quartiles), never from rows, so a report can be redrawn from a stats.json.

Not here: the HTML around them (report.py and templates/).
"""

from __future__ import annotations

import base64
import io
from typing import Any

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974",
           "#64B5CD"]


# ---------------------------------------------------------------- plots


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 10, "axes.titleweight": "bold"})
    return plt


def _png(fig) -> str:
    import warnings

    buf = io.BytesIO()
    with warnings.catch_warnings():  # labels in scripts the default font lacks (CJK) draw as boxes; no noise
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def fig_length(f: dict[str, Any], title: str, unit: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 2.7))
    h = f["hist"]
    edges, counts = h["edges"], h["counts"]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color=PALETTE[0], edgecolor="white", linewidth=0.4)
    for q, style, color in (("p50", "-", "#222"), ("p90", "--", PALETTE[1]), ("p99", ":", PALETTE[3])):
        ax.axvline(f[q], linestyle=style, color=color, linewidth=1.2, label=f"{q} = {f[q]:,.0f}")
    ax.set_xlabel(f"{unit} per row")
    ax.set_ylabel("rows")
    ax.set_title(title)
    note = f"{f['n']:,} rows, mean {f['mean']:,.1f}, max {f['max']:,}"
    if h["overflow"]:
        note += f"\n{h['overflow']:,} rows above {edges[-1]:,.0f} not drawn"
    ax.text(0.99, 0.6, note, transform=ax.transAxes, ha="right", va="top", fontsize=7.5, color="#444")
    ax.legend(fontsize=7.5, frameon=False, loc="upper right")
    return _png(fig)


def fig_barh(labels: list[str], values: list[float], title: str, xlabel: str, color: str = PALETTE[0],
             annotate: bool = True) -> str:
    plt = _plt()
    labels = [str(x) if len(str(x)) <= 48 else str(x)[:47] + "…" for x in labels]
    fig, ax = plt.subplots(figsize=(6.2, 0.28 * len(labels) + 0.9))
    y = list(range(len(labels)))[::-1]
    ax.barh(y, values, color=color)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if annotate:
        top = max(values) if values else 0
        for yi, v in zip(y, values):
            ax.text(v + top * 0.01, yi, f"{v:,.0f}", va="center", fontsize=7.5)
        ax.set_xlim(0, top * 1.15 if top else 1)
    return _png(fig)


def fig_box(groups: list[tuple[str, list[float]]], title: str, unit: str, log: bool = True) -> str:
    """Horizontal box plots from precomputed [p5, p25, p50, p75, p95] (whiskers at p5/p95)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.2, 0.32 * len(groups) + 1.0))
    stats = [{"label": (g if len(g) <= 40 else g[:39] + "…"), "whislo": q[0], "q1": q[1], "med": q[2], "q3": q[3],
              "whishi": q[4], "fliers": []} for g, q in groups][::-1]
    ax.bxp(stats, orientation="horizontal", showfliers=False, patch_artist=True,
           boxprops={"facecolor": "#dbe4f0", "edgecolor": PALETTE[0]}, medianprops={"color": "#C44E52"})
    if log:
        _log_axis(ax, stats)
    ax.set_xlabel(f"{unit} per row (box: p25–p75, line: median, whiskers: p5–p95)")
    ax.set_title(title)
    return _png(fig)


def fig_breakdown(values: list[dict[str, Any]], key: str, unit: str) -> str:
    """Rows per value (left) and conversation length boxes per value (right), sharing the value labels."""
    plt = _plt()
    labels = [str(v["value"]) if len(str(v["value"])) <= 40 else str(v["value"])[:39] + "…" for v in values]
    y = list(range(len(values)))[::-1]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.5, 0.3 * len(values) + 1.2), sharey=True,
                                 gridspec_kw={"width_ratios": [1, 1.4], "wspace": 0.08})
    rows = [v["rows"] for v in values]
    a1.barh(y, rows, color=PALETTE[0])
    top = max(rows)
    for yi, r in zip(y, rows):
        a1.text(r + top * 0.01, yi, f"{r:,}", va="center", fontsize=7.5)
    a1.set_xlim(0, top * 1.2)
    a1.set_yticks(y, labels)
    a1.set_xlabel("rows")
    a1.set_title(f"rows by {key}")
    boxes = [{"label": lab, "whislo": v["box"][0], "q1": v["box"][1], "med": v["box"][2], "q3": v["box"][3],
              "whishi": v["box"][4], "fliers": []} for lab, v in zip(labels, values) if v["box"][2] is not None]
    pos = [yi for yi, v in zip(y, values) if v["box"][2] is not None]
    a2.bxp(boxes, positions=pos, orientation="horizontal", showfliers=False, patch_artist=True, widths=0.6,
           boxprops={"facecolor": "#dbe4f0", "edgecolor": PALETTE[0]}, medianprops={"color": "#C44E52"})
    _log_axis(a2, boxes)
    a2.set_xlabel(f"{unit} per conversation (box p25–p75, red line median, whiskers p5–p95)")
    a2.set_title(f"length by {key} (log scale)")
    a2.tick_params(axis="y", left=False)
    return _png(fig)


def _log_axis(ax, stats: list[dict[str, Any]]) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_xscale("log")
    lo = max(min(g["whislo"] for g in stats), 1) * 0.8
    ax.set_xlim(lo, max(max(g["whishi"] for g in stats), 2) * 1.25)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=()))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def fig_sunburst(top_verbs: list[list[Any]]) -> str:
    """Peng et al. style: inner ring = top verbs, outer ring = each verb's top direct-object nouns."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.6, 6.6))
    inner, inner_labels, outer, outer_labels, outer_colors, inner_colors = [], [], [], [], [], []
    cmap = plt.get_cmap("tab20")
    total = max(sum(sum(c for _, c in nouns) for _, _, nouns in top_verbs), 1)
    for k, (verb, count, nouns) in enumerate(top_verbs):
        color = cmap(k % 20)
        shown = sum(c for _, c in nouns)
        inner.append(shown)
        inner_labels.append(verb if shown / total > 0.02 else "")
        inner_colors.append(color)
        for n, c in nouns:
            outer.append(c)
            outer_labels.append(n if c / total > 0.012 else "")
            outer_colors.append((*color[:3], 0.55))
    ax.pie(inner, radius=0.62, labels=inner_labels, labeldistance=0.62, colors=inner_colors,
           wedgeprops={"width": 0.34, "edgecolor": "white"}, textprops={"fontsize": 7.5, "ha": "center"},
           rotatelabels=True, startangle=90, counterclock=False)
    ax.pie(outer, radius=1.0, labels=outer_labels, labeldistance=0.8, colors=outer_colors,
           wedgeprops={"width": 0.38, "edgecolor": "white"}, textprops={"fontsize": 6.5, "ha": "center"},
           rotatelabels=True, startangle=90, counterclock=False)
    ax.set_title("top verbs (inner ring) and their top direct objects (outer ring)\n"
                 "(small wedges unlabelled; see the table)")
    ax.set_aspect("equal")
    return _png(fig)


def fig_scores(per: list[dict[str, Any]], scale: list[float]) -> str:
    plt = _plt()
    shown = [p for p in per if p.get("dist")][:10]
    fig, ax = plt.subplots(figsize=(6.2, 2.8))
    width = 0.8 / max(len(shown), 1)
    for k, p in enumerate(shown):
        total = max(sum(p["dist"].values()), 1)
        xs = [i + k * width for i in range(len(scale))]
        ax.bar(xs, [p["dist"][str(v)] / total for v in scale], width=width, color=PALETTE[k % 10],
               label=f"{p['annotator']} (n={total}, mean {p['mean']:.2f})")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(scale))], [f"{v:g}" for v in scale])
    ax.set_xlabel("score")
    ax.set_ylabel("share of the annotator's rows")
    ax.set_title("score distribution per annotator")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)
