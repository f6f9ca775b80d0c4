"""Trainer configs written beside the data, so what dsforge writes trains unchanged:

    trainers/trl.yaml        TRL: `trl sft|dpo|reward|kto --config trainers/trl.yaml` (dataset_name is the
                             dataset folder; the rest are the trainer's config fields)
    trainers/axolotl.yaml    axolotl: the `datasets:` entries (+ `rl:` for preference data) to paste into
                             an axolotl config
    dataset_info.json        LLaMA-Factory: one entry per split (`dataset_dir` = the dataset folder)
    chat_template.jinja      the generation-marked copy of the built-in template chat-format used, so
                             TRL's `assistant_only_loss=True` works and masks the tokens dsforge's own
                             masks do (loss_masks.py explains the convention)

axolotl's reward loader (`bradley_terry.chat_template`) wants system/input/chosen/rejected *strings*, so a
reward export also gets `axolotl-reward/` (layout `reward-strings`) for it. Only what a tool reads is
written: no axolotl KTO entry, no LLaMA-Factory KTO entry (it wants the reply inside `messages`) nor one for
reward data holding scored rows;
`trainers/README.md` says so when it applies.

Not here: the data itself (dataset_writer.py), running any trainer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from dsforge.pipelines.stages.loss_masks import generation_template

TRL_COMMAND = {"sft": "sft", "completion": "sft", "dpo": "dpo", "orpo": "dpo", "reward": "reward", "kto": "kto"}
LF_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
           "system_tag": "system", "observation_tag": "tool"}


def trl_config(layout: str, columns: list[str], template_path: str | None, model: str | None,
               dataset: str) -> dict[str, Any]:
    """The TRL CLI config (also the keyword arguments of the matching *Config class, minus dataset_name)."""
    cfg: dict[str, Any] = {"model_name_or_path": model or "HuggingFaceTB/SmolLM2-135M-Instruct",
                           "dataset_name": dataset}
    if layout == "sft" and "messages" in columns and template_path:
        # dsforge's masks as TRL computes them: the generation-marked copy of the template chat-format used
        cfg.update(assistant_only_loss=True, chat_template_path=template_path)
    if layout == "sft" and "messages" not in columns and "text" in columns:
        cfg["dataset_text_field"] = "text"
    if layout == "completion":
        cfg["completion_only_loss"] = True
    return cfg


def axolotl_sources(files: list[str], root: Path, repo_id: str | None) -> list[dict[str, Any]]:
    """Where axolotl reads the Parquet files from. Its loader (utils/data/shared.py, 0.19) takes a `path` that
    exists locally as a file (load_dataset("parquet", data_files=path) by the extension) and anything else
    as a Hub repo, so `path: parquet` + data_files meant a repo named "parquet": one entry per local file
    (absolute, like TRL's dataset_name), or the repo with its data_files once pushed."""
    if repo_id:
        return [{"path": repo_id, "data_files": files, "split": "train"}]
    return [{"path": str((root / f).resolve()), "split": "train"} for f in files]


def axolotl_config(layout: str, columns: list[str], files: dict[str, list[str]],
                   reward_files: dict[str, list[str]] | None = None, *, root: Path = Path("."),
                   repo_id: str | None = None) -> dict[str, Any] | None:
    """axolotl `datasets:` entries (see axolotl_sources), or None when axolotl cannot read the layout."""
    train = files.get("train") or []
    if layout == "reward" and reward_files and reward_files.get("train"):
        return {"reward_model": True, "chat_template": "tokenizer_default", "datasets": [
            {**src, "type": "bradley_terry.chat_template"} for src in axolotl_sources(reward_files["train"], root, repo_id)]}
    if layout == "sft" and "messages" in columns:
        return {"chat_template": "tokenizer_default",
                "datasets": [{**src, "type": "chat_template", "field_messages": "messages",
                              "message_property_mappings": {"role": "role", "content": "content"}}
                             for src in axolotl_sources(train, root, repo_id)]}
    if layout in ("dpo", "orpo") and {"prompt", "chosen", "rejected"} <= set(columns):
        return {"rl": "orpo" if layout == "orpo" else "dpo", "chat_template": "tokenizer_default",
                "datasets": [{**src, "type": "chat_template.default", "field_messages": "prompt",
                              "field_chosen": "chosen", "field_rejected": "rejected"}
                             for src in axolotl_sources(train, root, repo_id)]}
    return None


def llamafactory_info(name: str, layout: str, columns: list[str], files: dict[str, list[str]]) -> dict[str, Any] | None:
    """LLaMA-Factory dataset_info.json entries: one per split, each a folder of Parquet files."""
    if layout == "sft" and "messages" in columns:
        entry = {"formatting": "sharegpt", "columns": {"messages": "messages"}, "tags": LF_TAGS}
    elif layout in ("dpo", "orpo", "reward") and {"chosen_turn", "rejected_turn"} <= set(columns) \
            and "score" not in columns:  # LLaMA-Factory's reward-model stage reads the same ranking format
        entry = {"formatting": "sharegpt", "ranking": True,
                 "columns": {"messages": "prompt", "chosen": "chosen_turn", "rejected": "rejected_turn"},
                 "tags": LF_TAGS}
    else:
        return None
    out = {}
    for split, names in files.items():
        if names:  # LLaMA-Factory loads every file in the folder; data_files given as a list become "train"
            out[name if split == "train" else f"{name}_{split}"] = {
                "file_name": str(Path(names[0]).parent), "split": "train", **entry}
    return out


def write_trainer_configs(folder: Path, *, name: str, layout: str, columns: list[str],
                          files: dict[str, list[str]], template: str | None, model: str | None,
                          repo_id: str | None = None, axolotl_reward_files: dict[str, list[str]] | None = None) -> list[str]:
    """Write the configs above into `folder` (the dataset folder); returns the files written. TRL's
    dataset_name is the Hub repo when there is one, else this folder's absolute path."""
    written: list[str] = []
    if layout not in TRL_COMMAND or not files:
        return written
    template_path = None
    if template:
        try:
            shutil.copy(generation_template(template), folder / "chat_template.jinja")
            template_path = "chat_template.jinja" if repo_id else str((folder / "chat_template.jinja").resolve())
            written.append("chat_template.jinja")
        except KeyError:
            pass  # a .jinja file or tokenizer folder: no generation-marked copy to ship
    (folder / "trainers").mkdir(exist_ok=True)
    notes = [f"# Trainer configs for this dataset (layout: {layout})", ""]
    trl = trl_config(layout, columns, template_path, model, repo_id or str(folder.resolve()))
    (folder / "trainers" / "trl.yaml").write_text(
        f"# trl {TRL_COMMAND[layout]} --config trainers/trl.yaml --output_dir out\n" + yaml.safe_dump(trl, sort_keys=False))
    written.append("trainers/trl.yaml")
    notes.append(f"- TRL: `trl {TRL_COMMAND[layout]} --config trainers/trl.yaml --output_dir out`.")
    ax = axolotl_config(layout, columns, files, axolotl_reward_files, root=folder, repo_id=repo_id)
    if ax:
        (folder / "trainers" / "axolotl.yaml").write_text(
            "# merge into your axolotl config; `path` is each local Parquet file (absolute) or the Hub repo\n"
            + yaml.safe_dump(ax, sort_keys=False))
        written.append("trainers/axolotl.yaml")
        notes.append("- axolotl: merge `axolotl.yaml` into your axolotl config.")
    else:
        notes.append(f"- axolotl: no config; axolotl has no loader for dsforge's {layout!r} layout.")
    lf = llamafactory_info(name, layout, columns, files)
    if lf:
        (folder / "dataset_info.json").write_text(json.dumps(lf, indent=2) + "\n")
        written.append("dataset_info.json")
        notes.append(f"- LLaMA-Factory: `dataset_dir: <this dataset folder>`, `dataset: {', '.join(lf)}`.")
    else:
        notes.append(f"- LLaMA-Factory: no dataset_info.json; it has no format for dsforge's {layout!r} layout.")
    (folder / "trainers" / "README.md").write_text("\n".join(notes) + "\n")
    written.append("trainers/README.md")
    return written
