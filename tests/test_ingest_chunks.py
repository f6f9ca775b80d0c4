"""The chunk API a sharded runner calls (plan_chunks, read_chunk, ids across chunks), and random corruptions
of real files through it: nothing crashes, rows in = kept + rejected, ids unique, chunked = whole."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import random
import tempfile
from concurrent.futures import ProcessPoolExecutor

import datasets
import polars as pl
import pytest

from dsforge.pipelines.core.readers import (DataError, InputSpec, apply_duplicate_ids, collision_candidates,
                                       duplicate_id_rejects, input_manifest, plan_chunks, read_chunk, read_inputs)


def read_by_chunks(spec: InputSpec, rows_per_chunk: int, strict: bool = False):
    chunks = plan_chunks(spec, 0, None, rows_per_chunk)
    parts = [read_chunk(spec, c, strict) for c in chunks]
    dups = duplicate_id_rejects(pl.concat([p.id_keys for p in parts]))
    with tempfile.TemporaryDirectory() as d:  # the runner's way: only the rows whose id hashes collide
        files = [f"{d}/part-{n:05d}.parquet" for n in range(len(parts))]
        for p, f in zip(parts, files):
            p.id_keys.write_parquet(f)
        assert duplicate_id_rejects(collision_candidates(files)).equals(dups)
    parts = [apply_duplicate_ids(p, dups) for p in parts]
    return chunks, pl.concat([p.kept for p in parts]), pl.concat([p.rejected for p in parts])


def test_chunks_of_a_dirty_real_file_add_up_to_the_whole(external):
    spec = InputSpec(path=str(external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl"))
    chunks, kept, rejected = read_by_chunks(spec, rows_per_chunk=300)
    assert len(chunks) >= 6 and [c.index for c in chunks] == list(range(len(chunks)))
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:]))  # contiguous byte ranges
    whole = read_inputs([spec])
    assert kept.equals(whole.kept) and rejected.equals(whole.rejected)
    assert rejected.height == 14 and rejected["detail"][0].startswith("alpaca_libre_tasks_v2.jsonl line 2279")
    assert chunks[3].first_row == 1 + (external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl").read_bytes()[
        :chunks[3].start].count(b"\n")
    assert chunks[0].mapping_name == "alpaca" and chunks[0].mapping["response"] == "output"


def test_read_chunk_runs_in_worker_processes(external):
    spec = InputSpec(path=str(external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl"), source="libre")
    chunks = plan_chunks(spec, 0, None, 800)
    assert pickle.loads(pickle.dumps(chunks[1])) == chunks[1]
    # spawn: a forked child of a process that has used Polars' thread pool can deadlock
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(read_chunk, [spec] * len(chunks), chunks))
    assert pl.concat([p.kept for p in parts]).equals(read_inputs([spec]).kept)
    assert [p.manifest[0]["chunk"] for p in parts] == list(range(len(chunks)))
    m = input_manifest(spec, None)
    assert m["format"] == "jsonl" and m["source"] == "libre" and len(m["sha256"]) == 64


def test_csv_chunks_never_split_a_quoted_newline(tmp_path):
    rows = [{"instruction": f"line one\nline two {i}", "input": "", "output": f'say "{i}"'} for i in range(40)]
    pl.DataFrame(rows).write_csv(tmp_path / "q.csv")
    spec = InputSpec(path=str(tmp_path / "q.csv"))
    chunks, kept, rejected = read_by_chunks(spec, rows_per_chunk=3)
    assert len(chunks) > 5 and rejected.height == 0
    assert kept["instruction"].to_list() == [r["instruction"] for r in rows]
    assert kept["id"].to_list()[:3] == ["q:line2", "q:line4", "q:line6"]  # physical line where a record starts


@pytest.mark.parametrize("fmt", ["json", "parquet", "hf"])
def test_row_formats_chunk_by_row_offset(tmp_path, fmt):
    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(25)]
    path = tmp_path / f"r.{fmt}" if fmt != "hf" else tmp_path / "r_hf"
    if fmt == "json":
        path.write_text(json.dumps(rows))
    elif fmt == "parquet":
        pl.DataFrame(rows).write_parquet(path, row_group_size=7)
    else:
        datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:20]),
                              "test": datasets.Dataset.from_list(rows[20:])}).save_to_disk(str(path))
    spec = InputSpec(path=str(path), source="r")
    chunks, kept, _ = read_by_chunks(spec, rows_per_chunk=6)
    assert len(chunks) == (1 if fmt == "json" else 5 if fmt == "parquet" else 5)
    assert sorted(kept["response"].to_list()) == sorted(r["output"] for r in rows)
    if fmt == "parquet":
        assert kept["id"].to_list()[6:8] == ["r:row6", "r:row7"]
    limited = read_inputs([InputSpec(path=str(path), source="r", limit=9)], rows_per_chunk=4)
    assert limited.kept.height == 9
    if fmt == "hf":
        with pytest.raises(DataError, match="r_hf: no split 'validation'; splits: train, test"):
            plan_chunks(InputSpec(path=str(path), split="validation"), 0, None)


def test_limit_and_planning_errors(tmp_path, external):
    spec = InputSpec(path=str(external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl"), limit=1000)
    _, kept, rejected = read_by_chunks(spec, rows_per_chunk=150)
    assert kept.height + rejected.height == 1000 and kept["id"][-1] == "alpaca_libre_tasks_v1:line1000"
    with pytest.raises(DataError, match="input not found"):
        plan_chunks(InputSpec(path=str(tmp_path / "nope.jsonl")), 0, None)
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    with pytest.raises(DataError, match="unknown mapping preset 'alpacca'"):
        plan_chunks(InputSpec(path=str(tmp_path / "a.jsonl"), mapping="alpacca"), 0, None)
    with pytest.raises(DataError, match="fills no complete record kind"):
        plan_chunks(InputSpec(path=str(tmp_path / "a.jsonl"), mapping={"input": "text"}), 0, None)


# ---------------------------------------------------------------- random corruptions of real files


def _corrupt(line: bytes, rng: random.Random) -> bytes:
    k = rng.randrange(10)
    if k == 0:  # flip a byte to an invalid UTF-8 one
        i = rng.randrange(len(line))
        return line[:i] + bytes([rng.choice([0x80, 0xC3, 0xFF, 0xFE])]) + line[i + 1:]
    if k == 1:
        return line[: rng.randrange(len(line))]  # truncated
    if k == 2:
        return line.replace(b'": "', b'": "\\ud800', 1)
    if k == 3:
        return b"null" if rng.random() < 0.5 else b"[1, 2]"
    if k == 4:
        return line.replace(b'"output": "', b'"output": 4' + b'2, "x": "', 1)
    if k == 5:
        return line[:-1] + b', "deep": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    if k == 6:
        return line.replace(b"{", b'{"id": "dup", ', 1)
    if k == 7:
        return line.replace(b'"output"', b'"outptu"', 1)
    if k == 8:
        return b"   "  # becomes a blank line
    return line.replace(b'"input": ""', b'"input": Infinity', 1)


def _corrupt_file(src: bytes, rng: random.Random, rate: float) -> bytes:
    lines = src.split(b"\n")[:400]
    return b"\n".join(_corrupt(ln, rng) if ln.strip() and rng.random() < rate else ln for ln in lines) + b"\n"


@pytest.mark.parametrize("seed", range(12))
def test_random_corruptions_of_real_files_never_crash(tmp_path, external, seed):
    rng = random.Random(seed)
    src = (external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl").read_bytes()
    data = _corrupt_file(src, rng, rate=rng.choice([0.02, 0.2, 0.6]))
    p = tmp_path / "c.jsonl"
    p.write_bytes(data)
    n_rows = sum(1 for ln in data.split(b"\n") if ln.decode("utf-8", "replace").strip())
    spec = InputSpec(path=str(p), mapping="alpaca")
    whole = read_inputs([spec])
    assert whole.kept.height + whole.rejected.height == n_rows
    assert whole.manifest[0]["rows_read"] == n_rows
    ids = whole.kept["id"].to_list() + whole.rejected["id"].to_list()
    assert len(ids) == len(set(ids))
    _, kept, rejected = read_by_chunks(spec, rows_per_chunk=rng.choice([7, 50, 1000]))
    assert kept.equals(whole.kept) and rejected.equals(whole.rejected)
    whole.kept.write_parquet(tmp_path / "k.parquet")  # everything kept and rejected can be stored
    whole.rejected.write_parquet(tmp_path / "r.parquet")
    assert set(whole.rejected["reason"]) <= {"ingest:bad_json", "ingest:bad_encoding", "ingest:not_an_object",
                                             "ingest:wrong_type", "ingest:missing_field", "ingest:too_deep",
                                             "ingest:duplicate_id"}
    if rejected.height:
        assert rejected["detail"].str.starts_with("c.jsonl line ").all()
    with pytest.raises(DataError, match=r"c\.jsonl line \d+") if whole.rejected.height else _no_error():
        read_inputs([spec], strict=True)


@pytest.mark.parametrize("seed", range(4))
def test_random_corruptions_of_real_json_and_csv(tmp_path, external, seed):
    rng = random.Random(100 + seed)
    rows = json.loads((external / "gpteacher/codegen-instruct.json").read_text())[:150]
    text = json.dumps(rows, ensure_ascii=False).encode()
    for _ in range(5):  # invalid bytes inside strings keep the array parsable
        i = text.find(b'": "', rng.randrange(len(text))) + 4
        text = text[:i] + b"\xff" + text[i:] if i > 3 else text
    (tmp_path / "c.json").write_bytes(text)
    res = read_inputs([InputSpec(path=str(tmp_path / "c.json"))])
    assert res.kept.height + res.rejected.height == 150
    assert set(res.rejected["reason"]) <= {"ingest:bad_encoding"}
    pl.DataFrame(rows).write_csv(tmp_path / "c.csv")
    data = bytearray((tmp_path / "c.csv").read_bytes())
    for _ in range(10):
        data[rng.randrange(40, len(data))] = rng.choice([0xFF, ord(","), ord('"'), ord("\n")])
    (tmp_path / "c.csv").write_bytes(bytes(data))
    spec = InputSpec(path=str(tmp_path / "c.csv"))
    whole = read_inputs([spec])
    _, kept, rejected = read_by_chunks(spec, rows_per_chunk=rng.choice([5, 40]))
    assert kept.equals(whole.kept) and rejected.equals(whole.rejected)
    assert whole.kept.height > 0
    whole.rejected.write_parquet(tmp_path / "r.parquet")


class _no_error:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_orjson_fast_path_equals_the_stdlib_reference(tmp_path, external, monkeypatch):
    from dsforge.pipelines.core.readers import formats

    src = (external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl").read_bytes()
    extra = (b'{"instruction": "big", "output": "x", "n": 123456789012345678901234}\n'
             b'{"instruction": "dup", "output": "first", "output": "last", "f": 0.1, "g": 5e-324}\n')
    (tmp_path / "m.jsonl").write_bytes(src + extra)
    spec = InputSpec(path=str(tmp_path / "m.jsonl"))
    fast = read_inputs([spec])

    class StdlibOnly:
        @staticmethod
        def loads(_):
            raise ValueError

    monkeypatch.setattr(formats, "orjson", StdlibOnly)
    slow = read_inputs([spec])
    assert fast.kept.equals(slow.kept) and fast.rejected.equals(slow.rejected)
    assert json.loads(fast.kept["metadata"][-2])["n"] == 123456789012345678901234  # not a float
    assert fast.kept["response"][-1] == "last"


def test_colliding_ids_across_chunks_are_found_from_their_hashes(tmp_path):
    """An explicit id repeated in another chunk, and one equal to another row's generated id, both go to the
    rejects, found through `collision_candidates` (the runner's narrowing to rows whose id hashes collide)."""
    rows = [{"id": "a", "instruction": "q0", "output": "r"}, {"instruction": "q1", "output": "r"},
            {"id": "a", "instruction": "q2", "output": "r"}, {"id": "c:line2", "instruction": "q3", "output": "r"},
            *({"id": f"u{i}", "instruction": f"q{i}", "output": "r"} for i in range(4, 40))]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _, kept, rejected = read_by_chunks(InputSpec(path=str(path), mapping="alpaca"), rows_per_chunk=2)
    assert rejected["reason"].to_list() == ["ingest:duplicate_id"] * 2
    assert rejected["id"].to_list() == ["c:line3", "c:line4"] and "already the id of c.jsonl line 1" in rejected["detail"][0]
    assert kept.height == 38 and kept["id"].n_unique() == 38


# ---------------------------------------------------------------- the same for CSV and Parquet (issue 34)

REASONS = {"ingest:bad_json", "ingest:bad_encoding", "ingest:not_an_object", "ingest:wrong_type",
           "ingest:missing_field", "ingest:too_deep", "ingest:duplicate_id", "ingest:bad_row", "ingest:too_large"}


def _check_whole_equals_chunks(spec: InputSpec, rng: random.Random, name: str, where: str):
    """Counts add up, ids are unique, chunked = whole, every reject names the file, strict stops at the first."""
    whole = read_inputs([spec])
    m = whole.manifest[0]
    assert m["rows_read"] == m["rows_kept"] + m["rows_rejected"] == whole.kept.height + whole.rejected.height
    ids = whole.kept["id"].to_list() + whole.rejected["id"].to_list()
    assert len(ids) == len(set(ids))
    _, kept, rejected = read_by_chunks(spec, rows_per_chunk=rng.choice([7, 50, 1000]))
    assert kept.equals(whole.kept) and rejected.equals(whole.rejected)
    assert set(whole.rejected["reason"]) <= REASONS
    assert whole.rejected["detail"].str.starts_with(f"{name} {where} ").all()
    with pytest.raises(DataError, match=rf"{name} {where} \d+") if whole.rejected.height else _no_error():
        read_inputs([spec], strict=True)
    return whole


def _corrupt_csv_line(line: bytes, rng: random.Random) -> bytes:
    k = rng.randrange(7)
    if k == 0:
        i = rng.randrange(len(line))
        return line[:i] + bytes([rng.choice([0x80, 0xC3, 0xFF])]) + line[i + 1:]
    if k == 1:
        return line[: rng.randrange(len(line))]  # truncated: maybe an open quote that swallows lines
    if k == 2:
        return line + b",extra"  # one column too many
    if k == 3:
        return line.replace(b",", b"", 1)  # one column too few
    if k == 4:
        i = rng.randrange(len(line))
        return line[:i] + b'"' + line[i:]  # a stray quote
    if k == 5:
        return b"  "
    return b"," * line.count(b",")  # every field empty: missing fields


@pytest.mark.parametrize("seed", range(8))
def test_random_corruptions_of_a_real_csv_file(tmp_path, external, seed):
    rng = random.Random(300 + seed)
    rows = [json.loads(ln) for ln in (external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl").read_text().splitlines()[:300]]
    pl.DataFrame(rows).select("instruction", "input", "output").write_csv(tmp_path / "clean.csv")
    lines = (tmp_path / "clean.csv").read_bytes().split(b"\n")
    rate = rng.choice([0.02, 0.2, 0.6])
    data = b"\n".join([lines[0]] + [_corrupt_csv_line(ln, rng) if ln.strip() and rng.random() < rate else ln
                                    for ln in lines[1:]])
    (tmp_path / "c.csv").write_bytes(data)
    whole = _check_whole_equals_chunks(InputSpec(path=str(tmp_path / "c.csv"), mapping="alpaca"), rng, "c.csv", "line")
    assert whole.kept.height > 0
    whole.kept.write_parquet(tmp_path / "k.parquet")
    whole.rejected.write_parquet(tmp_path / "r.parquet")


def _parquet_rows(external, rng: random.Random) -> pl.DataFrame:
    rows = [json.loads(ln) for ln in (external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl").read_text().splitlines()[:300]]
    df = pl.DataFrame(rows).select("instruction", "input", "output")
    n = df.height
    pick = lambda rate: pl.Series([rng.random() < rate for _ in range(n)])  # noqa: E731
    rate = rng.choice([0.05, 0.3])
    df = df.with_columns(
        pl.when(pick(rate)).then(None).otherwise(pl.col("instruction")).alias("instruction"),  # missing_field
        pl.when(pick(rate)).then(None).otherwise(pl.col("output")).alias("output"),
        pl.Series("id", [rng.choice(["dup", None, f"r{i}", f"r{i}"]) for i in range(n)]),  # duplicate and null ids
        pl.Series("deep", [[[rng.randrange(9)]] * rng.randrange(3) for _ in range(n)]),  # nested, to metadata
    )
    if rng.random() < 0.3:  # a whole column of the wrong type: every row is wrong_type
        df = df.with_columns(pl.int_range(n).alias("output"))
    return df


@pytest.mark.parametrize("seed", range(8))
def test_random_corruptions_of_real_rows_in_parquet(tmp_path, external, seed):
    rng = random.Random(400 + seed)
    df = _parquet_rows(external, rng)
    df.write_parquet(tmp_path / "c.parquet", row_group_size=rng.choice([17, 100, 1000]))
    whole = _check_whole_equals_chunks(InputSpec(path=str(tmp_path / "c.parquet"), mapping="alpaca"), rng,
                                       "c.parquet", "row")
    assert whole.kept.height + whole.rejected.height == df.height
    whole.rejected.write_parquet(tmp_path / "r.parquet")


@pytest.mark.parametrize("seed", range(8))
def test_random_byte_damage_to_a_parquet_file_is_rows_or_one_data_error(tmp_path, external, seed):
    """Flipped bytes anywhere in the file: either the rows still read (and add up) or a DataError names the file;
    never another exception."""
    rng = random.Random(500 + seed)
    _parquet_rows(external, rng).write_parquet(tmp_path / "clean.parquet", row_group_size=50)
    data = bytearray((tmp_path / "clean.parquet").read_bytes())
    for _ in range(rng.choice([1, 5, 40])):
        data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    (tmp_path / "c.parquet").write_bytes(bytes(data))
    spec = InputSpec(path=str(tmp_path / "c.parquet"), mapping="alpaca")
    try:
        res = read_inputs([spec])
    except DataError as e:
        assert str(e).startswith(f"{tmp_path}/c.parquet: cannot be read as a Parquet file (")
        return
    assert res.manifest[0]["rows_read"] == res.kept.height + res.rejected.height
