"""ingest: the first stage of every recipe; reads the recipe's inputs into records (see readers.py).

The runner asks `plan_chunks` how to cut the inputs (line-aligned byte ranges of large files), runs
`read_chunk_task` on each chunk in its workers, and builds the manifest from the per-chunk counts.
Malformed rows become rejected rows (reason `ingest:bad_json`, `ingest:missing_field`, ...), or an
error naming file, line and field when the run is strict. `--sample N` (a seeded random sample, for the
book's advice to try a pipeline on a small sample first) is applied by the runner after reading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines import readers
from dsforge.pipelines.readers import InputSpec
from dsforge.pipelines.stage import Stage, StageConfig, StageContext, StageResult


class IngestConfig(StageConfig):
    inputs: list[InputSpec] = Field(description="files to read (path, format, mapping, source, ...)")


class Ingest(Stage):
    name = "ingest"
    Config = IngestConfig
    reads_input_table = False

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        """All inputs in this process (for `Stage.process` callers; runs go through the chunks)."""
        result = readers.read_inputs(list(self.config.inputs), ctx.base_dir, strict=ctx.strict, progress=ctx.progress)
        return StageResult(kept=result.kept, rejected=result.rejected, stats={"inputs": result.manifest})


def plan_chunks(stage: Ingest, ctx: StageContext, rows_per_chunk: int) -> list[tuple[InputSpec, Any]]:
    """(input spec, chunk) for every chunk of every input, in input order."""
    return [(spec, chunk) for n, spec in enumerate(stage.config.inputs)
            for chunk in readers.plan_chunks(spec, n, ctx.base_dir, rows_per_chunk)]


def read_chunk_task(arg: tuple[InputSpec, Any], ctx: StageContext) -> tuple[StageResult, int]:
    spec, chunk = arg
    res = readers.read_chunk(spec, chunk, strict=ctx.strict)
    counts = {"input_index": chunk.input_index, "rows_kept": res.kept.height, "rows_rejected": res.rejected.height,
              "mapping": chunk.mapping_name, "format": chunk.fmt, "source": chunk.source or Path(chunk.path).name.split(".")[0]}
    return StageResult(kept=res.kept, rejected=res.rejected, stats={"chunks": [counts]}), res.kept.height + res.rejected.height


def manifest(stage: Ingest, ctx: StageContext, parts: list[dict]) -> list[dict[str, Any]]:
    """One entry per input: path, size, sha256 and the rows read, kept and rejected over its chunks."""
    out = []
    for n, spec in enumerate(stage.config.inputs):
        chunks = [c for p in parts for c in (p.get("stats") or {}).get("chunks", []) if c["input_index"] == n]
        kept = sum(c["rows_kept"] for c in chunks)
        rejected = sum(c["rows_rejected"] for c in chunks)
        first = chunks[0] if chunks else {}
        entry = {"format": first.get("format"), "source": first.get("source"), "mapping": first.get("mapping")}
        entry |= readers.input_manifest(spec, ctx.base_dir) | {
            "chunks": len(chunks), "rows_read": kept + rejected, "rows_kept": kept, "rows_rejected": rejected}
        out.append(entry)
    return out
