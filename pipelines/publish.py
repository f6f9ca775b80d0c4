"""publish: the training-ready dataset: HF `save_to_disk`, Parquet shards, a dataset card, and the Hub.

Columns follow the layout chat-format produced (or `layout:` here), named as trainers expect them:
    sft         messages (or text)                 + id, source
    dpo / orpo  prompt, chosen, rejected           (message lists, or rendered strings with prefer: text)
    reward      chosen, rejected (pairs) / messages + score (scored rows)
    completion  prompt, completion
A `split` column (from the split stage) becomes one table per split; Parquet goes to
`data/<split>-NNNNN-of-NNNNN.parquet` (the Hub's own layout, so its viewer and `load_dataset` just work),
`save_to_disk` to `hf/` (a DatasetDict), and README.md is the card (card.py).

`push_to_hub: user/name` uploads the folder with huggingface_hub (private by default; the token comes
from the environment variable `token_env`, never from the recipe; `HF_ENDPOINT` is honoured, which is
how tests talk to a fake hub on 127.0.0.1).

Not here: dataset scripts, gated-access settings, pushing to anything but a Hugging Face-compatible hub.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.card import find_run_dir, render_card
from dsforge.pipelines.stage import ConfigError, Stage, StageConfig, StageContext, StageResult

log = logging.getLogger("dsforge")

# layout -> slots; each slot lists (output name, source column) choices, message lists first
SLOTS: dict[str, list[list[tuple[str, str]]]] = {
    "sft": [[("messages", "messages"), ("text", "text")]],
    "dpo": [[("prompt", "prompt_messages"), ("prompt", "prompt_text")],
            [("chosen", "chosen_messages"), ("chosen", "chosen_text"), ("chosen", "chosen")],
            [("rejected", "rejected_messages"), ("rejected", "rejected_text"), ("rejected", "rejected")]],
    "completion": [[("prompt", "prompt_messages"), ("prompt", "prompt_text")],
                   [("completion", "completion_messages"), ("completion", "completion_text")]],
}
EXTRA = ("input_ids", "assistant_masks", "n_tokens", "score", "tools", "messages_json")


class PublishConfig(StageConfig):
    formats: list[Literal["hf", "parquet", "jsonl"]] = Field(["hf", "parquet"], description="hf (save_to_disk), parquet shards, jsonl")
    layout: Literal["auto", "sft", "dpo", "orpo", "reward", "completion", "records"] = Field(
        "auto", description="training columns to export (auto: the layout chat-format wrote; records: all columns)")
    prefer: Literal["messages", "text"] = Field("messages", description="message lists or rendered strings")
    keep: list[str] = Field(["id", "source"], description="extra columns kept for traceability")
    columns: dict[str, str] | None = Field(None, description="explicit export: output name -> column (overrides layout)")
    split_column: str = Field("split", description="column naming each row's split (absent: everything is train)")
    shard_rows: int = Field(100_000, ge=1, description="rows per Parquet shard")
    card: bool = Field(True, description="write README.md (the dataset card)")
    name: str | None = Field(None, description="pretty name for the card (default: the recipe name)")
    description: str | None = Field(None, description="card text (default: the recipe's description)")
    license: str | None = Field(None, description="card licence id (default: from the inputs' licences)")
    licenses: dict[str, str] = Field({}, description="licence per input source name or file name")
    tags: list[str] = []
    push_to_hub: str | None = Field(None, description="repo id (user/name) to upload to; nothing is uploaded without it")
    private: bool = Field(True, description="create the Hub repo as private")
    token_env: str = Field("HF_TOKEN", description="environment variable holding the Hub token")
    output_dir: str | None = Field(None, description="where to write (default: the step's dataset/ folder)")


def export_table(df: pl.DataFrame, cfg: PublishConfig) -> tuple[pl.DataFrame, str]:
    """The columns to publish and the layout used."""
    if cfg.columns:
        missing = [c for c in cfg.columns.values() if c not in df.columns]
        if missing:
            raise ConfigError(f"publish: columns {missing} are not in the table (have {', '.join(df.columns)})")
        return df.select([pl.col(src).alias(dst) for dst, src in cfg.columns.items()]), "custom"
    layout = cfg.layout
    if layout == "auto":
        found = df["layout"].drop_nulls().unique().to_list() if "layout" in df.columns else []
        layout = found[0] if len(found) == 1 else ("reward" if set(found) == {"reward"} else "records")
        if len(found) > 1:
            log.warning("publish: rows have several layouts %s; publishing every column", found)
    if layout == "records":
        return df.select([c for c in df.columns if df[c].null_count() < df.height or df.height == 0]), "records"
    base = "dpo" if layout in ("orpo", "reward") else layout
    exprs, used = [], set()

    def has(c: str) -> bool:
        return c in df.columns and df[c].null_count() < df.height

    for slot in SLOTS[base]:
        choices = [x for x in slot if not x[1].endswith("_messages") and x[1] != "messages"] + \
                  [x for x in slot if x[1].endswith("_messages") or x[1] == "messages"] if cfg.prefer == "text" else slot
        pick = next(((dst, src) for dst, src in choices if has(src)), None)
        if pick is None and layout == "reward":
            continue
        if pick is None:
            raise ConfigError(f"publish: layout {layout!r} needs a {slot[0][0]!r} column ({' or '.join(s for _, s in slot)}); "
                              f"run chat-format with layout: {layout} first, or set layout: records")
        exprs.append(pl.col(pick[1]).alias(pick[0]))
        used.add(pick[1])
    if layout == "reward" and has("score"):
        col = "messages" if cfg.prefer == "messages" and has("messages") else "text"
        if has(col) and col not in used:
            exprs.append(pl.col(col))
            used.add(col)
    extra = [pl.col(c) for c in (*cfg.keep, *EXTRA) if c in df.columns and c not in used
             and df[c].null_count() < df.height and c not in {e.meta.output_name() for e in exprs}]
    return df.select(*exprs, *extra), layout


def write_splits(tables: dict[str, pl.DataFrame], out_dir: Path, formats: list[str], shard_rows: int) -> dict[str, list[str]]:
    """Write each split's Parquet shards / JSONL / DatasetDict under out_dir; returns files per split."""
    files: dict[str, list[str]] = {}
    if "parquet" in formats:
        (out_dir / "data").mkdir(parents=True, exist_ok=True)
        for split, t in tables.items():
            n = max(1, math.ceil(t.height / shard_rows))
            files[split] = []
            for k in range(n):
                name = f"data/{split}-{k:05d}-of-{n:05d}.parquet"
                t.slice(k * shard_rows, shard_rows).write_parquet(out_dir / name)
                files[split].append(name)
    if "jsonl" in formats:
        for split, t in tables.items():
            t.write_ndjson(out_dir / f"{split}.jsonl")
            files.setdefault(split, []).append(f"{split}.jsonl")
    if "hf" in formats:
        import datasets

        dd = datasets.DatasetDict({s: datasets.Dataset(t.to_arrow()) for s, t in tables.items()})
        dd.save_to_disk(str(out_dir / "hf"))
    return files


