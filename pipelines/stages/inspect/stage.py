"""The `inspect` stage and the `dsforge inspect` command: both write stats.json and one report.html.

In a recipe the stage keeps every row unchanged (it only looks), so it can sit anywhere, several times
(give each an `id:`); `compare_with: <earlier step id>` adds a before/after view of what the steps in between
removed. The runner also stores the figures in the step's stats.json under `stage_stats`, which is what the
Prefect flow publishes as a markdown artifact (flows/artifacts.py).

`inspect_path` is the command: any input the readers accept (JSONL, JSON, Parquet, CSV, a saved HF dataset,
a folder of such files), a step folder (its kept parts) or a run directory (its last step). It streams:
each chunk of the inputs is summarised as it is read, then the summaries are combined (stats.py).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from dsforge.pipelines.core import records, shards
from dsforge.pipelines.stages.inspect import compare as compare_mod
from dsforge.pipelines.stages.inspect.report import render_html, summary_text
from dsforge.pipelines.stages.inspect.stats import InspectConfig, TokenCounter, combine, compute_stats, summarize
from dsforge.pipelines.core.readers import DataError, InputSpec
from dsforge.pipelines.core.readers.chunks import ROWS_PER_CHUNK, finish_manifest, input_manifest, plan_inputs, read_chunk
from dsforge.pipelines.core.readers.ids import apply_duplicate_ids, duplicate_id_rejects
from dsforge.pipelines.core.run_info import run_of
from dsforge.pipelines.core.stage import ConfigError, Stage, StageContext, StageResult
from dsforge.pipelines.core.worker import read_summary, write_summary

log = logging.getLogger("dsforge")
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".csv")


def write_outputs(stats: dict[str, Any], out_dir: Path, stats_file: bool = True) -> dict[str, Path]:
    """stats.json (unless the runner writes it) and report.html into out_dir (written atomically)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"stats": out_dir / "stats.json", "report": out_dir / "report.html"}
    outputs = [("report", render_html(stats))]
    if stats_file:
        outputs.insert(0, ("stats", json.dumps(stats, indent=1, ensure_ascii=False, default=str)))
    for key, text in outputs:
        tmp = paths[key].with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, paths[key])
    return paths


def inspect_table(df: pl.DataFrame, cfg: InspectConfig | None = None, title: str = "records",
                  out_dir: Path | None = None, **kwargs: Any) -> dict[str, Any]:
    """Compute the inspection of a record table; with out_dir, also write stats.json and report.html."""
    stats = compute_stats(df, cfg or InspectConfig(), title=title, **kwargs)
    if out_dir is not None:
        write_outputs(stats, Path(out_dir))
    return stats


class Inspect(Stage[InspectConfig]):
    """Statistics and a self-contained HTML report of the rows passing by (rows are kept unchanged).

    A summary stage: `summarize` runs per part in the workers, `combine` once in the driver over the
    summaries (stats.py), so the table is never gathered into one process."""

    name = "inspect"
    mode = "summary"
    changes_rows = False  # the runner links the input parts instead of rewriting them
    Config = InspectConfig
    version = "2"

    @property
    def needs_run_info(self) -> bool:  # compare_with reads the earlier steps of the run (run_info.py)
        return bool(self.config.compare_with)

    def tokens(self) -> TokenCounter:
        """The tokenizer, loaded once per stage instance (one per worker)."""
        if getattr(self, "_tokens", None) is None:
            self._tokens = TokenCounter(self.config.tokenizer)
        return self._tokens

    def summarize(self, df: pl.DataFrame, ctx: StageContext) -> dict[str, Any]:
        return summarize(df, self.config, ctx.seed, self.tokens())

    def combine(self, summaries: list[dict[str, Any]], ctx: StageContext) -> dict[str, Any]:
        cfg = self.config
        step = ctx.work_dir.name.split("-", 1)[-1]  # its own folder: NN-<step id>
        stats = combine(summaries, cfg, title=cfg.title or f"step {step}", counter=self.tokens())
        if cfg.compare_with:
            run = run_of(ctx)
            if run is None:
                raise ConfigError("inspect: compare_with names an earlier step of a run; outside a run use "
                                  "`dsforge inspect PATH --compare STEP_DIR`")
            stats["compare"] = compare_mod.compare_in_run(run, cfg.compare_with, ctx.work_dir.name, stats,
                                                          examples=max(cfg.examples, 1))
        if cfg.labels:
            stats["review_labels"] = review_labels(ctx.resolve(cfg.labels))
        # In a run, stats.json is the runner's completion marker; the figures reach it as `stage_stats`.
        paths = write_outputs(stats, ctx.work_dir, stats_file=False)
        log.info("inspect: %s\n%s", paths["report"], summary_text(stats))
        return stats

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return StageResult(kept=df, rejected=None, stats=self.combine([self.summarize(df, ctx)], ctx))


