"""Readers: JSONL, JSON arrays, Parquet, CSV and saved HF datasets into the record format.

Each input is planned into chunks (`plan_chunks`: byte ranges of JSONL/CSV split at record boundaries, row
ranges of the rest; the mapping is guessed once, from the first object row) and each chunk is read on its
own (`read_chunk`), so a sharded runner can read an input in parallel worker processes. Rows are mapped
to record fields by a declarative mapping (a preset name such as "alpaca", or {record_field: source_field};
dotted paths reach into nested objects, `metadata.KEY` targets keep a field under a metadata key; unmapped
top-level fields go to metadata unless keep_extra=False) and type-checked. A bad row becomes a rejected row
with reason `ingest:<problem>` and a detail naming file, line and field; with strict=True it raises DataError
with the same words instead. Ids: see ids.py. What ingest accepts: docs/ingest.md.

    spec.py     InputSpec, Chunk, ReadResult, DataError, paths and format detection
    mapping.py  presets, mapping guesses, the row-by-row reference check (map_row)
    formats.py  per format: chunk boundaries and a chunk's parsed rows
    rows.py     parsed rows -> records, column by column
    ids.py      unique ids across chunks and inputs
    chunks.py   plan_chunks, read_chunk, input_manifest, read_input(s)

Not here: deduplication or any content rule (stages do that). Nothing is ever written back to an input.
"""

from dsforge.pipelines.core.readers.chunks import (ROWS_PER_CHUNK, finish_manifest, input_manifest, load_table,
                                              plan_chunks, plan_inputs, read_chunk, read_input, read_inputs)
from dsforge.pipelines.core.readers.ids import apply_duplicate_ids, collision_candidates, duplicate_id_rejects
from dsforge.pipelines.core.readers.mapping import PRESETS, detect_mapping
from dsforge.pipelines.core.readers.spec import (FORMATS, Chunk, DataError, InputSpec, ReadResult, detect_format,
                                            file_fingerprint, resolve_path)

__all__ = [
    "FORMATS", "PRESETS", "ROWS_PER_CHUNK", "Chunk", "DataError", "InputSpec", "ReadResult",
    "apply_duplicate_ids", "collision_candidates", "detect_format", "detect_mapping", "duplicate_id_rejects", "file_fingerprint",
    "finish_manifest", "input_manifest", "load_table", "plan_chunks", "plan_inputs", "read_chunk",
    "read_input", "read_inputs", "resolve_path",
]
