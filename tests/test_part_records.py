"""A damaged step is never reused or read: each step records its files (name, rows, bytes, xxh3) when it
finishes; a later run checks them before reusing the step and recomputes it, naming the file, when one was
truncated, lost a row or was deleted; the resumed run ends with the rows of the undamaged one."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import part_records
from dsforge.pipelines.core.errors import PartChangedError
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, plan_run, run_plan
from dsforge.pipelines.core.shards import read_table


def recipe(external: Path):
    return build_recipe({"name": "parts", "inputs": [{"path": str(external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl"),
                                                      "mapping": "alpaca"}],
                         "stages": [{"stage": "exact-dedup", "fields": ["prompt", "response"]},
                                    {"stage": "length-filter", "field": "response", "min_chars": 20},
                                    {"stage": "save", "formats": ["parquet"]}]})


def run(external: Path, out: Path) -> dict:
    plan = plan_run(recipe(external), out, executor=ExecutorSpec(workers=1))
    plan.shard_rows = 600  # 4 parts per step
    return run_plan(plan)


def origin(summary: dict, step: int) -> Path:
    """The step folder a later run would reuse (the one that computed it)."""
    s = summary["steps"][step]
    return Path(s["reused_from"] or Path(summary["run_dir"]) / "stages" / f"{step:02d}-{s['step']}")


def counts(summary: dict) -> list[tuple[str, int, int, int]]:
    return [(s["step"], s["rows_in"], s["kept"], s["rejected"]) for s in summary["steps"]]


def dataset_rows(summary: dict) -> int:
    return sum(pl.read_parquet(f).height for f in Path(summary["dataset"]).glob("data/*/*.parquet"))


def test_truncated_short_and_deleted_parts_are_recomputed(tmp_path, external, caplog):
    first = run(external, tmp_path)
    assert first["status"] == "ok" and first["steps"][1]["parts"] >= 3
    want, want_rows = counts(first), dataset_rows(first)
    assert want_rows == first["steps"][-1]["kept"] > 1000

    # 1. half of a part of exact-dedup cut off
    part = origin(first, 1) / "kept" / "part-00001.parquet"
    os.truncate(part, part.stat().st_size // 2)
    caplog.set_level(logging.INFO, logger="dsforge")
    second = run(external, tmp_path)
    assert second["steps"][0]["reused_from"] and not second["steps"][1]["reused_from"]
    assert "part-00001.parquet of 01-exact-dedup cannot be read any more" in caplog.text
    assert counts(second) == want and dataset_rows(second) == want_rows

    # 2. one row removed from a part of length-filter (a valid Parquet file, one row short)
    caplog.clear()
    part = origin(second, 2) / "kept" / "part-00000.parquet"
    df = pl.read_parquet(part)
    rows = df.height
    df.slice(1).write_parquet(part)
    third = run(external, tmp_path)
    assert (f"part-00000.parquet of 02-length-filter changed since it was written (rows {rows:,} → {rows - 1:,}); "
            "recomputing") in caplog.text
    assert [bool(s["reused_from"]) for s in third["steps"]] == [True, True, False, False]
    assert counts(third) == want and dataset_rows(third) == want_rows

    # 3. a part of length-filter deleted
    caplog.clear()
    (origin(third, 2) / "kept" / "part-00002.parquet").unlink()
    fourth = run(external, tmp_path)
    assert "part-00002.parquet of 02-length-filter is missing; recomputing" in caplog.text
    assert counts(fourth) == want and dataset_rows(fourth) == want_rows

    # 4. same size, other bytes: only the hash sees it
    caplog.clear()
    part = origin(fourth, 1) / "kept" / "part-00001.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 3] ^= 0xFF
    part.unlink()
    part.write_bytes(bytes(data))
    fifth = run(external, tmp_path)
    assert "part-00001.parquet of 01-exact-dedup changed since it was written (same size, different content)" in caplog.text
    assert counts(fifth) == want

    # nothing damaged: everything reused
    sixth = run(external, tmp_path)
    assert all(s["reused_from"] for s in sixth["steps"]) and counts(sixth) == want


def test_a_step_reading_a_changed_part_names_it(tmp_path, external):
    summary = run(external, tmp_path)
    step = origin(summary, 1)
    assert part_records.verified_parts(step) == sorted((step / "kept").glob("part-*.parquet"))
    part = step / "kept" / "part-00003.parquet"
    pl.read_parquet(part).head(3).write_parquet(part)
    with pytest.raises(PartChangedError, match=r"part-00003.parquet of 01-exact-dedup changed since it was written "
                                               r"\(rows [\d,]+ → 3\)"):
        part_records.verified_parts(step)
    with pytest.raises(PartChangedError, match=r"part-00003.parquet of 01-exact-dedup changed .* → 3\)"):
        part_records.check_read(part, 3, part_records.expected_rows(step)[str(part)])
    assert read_table(origin(summary, 2)).height == summary["steps"][2]["kept"]
