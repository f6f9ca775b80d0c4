"""The one writer (dataset_writer.py) and the trainer configs beside its output.

LLaMA-Factory and axolotl are not installed (each pulls its own torch/transformers pins); their loaders'
documented schema is checked here instead, as LLaMA-Factory 0.9.5 (`data/parser.py` DatasetAttr,
`data/loader.py` file rule, `data/converter.py` SharegptDatasetConverter) and axolotl 0.19
(`utils/schemas/datasets.py`, `prompt_strategies/dpo/chat_template.py`) read them.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import polars as pl
import pytest
import pyarrow.parquet as pq
import yaml

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.dataset_writer import write_layout
from dsforge.pipelines.stages.chat_format import ChatFormat
from dsforge.pipelines.stages.publish import Save
from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.stage import ConfigError, StageContext

# LLaMA-Factory 0.9.5 data/parser.py: the keys DatasetAttr.join reads, and its file types (extras/constants.py)
LF_KEYS = {"file_name", "formatting", "ranking", "subset", "split", "folder", "num_samples", "columns", "tags"}
LF_COLUMNS = {"prompt", "query", "response", "history", "messages", "system", "tools", "images", "videos", "audios",
              "chosen", "rejected", "kto_tag"}
LF_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"}
LF_FILE_TYPES = {"arrow", "csv", "json", "jsonl", "parquet", "txt"}
# axolotl 0.19 utils/schemas/datasets.py: SFTDataset / DPODataset fields used here
AX_SFT = {"path", "split", "type", "data_files", "field_messages", "message_property_mappings", "chat_template", "roles"}
AX_DPO = {"path", "split", "type", "data_files", "revision", "field_messages", "field_chosen", "field_rejected"}


@pytest.fixture(scope="module")
def alpaca():
    return read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=30)).kept


def _ctx(tmp_path):
    return StageContext(work_dir=tmp_path, base_dir=tmp_path)


def test_parquet_parts_write_the_same_dataset_as_one_table(alpaca, tmp_path):
    df = ChatFormat({"loss_mask": True}).process(alpaca, _ctx(tmp_path)).kept
    df = df.with_columns(pl.Series("split", ["train"] * 20 + ["test"] * 10))
    parts = []
    for k, start in enumerate((0, 7, 19)):  # the runner's stages/NN-step/kept/part-*.parquet
        part = df.slice(start, {0: 7, 7: 12, 19: 11}[start])
        if k == 1:
            part = part.with_columns(pl.lit(None, pl.String).alias("format_issues"))  # all-null in one part
        parts.append(tmp_path / f"part-{k:05d}.parquet")
        part.write_parquet(parts[-1])
    one = write_layout(df, tmp_path / "one", shard_rows=8, metadata={"tokenizer": "t"})
    many = write_layout(parts, tmp_path / "many", shard_rows=8, metadata={"tokenizer": "t"})
    assert one.splits == many.splits == {"train": 20, "test": 10} and one.columns == many.columns
    assert many.files["train"] == [f"data/train/train-{k:05d}-of-00003.parquet" for k in range(3)]
    a, b = datasets.load_from_disk(str(tmp_path / "one" / "hf")), datasets.load_from_disk(str(tmp_path / "many" / "hf"))
    assert list(a) == list(b) == ["train", "test"]
    assert a["train"].to_list() == b["train"].to_list() and a["test"]["id"] == b["test"]["id"]
    meta = json.loads(pq.read_schema(tmp_path / "many" / many.files["test"][0]).metadata[b"dsforge"])
    assert meta == {"layout": "sft", "tokenizer": "t"}
    assert json.loads(b["train"].info.description)["dsforge"]["tokenizer"] == "t"
    assert not (tmp_path / "many" / "columns.json").exists()
    # the save stage streams the runner's parts the same way (process_parts), and from a table (process)
    ctx = _ctx(tmp_path)
    streamed = Save({"output_dir": "s1", "drop_columns": ["n_tokens"]}).process_parts(parts, ctx)
    whole = Save({"output_dir": "s2", "drop_columns": ["n_tokens"]}).process(df, ctx).stats
    assert streamed == {**whole, "output": str(tmp_path / "s1")} and "n_tokens" not in streamed["columns"]
    assert streamed["tokenizer"] == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_kto_rows_from_pairs_and_scored_rows(tmp_path):
    df = records.from_rows([
        {"id": "p0", "source": "s", "kind": "preference", "instruction": "Name a colour.", "chosen_response": "Blue.", "rejected_response": "Dog."},
        {"id": "s0", "source": "s", "kind": "scored", "instruction": "Hi", "response": "Hello", "score": 0.9},
        {"id": "s1", "source": "s", "kind": "scored", "instruction": "Hi", "response": "Go away", "score": 0.1}])
    kept = ChatFormat({"layout": "kto"}).process(df, _ctx(tmp_path)).kept
    with pytest.raises(ConfigError, match="kto_threshold"):
        write_layout(kept, tmp_path / "x", layout="kto")
    w = write_layout(kept, tmp_path / "k", kto_threshold=0.5)
    rows = datasets.load_from_disk(str(tmp_path / "k" / "hf"))["train"].to_list()
    got = sorted((r["id"], r["completion"][0]["content"], r["label"]) for r in rows)
    assert got == [("p0", "Blue.", True), ("p0", "Dog.", False), ("s0", "Hello", True), ("s1", "Go away", False)]
    assert w.columns[:3] == ["prompt", "completion", "label"] and rows[0]["prompt"][0]["role"] == "user"


def _check_llamafactory(folder: Path, name: str, ranking: bool):
    info = json.loads((folder / "dataset_info.json").read_text())
    assert name in info
    for entry in info.values():
        assert set(entry) <= LF_KEYS and set(entry["columns"]) <= LF_COLUMNS and set(entry["tags"]) <= LF_TAGS
        assert entry["formatting"] == "sharegpt" and bool(entry.get("ranking")) is ranking
        local = folder / entry["file_name"]  # loader.py: a folder is read whole and must hold one file type
        files = sorted(local.iterdir()) if local.is_dir() else [local]
        assert {f.suffix[1:] for f in files} <= LF_FILE_TYPES and len({f.suffix for f in files}) == 1
        ds = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split=entry["split"])
        cols, tags = entry["columns"], entry["tags"]
        for ex in ds:  # SharegptDatasetConverter: roles alternate user/assistant after an optional system turn
            msgs = ex[cols["messages"]]
            if msgs and msgs[0][tags["role_tag"]] == tags["system_tag"]:
                msgs = msgs[1:]
            for i, m in enumerate(msgs):
                assert m[tags["role_tag"]] == (tags["user_tag"] if i % 2 == 0 else tags["assistant_tag"])
                assert isinstance(m[tags["content_tag"]], str)
            if ranking:  # odd count, and chosen/rejected each ONE message dict from the assistant
                assert len(msgs) % 2 == 1
                for side in ("chosen", "rejected"):
                    turn = ex[cols[side]]
                    assert isinstance(turn, dict) and turn[tags["role_tag"]] == tags["assistant_tag"]
            else:
                assert len(msgs) % 2 == 0 and msgs


def _check_axolotl(folder: Path, fields: set[str], rl: str | None):
    cfg = yaml.safe_load((folder / "trainers" / "axolotl.yaml").read_text())
    assert cfg.get("rl") == rl and cfg["chat_template"] == "tokenizer_default"
    written = sorted((folder / "data" / "train").glob("*.parquet"))
    # axolotl 0.19 utils/data/shared.py: a `path` that exists locally as a file is load_dataset("parquet",
    # data_files=path); anything else is a Hub repo (so no `path: parquet` + data_files): one entry per file
    assert [Path(d["path"]) for d in cfg["datasets"]] == [p.resolve() for p in written]
    for d in cfg["datasets"]:
        assert set(d) <= fields and Path(d["path"]).is_absolute() and "data_files" not in d
        ds = datasets.load_dataset("parquet", data_files=d["path"], split=d["split"])
        for ex in ds:
            msgs = ex[d["field_messages"]]
            assert isinstance(msgs, list) and all({"role", "content"} <= set(m) for m in msgs)
            if rl:  # dpo/chat_template.default takes the last message of a chosen/rejected list
                assert ex[d["field_chosen"]][-1]["role"] == "assistant" and ex[d["field_rejected"]][-1]["role"] == "assistant"


def test_sft_configs_for_llamafactory_axolotl_and_trl(alpaca, tmp_path):
    df = ChatFormat({}).process(alpaca, _ctx(tmp_path)).kept.with_columns(
        pl.Series("split", ["train"] * 25 + ["test"] * 5))
    res = Save({"output_dir": "sft", "shard_rows": 10}).process(df, _ctx(tmp_path))
    folder = tmp_path / "sft"
    assert res.stats["files"]["train"][0].startswith("data/train/") and len(res.stats["files"]["train"]) == 3
    _check_llamafactory(folder, "dataset", ranking=False)
    assert set(json.loads((folder / "dataset_info.json").read_text())) == {"dataset", "dataset_test"}
    _check_axolotl(folder, AX_SFT, rl=None)
    trl = yaml.safe_load((folder / "trainers" / "trl.yaml").read_text())
    assert trl["assistant_only_loss"] is True and Path(trl["chat_template_path"]).read_text().count("{% generation %}") == 1


def test_dpo_configs_for_llamafactory_and_axolotl(tmp_path):
    rows = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=6)).kept.to_dicts()
    pairs = records.from_rows([{"id": f"p{i}", "source": "a", "kind": "preference", "instruction": r["instruction"],
                                "chosen_response": r["response"], "rejected_response": rows[i - 1]["response"]} for i, r in enumerate(rows)])
    kept = ChatFormat({"layout": "dpo", "system_prompt": "Be brief."}).process(pairs, _ctx(tmp_path)).kept
    Save({"output_dir": "dpo"}).process(kept, _ctx(tmp_path))
    _check_llamafactory(tmp_path / "dpo", "dataset", ranking=True)
    _check_axolotl(tmp_path / "dpo", AX_DPO, rl="dpo")
    notes = (tmp_path / "dpo" / "trainers" / "README.md").read_text()
    assert "trl dpo --config trainers/trl.yaml" in notes


def test_reward_pairs_for_axolotl_bradley_terry_and_llamafactory(tmp_path):
    df = records.from_rows([
        {"id": "p", "source": "s", "kind": "preference", "instruction": "Name a colour.", "chosen_response": "Blue.",
         "rejected_response": "Dog."},
        {"id": "q", "source": "s", "kind": "preference", "instruction": "2+2?", "chosen_response": "4", "rejected_response": "5"}])
    kept = ChatFormat({"layout": "reward", "system_prompt": "Be brief."}).process(df, _ctx(tmp_path)).kept
    Save({"output_dir": "r"}).process(kept, _ctx(tmp_path))
    cfg = yaml.safe_load((tmp_path / "r" / "trainers" / "axolotl.yaml").read_text())
    (entry,) = cfg["datasets"]
    assert entry["type"] == "bradley_terry.chat_template" and set(entry) <= AX_SFT
    assert Path(entry["path"]).parent == (tmp_path / "r" / "axolotl-reward" / "data" / "train").resolve()
    rows = datasets.load_dataset("parquet", data_files=entry["path"], split="train").to_list()
    # bradley_terry/chat_template.py reads prompt["system"], ["input"], ["chosen"], ["rejected"] as strings
    assert [(r["system"], r["input"], r["chosen"], r["rejected"]) for r in rows] == [
        ("Be brief.", "Name a colour.", "Blue.", "Dog."), ("Be brief.", "2+2?", "4", "5")]
    _check_llamafactory(tmp_path / "r", "dataset", ranking=True)
    # the TRL export itself is untouched: message lists
    assert datasets.load_from_disk(str(tmp_path / "r" / "hf"))["train"][0]["chosen"] == [
        {"role": "assistant", "content": "Blue."}]


def test_scored_rows_say_which_tools_have_no_loader(tmp_path):
    df = records.from_rows([{"id": "s", "source": "s", "kind": "scored", "instruction": "q", "response": "a",
                             "score": 1.0}])
    Save({"output_dir": "k"}).process(ChatFormat({"layout": "kto"}).process(df, _ctx(tmp_path)).kept
                                      .with_columns(label=pl.lit(True)), _ctx(tmp_path))
    notes = (tmp_path / "k" / "trainers" / "README.md").read_text()
    assert "axolotl: no config" in notes and "LLaMA-Factory: no dataset_info.json" in notes
    assert not (tmp_path / "k" / "dataset_info.json").exists()
