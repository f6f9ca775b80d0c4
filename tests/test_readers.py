"""Readers: every format on good and malformed input, mappings, strict mode, shipped and external data."""

from __future__ import annotations

import json

import datasets
import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.fields import ref
from dsforge.pipelines.core.readers import DataError, InputSpec, read_input, read_inputs

ALPACA_ROWS = [
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
    {"instruction": "Say hi.", "input": "", "output": "Hi!"},
]


def test_jsonl_alpaca_mapping(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ALPACA_ROWS) + "\n")
    res = read_input(InputSpec(path=str(p), mapping="alpaca", source="toy"))
    df = res.kept
    records.validate(df)
    assert df["id"].to_list() == ["toy:line1", "toy:line2", "toy:line3"]
    assert df["kind"].unique().to_list() == ["instruction"]
    assert df["response"].to_list() == ["Blue.", "5", "Hi!"]
    assert df["input"][1] == "2 and 3"
    lineage = df["lineage"][0].to_list()
    assert lineage[0]["stage"] == "ingest" and json.loads(lineage[0]["info"]) == {"file": "a.jsonl", "locator": "line 1"}
    assert res.rejected.height == 0
    m = res.manifest[0]
    assert m["rows_read"] == 3 and len(m["sha256"]) == 64 and m["size"] == p.stat().st_size


