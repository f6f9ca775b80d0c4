"""A full disk, a linked .index and an --out that cannot be a folder: one line saying what and where, the
run marked failed, finished steps reusable, nothing written through a link."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from dsforge.pipelines.core import shards
from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.errors import UnsafePathError
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe

DSFORGE = Path(sys.executable).with_name("dsforge")


def recipe(external: Path) -> dict:
    alpaca = external / "alpaca_libre"
    return {"name": "diskfull",
            "inputs": [{"path": str(alpaca / "alpaca_libre_tasks_v1.jsonl"), "mapping": "alpaca"},
                       {"path": str(alpaca / "alpaca_libre_tasks_v2.jsonl"), "mapping": "alpaca"}],
            "stages": [{"stage": "exact-dedup", "fields": ["prompt", "response"]},
                       {"stage": "length-filter", "field": "response", "min_chars": 1},
                       {"stage": "clean-markup"}, {"stage": "rules"}, {"stage": "save", "formats": ["hf", "parquet"]}]}


def mount_small_disk(mnt: Path, size: str) -> None:
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not allowed here (needs root)")


@pytest.fixture()
def small_disk(tmp_path):
    """A 2 MB tmpfs (root only): the run above fills it in its fourth or fifth step."""
    mount_small_disk(tmp_path / "small", "2m")
    yield tmp_path / "small"
    subprocess.run(["umount", "-l", str(tmp_path / "small")], check=False)


def test_a_disk_filled_by_the_dataset_writer_still_gets_its_run_json(tmp_path, external):
    """The save step's own writers (Arrow, datasets) fill the disk: its half-written folder is removed, so
    run.json can say "failed"."""
    mnt = tmp_path / "small"
    mount_small_disk(mnt, "1400k")
    try:
        data = {"name": "sv", "inputs": [{"path": str(external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl"),
                                          "mapping": "alpaca"}],
                "stages": [{"stage": "save", "formats": ["hf", "parquet", "jsonl"]}]}
        path = tmp_path / "sv.yaml"
        path.write_text(yaml.safe_dump(data))
        res = subprocess.run([str(DSFORGE), "run", str(path), "--no-prefect", "--workers", "1", "--out", str(mnt)],
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        run_dir = next(mnt.glob("sv-*"))
        assert res.stderr.splitlines()[-2] == (f"error: no space left on device while writing the files of step save "
                                               f"under {run_dir}/stages/01-save")
        run = json.loads((run_dir / "run.json").read_text())
        assert run["status"] == "failed" and [s["step"] for s in run["steps"]] == ["ingest"]
        assert not list(mnt.rglob("*.partial"))
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_one_line_the_run_is_failed_and_finished_steps_are_reused(tmp_path, external, small_disk):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe(external)))
    cmd = [str(DSFORGE), "run", str(path), "--no-prefect", "--workers", "2", "--out", str(small_disk)]
    full = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert full.returncode == 2, full.stderr[-3000:]
    errors = [ln for ln in full.stderr.splitlines() if not ln.startswith("INFO")]
    assert len(errors) == 2 and "Traceback" not in full.stderr
    assert errors[0].startswith(f"error: no space left on device while writing {small_disk}/diskfull-")
    assert errors[0].endswith(".parquet") or errors[0].endswith(".json") or "/dataset/" in errors[0]
    assert errors[1] == "hint: free some space (or give --out a bigger disk) and run again: finished steps are reused"
    run = json.loads(next(small_disk.glob("diskfull-*/run.json")).read_text())
    assert run["status"] == "failed" and run["error"].startswith("DiskFullError: no space left on device")
    finished = len(run["steps"])
    assert finished >= 2
    assert not list(small_disk.rglob(".*.tmp"))  # no half-written file left taking the space
    subprocess.run(["mount", "-o", "remount,size=32m", str(small_disk)], check=True)
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    table = [ln.split() for ln in again.stdout.splitlines()[2:8]]
    assert [row[-1] == "reused" for row in table][:finished] == [True] * finished
    assert table[-1][0] == "save" and table[-1][3] == "4,358"


def test_a_linked_index_is_never_written_through(tmp_path, external):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "runs"
    out.mkdir()
    (out / ".index").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match=r"\.index is a symbolic link; dsforge does not write through links"):
        run_recipe(build_recipe(recipe(external)), out, executor=ExecutorSpec(workers=1))
    assert list(elsewhere.iterdir()) == []
    run = json.loads(next(out.glob("diskfull-*/run.json")).read_text())
    assert run["status"] == "failed" and "UnsafePathError" in run["error"]


def test_parts_are_never_written_into_a_linked_folder(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "step").mkdir()
    (tmp_path / "step" / "kept").symlink_to(target)
    with pytest.raises(UnsafePathError, match="kept is a symbolic link"):
        shards.atomic_write_parquet(pl.DataFrame({"a": [1]}), shards.part_path(tmp_path / "step", "kept", 0))
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("out, message", [
    ("FILE", "error: output folder {tmp}/afile is a file, not a folder"),
    ("/proc/x", "error: cannot create a run folder in /proc/x: No such file or directory"),
    ("/sys/kernel/x", "error: cannot create a run folder in /sys/kernel/x: "),
])
def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, out, message):
    (tmp_path / "afile").write_text("x")
    out = str(tmp_path / "afile") if out == "FILE" else out
    rows = tmp_path / "in.jsonl"
    rows.write_text('{"instruction": "a", "output": "b"}\n')
    assert main(["stage", "exact-dedup", "--input", str(rows), "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(message.format(tmp=tmp_path)) and "Traceback" not in err
    assert err.splitlines()[1] == "hint: give --out (or the recipe's output.dir) a folder you can write to"
