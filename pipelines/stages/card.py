"""The dataset card (README.md) that `publish` writes next to the data: what a reader needs to trust it.

Everything comes from the run (a run_info.RunInfo, handed over by the runner), never typed by hand:
sources and licences (the ingest step's manifest, licences from the recipe's `licenses`, the shipped
data's README, or a LICENSE file beside an input), each step with its parameters and row counts (its
stats.json), rejection reasons, the models and
templates that generated or formatted rows (the rows' lineage), token statistics (`n_tokens` from
chat-format, else character lengths) and the inspect step's key figures and plots when one ran.
The YAML header is built with huggingface_hub's DatasetCardData and datasets' DatasetInfo (card_metadata.py):
Hub licence identifiers, language (measured here when no inspect step ran), Hub-id source_datasets only,
configs/data_files listing exactly the files written, dataset_info with features and sized splits.

Not here: writing files (dataset_writer.py, publish.py), the HTML inspection report (inspect/).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from dsforge.pipelines.stages.card_metadata import (card_data, dataset_info, hub_sources, inspect_languages, licence_fields,
                                             main_languages, measure_languages)
from dsforge.pipelines.stages.dataset_writer import Written
from dsforge.pipelines.core.run_info import RunInfo

SHIPPED_README = Path(__file__).resolve().parents[2] / "data" / "README.md"


def _shipped_licences() -> dict[str, str]:
    table: dict[str, str] = {}
    if SHIPPED_README.exists():
        for line in SHIPPED_README.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and cells[0].startswith("`"):
                table[cells[0].strip("`")] = cells[-1]
    return table


def licence_for(inp: dict[str, Any], given: dict[str, str]) -> str:
    """Licence of one input: from the recipe, the shipped data's README, or a LICENSE file beside it."""
    path = Path(inp.get("path", ""))
    for key in (inp.get("source"), path.name, inp.get("given_path")):
        if key and key in given:
            return given[key]
    shipped = _shipped_licences()
    if path.name in shipped and str(inp.get("given_path", "")).startswith("data:"):
        return shipped[path.name]
    for folder in (path.parent, path.parent.parent):
        for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"):
            lic = folder / name
            if lic.is_file():
                first = next((ln.strip() for ln in lic.read_text(errors="replace").splitlines() if ln.strip()), "")
                return f"{first[:60]} (from {lic.name} beside the input)"
    return "unknown: set `licenses` in the publish step"


def lineage_summary(df: pl.DataFrame) -> list[dict[str, Any]]:
    """(stage, model, template, rows) for every lineage entry naming a model or a template."""
    if "lineage" not in df.columns or df.height == 0:
        return []
    counts: Counter = Counter()
    for entries in df["lineage"].to_list():
        seen = set()
        for e in entries or []:
            try:
                info = json.loads(e["info"] or "{}")
            except ValueError:
                continue
            if not isinstance(info, dict):
                continue
            # synthesis and judge stages write {"backend": {"backend": ..., "model": ...}, "template": {"id", "sha256"}}
            model = info.get("model") or info.get("backend_model") or info.get("backend")
            if isinstance(model, dict):
                model = model.get("model") or model.get("model_id")
            template = info.get("template") or info.get("prompt") or info.get("prompt_template")
            if isinstance(template, dict):
                template = template.get("id")
            if model is None and template is None:
                continue
            key = (e["stage"], str(model) if model else "", str(template) if template else "")
            if key not in seen:
                seen.add(key)
                counts[key] += 1
    return [{"stage": s, "model": m, "template": t, "rows": n} for (s, m, t), n in sorted(counts.items())]


def token_stats(df: pl.DataFrame) -> dict[str, Any]:
    if "n_tokens" in df.columns and df["n_tokens"].null_count() < df.height:
        s = df["n_tokens"].drop_nulls().cast(pl.Float64)
        unit = "tokens"
    else:
        col = next((c for c in ("rendered_text", "text", "prompt_text", "response", "instruction") if c in df.columns
                    and df[c].null_count() < df.height), None)
        if col is None:
            return {}
        s = df[col].drop_nulls().str.len_chars().cast(pl.Float64)
        unit = f"characters of {col}"
    if s.len() == 0:
        return {}
    return {"unit": unit, "rows": s.len(), "total": int(s.sum()), "mean": round(float(s.mean()), 1),
            "median": float(s.median()), "p95": float(s.quantile(0.95, "nearest")), "max": int(s.max())}