def push_folder(folder: Path, repo_id: str, private: bool, token_env: str) -> str:
    """Create the dataset repo (private by default) and upload the folder; returns the commit URL."""
    from huggingface_hub import HfApi, constants

    if constants.is_offline_mode():
        raise ConfigError("publish: push_to_hub with HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set; unset it for this "
                          "run (the data was written locally; nothing was uploaded)")
    token = os.environ.get(token_env)
    if not token:
        raise ConfigError(f"publish: push_to_hub needs a Hub token in the environment variable {token_env} "
                          f"(export {token_env}=hf_...); nothing was uploaded")
    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder),
                             commit_message="Upload dataset built with dsforge", ignore_patterns=["hf/**"])
    return str(getattr(info, "commit_url", info))


class Publish(Stage):
    """Write the dataset (save_to_disk, Parquet shards, card) and optionally push it to the Hugging Face Hub."""

    name = "publish"
    changes_rows = False  # the runner links the input parts instead of rewriting them
    Config = PublishConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: PublishConfig = self.config
        out_dir = Path(cfg.output_dir) if cfg.output_dir else Path(ctx.extras.get("output_dir", ctx.work_dir / "dataset"))
        if cfg.output_dir and not out_dir.is_absolute():
            out_dir = ctx.base_dir / out_dir
        table, layout = export_table(df, cfg)
        if cfg.split_column in df.columns:
            split_values = df[cfg.split_column].fill_null("train")
            order = [s for s in ("train", "validation", "test") if s in split_values.unique().to_list()]
            order += sorted(set(split_values.unique().to_list()) - set(order))
            tables = {s: table.filter(split_values == s) for s in order}
        else:
            tables = {"train": table}
        tmp = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        files = write_splits(tables, tmp, cfg.formats, cfg.shard_rows)
        run_dir = find_run_dir(ctx.work_dir)
        figures = self._copy_figures(run_dir, tmp)
        recipe_name = run_dir.name.rsplit("-", 2)[0] if run_dir else "dataset"
        if cfg.card:
            card = render_card(df, name=cfg.name or recipe_name, splits={s: t.height for s, t in tables.items()},
                               files=files, run_dir=run_dir, licenses=cfg.licenses, license=cfg.license,
                               description=cfg.description, tags=cfg.tags, layout=layout, columns=table.columns,
                               repo_id=cfg.push_to_hub, figures=figures)
            (tmp / "README.md").write_text(card, encoding="utf-8")
        (tmp / "columns.json").write_text(json.dumps(table.columns))
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
        stats: dict[str, Any] = {"output": str(out_dir), "layout": layout, "columns": table.columns,
                                 "splits": {s: t.height for s, t in tables.items()}, "files": files}
        if cfg.push_to_hub:
            stats["pushed"] = push_folder(out_dir, cfg.push_to_hub, cfg.private, cfg.token_env)
            stats["private"] = cfg.private
        return StageResult(kept=df, stats=stats)

    @staticmethod
    def _copy_figures(run_dir: Path | None, dest: Path) -> list[str]:
        """The inspect steps' reports (report.html, plots inlined) and any PNG/SVG plots, copied next to the card."""
        if run_dir is None:
            return []
        found = []
        for stats_file in sorted((run_dir / "stages").glob("*/stats.json")):
            step = stats_file.parent
            try:
                if not str(json.loads(stats_file.read_text()).get("stage", "")).startswith("inspect"):
                    continue
            except ValueError:
                continue
            (dest / "inspect").mkdir(exist_ok=True)
            for f in sorted([*step.glob("*.html"), *step.glob("*.png"), *step.glob("*.svg")])[:12]:
                name = f"{step.name}-{f.name}"
                shutil.copy(f, dest / "inspect" / name)
                found.append(f"inspect/{name}")
        return found
