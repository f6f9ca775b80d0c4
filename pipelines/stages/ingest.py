"""ingest: the first stage of every recipe; reads the recipe's inputs into records (see readers/).

The runner asks `plan_chunks` how to cut the inputs (line-aligned byte ranges of large files, row ranges
of the rest), runs `read_chunk` on each chunk in its workers (each writes its rows' id keys beside
its parts), then `finish_chunks`: `settle_ids` moves rows whose explicit id collides with another row's to the rejects
(readers/ids.py: one chunk cannot see another's ids), and `manifest` sums the chunks' counts per input.
Malformed rows become rejected rows (reason `ingest:bad_json`, `ingest:missing_field`, ...), or an error
naming file, line and field when the run is strict. `--sample N` (a seeded random sample, for the book's
advice to try a pipeline on a small sample first) is applied by the runner after reading.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import readers, shards
from dsforge.pipelines.core.readers import Chunk, InputSpec, ReadResult
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

ID_KEYS = "id_keys"


class IngestConfig(StageConfig):
    inputs: list[InputSpec] = Field(description="files to read (path, format, mapping, source, ...)")


class Ingest(Stage[IngestConfig]):
    name = "ingest"
    mode = "ingest"
    Config = IngestConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        """All inputs in this process (for `Stage.process` callers; runs go through the chunks)."""
        result = readers.read_inputs(list(self.config.inputs), ctx.base_dir, strict=ctx.strict, progress=ctx.progress)
        return StageResult(kept=result.kept, rejected=result.rejected, stats={"inputs": result.manifest})

    def plan_chunks(self, ctx: StageContext, rows_per_chunk: int) -> list[tuple[InputSpec, Chunk, int]]:
        """(input spec, chunk, part number) for every chunk of every input, in input order."""
        chunks = readers.plan_inputs(list(self.config.inputs), ctx.base_dir, rows_per_chunk)
        return [(self.config.inputs[c.input_index], c, n) for n, c in enumerate(chunks)]

    def read_chunk(self, chunk: tuple[InputSpec, Chunk, int], ctx: StageContext) -> tuple[StageResult, int]:
        """Read one chunk (in a worker); its id keys go beside the parts for `settle_ids`."""
        spec, piece, part = chunk
        res = readers.read_chunk(spec, piece, strict=ctx.strict)
        if res.id_keys is not None:
            shards.atomic_write_parquet(res.id_keys, Path(ctx.work_dir) / ID_KEYS / shards.part_name(part))
        return StageResult(kept=res.kept, rejected=res.rejected, stats={"chunks": res.manifest}), \
            res.kept.height + res.rejected.height

    def finish_chunks(self, ctx: StageContext, chunks: list[tuple[InputSpec, Chunk, int]],
                      parts: list[dict]) -> dict[str, Any]:
        """Ids settled over every chunk, then the manifest of every input."""
        moved = settle_ids(ctx, parts)
        return {"inputs": manifest(self, ctx, chunks, parts), "duplicate_ids": moved}


def settle_ids(ctx: StageContext, parts: list[dict]) -> int:
    """Move kept rows whose explicit id collides with another row's id (any chunk, any input) to the
    rejects as `ingest:duplicate_id`, rewriting only the parts that hold one. Returns how many moved."""
    out = Path(ctx.work_dir)
    files = sorted((out / ID_KEYS).glob("part-*.parquet"))
    if not files:
        return 0
    dups = readers.duplicate_id_rejects(readers.collision_candidates(files))
    moved = 0
    for p in parts if dups.height else []:
        keys_file = out / ID_KEYS / shards.part_name(p["part"])
        if not keys_file.exists():
            continue
        keys = pl.read_parquet(keys_file)
        if not keys["locator_id"].is_in(dups["locator_id"].implode()).any():
            continue
        kept_f, rej_f = (shards.part_path(out, w, p["part"]) for w in (shards.KEPT, shards.REJECTED))
        before = ReadResult(pl.read_parquet(kept_f), pl.read_parquet(rej_f), [{}], keys)
        after = readers.apply_duplicate_ids(before, dups, ctx.strict)
        moved += before.kept.height - after.kept.height
        shards.atomic_write_parquet(after.kept, kept_f)
        shards.atomic_write_parquet(after.rejected, rej_f)
        reasons = dict(after.rejected.group_by("reason").len().iter_rows()) if after.rejected.height else {}
        p.update(kept=after.kept.height, rejected=after.rejected.height, rejected_by_reason=reasons)
        for c in p["stats"]["chunks"]:
            c.update(rows_kept=after.kept.height, rows_rejected=after.rejected.height)
        shards.atomic_write_json(shards.done_path(out, p["part"]), p)
    shutil.rmtree(out / ID_KEYS, ignore_errors=True)
    return moved


def manifest(stage: Ingest, ctx: StageContext, chunks: list[tuple[InputSpec, Chunk, int]],
             parts: list[dict]) -> list[dict[str, Any]]:
    """One entry per input: path, size, sha256, format, mapping and the rows read, kept and rejected."""
    counts = [c for p in parts for c in (p.get("stats") or {}).get("chunks", [])]
    out = []
    for n, spec in enumerate(stage.config.inputs):
        mine = [c for _, c, _ in chunks if c.input_index == n]
        entry = readers.input_manifest(spec, ctx.base_dir)
        out.append(readers.finish_manifest(entry, mine, [c for c in counts if c["input_index"] == n], ctx.strict))
    return json.loads(json.dumps(out, default=str))