def test_jsonl_malformed_rows_go_to_rejects_with_file_line_field(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(
        json.dumps(ALPACA_ROWS[0]) + "\n"
        + '{"instruction": "broken", "output": \n'                               # bad JSON, line 2
        + json.dumps({"instruction": "no output"}) + "\n"                         # missing field, line 3
        + json.dumps({"instruction": "typed", "output": 42}) + "\n"               # wrong type, line 4
        + json.dumps(["not", "an", "object"]) + "\n"                              # line 5
    )
    res = read_input(InputSpec(path=str(p), mapping="alpaca"))
    assert res.kept.height == 1
    rej = res.rejected
    assert rej["reason"].to_list() == ["ingest:bad_json", "ingest:missing_field", "ingest:wrong_type", "ingest:not_an_object"]
    assert rej["stage"].unique().to_list() == ["ingest"]
    details = rej["detail"].to_list()
    assert details[0].startswith("bad.jsonl line 2")
    assert "bad.jsonl line 3" in details[1] and "'output'" in details[1]
    assert "bad.jsonl line 4" in details[2] and "expected text, got int" in details[2]
    assert rej["text"][0].startswith('{"instruction": "broken"')  # the raw line is kept


def test_strict_mode_names_file_line_and_field(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(json.dumps(ALPACA_ROWS[0]) + "\n" + json.dumps({"instruction": "x", "output": None}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl line 2.*'output'.*missing"):
        read_input(InputSpec(path=str(p), mapping="alpaca"), strict=True)


def test_json_array_csv_parquet_and_hf_give_the_same_records(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(ALPACA_ROWS, indent=2))
    pl.DataFrame(ALPACA_ROWS).write_csv(tmp_path / "a.csv")
    pl.DataFrame(ALPACA_ROWS).write_parquet(tmp_path / "a.parquet")
    datasets.Dataset.from_list(ALPACA_ROWS).save_to_disk(str(tmp_path / "a_hf"))
    outs = {}
    for name in ("a.json", "a.csv", "a.parquet", "a_hf"):
        res = read_input(InputSpec(path=str(tmp_path / name), source="s"))  # mapping guessed: alpaca
        assert res.rejected.height == 0, name
        outs[name] = res.kept.select("instruction", "input", "response", "kind")
    first = outs["a.json"]
    for name, df in outs.items():
        assert df.equals(first), name
    assert read_input(InputSpec(path=str(tmp_path / "a.csv"), source="s")).kept["id"][0] == "s:line2"


def test_csv_with_wrong_column_count_is_rejected(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text('instruction,input,output\n"Hi",,"Hello"\n"Only two",x\n"ok","","fine"\n')
    res = read_input(InputSpec(path=str(p), mapping="alpaca"))
    assert res.kept["instruction"].to_list() == ["Hi", "ok"]
    assert res.rejected["reason"].to_list() == ["ingest:bad_row"]
    assert res.rejected["detail"][0].startswith("a.csv line 3")


def test_whole_file_json_error_is_a_clear_error(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('[{"instruction": "a", "output": "b"},\n {"oops"}]')
    with pytest.raises(DataError, match=r"broken\.json: not valid JSON at line 2"):
        read_input(InputSpec(path=str(p), format="json"))


def test_messages_preference_scored_and_documents(tmp_path):
    rows = [
        {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
        {"conversations": [{"from": "alien", "value": "?"}]},
    ]
    p = tmp_path / "sharegpt.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows))
    res = read_input(InputSpec(path=str(p)))
    assert res.kept["kind"].to_list() == ["conversation"]
    assert res.kept["messages"][0].to_list() == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert "conversations.0.role" in res.rejected["detail"][0]

    pref = tmp_path / "pref.jsonl"
    pref.write_text(json.dumps({"prompt": "Q", "chosen": "good", "rejected": "bad", "annotator": "ann1"}))
    df = read_input(InputSpec(path=str(pref))).kept
    assert df["kind"][0] == "preference" and df["chosen_response"][0] == "good" and df["instruction"][0] == "Q"
    assert df.select(ref("metadata.annotator").expr().alias("annotator"))["annotator"][0] == "ann1"  # unmapped fields -> metadata

    scored = tmp_path / "scored.jsonl"
    scored.write_text(json.dumps({"prompt": "Q", "response": "A", "score": "4.5"}) + "\n"
                      + json.dumps({"prompt": "Q", "response": "A", "score": "high"}))
    res = read_input(InputSpec(path=str(scored)))
    assert res.kept["score"].to_list() == [4.5]
    assert res.rejected["reason"].to_list() == ["ingest:wrong_type"]

    docs = tmp_path / "docs.parquet"
    pl.DataFrame({"text": ["a doc", "another"], "url": ["u1", "u2"]}).write_parquet(docs)
    df = read_input(InputSpec(path=str(docs))).kept
    assert df["kind"].to_list() == ["document", "document"]
    assert json.loads(df["metadata"][1]) == {"url": "u2"}


def test_custom_mapping_with_nested_paths_and_metadata(tmp_path):
    p = tmp_path / "nested.jsonl"
    p.write_text(json.dumps({"q": {"text": "Why?"}, "answers": [{"body": "Because."}], "worker": "w7", "uid": 99}))
    spec = InputSpec(path=str(p), mapping={"instruction": "q.text", "response": "answers.0.body",
                                           "metadata.annotator": "worker", "id": "uid"}, keep_extra=False)
    df = read_input(spec).kept
    assert df["instruction"][0] == "Why?" and df["response"][0] == "Because."
    assert df["id"][0] == "99"  # the input's own id, as is
    assert json.loads(df["metadata"][0]) == {"annotator": "w7"}


def test_seed_tasks_preset_on_shipped_seeds():
    res = read_input(InputSpec(path="data:seed_tasks.jsonl"))
    assert res.kept.height == 175 and res.rejected.height == 0
    assert res.kept["id"][0] == "seed_task_0"
    assert res.kept["response"].str.len_chars().min() > 0


def test_real_dirty_file_quarantines_its_14_malformed_lines(external):
    res = read_input(InputSpec(path=str(external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl")))
    assert res.rejected.height == 14
    assert set(res.rejected["reason"]) == {"ingest:bad_json"}
    assert res.rejected["detail"][0].startswith("alpaca_libre_tasks_v2.jsonl line 2279")
    assert res.kept.height + res.rejected.height == 2294


@pytest.mark.parametrize("rel,kind,rows", [
    ("gpteacher/codegen-instruct.json", "instruction", 4535),
    ("self_instruct_t0/trec_trec1.jsonl", "instruction", 200),
    ("alpaca_chinese/zh_05.json", "instruction", None),
])
def test_external_formats_are_read(external, rel, kind, rows):
    res = read_input(InputSpec(path=str(external / rel)))
    assert res.kept.height > 0 and set(res.kept["kind"]) == {kind}
    if rows is not None:
        assert res.kept.height + res.rejected.height == rows


def test_duplicate_ids_across_inputs_are_an_error(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps(ALPACA_ROWS[0]))
    with pytest.raises(DataError, match="give each input its own `source:`"):
        read_inputs([InputSpec(path=str(p), source="x"), InputSpec(path=str(p), source="x")])


def test_missing_file_and_unknown_preset(tmp_path):
    with pytest.raises(DataError, match="input not found"):
        read_input(InputSpec(path=str(tmp_path / "nope.jsonl")))
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps(ALPACA_ROWS[0]))
    with pytest.raises(DataError, match="unknown mapping preset 'alpacca'"):
        read_input(InputSpec(path=str(p), mapping="alpacca"))


def test_records_parquet_is_taken_as_is(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ALPACA_ROWS))
    df = read_input(InputSpec(path=str(p))).kept.with_columns(pl.lit(1).alias("extra_col"))
    df.write_parquet(tmp_path / "kept.parquet")
    again = read_input(InputSpec(path=str(tmp_path / "kept.parquet"))).kept
    assert again.equals(df)