# ---------------------------------------------------------------- the command


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Files to read: run dir -> its last step's kept parts; step dir -> its kept parts; plain folder -> its
    data files; saved HF dataset folders and files as they are."""
    out: list[Path] = []
    for p in map(lambda x: Path(x).expanduser().resolve(), paths):
        if not p.exists():
            raise DataError(f"input not found: {p}")
        if p.is_dir() and (p / "stages").is_dir():
            steps = sorted(d for d in (p / "stages").iterdir() if (d / "stats.json").exists() and shards.parts(d))
            if not steps:
                raise DataError(f"{p}: a run directory without finished steps")
            out.extend(shards.parts(steps[-1]))
        elif p.is_dir() and (p / shards.KEPT).is_dir():
            out.extend(shards.parts(p))
        elif p.is_dir() and not ((p / "dataset_info.json").exists() or (p / "dataset_dict.json").exists()):
            files = sorted(f for f in p.iterdir() if f.suffix.lower() in DATA_SUFFIXES and f.is_file())
            if not files:
                raise DataError(f"{p}: no {', '.join(DATA_SUFFIXES)} files in this folder")
            out.extend(files)
        else:
            out.append(p)
    return out


def summarize_inputs(specs: list[InputSpec], cfg: InspectConfig, folder: Path, rows_per_chunk: int = ROWS_PER_CHUNK
                     ) -> tuple[list[dict[str, Any]], pl.DataFrame, list[dict[str, Any]]]:
    """Read the inputs chunk by chunk (readers' chunks of ~50k rows) and summarise each chunk as it is read,
    its summary's tables spilled to `folder`: only one chunk of rows is in memory at a time. An explicit id
    that two chunks share makes the later row a reject, as when reading everything at once (readers/ids.py),
    so those chunks are read and summarised again with the collision applied."""
    counter = TokenCounter(cfg.tokenizer)
    chunks = plan_inputs(specs, None, rows_per_chunk)
    keys, results = [], []

    def summarize_chunk(n: int, res) -> dict[str, Any]:
        write_summary(summarize(res.kept, cfg, 0, counter), folder / f"part-{n:05d}")
        return read_summary(folder / f"part-{n:05d}")

    summaries = []
    for n, c in enumerate(chunks):
        res = read_chunk(specs[c.input_index], c)
        keys.append(res.id_keys)
        summaries.append(summarize_chunk(n, res))
        results.append((res.rejected, res.manifest[0]))
    all_keys = pl.concat(keys) if keys else None
    dups = duplicate_id_rejects(all_keys) if all_keys is not None and all_keys.height else None
    if dups is not None and dups.height:
        for n, c in enumerate(chunks):
            if keys[n]["locator_id"].is_in(dups["locator_id"].implode()).any():
                res = apply_duplicate_ids(read_chunk(specs[c.input_index], c), dups)
                summaries[n] = summarize_chunk(n, res)
                results[n] = (res.rejected, res.manifest[0])
    rejected = records.concat([r for r, _ in results], rejected=True)
    manifest = []
    for i, spec in enumerate(specs):
        mine = [c for c in chunks if c.input_index == i]
        counts = [m for _, m in results if m["input_index"] == i]
        manifest.append(finish_manifest(input_manifest(spec, None), mine, counts))
    if not summaries:
        summaries = [summarize(records.empty(), cfg, 0, counter)]
    return summaries, rejected, manifest


def review_labels(labels_file: Path) -> dict[str, Any]:
    """Agreement between the people who labelled rows in `dsforge review` (annotators.label_agreement)."""
    from dsforge.pipelines.stages.inspect.annotators import label_agreement

    try:
        table = pl.read_parquet(labels_file)
    except Exception as e:  # noqa: BLE001 - any reader error means the same to the user
        raise DataError(f"labels {labels_file}: not a readable labels Parquet file: {e}") from None
    return {"file": str(labels_file), **label_agreement(table)}


def inspect_path(paths: list[str | Path], out_dir: str | Path | None = None, cfg: InspectConfig | None = None,
                 mapping: str = "auto", compare: list[str] | None = None,
                 labels: str | Path | None = None) -> tuple[dict[str, Any], dict[str, Path]]:
    """`dsforge inspect`: read, inspect, optionally compare with run steps, write stats.json + report.html.
    `labels`: a labels file of `dsforge review` (default: RUN_DIR/labels.parquet when a path is a run folder)."""
    cfg = cfg or InspectConfig()
    files = expand_inputs(paths)
    specs = [InputSpec(path=str(f), mapping=mapping) for f in files]
    first = Path(paths[0]).expanduser().resolve()
    title = cfg.title or (first.name if len(paths) == 1 else f"{first.name} and {len(paths) - 1} more")
    with tempfile.TemporaryDirectory(prefix="dsforge-inspect-") as tmp:
        summaries, rejected, manifest = summarize_inputs(specs, cfg, Path(tmp))
        stats = combine(summaries, cfg, title=title, input_rejects=rejected, inputs=manifest)
    if compare:
        stats["compare"] = compare_mod.compare_paths(compare, examples=max(cfg.examples, 1), after_stats=stats)
    labels_file = Path(labels) if labels else next(
        (Path(p) / "labels.parquet" for p in paths if (Path(p) / "stages").is_dir() and (Path(p) / "labels.parquet").is_file()), None)
    if labels_file is not None:
        stats["review_labels"] = review_labels(labels_file)
    if out_dir is None:
        out_dir = Path.cwd() / f"inspect-{first.name.split('.')[0]}"
    written = write_outputs(stats, Path(out_dir))
    return stats, written

