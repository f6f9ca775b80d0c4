"""End to end: what `dsforge run` writes trains unchanged with TRL 1.16 (SFT, DPO, reward, KTO) on the
embedded SmolLM2-135M, on CPU, for two steps each; the emitted TRL config is what builds each trainer.

A layout regression fails here: a DPO file without a prompt, text ending with two end tokens, masks that
differ from TRL's own `assistant_only_loss` masks with the shipped generation-marked template, a reward
file RewardTrainer cannot read. Rows are real Alpaca rows (shipped data); preference pairs pair each real
answer (chosen) with another row's real answer (rejected).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import datasets
import polars as pl
import pytest
import yaml

from dsforge.pipelines.llm.embedded import smollm2_model_dir
from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import run_recipe

trl = pytest.importorskip("trl", reason="the `train` extra (trl) is installed by scripts/install.sh")
pytestmark = pytest.mark.slow
N = 6


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    rows = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=N)).kept.to_dicts()
    sft = [{"instruction": r["instruction"], "input": r["input"] or "", "output": r["response"][:300]} for r in rows]
    pairs = [{"prompt": r["instruction"], "chosen": r["response"][:300], "rejected": rows[(i + 1) % N]["response"][:300]}
             for i, r in enumerate(rows)]
    scored = [{"prompt": p["prompt"], "response": p[side], "score": float(side == "chosen")}
              for p in pairs for side in ("chosen", "rejected")]
    for name, data in (("sft", sft), ("pairs", pairs), ("scored", scored)):
        (root / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data))
    return root


def _run(root: Path, name: str, inp: str, mapping: str, stages: list[dict]) -> Path:
    recipe = build_recipe({"name": name, "inputs": [{"path": str(root / inp), "mapping": mapping}], "stages": stages})
    summary = run_recipe(recipe, root / "runs", progress=False)
    assert summary["status"] == "ok", summary.get("error")
    return Path(summary["run_dir"])


def _trl(dataset_dir: Path, config_cls, tmp_path: Path, **over):
    """The dataset and config as the emitted trainers/trl.yaml says (plus tiny CPU settings)."""
    cfg = yaml.safe_load((dataset_dir / "trainers" / "trl.yaml").read_text())
    assert Path(cfg.pop("dataset_name")).resolve() == dataset_dir.resolve()
    assert cfg.pop("model_name_or_path") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    ds = datasets.load_dataset(str(dataset_dir))["train"]
    args = config_cls(output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=2, use_cpu=True,
                      report_to="none", save_strategy="no", logging_steps=1, learning_rate=1e-5,
                      dataloader_num_workers=0, gradient_checkpointing=False, **{**cfg, **over})
    return ds, args


def _losses(trainer) -> list[float]:
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses), trainer.state.log_history
    return losses


@pytest.fixture(scope="module")
def model_dir():
    return str(smollm2_model_dir())


@pytest.fixture(scope="module")
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


def test_sft_trains_and_trl_masks_equal_dsforge_masks(inputs, model_dir, tokenizer, tmp_path):
    run = _run(inputs, "e2e-sft", "sft.jsonl", "alpaca", [
        {"stage": "chat-format", "template": "smollm2", "loss_mask": True},
        {"stage": "save", "id": "save-text", "prefer": "text"},
        {"stage": "save"}])
    data = (run / "dataset").resolve()
    ds, args = _trl(data, trl.SFTConfig, tmp_path, max_length=256)
    assert args.assistant_only_loss and Path(args.chat_template_path).read_text().count("{% generation %}") == 1
    meta = json.loads(datasets.load_from_disk(str(data / "hf"))["train"].info.description)["dsforge"]
    assert meta["tokenizer"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and len(meta["tokenizer_sha256"]) == 16
    trainer = trl.SFTTrainer(model=model_dir, args=args, train_dataset=ds, processing_class=tokenizer)
    _losses(trainer)
    # TRL tokenizing the messages itself, with the shipped generation-marked template, trains on exactly the
    # tokens dsforge's masks select; its own rendering keeps the "\n" after the final <|im_end|>, which dsforge's
    # pre-tokenized rows end before (one eos at the end), and trains it as part of the turn's end marker.
    raw = ds.remove_columns(["input_ids", "assistant_masks"])
    trl_side = trl.SFTTrainer(model=trainer.model, args=args, train_dataset=raw, processing_class=tokenizer).train_dataset
    for ours, theirs in zip(trainer.train_dataset, trl_side):
        n = len(ours["input_ids"])
        assert theirs["input_ids"][:n] == ours["input_ids"] and len(theirs["input_ids"]) == n + 1
        assert theirs["labels"][:n] == ours["labels"] and tokenizer.decode([theirs["labels"][n]]) == "\n"
        assert ours["labels"][-1] == tokenizer.eos_token_id and sum(x != -100 for x in ours["labels"]) > 1
    # Text output: TRL appends eos unless the text ends with it, so the written text must end at one eos.
    text_dir = next(run.glob("stages/*-save-text")) / "dataset"
    text = datasets.load_dataset(str(text_dir))["train"]
    assert text.column_names[0] == "text" and all(t.endswith("<|im_end|>") for t in text["text"])
    tok_text = trl.SFTTrainer(model=trainer.model, processing_class=tokenizer, train_dataset=text,
                              args=trl.SFTConfig(output_dir=str(tmp_path / "t"), use_cpu=True, report_to="none",
                                                 max_length=256)).train_dataset
    eos = tokenizer.eos_token_id
    for row in tok_text:
        ids = row["input_ids"]
        assert ids[-1] == eos and ids[-2] != eos and tokenizer.decode(ids[-3:]) != "<|im_end|>\n<|im_end|>"


def test_dpo_from_save_has_a_prompt_and_trains(inputs, model_dir, tokenizer, tmp_path):
    run = _run(inputs, "e2e-dpo", "pairs.jsonl", "preference", [
        {"stage": "chat-format", "template": "smollm2", "layout": "dpo"}, {"stage": "save"}])
    data = (run / "dataset").resolve()
    ds, args = _trl(data, trl.DPOConfig, tmp_path, max_length=256)
    assert ds[0]["prompt"][-1]["role"] == "user" and ds[0]["chosen"][0]["role"] == "assistant"
    assert isinstance(datasets.load_from_disk(str(data / "hf")), datasets.DatasetDict)
    trainer = trl.DPOTrainer(model=model_dir, args=args, train_dataset=ds, processing_class=tokenizer)
    row = trainer.train_dataset[0]
    assert tokenizer.decode(row["prompt_ids"]).endswith("<|im_start|>assistant\n")  # a real prompt, not ""
    assert ds[0]["prompt"][-1]["content"][:40] in tokenizer.decode(row["prompt_ids"])
    _losses(trainer)


def test_reward_from_publish_trains(inputs, model_dir, tokenizer, tmp_path):
    from transformers import AutoModelForSequenceClassification

    run = _run(inputs, "e2e-reward", "pairs.jsonl", "preference", [
        {"stage": "chat-format", "template": "smollm2", "layout": "reward"},
        {"stage": "publish", "licenses": {"pairs": "CC0-1.0"}}])
    data = (run / "dataset").resolve()
    card = (data / "README.md").read_text()
    assert "pretty_name: e2e-reward" in card and "data/train/train-00000-of-00001.parquet" in card
    ds, args = _trl(data, trl.RewardConfig, tmp_path, max_length=256)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    _losses(trl.RewardTrainer(model=model, args=args, train_dataset=ds, processing_class=tokenizer))


def test_kto_from_scored_rows_trains(inputs, model_dir, tokenizer, tmp_path):
    run = _run(inputs, "e2e-kto", "scored.jsonl", "scored", [
        {"stage": "chat-format", "template": "smollm2", "layout": "kto"}, {"stage": "save", "kto_threshold": 0.5}])
    data = (run / "dataset").resolve()
    ds, args = _trl(data, trl.KTOConfig, tmp_path, max_length=256)
    assert ds.column_names[:3] == ["prompt", "completion", "label"] and sorted(set(ds["label"])) == [False, True]
    assert pl.read_parquet(data / "data" / "train" / "train-00000-of-00001.parquet")["label"].sum() == N
    _losses(trl.KTOTrainer(model=model_dir, args=args, train_dataset=ds, processing_class=tokenizer))
