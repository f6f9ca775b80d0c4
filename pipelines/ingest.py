"""ingest: the first stage of every recipe; reads the recipe's inputs into records (see readers.py).

Malformed rows become rejected rows (reason `ingest:bad_json`, `ingest:missing_field`, ...), or an
error naming file, line and field when the run is strict. `sample` keeps a seeded random sample of N
rows, for the book's advice to try a pipeline on a small sample first.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from dsforge.pipelines.readers import InputSpec, read_inputs
from dsforge.pipelines.stage import Stage, StageConfig, StageContext, StageResult


class IngestConfig(StageConfig):
    inputs: list[InputSpec] = Field(description="files to read (path, format, mapping, source, ...)")


class Ingest(Stage):
    name = "ingest"
    Config = IngestConfig
    reads_input_table = False

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        result = read_inputs(list(self.config.inputs), ctx.base_dir, strict=ctx.strict, progress=ctx.progress)
        kept = result.kept
        stats = {"inputs": result.manifest}
        if ctx.sample is not None and kept.height > ctx.sample:
            # A seeded sample keeps the input order, so ids and lineage read naturally.
            kept = kept.with_row_index("__i").sample(n=ctx.sample, seed=ctx.seed).sort("__i").drop("__i")
            stats["sampled"] = ctx.sample
        return StageResult(kept=kept, rejected=result.rejected, stats=stats)
