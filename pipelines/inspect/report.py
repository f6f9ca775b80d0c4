"""The inspection as people read it: one self-contained report.html (plots are PNGs inlined as base64, CSS
inline, no script, no CDN: it opens offline and can be mailed), a short text summary for the terminal, and a
markdown summary for a Prefect artifact. Everything is drawn from the stats dict alone, so a report can be
re-rendered from a stats.json.

Left out: interactive plots (they would need JavaScript libraries from a CDN or a multi-MB inline bundle).
"""

from __future__ import annotations

import base64
import html
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


# ---------------------------------------------------------------- HTML helpers


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def num(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer()):
        return f"{int(x):,}"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return esc(x)


def pct(part: int | None, whole: int | None) -> str:
    if not whole or part is None:
        return "–"
    share = 100 * part / whole
    if 0 < share < 0.05:
        return "<0.1%"
    if part < whole and share >= 99.95:
        return ">99.9%"
    return f"{share:.1f}%"


def table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None, cls: str = "") -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            if isinstance(c, _Raw):
                cells.append(f"<td>{c.html}</td>")
            elif i in numeric or (isinstance(c, (int, float)) and not isinstance(c, bool)):
                cells.append(f'<td class="n">{num(c)}</td>')
            else:
                cells.append(f"<td>{esc(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


class _Raw:
    def __init__(self, h: str):
        self.html = h


def img(b64: str, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{b64}">'


def code(x: Any) -> _Raw:
    return _Raw(f"<code>{esc(x)}</code>")


def small(x: Any) -> _Raw:
    return _Raw(f'<span class="ex">{esc(x)}</span>')


CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:16px 28px}header h1{margin:0 0 4px;font-size:22px}
header .meta{opacity:.8;font-size:12.5px}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:6px 28px;z-index:2;font-size:13px}
nav a{margin-right:14px;color:#2457a6;text-decoration:none;white-space:nowrap}
main{padding:8px 28px 40px;max-width:1320px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 8px}h3{font-size:14px;margin:14px 0 6px}
p.help{color:#555;margin:2px 0 10px;font-size:13px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{color:#555;font-weight:600;border-bottom:1px solid #ccc}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{background:#f2f2f2;padding:0 3px;border-radius:3px;font-size:12px}
.ex{color:#444;font-size:12.5px}.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.grid img{max-width:100%}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 12px}
.card{border:1px solid #e0e0e0;border-radius:6px;padding:8px 14px;min-width:120px;background:#fcfcfc}
.card b{display:block;font-size:20px}.card span{color:#555;font-size:12px}
ul.findings li{margin:3px 0}.warn{color:#9a4d00}.muted{color:#777}
"""


# ---------------------------------------------------------------- sections


def _overview(s: dict[str, Any]) -> str:
    c = s["counts"]
    lf = s["lengths"]["fields"]
    unit = s["lengths"]["unit"]
    cards = [("rows", num(c["rows"])), ("sources", num(len(c["sources"]))),
             ("exact duplicate rows", f'{num(c["exact_duplicates"]["rows"])} ({pct(c["exact_duplicates"]["rows"], c["rows"])})')]
    if "conversation" in lf and lf["conversation"].get("n"):
        cards.append((f"median {unit} per conversation", num(lf["conversation"]["p50"])))
    if s.get("language", {}).get("counts"):
        lang, k = next(iter(s["language"]["counts"].items()))
        cards.append(("main language", f"{esc(lang)} {pct(k, c['rows'])}"))
    out = ['<section id="overview"><h2>Overview</h2><div class="cards">']
    out += [f"<div class=card><b>{v}</b><span>{esc(k)}</span></div>" for k, v in cards]
    out.append("</div><h3>What to look at first</h3>")
    items = list(s["findings"])
    if s.get("compare"):
        C = s["compare"]
        reasons = ", ".join(f"{r['reason']} {r['rows']:,}" for r in C["by_reason"][:4])
        items.insert(0, f"{C['removed']:,} rows were removed between {C['before']} and {C['after']}"
                        + (f" ({reasons})" if reasons else "") + "; see Before / after.")
    if items:
        out.append('<ul class="findings">' + "".join(f"<li>{esc(f)}</li>" for f in items) + "</ul>")
    else:
        out.append('<p class="muted">Nothing stands out: no duplicates, empty fields, debris or outliers were found.</p>')
    out.append("</section>")
    return "".join(out)


def _counts(s: dict[str, Any]) -> str:
    c = s["counts"]
    out = ['<section id="counts"><h2>Counts</h2>']
    if s.get("inputs"):
        out.append("<h3>Inputs</h3>" + table(
            ["file", "format", "mapping", "source", "rows read", "kept", "unreadable"],
            [[i.get("path", "").split("/")[-1], i.get("format"), i.get("mapping"), i.get("source"), i.get("rows_read"),
              i.get("rows_kept"), i.get("rows_rejected")] for i in s["inputs"]]))
    if s.get("input_rejects"):
        r = s["input_rejects"]
        out.append(f'<p class="warn">{num(r["count"])} input rows could not be read. First ones:</p>' + table(
            ["id", "problem"], [[e["id"], small(e["detail"])] for e in r["examples"]]))
    n = c["rows"]
    out.append('<div class="grid"><div><h3>Rows per source</h3>' + table(
        ["source", "rows", "share"], [[k, v, pct(v, n)] for k, v in c["sources"].items()]) + "</div>")
    out.append("<div><h3>Rows per kind</h3>" + table(["kind", "rows"], [[k, v] for k, v in c["kinds"].items()]) + "</div>")
    if c["metadata_keys"]:
        out.append("<div><h3>Metadata keys</h3>" + table(
            ["key", "rows having it"], [[code(k), v] for k, v in list(c["metadata_keys"].items())[:20]]) + "</div>")
    out.append("</div><h3>Missing and empty fields</h3>")
    out.append('<p class="help">Missing = no value; empty = only whitespace. Counted among rows of the kinds that use the field.</p>')
    out.append(table(["field", "rows using it", "missing", "empty", "note"],
                     [[code(f["field"]), f["rows"], f["missing"], f["empty"], f["note"]] for f in c["fields"]]))
    d = c["exact_duplicates"]
    out.append(f'<h3>Exact duplicates</h3><p class="help">{esc(d["definition"])}: <b>{num(d["rows"])}</b> rows in '
               f'{num(d["groups"])} groups. Remove them with the <code>exact-dedup</code> stage.</p>')
    if d["examples"]:
        out.append(table(["copies", "ids", "text"], [[e["count"], small(", ".join(e["ids"])), small(e["text"])]
                                                    for e in d["examples"]]))
    out.append("</section>")
    return "".join(out)


def _lengths(s: dict[str, Any]) -> str:
    L = s["lengths"]
    unit = L["unit"]
    tok = s["tokenizer"]
    out = [f'<section id="lengths"><h2>Lengths in {esc(unit)}</h2><p class="help">Counted with the tokenizer '
           f'<code>{esc(tok["name"])}</code> (no special tokens added, no chat template). '
           "Histograms span 0 to the 99th percentile; the few longer rows are counted in the note.</p>"]
    if tok.get("warning"):
        out.append(f'<p class="warn">{esc(tok["warning"])}</p>')
    rows, figs = [], []
    for name, f in L["fields"].items():
        if not f.get("n"):
            continue
        rows.append([f["label"], f["rows"], f["n"], f["mean"], f["p50"], f["p90"], f["p95"], f["p99"], f["max"], f["total"]])
        figs.append(img(fig_length(f, f["label"], unit), f"histogram of {f['label']} lengths"))
    out.append(table(["field", "which rows", "rows", "mean", "median", "p90", "p95", "p99", "max", f"total {unit}"], rows))
    out.append('<div class="grid">' + "".join(figs) + "</div>")
    t = s["turns"]
    out.append("<h3>Turns per conversation</h3>")
    if t.get("conversation_rows"):
        dist = t["user_turns_per_conversation"]
        out.append(f'<p class="help">{num(t["conversation_rows"])} conversations, {num(t["multi_turn_rows"])} with more '
                   f'than one user turn (mean {t["mean_user_turns"]}); {num(t["single_turn_rows"])} single-turn '
                   "instruction rows.</p>")
        out.append(img(fig_barh([f"{k} user turns" for k in dist], list(dist.values()), "user turns per conversation",
                                "conversations"), "turns"))
    else:
        out.append(f'<p class="help">All {num(t["single_turn_rows"])} rows are single-turn (one prompt, one answer); '
                   "no multi-turn conversations.</p>")
    out.append("</section>")
    return "".join(out)


def _tokens(s: dict[str, Any]) -> str:
    T, D = s["tokens"], s["debris"]
    out = ['<section id="tokens"><h2>Tokens, special tokens and debris</h2><div class="grid">']
    if T.get("top_tokens"):
        out.append(f'<div><h3>Most common tokens</h3><p class="help">{num(T["total_tokens"])} tokens in whole '
                   f'conversations, {num(T["distinct_tokens"])} distinct of {num(T["vocab_size"])} in the vocabulary. '
                   "␣ = space, \\n = newline, ⟨e4 b8⟩ = bytes of part of a character (Chinese, emoji, ...).</p>" + table(
                       ["token", "count", "share"],
                       [[code(t), c, pct(c, T["total_tokens"])] for t, c in T["top_tokens"]]) + "</div>")
    if T.get("top_words"):
        out.append('<div><h3>Most common words</h3><p class="help">Lower-cased, English stop words removed; '
                   "Chinese/Japanese characters count one by one.</p>" + table(
                       ["word", "count"], [[w, c] for w, c in T["top_words"]]) + "</div>")
    out.append("</div><h3>Special tokens, markup and encoding debris</h3>")
    out.append('<p class="help">Rows whose prompt or answer contains each pattern. Chat-template tokens and encoding '
               "debris inside training text are almost always bugs; Markdown may be intended (code answers).</p>")
    if D["patterns"]:
        out.append(table(["kind", "pattern", "rows", "in fields", "example row", "example"],
                         [[p["group"], p["pattern"], p["rows"], ", ".join(f"{k} {v:,}" for k, v in p["by_field"].items()),
                           small(p["example_id"]), code(p["example"])] for p in D["patterns"]]))
    else:
        out.append('<p class="muted">None found.</p>')
    if D["html_tags"]:
        out.append('<h3>Things that look like tags <code>&lt;...&gt;</code></h3><p class="help">Any <code>&lt;word&gt;'
                   "</code>: real HTML, but also placeholders (<code>&lt;noinput&gt;</code>) and code generics "
                   "(<code>List&lt;String&gt;</code>).</p>" + table(
                       ["tag", "rows", "times"], [[code(f"<{t}>"), r, n] for t, r, n in D["html_tags"]]))
    out.append("</section>")
    return "".join(out)


def _language(s: dict[str, Any]) -> str:
    L = s.get("language") or {}
    out = ['<section id="language"><h2>Languages</h2>']
    if L.get("warning"):
        return "".join(out) + f'<p class="warn">{esc(L["warning"])}</p></section>'
    out.append(f'<p class="help">{esc(L["method"])}. Short rows (a few words) are often misidentified, and close languages get mixed up '
               "(zh / wuu / yue; no / da); <code>zxx</code> means no language (numbers, code).</p>")
    counts = L["counts"]
    n = sum(counts.values())
    top = list(counts.items())[:15]
    out.append('<div class="grid">' + img(fig_barh([k for k, _ in top], [v for _, v in top], "rows per language",
                                                    "rows"), "languages"))
    out.append(table(["language", "rows", "share"], [[k, v, pct(v, n)] for k, v in top]) + "</div>")
    if len(L["by_source"]) > 1:
        langs = [k for k, _ in top[:6]]
        out.append("<h3>By source</h3>" + table(
            ["source", *langs, "other"],
            [[src, *[d.get(lg, 0) for lg in langs], sum(v for k, v in d.items() if k not in langs)]
             for src, d in L["by_source"].items()]))
    out.append("</section>")
    return "".join(out)


def _verbs(s: dict[str, Any]) -> str:
    V = s.get("verb_noun") or {}
    out = ['<section id="verbs"><h2>Instruction verbs and objects</h2><p class="help">The (verb, direct object) '
           'of each instruction, as in Self-Instruct and "Instruction Tuning with GPT-4" (Peng et al. 2023, Fig. 3): '
           "what the data asks a model to do.</p>"]
    for key in ("warning", "note"):
        if V.get(key):
            out.append(f'<p class="warn">{esc(V[key])}</p>')
    if not V.get("parsed"):
        return "".join(out) + "</section>"
    out.append(f'<p class="help">{esc(V["method"])}. {num(V["with_pair"])} of {num(V["parsed"])} parsed instructions '
               f'({pct(V["with_pair"], V["parsed"])}) have a root verb with a direct object; the rest are questions '
               '("What is ...?") or have no object. Of all instructions, '
               f'{num(V["english"])} of {num(V["instructions"])} were identified as English.</p>')
    if V["top_verbs"]:
        pairs = V["top_pairs"]
        out.append('<div class="grid">' + img(fig_sunburst(V["top_verbs"]), "verb-noun sunburst"))
        out.append(img(fig_barh([f"{v} · {n}" for v, n, _ in pairs[:25]], [c for _, _, c in pairs[:25]],
                                "most common (verb, object) pairs", "instructions in the parsed set"),
                       "verb-noun pairs") + "</div>")
        out.append(table(["verb", "object", "instructions", "share of parsed"],
                         [[v, n, c, pct(c, V["parsed"])] for v, n, c in pairs]))
    out.append("</section>")
    return "".join(out)


def _conflicts(s: dict[str, Any]) -> str:
    C = s["conflicts"]
    out = ['<section id="conflicts"><h2>Same prompt, different answers — and the reverse</h2><p class="help">'
           "Prompts and answers compared after collapsing whitespace. One prompt with several answers teaches "
           "inconsistent behaviour (or is a deliberate preference pair); one answer for many prompts is often a "
           "template or a label (classification data).</p>"]
    sp, sa = C["same_prompt"], C["same_answer"]
    out.append(f"<h3>Same prompt, different responses: {num(sp['groups'])} prompts, {num(sp['rows'])} rows</h3>")
    if sp["examples"]:
        out.append(table(["prompt", "distinct responses", "rows", "responses (first 3)", "ids"],
                         [[small(e["key"]), e["distinct"], e["rows"], _Raw("<br>".join(f"• {esc(o)}" for o in e["others"])),
                           small(", ".join(e["ids"]))] for e in sp["examples"]]))
    out.append(f"<h3>Same response, different prompts: {num(sa['groups'])} responses, {num(sa['rows'])} rows</h3>")
    if sa["groups"]:
        out.append(f'<p class="help">{num(sa.get("short_answer_groups", 0))} of these responses are under 5 words '
                   f'({num(sa.get("short_answer_rows", 0))} rows) — labels such as "positive" are expected; '
                   "longer shared responses are worth a look.</p>")
        shown: set[str] = set()
        for label, key in (("Longer shared responses (5+ words)", "examples_long"),
                           ("Most shared responses (any length)", "examples")):
            ex = [e for e in sa.get(key) or [] if e["key"] not in shown]
            shown |= {e["key"] for e in ex}
            if ex:
                out.append(f"<h3>{label}</h3>" + table(
                    ["response", "distinct prompts", "rows", "prompts (first 3)", "ids"],
                    [[small(e["key"]), e["distinct"], e["rows"], _Raw("<br>".join(f"• {esc(o)}" for o in e["others"])),
                      small(", ".join(e["ids"]))] for e in ex]))
    out.append("</section>")
    return "".join(out)


def _outliers(s: dict[str, Any], unit: str) -> str:
    O = s.get("outliers") or {}
    if not O:
        return ""
    out = [f'<section id="outliers"><h2>Length outliers</h2><p class="help">{esc(O["method"])}. '
           f"<b>{num(O['flagged'])}</b> rows flagged: {num(O['flagged_high'])} unusually long and "
           f"{num(O['flagged_low'])} unusually short for their source.</p>"]
    groups = [(src, d["box"]) for src, d in sorted(O["by_source"].items(), key=lambda kv: -kv[1]["rows"])[:25]]
    out.append('<div class="grid">')
    if "source" in (s.get("breakdowns") or {}) and len(groups) > 1:
        out.append('<p class="help">Length distributions per source: see <a href="#by-source">By source</a>.</p>')
    elif groups:
        out.append(img(fig_box(groups, f"conversation length by source ({unit}, log scale)", unit), "lengths by source"))
    out.append(table(["source", "rows", f"median {unit}", "long outliers", "short outliers"],
                     [[src, d["rows"], d["median"], d["high"], d["low"]]
                      for src, d in sorted(O["by_source"].items(), key=lambda kv: -kv[1]["rows"])]) + "</div>")
    cols = ["id", "source", unit, "source median", "z", "text"]
    fmt = lambda rows: [[small(r["id"]), r["source"], r["tokens"], r["source_median"], r["z"], small(r["text"])]  # noqa: E731
                        for r in rows]
    if O["most_extreme"]:
        out.append("<h3>Furthest from their source's typical length</h3>" + table(cols, fmt(O["most_extreme"])))
    out.append("<h3>Longest rows</h3>" + table(cols, fmt(O["longest"])))
    out.append("<h3>Shortest rows</h3>" + table(cols, fmt(O["shortest"])))
    out.append("</section>")
    return "".join(out)


def _breakdowns(s: dict[str, Any], unit: str) -> str:
    out = []
    for key, B in (s.get("breakdowns") or {}).items():
        out.append(f'<section id="by-{esc(key)}"><h2>By {esc(key)}</h2>')
        if B.get("warning"):
            out.append(f'<p class="warn">{esc(B["warning"])}</p></section>')
            continue
        where = "a column" if B["origin"] == "column" else "a metadata key"
        extra = f", grouped by {B['bucketed_by']}" if B.get("bucketed_by") else ""
        out.append(f'<p class="help"><code>{esc(key)}</code> is {where}{extra}: {num(B["distinct"])} distinct values, '
                   f'{num(B["missing"])} rows without it.'
                   + (f" Showing the top {len(B['values'])}; {num(B['other']['values'])} more values hold "
                      f"{num(B['other']['rows'])} rows." if B.get("other") else "") + "</p>")
        cov = B.get("coverage") or {}
        if cov.get("distinct", 0) > 1:
            out.append(f'<p class="help">Coverage: {num(cov["effective_groups"], 2)} effective groups of '
                       f'{num(cov["distinct"])} (exp of the entropy; evenness {num(cov["evenness"], 3)}, 1 = all the '
                       f'same size); smallest group {pct_share(cov["smallest_share"])}, largest '
                       f'{pct_share(cov["largest_share"])}.</p>')
        vals = B["values"]
        if len(vals) > 1:
            out.append(img(fig_breakdown(vals, key, unit), f"rows and lengths by {key}"))
        out.append(table([key, "rows", "share", f"median {unit}", f"p90 {unit}", f"median response {unit}",
                          "empty responses", "exact duplicates", "length outliers", "main language"],
                         [[v["value"], v["rows"], pct(v["rows"], s["counts"]["rows"]), v["box"][2], v["p90"],
                           v["response_p50"], v["empty_responses"], v["exact_duplicates"], v["outliers"],
                           v["top_language"]] for v in vals]))
        out.append("</section>")
    return "".join(out)


def pct_share(x: float) -> str:
    return f"{100 * x:.1f}%"


def _diversity(s: dict[str, Any]) -> str:
    D = s.get("diversity")
    if not D:
        return ""
    out = [f'<section id="diversity"><h2>Diversity</h2><p class="help">{esc(D["method"])}. Vendi score: the '
           "effective number of distinct rows in the sample (1 = all alike). Near-duplicate density: share of a "
           "group's rows with a near-duplicate anywhere in the set.</p>"]
    if D.get("warning"):
        out.append(f'<p class="warn">{esc(D["warning"])}</p>')
    o = D.get("overall") or {}
    if o.get("vendi") is not None:
        out.append(f"<p>All rows: Vendi <b>{num(o['vendi'], 1)}</b> of {num(o['rows'])} sampled rows, mean pairwise "
                   f"cosine distance <b>{num(o['mean_pairwise_distance'], 3)}</b>; "
                   f"{num(D.get('near_duplicate_rows', 0))} rows have a near-duplicate.</p>")
    for key, rows in (D.get("by") or {}).items():
        out.append(f"<h3>By {esc(key)}</h3>" + table(
            [key, "rows", "sampled", "Vendi", "mean pairwise distance", "near-duplicate density"],
            [[r["value"], r["rows"], r.get("sample_rows"), r.get("vendi"), r.get("mean_pairwise_distance"),
              pct_share(r["near_duplicate_density"])] for r in rows]))
    out.append("</section>")
    return "".join(out)


def _review_labels(s: dict[str, Any]) -> str:
    """Agreement on the labels people gave in `dsforge review` (computed in annotators.label_agreement)."""
    L = s.get("review_labels")
    if not L:
        return ""
    ar, sc = L["accept_reject"], L["scores"]
    out = [f'<h3>Review labels</h3><p class="help">{num(L["labels"])} labels on {num(L["rows"])} rows by '
           f'{len(L["annotators"])} annotators (<code>{esc(L["file"])}</code>).</p>',
           table(["annotator", "labels", "accept", "reject", "scored", "noted"],
                 [[p["annotator"], p["labels"], p["accept"], p["reject"], p["scored"], p["noted"]] for p in L["per_annotator"]])]
    if ar.get("items"):
        out.append(f'<p>Accept/reject agreement on {num(ar["items"])} rows labelled by two or more: <b>{pct_share(ar["agreement"])}</b>'
                   f' of pairs agree; Krippendorff\'s alpha (nominal) = <b>{num(ar["alpha_nominal"], 3)}</b>.</p>')
        out.append(table(["annotators", "shared rows", "agreement", "Cohen's kappa"],
                         [[" · ".join(p["annotators"]), p["items"], pct_share(p["agreement"]), p["kappa"]] for p in ar["pairs"]]))
    if sc.get("items"):
        out.append(f'<p>Scores on {num(sc["items"])} rows scored twice or more: alpha (interval) = {num(sc["alpha_interval"], 3)}.</p>')
    return "".join(out)


def _annotators(s: dict[str, Any]) -> str:
    A = s.get("annotators")
    if not A:
        return f'<section id="annotators"><h2>Annotators</h2>{_review_labels(s)}</section>' if s.get("review_labels") else ""
    out = [f'<section id="annotators"><h2>Annotators</h2><p class="help">{num(A["annotations"])} annotations by '
           f'{num(A["annotators"])} annotators (key <code>{esc(A["annotator_key"])}</code>, score '
           f'<code>{esc(A["score_key"])}</code>, layout: {esc(A["layout"])}).</p>']
    if A.get("warning"):
        out.append(f'<p class="warn">{esc(A["warning"])}</p>')
    per = A["per_annotator"]
    out.append(table(["annotator", "rows", "scored", "mean", "std", "median", "min", "max"],
                     [[p["annotator"], p["rows"], p["scored"], p.get("mean"), p.get("std"), p.get("median"),
                       p.get("min"), p.get("max")] for p in per]))
    if A.get("scale") and any(p.get("dist") for p in per):
        out.append(img(fig_scores(per, A["scale"]), "scores per annotator"))
    M = A.get("multi") or {}
    if M.get("items"):
        alpha = M.get("alpha_interval")
        out.append(f"<h3>Agreement on items scored more than once ({num(M['items'])} items)</h3>"
                   f'<p class="help">Krippendorff\'s alpha (interval) = <b>{num(alpha, 3)}</b> (1 = perfect agreement, '
                   f"0 = no better than chance, below 0.667 is usually considered unreliable). "
                   f"{num(M['items_disagreeing'])} items got different scores; mean score range "
                   f"{num(M['mean_range'], 2)}, mean absolute difference between two annotators "
                   f"{num(M['mean_abs_pair_diff'], 2)}.</p>")
        if M["annotator_pairs"]:
            out.append(table(["annotator", "annotator", "shared items", "mean |difference|"], M["annotator_pairs"]))
        if M["most_conflicting"]:
            out.append("<h3>Most conflicting items</h3>" + table(
                ["id", "scores", "range", "text"],
                [[small(m["id"]), ", ".join(f"{a}: {v:g}" for a, v in m["scores"]), m["range"], small(m["text"])]
                 for m in M["most_conflicting"]]))
    elif A.get("scored"):
        out.append('<p class="muted">No item was scored by more than one annotator, so agreement cannot be measured.</p>')
    out.append(_review_labels(s) + "</section>")
    return "".join(out)


def _compare(s: dict[str, Any]) -> str:
    C = s.get("compare")
    if not C:
        return ""
    out = [f'<section id="compare"><h2>Before / after</h2><p class="help">From <code>{esc(C["before"])}</code> '
           f'({num(C["rows_before"])} rows) to <code>{esc(C["after"])}</code> ({num(C["rows_after"])} rows): '
           f'<b>{num(C["removed"])}</b> rows removed ({pct(C["removed"], C["rows_before"])}).</p>']
    if C["steps"]:
        out.append(table(["step", "stage", "rows in", "kept", "removed"],
                         [[st["step"], st["stage"], st["rows_in"], st["kept"], st["rejected"]] for st in C["steps"]]))
    if C["by_reason"]:
        rs = C["by_reason"]
        out.append('<div class="grid">' + img(fig_barh([r["reason"] for r in rs], [r["rows"] for r in rs],
                                                        "rows removed, by reason", "rows", PALETTE[3]), "removed") + "</div>")
        out.append("<h3>What was removed and why</h3>" + table(
            ["reason", "step", "rows", "share of before", "top sources", "examples (id: detail)"],
            [[code(r["reason"]), r["step"], r["rows"], pct(r["rows"], C["rows_before"]),
              ", ".join(f"{a} {b:,}" for a, b in r["top_sources"]),
              _Raw("<br>".join(f'<span class="ex"><b>{esc(e["id"])}</b>: {esc(e["detail"])}'
                               + (f' — “{esc(e["text"])}”' if e["text"] else "") + "</span>" for e in r["examples"]))]
             for r in rs]))
    if C.get("side_by_side"):
        out.append("<h3>Key figures side by side</h3>" + table(["figure", "before", "after"], C["side_by_side"]))
    out.append("</section>")
    return "".join(out)


def render_html(s: dict[str, Any]) -> str:
    unit = s["lengths"]["unit"]
    parts = [_overview(s), _compare(s), _counts(s), _lengths(s), _tokens(s), _language(s), _verbs(s), _conflicts(s),
             _outliers(s, unit), _breakdowns(s, unit), _diversity(s), _annotators(s)]
    nav = [("overview", "Overview")] + ([("compare", "Before/after")] if s.get("compare") else [])
    nav += [("counts", "Counts"), ("lengths", "Lengths"), ("tokens", "Tokens & debris"),
            ("language", "Languages"), ("verbs", "Verbs"), ("conflicts", "Conflicts")]
    if s.get("outliers"):
        nav.append(("outliers", "Outliers"))
    nav += [(f"by-{k}", f"By {k}") for k in (s.get("breakdowns") or {})]
    if s.get("diversity"):
        nav.append(("diversity", "Diversity"))
    if s.get("annotators") or s.get("review_labels"):
        nav.append(("annotators", "Annotators"))
    links = "".join(f'<a href="#{esc(a)}">{esc(b)}</a>' for a, b in nav)
    meta = (f"{num(s['counts']['rows'])} rows · lengths in {esc(s['tokenizer']['name'])} · generated "
            f"{esc(s['generated'])} in {s['seconds']:.1f} s by dsforge inspect")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(s["title"])} — dsforge inspect</title>'
            f"<style>{CSS}</style></head><body><header><h1>{esc(s['title'])}</h1><div class=meta>{meta}</div></header>"
            f"<nav>{links}</nav><main>{''.join(parts)}</main></body></html>")


# ---------------------------------------------------------------- text summaries


def summary_lines(s: dict[str, Any]) -> list[str]:
    c = s["counts"]
    unit = s["lengths"]["unit"]
    kinds = ", ".join(f"{k} {v:,}" for k, v in c["kinds"].items())
    lines = [f"{s['title']}: {c['rows']:,} rows from {len(c['sources'])} source(s) ({kinds})"]
    parts = [f"{f['label']} median {f['p50']:,.0f} / p99 {f['p99']:,.0f} / max {f['max']:,}"
             for name, f in s["lengths"]["fields"].items() if f.get("n") and name in ("instruction", "input", "response", "conversation")]
    if parts:
        lines.append(f"{unit} ({s['tokenizer']['spec']}): " + "; ".join(parts))
    langs = s.get("language", {}).get("counts", {})
    if langs:
        n = max(c["rows"], 1)
        lines.append("languages: " + ", ".join(f"{k} {100 * v / n:.1f}%" for k, v in list(langs.items())[:5]))
    V = s.get("verb_noun") or {}
    if V.get("top_pairs"):
        lines.append("top (verb, object): " + ", ".join(f"{v} {o} ({n})" for v, o, n in V["top_pairs"][:6])
                     + (f"  [sample of {V['parsed']:,}]" if V.get("sampled") else ""))
    for key, B in (s.get("breakdowns") or {}).items():
        cov = B.get("coverage") or {}
        if cov.get("distinct", 0) > 1:
            top = ", ".join(f"{v['value']} {pct_share(v['share'])}" for v in B["values"][:6])
            lines.append(f"coverage by {key}: {cov['distinct']} values, {cov['effective_groups']:g} effective "
                         f"(evenness {cov['evenness']:.2f}): {top}{', ...' if B['distinct'] > 6 else ''}")
    D = s.get("diversity") or {}
    for key, rows in (D.get("by") or {}).items():
        parts = [f"{r['value']} {r['vendi']:g}" for r in rows[:6] if r.get("vendi") is not None]
        if parts:
            lines.append(f"diversity (Vendi, sample of {D['sampled']:,}) by {key}: " + ", ".join(parts)
                         + f"; near-duplicate rows {D.get('near_duplicate_rows', 0):,}")
    for f in s["findings"]:
        lines.append(f"- {f}")
    return lines


def summary_text(s: dict[str, Any]) -> str:
    return "\n".join(summary_lines(s))


def summary_markdown(s: dict[str, Any], step: str | None = None) -> str:
    """Markdown for a Prefect artifact: key figures, length table, findings, top verb-object pairs."""
    c = s["counts"]
    unit = s["lengths"]["unit"]
    out = [f"# Inspection{f' `{step}`' if step else ''}: {s['title']}", "",
           "| figure | value |", "|---|---|",
           f"| rows | {c['rows']:,} |", f"| sources | {len(c['sources'])} |",
           f"| exact duplicate rows | {c['exact_duplicates']['rows']:,} |",
           f"| prompts with different responses | {s['conflicts']['same_prompt']['groups']:,} |",
           f"| length outliers | {(s.get('outliers') or {}).get('flagged', 0):,} |", "",
           f"| field | rows | median {unit} | p90 | p99 | max |", "|---|---:|---:|---:|---:|---:|"]
    for f in s["lengths"]["fields"].values():
        if f.get("n"):
            out.append(f"| {f['label']} | {f['n']:,} | {f['p50']:,.0f} | {f['p90']:,.0f} | {f['p99']:,.0f} | {f['max']:,} |")
    if s["findings"]:
        out += ["", "**What to look at first**", ""] + [f"- {f}" for f in s["findings"]]
    V = s.get("verb_noun") or {}
    if V.get("top_pairs"):
        out += ["", "| verb | object | instructions |", "|---|---|---:|"]
        out += [f"| {v} | {o} | {n} |" for v, o, n in V["top_pairs"][:10]]
    return "\n".join(out) + "\n"
