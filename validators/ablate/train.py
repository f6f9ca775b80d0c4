"""Train one small model on one variant for a fixed token budget with TRL, and evaluate it on held-out rows.

What is trained on is exactly what dsforge writes: each row rendered with the chat template and its loss
mask (chat_template.ChatTemplate.loss_mask, the masks chat-format writes; a step that already holds
`input_ids` and `assistant_masks` is used as written). Every variant sees the same number of tokens: its rows
in a seeded order, cycled if the variant is small, the last sequence cut so the total is exactly the budget.
The eval loss is the mean next-token loss on the assistant tokens of the held-out rows only (the same masks).

Not here: which rows a variant holds (variants.py), the table and curve (results.py).
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.chat_template import ChatTemplate, RowError
from dsforge.pipelines.llm.embedded import smollm2_model_dir

IGNORE = -100


@dataclass(frozen=True)
class TrainSettings:
    budget_tokens: int
    rows_per_step: int
    max_length: int
    learning_rate: float
    device: str


@dataclass
class Encoded:
    """Token ids and labels (IGNORE where the loss is not computed) of the rows that could be encoded."""

    input_ids: list[list[int]]
    labels: list[list[int]]
    skipped: int = 0

    @property
    def trained_tokens(self) -> int:
        return sum(sum(1 for x in lab if x != IGNORE) for lab in self.labels)


def model_folder(spec: str) -> Path:
    """'smollm2' (the embedded SmolLM2-135M, de-quantised from its GGUF) or a local model folder."""
    if spec in ("smollm2", "HuggingFaceTB/SmolLM2-135M-Instruct"):
        return smollm2_model_dir()
    path = Path(spec).expanduser()
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"model {spec!r}: give 'smollm2' or a local folder with config.json "
                                "(dsforge never downloads models)")
    return path


def encode(df: pl.DataFrame, template: ChatTemplate, max_length: int) -> Encoded:
    """Each row's ids and labels: the written `input_ids`/`assistant_masks` if the step has them, else rendered."""
    ids_out: list[list[int]] = []
    labels_out: list[list[int]] = []
    skipped = 0
    written = "input_ids" in df.columns and "assistant_masks" in df.columns
    for row in df.iter_rows(named=True):
        if written and row["input_ids"]:
            ids, mask = list(row["input_ids"]), list(row["assistant_masks"])
        else:
            try:
                _, ids, mask, _ = template.loss_mask(records.to_messages(row), trim_eos=True)
            except (RowError, records.RecordError, jinja2.TemplateError, ValueError):  # no conversation to train on
                skipped += 1
                continue
        ids, mask = ids[:max_length], mask[:max_length]
        if not any(mask):
            skipped += 1
            continue
        ids_out.append(ids)
        labels_out.append([t if m else IGNORE for t, m in zip(ids, mask)])
    return Encoded(ids_out, labels_out, skipped)


def budget_stream(enc: Encoded, budget: int, seed: int) -> Encoded:
    """The variant's sequences in a seeded order, cycled until exactly `budget` tokens (the last one cut)."""
    if not enc.input_ids:
        raise ValueError("no row of this variant could be rendered with the chat template")
    order = list(range(len(enc.input_ids)))
    rng = random.Random(seed)
    ids: list[list[int]] = []
    labels: list[list[int]] = []
    total = 0
    while total < budget:
        rng.shuffle(order)
        for i in order:
            take = min(len(enc.input_ids[i]), budget - total)
            ids.append(enc.input_ids[i][:take])
            labels.append(enc.labels[i][:take])
            total += take
            if total >= budget:
                break
    return Encoded(ids, labels)


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def train_variant(model_dir: Path, stream: Encoded, settings: TrainSettings, seed: int, out_dir: Path) -> tuple[Any, dict]:
    """Fine-tune a fresh copy of the model on the stream, one pass, with TRL's SFTTrainer; (model, figures)."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local folders only, and no telemetry thread calling out
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import datasets
    import transformers
    import trl
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    transformers.set_seed(seed)
    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), local_files_only=True)
    ds = datasets.Dataset.from_dict({"input_ids": stream.input_ids, "labels": stream.labels})
    device = pick_device(settings.device)
    args = trl.SFTConfig(
        output_dir=str(out_dir), num_train_epochs=1, per_device_train_batch_size=settings.rows_per_step,
        learning_rate=settings.learning_rate, lr_scheduler_type="constant", warmup_steps=0, seed=seed, data_seed=seed,
        use_cpu=device == "cpu", report_to="none", save_strategy="no", logging_steps=1, disable_tqdm=True,
        log_level="error",
        dataloader_num_workers=0, gradient_checkpointing=False, max_length=settings.max_length,
        packing=False, remove_unused_columns=False,
        # TRL's default is bf16; a CPU without bf16 instructions emulates it: 150 s per step of 4 x 192 tokens of
        # SmolLM2-135M here instead of 14 s in fp32 (bench/RESULTS-ablate.md)
        **({"bf16": False} if device == "cpu" else {}))
    trainer = trl.SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # no loss dicts on stdout
    start = time.perf_counter()
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    tail = losses[-max(1, len(losses) // 5):]
    figures = {"train_loss": sum(tail) / len(tail) if tail else math.nan, "steps": trainer.state.global_step,
               "train_seconds": time.perf_counter() - start, "device": device}
    return trainer.model, figures


def eval_loss(model: Any, enc: Encoded, device: str, batch: int = 8) -> float:
    """Mean next-token loss over the assistant tokens of the held-out rows (summed over rows, then divided)."""
    import torch

    device = pick_device(device)
    model.eval().to(device)
    total, count = 0.0, 0
    with torch.no_grad():
        for b in range(0, len(enc.input_ids), batch):
            ids, labels = enc.input_ids[b:b + batch], enc.labels[b:b + batch]
            width = max(len(x) for x in ids)
            pad = lambda seqs, v: torch.tensor([s + [v] * (width - len(s)) for s in seqs], device=device)  # noqa: E731
            input_ids, lab = pad(ids, 0), pad(labels, IGNORE)
            attn = pad([[1] * len(s) for s in ids], 0)
            logits = model(input_ids=input_ids, attention_mask=attn).logits[:, :-1].float()
            target = lab[:, 1:]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1),
                                                     ignore_index=IGNORE, reduction="sum")
            total += float(loss)
            count += int((target != IGNORE).sum())
    return total / max(count, 1)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


def exact_match(model: Any, tokenizer_dir: Path, template: ChatTemplate, eval_rows: pl.DataFrame, device: str,
                max_new_tokens: int = 64) -> float:
    """Share of held-out rows whose greedy answer equals the reference (case, spacing and punctuation aside)."""
    import torch
    from transformers import AutoTokenizer

    device = pick_device(device)
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
    hits = n = 0
    model.eval().to(device)
    for row in eval_rows.iter_rows(named=True):
        msgs = records.to_messages(row)
        if not msgs or msgs[-1]["role"] != "assistant":
            continue
        prompt = template.render(msgs[:-1], add_generation_prompt=True)
        ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]], device=device)
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id)
        answer = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        hits += _normal(answer) == _normal(msgs[-1]["content"])
        n += 1
    return hits / n if n else math.nan
