"""The inspection as people read it: one self-contained report.html (plots are PNGs inlined as base64, CSS
inline, no script, no CDN: it opens offline and can be mailed), a short text summary for the terminal, and a
markdown summary for a Prefect artifact. Everything is drawn from the stats dict alone, so a report can be
re-rendered from a stats.json.

The HTML comes from Jinja templates in templates/ (report.html.j2 includes one template per section;
_macros.html.j2 has the table, cell and image blocks), autoescaped, with undefined names an error; the
plots from plots.py. Here: the template environment, the number formats the templates use, and which
sections and links a report has.

Left out: interactive plots (they would need JavaScript libraries from a CDN or a multi-MB inline bundle).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dsforge.pipelines.stages.inspect import plots

TEMPLATES = Path(__file__).parent / "templates"
# section templates in page order; each renders nothing when its figures are absent
SECTIONS = ("overview", "compare", "counts", "lengths", "tokens", "language", "verbs", "conflicts", "outliers",
            "breakdowns", "diversity", "annotators")


# ---------------------------------------------------------------- number formats (also template filters)


def num(x: Any, digits: int = 1) -> str:
    """Integers with thousands separators, floats with `digits` decimals, None as a dash."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer()):
        return f"{int(x):,}"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def pct(part: int | None, whole: int | None) -> str:
    """A share as a percentage; never rounds a few rows to 0% or most rows to 100%."""
    if not whole or part is None:
        return "–"
    share = 100 * part / whole
    if 0 < share < 0.05:
        return "<0.1%"
    if part < whole and share >= 99.95:
        return ">99.9%"
    return f"{share:.1f}%"


def pct_share(x: float) -> str:
    return f"{100 * x:.1f}%"


def _is_numeric(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             extensions=["jinja2.ext.do"])
    env.filters["num"] = num
    env.globals.update(pct=pct, pct_share=pct_share, plots=plots)
    env.tests.update(numeric=_is_numeric, markup=lambda x: isinstance(x, Markup))
    return env


# ---------------------------------------------------------------- the page


def nav_links(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(anchor, label) for each section the report shows."""
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
    return nav


def render_html(s: dict[str, Any]) -> str:
    return environment().get_template("report.html.j2").render(s=s, nav=nav_links(s), sections=SECTIONS)


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
