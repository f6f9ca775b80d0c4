"""Issue 14, ingest side: every bad input is a reject with file, line and reason (or a clear DataError under
strict); none crashes, none is silently wrong."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest

from dsforge.pipelines.core.readers import DataError, InputSpec, read_input, read_inputs

ROW = {"instruction": "Name a colour.", "input": "", "output": "Blue."}
LINE = json.dumps(ROW).encode()


def write(tmp_path, name: str, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def rejects(res) -> list[tuple[str, str, str]]:
    return list(zip(res.rejected["id"], res.rejected["reason"], res.rejected["detail"]))


def test_invalid_utf8_in_jsonl_is_rejected_not_replaced(tmp_path):
    p = write(tmp_path, "u.jsonl", LINE + b'\n{"instruction": "caf\xe9", "output": "y"}\n')
    res = read_input(InputSpec(path=str(p)))
    assert res.kept["id"].to_list() == ["u:line1"]
    assert rejects(res) == [("u:line2", "ingest:bad_encoding",
                             "u.jsonl line 2: field 'instruction' is not valid UTF-8 text: invalid byte 0xe9 at character 3")]
    assert "\ufffd" in res.rejected["text"][0]  # the raw line is kept, made storable
    with pytest.raises(DataError, match=r"u\.jsonl line 2: field 'instruction' is not valid UTF-8"):
        read_input(InputSpec(path=str(p)), strict=True)


@pytest.mark.parametrize("name,data,reason,detail", [
    ("surrogate.jsonl", LINE + b'\n{"instruction": "a\\ud800", "output": "b"}\n', "ingest:bad_encoding",
     "surrogate.jsonl line 2: field 'instruction' is not valid UTF-8 text: a lone surrogate \\ud800 at character 1"),
    ("deep.jsonl", LINE + b'\n{"instruction": "a", "output": "b", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
     "ingest:too_deep", "deep.jsonl line 2: JSON nested too deeply to parse"),
    ("nullfirst.jsonl", b"null\n" + LINE + b"\n", "ingest:not_an_object", "nullfirst.jsonl line 1: expected a JSON object, got null"),
    ("u.csv", b'instruction,input,output\n"a","","b"\n"c\xff","","d"\n', "ingest:bad_encoding",
     "u.csv line 3: field 'instruction' is not valid UTF-8 text: invalid byte 0xff at character 1"),
    ("u.json", b"[" + LINE + b', {"instruction": "x\xff", "output": "y"}]', "ingest:bad_encoding",
     "u.json row 1: field 'instruction' is not valid UTF-8 text: invalid byte 0xff at character 1"),
    ("deep.json", b"[" + LINE + b', {"instruction": "a", "output": "b", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}]",
     "ingest:too_deep", "deep.json row 1: JSON nested too deeply to parse"),
])
def test_rows_that_used_to_crash_are_rejected(tmp_path, name, data, reason, detail):
    res = read_input(InputSpec(path=str(write(tmp_path, name, data))))
    assert res.kept.height == 1 and res.kept["response"][0] in ("Blue.", "b")
    assert [(r, d) for _, r, d in rejects(res)] == [(reason, detail)]
    with pytest.raises(DataError, match=detail.split(":")[0]):
        read_input(InputSpec(path=str(tmp_path / name)), strict=True)


def test_json_array_whose_first_elements_are_not_objects(tmp_path):
    p = write(tmp_path, "arr.json", b'[1, "x", ' + LINE + b"]")
    res = read_input(InputSpec(path=str(p)))
    assert res.kept["id"].to_list() == ["arr:row2"]
    assert rejects(res) == [("arr:row0", "ingest:not_an_object", "arr.json row 0: expected a JSON object, got int"),
                            ("arr:row1", "ingest:not_an_object", "arr.json row 1: expected a JSON object, got str")]


def test_pretty_printed_wrapper_object_is_json_not_jsonl(tmp_path):
    rows = [ROW, {**ROW, "output": "Red."}]
    for name, text in (("pretty.json", json.dumps({"data": rows}, indent=2)), ("oneline.json", json.dumps({"data": rows}))):
        res = read_input(InputSpec(path=str(write(tmp_path, name, text.encode()))))
        assert res.manifest[0]["format"] == "json" and res.manifest[0]["mapping"] == "alpaca"
        assert res.kept["response"].to_list() == ["Blue.", "Red."] and res.rejected.height == 0
    one = write(tmp_path, "conv.json", json.dumps({"messages": [{"role": "user", "content": "Hi"}]}).encode())
    assert read_input(InputSpec(path=str(one))).manifest[0]["format"] == "jsonl"  # one record, not a wrapper


@pytest.mark.parametrize("data", [b"", b"\n   \n\n"])
def test_empty_and_blank_files_warn_and_fail_under_strict(tmp_path, data, caplog):
    p = write(tmp_path, "empty.jsonl", data)
    res = read_input(InputSpec(path=str(p)))
    assert res.kept.height == 0 and res.manifest[0]["warning"] == "no rows: the file is empty or holds only blank lines"
    assert "empty.jsonl: no rows" in caplog.text
    with pytest.raises(DataError, match=r"empty\.jsonl: no rows: the file is empty or holds only blank lines"):
        read_input(InputSpec(path=str(p)), strict=True)


def test_explicit_id_equal_to_a_generated_one_never_shares_an_id(tmp_path):
    p = write(tmp_path, "ids.jsonl", b'{"id": "ids:line2", "instruction": "a", "output": "b"}\n{"broken\n' + LINE + b"\n")
    res = read_input(InputSpec(path=str(p)))
    assert res.kept["id"].to_list() == ["ids:line3"]
    assert rejects(res) == [  # in file order
        ("ids:line1", "ingest:duplicate_id", "ids.jsonl line 1: id 'ids:line2' is the generated id of ids.jsonl line 2"),
        ("ids:line2", "ingest:bad_json", "ids.jsonl line 2: not valid JSON (Unterminated string starting at, column 2)"),
    ]
    assert not set(res.kept["id"]) & set(res.rejected["id"])


def test_own_ids_are_kept_as_is_and_repeats_are_rejected(tmp_path):
    p = write(tmp_path, "docs.jsonl", b'{"id": "e6986", "text": "a"}\n{"id": 7, "text": "b"}\n{"text": "c"}\n'
                                      b'{"id": "e6986", "text": "d"}\n{"id": {"x": 1}, "text": "e"}\n')
    res = read_input(InputSpec(path=str(p)))
    assert res.kept["id"].to_list() == ["e6986", "7", "docs:line3"]
    assert json.loads(res.kept["metadata"][0]) == {}  # the id is not also copied into metadata
    assert rejects(res) == [
        ("docs:line4", "ingest:duplicate_id", "docs.jsonl line 4: id 'e6986' is already the id of docs.jsonl line 1"),
        ("docs:line5", "ingest:wrong_type",
         "docs.jsonl line 5: field 'id': an id must be non-empty text or a whole number, got dict {'x': 1}"),
    ]
    with pytest.raises(DataError, match="docs.jsonl line 4: id 'e6986' is already the id of docs.jsonl line 1"):
        read_input(InputSpec(path=str(p), limit=4), strict=True)


def test_same_id_in_two_inputs_is_rejected_in_the_second(tmp_path):
    a = write(tmp_path, "a.jsonl", b'{"id": "x1", "text": "a"}\n')
    b = write(tmp_path, "b.jsonl", b'{"id": "x1", "text": "b"}\n{"id": "x2", "text": "c"}\n')
    res = read_inputs([InputSpec(path=str(a)), InputSpec(path=str(b))])
    assert res.kept["id"].to_list() == ["x1", "x2"] and res.kept["text"].to_list() == ["a", "c"]
    assert rejects(res) == [("b:line1", "ingest:duplicate_id", "b.jsonl line 1: id 'x1' is already the id of a.jsonl line 1")]
    assert [m["rows_kept"] for m in res.manifest] == [1, 1] and res.manifest[1]["rows_rejected"] == 1


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", '"1e400"', "1e400", "NaN", '"nan"'])
def test_non_finite_scores_are_wrong_type(tmp_path, value):
    p = write(tmp_path, "s.jsonl", b'{"prompt": "q", "response": "a", "score": 2}\n'
                                   b'{"prompt": "q", "response": "a", "score": ' + value.encode() + b"}\n")
    res = read_input(InputSpec(path=str(p)))
    assert res.kept["score"].to_list() == [2.0]
    (_, reason, detail), = rejects(res)
    assert reason == "ingest:wrong_type" and detail.startswith("s.jsonl line 2: field 'score': expected a finite number")


def test_nan_in_an_unmapped_field_is_rejected_not_written_as_invalid_json(tmp_path):
    p = write(tmp_path, "m.jsonl", b'{"text": "a", "weight": NaN}\n{"text": "b", "weight": 1}\n')
    res = read_input(InputSpec(path=str(p)))
    assert json.loads(res.kept["metadata"][0]) == {"weight": 1}
    assert rejects(res) == [("m:line1", "ingest:wrong_type", "m.jsonl line 1: field 'weight': NaN or Infinity is not a JSON value")]


def test_mapping_errors_name_the_file_and_line(tmp_path):
    p = write(tmp_path, "odd.jsonl", b"\n" + json.dumps({"question": "q", "answer": "a"}).encode() + b"\n")
    with pytest.raises(DataError, match=r"odd\.jsonl line 2: cannot guess a mapping for fields \['answer', 'question'\]"):
        read_input(InputSpec(path=str(p)))
    csv = write(tmp_path, "bom.csv", b"\xef\xbb\xbfinstruction,input,output\nHi,,Hello\n")
    res = read_input(InputSpec(path=str(csv)))  # a BOM before the header is not part of the first name
    assert res.manifest[0]["mapping"] == "alpaca" and res.kept["instruction"].to_list() == ["Hi"]


def test_records_parquet_without_ids_gets_row_ids_and_bad_columns_name_the_file(tmp_path):
    from dsforge.pipelines.core import records

    df = records.from_rows([{"id": None, "source": "s", "kind": "document", "text": "a"},
                            {"id": "keep", "source": "s", "kind": "document", "text": "b"}])
    df.write_parquet(tmp_path / "kept.parquet")
    res = read_input(InputSpec(path=str(tmp_path / "kept.parquet")))
    assert res.kept["id"].to_list() == ["kept:row0", "keep"]
    df.with_columns(pl.lit("high").alias("score")).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError, match=r"bad\.parquet rows 0-2: cannot cast to the record format"):
        read_input(InputSpec(path=str(tmp_path / "bad.parquet")))


def test_wrongly_typed_parquet_columns_are_rejected_per_row(tmp_path):
    pl.DataFrame({"instruction": ["a", "b"], "output": [1, 2]}).write_parquet(tmp_path / "t.parquet")
    res = read_input(InputSpec(path=str(tmp_path / "t.parquet")))
    assert res.kept.height == 0
    assert rejects(res)[0] == ("t:row0", "ingest:wrong_type", "t.parquet row 0: field 'output': expected text, got int")


def test_fifo_and_paths_outside_the_shipped_data_are_refused(tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file or folder"):
        read_input(InputSpec(path=str(fifo)))
    with pytest.raises(DataError, match="points outside that folder"):
        read_input(InputSpec(path="data:../../../etc/passwd"))