def inspect_findings(stage_stats: dict[str, Any]) -> list[str]:
    """The inspect step's key findings (its own sentences), or its scalar figures if it has none."""
    try:
        from dsforge.pipelines.stages.inspect.stats import findings

        return findings(stage_stats)[:15]
    except Exception:  # noqa: BLE001 - an older or different inspect stats layout: fall back to scalars
        return [f"{k}: {v}" for k, v in stage_stats.items()
                if isinstance(v, (int, float, str)) and not isinstance(v, bool)][:15]


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def _params(cfg: dict[str, Any], limit: int = 160) -> str:
    shown = {k: v for k, v in (cfg or {}).items() if k != "inputs" and v not in (None, [], {}, "")}
    text = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in shown.items())
    return (text[: limit - 1] + "…") if len(text) > limit else text


def _cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


TASKS = {"sft": ["text-generation"], "completion": ["text-generation"], "dpo": ["text-generation"],
         "orpo": ["text-generation"], "kto": ["text-generation"], "reward": ["text-classification"]}


def card_header(df: pl.DataFrame, written: Written, name: str, licences: list[str], license: str | None,
                tags: list[str] | None, stats: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The YAML header the Hub validates, as huggingface_hub's DatasetCardData (card_metadata.py says how)."""
    langs = inspect_languages(stats) or measure_languages(df)
    data_files = written.files or {s: [f] for s, f in written.jsonl.items()}
    configs = [{"config_name": "default", "data_files": [{"split": s, "path": f if len(f) > 1 else f[0]}
                                                         for s, f in data_files.items()]}] if data_files else None
    data = card_data(**licence_fields(licences, license), language=main_languages(langs), pretty_name=name,
                     task_categories=TASKS.get(written.layout, ["text-generation"]),
                     tags=sorted(set(["dsforge", *(tags or []), *([written.layout] if written.layout in TASKS else [])])),
                     size_categories=[_size_category(sum(written.splits.values()))],
                     source_datasets=hub_sources(inputs), configs=configs, dataset_info=dataset_info(written))
    return data.to_dict()


def input_name(inp: dict[str, Any]) -> str:
    """The input's file name as the card shows it: never a path of this machine."""
    given = str(inp.get("given_path") or inp.get("path") or "")
    return given if given.startswith("data:") else Path(given).name  # data:NAME is a shipped file's name


def render_card(df: pl.DataFrame, *, name: str, written: Written, run: RunInfo | None, licenses: dict[str, str],
                license: str | None = None, description: str | None = None, tags: list[str] | None = None,
                repo_id: str | None = None, figures: list[str] | None = None,
                trainer_files: list[str] | None = None) -> str:
    """The README.md text: YAML header + sections built from the run and the files `written` (dataset_writer)."""
    splits, layout, columns = written.splits, written.layout, written.columns
    stats = [s.stats for s in run.steps] if run else []
    recipe = run.recipe if run else {}
    inputs = next((s.get("stage_stats", {}).get("inputs", []) for s in stats if s.get("stage") == "ingest"), [])
    licences = [licence_for(i, licenses) for i in inputs]
    if not inputs and "source" in df.columns:  # published outside a run: licences by source name
        licences = [licenses.get(s, "unknown: set `licenses` in the publish step") for s in df["source"].unique().to_list()]
    header = card_header(df, written, name, licences, license, tags, stats, inputs)
    out = ["---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", "", f"# {name}", ""]
    desc = description or (recipe or {}).get("description")
    if desc:
        out += [desc.strip(), ""]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    made = f"Built by dsforge on {when}"
    if recipe:
        made += f" from recipe `{recipe.get('name')}` (seed {recipe.get('seed')})"
    if run:
        made += f", run `{run.name}`"
    out += [made + ".", ""]
    out += ["## Splits", "", "| split | rows |", "|---|---:|"]
    out += [f"| {s} | {n:,} |" for s, n in splits.items()]
    out += ["", f"Layout: **{layout or 'records'}**. Columns: " + ", ".join(f"`{c}`" for c in (columns or df.columns)), ""]
    meta = written.metadata
    if meta.get("tokenizer") and "input_ids" in (columns or []):
        out += ["### Tokenizer", "", f"`input_ids` were made by the tokenizer of `{meta['tokenizer']}` (vocabulary sha256 "
                f"`{meta.get('tokenizer_sha256')}`, template `{meta.get('template')}`). Trainers use them as they are: "
                "train only a model with this tokenizer, or drop `input_ids`/`assistant_masks` to re-tokenize.", ""]
    if trainer_files:
        out += ["### Training with it", "", "Configs beside the data: " + ", ".join(f"`{f}`" for f in trainer_files)
                + " (see `trainers/README.md`).", ""]
    out += ["## Sources and licences", ""]
    if inputs:
        out += ["| source | file | format | rows read | rows kept | licence | sha256 |", "|---|---|---|---:|---:|---|---|"]
        for i, lic in zip(inputs, licences):
            out.append(f"| {_cell(i.get('source'))} | {_cell(input_name(i))} | {i.get('format')} | "
                       f"{i.get('rows_read', 0):,} | {i.get('rows_kept', 0):,} | {_cell(lic)} | `{str(i.get('sha256', ''))[:12]}` |")
    else:
        src = Counter(df["source"].to_list()) if "source" in df.columns else {}
        out += ["| source | rows | licence |", "|---|---:|---|"]
        out += [f"| {_cell(s)} | {n:,} | {_cell(licenses.get(s, 'unknown: set `licenses` in the publish step'))} |"
                for s, n in src.items()]
    out += ["", "## How it was made", ""]
    if stats:
        out += ["| # | step | stage | parameters | rows in | kept | rejected | seconds |", "|---:|---|---|---|---:|---:|---:|---:|"]
        for s in stats:
            out.append(f"| {s.get('index')} | {s.get('step')} | `{s.get('stage')}` | {_cell(_params(s.get('config', {})))} | "
                       f"{s.get('rows_in', 0):,} | {s.get('kept', 0):,} | {s.get('rejected', 0):,} | {s.get('seconds', 0)} |")
        reasons: Counter = Counter()
        for s in stats:
            reasons.update(s.get("rejected_by_reason") or {})
        out += ["", "### Rejected rows by reason", ""]
        if reasons:
            out += ["| reason | rows |", "|---|---:|"] + [f"| `{r}` | {n:,} |" for r, n in reasons.most_common()]
            out += ["", "Every rejected row is kept in the run's `rejected.parquet` with its stage, reason and detail."]
        else:
            out += ["No rows were rejected."]
        warnings = [w for s in stats for w in (s.get("stage_stats") or {}).get("format_warnings", [])]
        if warnings:
            out += ["", "### Format warnings (chat-format)", ""] + [f"- {w}" for w in warnings]
    else:
        out += ["Published outside a recipe run: no step statistics."]
    lin = lineage_summary(df)
    if lin:
        out += ["", "## Models and templates (from lineage)", "", "| stage | model | template | rows |", "|---|---|---|---:|"]
        out += [f"| {r['stage']} | {_cell(r['model']) or '–'} | {_cell(r['template']) or '–'} | {r['rows']:,} |" for r in lin]
    tok = token_stats(df)
    if tok:
        out += ["", "## Length statistics", "", f"Unit: {tok['unit']}.", "",
                "| rows | total | mean | median | p95 | max |", "|---:|---:|---:|---:|---:|---:|",
                f"| {tok['rows']:,} | {tok['total']:,} | {tok['mean']} | {tok['median']:g} | {tok['p95']:g} | {tok['max']:,} |"]
    inspect = [s for s in stats if str(s.get("stage", "")).startswith("inspect")]
    if inspect or figures:
        out += ["", "## Inspection", ""]
        for s in inspect:
            out += [f"Step `{s.get('step')}` ({s.get('rows_in', 0):,} rows):", ""]
            out += [f"- {line}" for line in inspect_findings(s.get("stage_stats") or {})] or ["- nothing to report"]
            out.append("")
        for f in figures or []:
            out.append(f"![{Path(f).stem}]({f})" if f.endswith((".png", ".svg")) else f"Full report: [{f}]({f})")
    load = f'load_dataset("{repo_id}")' if repo_id else 'load_dataset("path/to/this/folder")'
    out += ["", "## Loading", "", "```python", "from datasets import load_dataset", "", f"ds = {load}", "```", ""]
    return "\n".join(out)


def card_sections(card: str) -> list[str]:
    return re.findall(r"^## (.+)$", card, flags=re.MULTILINE)
