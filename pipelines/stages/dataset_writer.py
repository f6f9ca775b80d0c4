"""The one dataset writer behind `save` and `publish`: a layout (layouts.py) written as Hub-style Parquet
shards, a `DatasetDict` and/or JSONL, so both stages always give trainers the same columns and types.

What it writes under `out_dir` (atomically: a `.partial` folder renamed at the end):

    data/<split>/<split>-NNNNN-of-NNNNN.parquet   every split, in shards of `shard_rows` (the Hub layout
                                                  our card's data_files list; one folder of one file type
                                                  per split, as LLaMA-Factory wants a `file_name`)
    hf/                                           DatasetDict.save_to_disk: always a DatasetDict, with a
                                                  `train` split (+ validation/test/... from a `split` column)
    <split>.jsonl                                 with formats: [jsonl]

The input is a DataFrame, a list of DataFrames, or a list of Parquet files (e.g. the runner's
stages/NN-step/kept/part-*.parquet): chunks are read one at a time, so memory holds one chunk plus one
shard per split (the `hf` copy is built from the shards by `datasets` itself). `metadata` (layout,
template, the tokenizer that made input_ids) goes into each Parquet file's schema metadata and the
DatasetDict's `info.description`.

Not here: the card (card.py), trainer configs (trainer_configs.py), uploading (publish.py).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from dsforge.pipelines.core.errors import NothingToSaveError
from dsforge.pipelines.stages.layouts import apply_plan, plan_export
from dsforge.pipelines.core.stage import ConfigError

FORMATS = ("hf", "parquet", "jsonl")
SPLIT_ORDER = ("train", "validation", "test")
Source = pl.DataFrame | Sequence[pl.DataFrame] | Sequence[str | Path]


@dataclass
class Written:
    """What the writer wrote: relative file names per split, row counts, columns, layout, metadata."""
    out_dir: Path
    layout: str
    columns: list[str]
    splits: dict[str, int]
    files: dict[str, list[str]] = field(default_factory=dict)     # parquet shards per split
    jsonl: dict[str, str] = field(default_factory=dict)
    hf: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)           # column -> polars dtype string


def _chunks(source: Source) -> tuple[pl.LazyFrame, Iterable[pl.DataFrame]]:
    """(a lazy view of the whole table for planning, a re-iterable of chunks to write)."""
    if isinstance(source, pl.DataFrame):
        return source.lazy(), [source]
    items = list(source)
    if items and all(isinstance(x, (str, Path)) for x in items):
        paths = [str(p) for p in items]
        return pl.scan_parquet(paths, missing_columns="insert", extra_columns="ignore") if len(paths) > 1 \
            else pl.scan_parquet(paths[0]), (pl.read_parquet(p) for p in paths)
    if not all(isinstance(x, pl.DataFrame) for x in items):
        raise TypeError("write_layout takes a DataFrame, a list of DataFrames or a list of Parquet paths")
    if not items:
        raise ConfigError("nothing to write: the table is empty and has no columns")
    return pl.concat([f.lazy() for f in items], how="diagonal_relaxed"), items


def write_layout(source: Source, out_dir: Path, *, layout: str = "auto", formats: Sequence[str] = ("hf", "parquet"),
                 prefer: str = "messages", keep: Sequence[str] = ("id", "source"), columns: dict[str, str] | None = None,
                 split_column: str = "split", shard_rows: int = 100_000, kto_threshold: float | None = None,
                 metadata: dict[str, Any] | None = None, drop_columns: Sequence[str] = ()) -> Written:
    """Write `source` in `layout` under out_dir; returns what was written (see the module docstring)."""
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise ConfigError(f"unknown formats {sorted(unknown)}; use any of {', '.join(FORMATS)}")
    lf, chunks = _chunks(source)
    if drop_columns:
        gone = [c for c in drop_columns if c in lf.collect_schema().names()]
        lf, chunks = lf.drop(gone), (c.drop([x for x in gone if x in c.columns]) for c in chunks)
    names = lf.collect_schema().names()
    counts = lf.select(pl.len().alias("__n"), *[pl.col(c).null_count() for c in names]).collect().row(0, named=True)
    with_data = {c for c in names if counts[c] < counts["__n"]}
    found = (lf.select(pl.col("layout").drop_nulls().unique()).collect()["layout"].to_list()
             if "layout" in names else [])
    plan = plan_export(with_data, names, layout, found_layouts=sorted(found), prefer=prefer, keep=tuple(keep),
                       columns=columns, kto_threshold=kto_threshold)
    has_split = split_column in names
    split_values = (lf.select(pl.col(split_column).fill_null("train").unique()).collect()[split_column].to_list()
                    if has_split else ["train"])
    order = [s for s in SPLIT_ORDER if s in split_values] + sorted(set(split_values) - set(SPLIT_ORDER))
    order = order or ["train"]
    target = apply_plan(lf.limit(0).collect(), plan)  # the output schema every shard is cast to
    if not target.columns:  # no row reached this step, so no column holds data to choose a layout from
        raise NothingToSaveError(f"{out_dir.parent.name}: 0 rows reached this step; there is no dataset to write")
    meta = {"dsforge": json.dumps({"layout": plan.layout, **(metadata or {})}, default=str)}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    buffers: dict[str, list[pl.DataFrame]] = {s: [] for s in order}
    shards: dict[str, list[Path]] = {s: [] for s in order}
    rows = dict.fromkeys(order, 0)

    def flush(split: str, final: bool) -> None:
        buf = pl.concat(buffers[split], how="vertical") if buffers[split] else target.clear()
        while buf.height >= shard_rows or (final and (buf.height or not shards[split])):
            part, buf = buf.head(shard_rows), buf.slice(min(shard_rows, buf.height))
            path = tmp / "data" / split / f"{len(shards[split]):05d}.tmp"
            path.parent.mkdir(exist_ok=True)
            table = part.to_arrow()
            pq.write_table(table.replace_schema_metadata({**(table.schema.metadata or {}), **meta}), path)
            shards[split].append(path)
            rows[split] += part.height
            if not buf.height:
                break
        buffers[split] = [buf] if buf.height else []

    for chunk in chunks:
        for s in order:
            sub = chunk.filter(pl.col(split_column).fill_null("train") == s) if has_split else chunk
            if not sub.height:
                continue
            out = apply_plan(sub, plan)
            buffers[s].append(out.select([pl.col(c).cast(t) if c in out.columns else pl.lit(None, t).alias(c)
                                          for c, t in target.schema.items()]))
            if sum(b.height for b in buffers[s]) >= shard_rows:
                flush(s, final=False)
    files: dict[str, list[str]] = {}
    for s in order:
        flush(s, final=True)
        n = len(shards[s])
        files[s] = []
        for k, p in enumerate(shards[s]):
            final = p.with_name(f"{s}-{k:05d}-of-{n:05d}.parquet")
            p.rename(final)
            files[s].append(str(final.relative_to(tmp)))
    written = Written(out_dir, plan.layout, target.columns, rows, metadata={"layout": plan.layout, **(metadata or {})},
                      schema={c: str(t) for c, t in target.schema.items()})
    if "jsonl" in formats:
        for s in order:
            with open(tmp / f"{s}.jsonl", "wb") as fh:
                for f in files[s]:
                    pl.read_parquet(tmp / f).write_ndjson(fh)
            written.jsonl[s] = f"{s}.jsonl"
    if "hf" in formats:
        _save_to_disk(tmp, files, written.metadata)
        written.hf = "hf"
    if "parquet" in formats:
        written.files = files
    else:
        shutil.rmtree(tmp / "data")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return written


def _save_to_disk(folder: Path, files: dict[str, list[str]], metadata: dict[str, Any]) -> None:
    """A DatasetDict built from the shards by `datasets` (memory-mapped, not held in memory)."""
    import datasets

    datasets.disable_progress_bars()  # the run prints its own summary
    import pyarrow.parquet as pq

    cache = folder / ".hf-cache"
    parts, empty = {}, {}
    for s, names in files.items():
        paths = [str(folder / f) for f in names]
        if sum(pq.ParquetFile(p).metadata.num_rows for p in paths) == 0:
            # `from_parquet` cannot build a split of no rows, and one saved in 0 shards cannot be loaded
            ds = datasets.Dataset(datasets.table.InMemoryTable(pq.read_table(paths[0])), split=s)
            empty[s] = 1
        else:
            ds = datasets.Dataset.from_parquet(paths, cache_dir=str(cache), split=s)
        ds.info.description = json.dumps({"dsforge": metadata}, default=str)
        parts[s] = ds
    datasets.DatasetDict(parts).save_to_disk(str(folder / "hf"), num_shards=empty or None)
    del parts
    shutil.rmtree(cache, ignore_errors=True)
