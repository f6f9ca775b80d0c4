"""How a step's rows lie on disk: sharded Parquet, written one part at a time, never the whole table.

    stages/NN-step/
      kept/part-00000.parquet ...      rows the step kept, shard by shard (part i comes from input part i)
      rejected/part-00000.parquet ...  rows it dropped, with stage, reason and detail
      parts/00000.json ...             per-part counts and stage figures; written last: the part is done
      stats.json                       the whole step's figures; written last: the step is done
      verdicts/buckets-B/part-N.parquet  keyed steps: what each `decide` ruled, with each row's input part

Every file is written to a unique temporary name and renamed, so a killed worker, a retried Ray task
or two runs sharing an output folder never leave or read a half-written file. Reading a step back
(`read_table`) is for tests and small tables; stages stream parts, one per task.

Not here: what runs the parts (executors.py) or decides what is reused (runner.py).
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import polars as pl

from dsforge.pipelines.core import records
from dsforge.pipelines.core.errors import DiskFullError, UnsafePathError

KEPT, REJECTED, PARTS, VERDICTS = "kept", "rejected", "parts", "verdicts"


def part_name(i: int) -> str:
    return f"part-{i:05d}.parquet"


def part_path(step_dir: Path, which: str, i: int) -> Path:
    return Path(step_dir) / which / part_name(i)


def keyed_dir(step_dir: Path, what: str, buckets: int) -> Path:
    """Where a keyed step keeps its keys or verdicts for one bucket count (0: one decide over all keys), so a
    run resumed with another worker count (hence other buckets) never mixes the two."""
    return Path(step_dir) / what / f"buckets-{buckets}"


def done_path(step_dir: Path, i: int) -> Path:
    return Path(step_dir) / PARTS / f"{i:05d}.json"


def parts(step_dir: Path, which: str = KEPT) -> list[Path]:
    """The part files of a finished step, in order."""
    return sorted((Path(step_dir) / which).glob("part-*.parquet"))


def is_disk_full(error: BaseException) -> bool:
    """ENOSPC, also as Polars/Arrow words it ("No space left on device (os error 28)")."""
    return getattr(error, "errno", None) == errno.ENOSPC or "No space left on device" in str(error)


@contextmanager
def writing(path: Path, tmp: Path | None = None) -> Iterator[None]:
    """Around a write of `path`: a full disk becomes DiskFullError naming the file, and the half-written
    temporary file is removed (so run.json can still say what happened)."""
    try:
        yield
    except Exception as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if is_disk_full(e):
            raise DiskFullError(f"no space left on device while writing {path}") from None
        raise


def safe_parent(path: Path) -> Path:
    """Create the folder of `path`, refusing one that is a symbolic link (never written through)."""
    parent = Path(path).parent
    if parent.is_symlink():
        raise UnsafePathError(f"{parent} is a symbolic link; dsforge does not write through it")
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def atomic_write_parquet(df: pl.DataFrame, path: Path) -> None:
    safe_parent(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with writing(path, tmp):
        df.write_parquet(tmp)
        os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    safe_parent(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with writing(path, tmp):
        tmp.write_text(json.dumps(obj, indent=2, default=str, ensure_ascii=False))
        os.replace(tmp, path)


def read_table(step_dir: Path, which: str = KEPT) -> pl.DataFrame:
    """All parts of a step as one table (extra columns may differ between parts; old column names renamed)."""
    files = parts(step_dir, which)
    return records.concat([records.conform(pl.read_parquet(f)) for f in files], rejected=which == REJECTED)


def count_rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def read_column(files: list[Path], column: str) -> pl.Series:
    """One column of many parts, read without the rest of the rows (ids, for the contract checks)."""
    if not files:
        return pl.Series(column, [], dtype=pl.String)
    return pl.concat([pl.read_parquet(f, columns=[column])[column] for f in files])


def link_part(src: Path, dst: Path) -> None:
    """Hard-link a finished part into another step (instant, no extra space); copy across file systems."""
    safe_parent(dst)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
    with writing(dst, tmp):
        try:
            os.link(src, tmp)
        except OSError:
            import shutil

            shutil.copy2(src, tmp)
        os.replace(tmp, dst)


def write_rejects_table(files: list[Path], out: Path) -> int:
    """Every step's rejected parts as one Parquet file of the core reject columns, written part by part."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = records.empty_rejects().to_arrow().schema
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    n = 0
    with writing(out, tmp), pq.ParquetWriter(tmp, schema) as w:
        for f in files:
            df = records.conform(pl.read_parquet(f))
            for c in records.REJECT_COLUMNS:
                if c not in df.columns:
                    df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
            table = df.select(list(records.REJECT_SCHEMA)).to_arrow()
            if table.num_rows:
                w.write_table(pa.Table.from_batches(table.cast(schema).to_batches(), schema=schema))
                n += table.num_rows
    with writing(out, tmp):
        os.replace(tmp, out)
    return n
