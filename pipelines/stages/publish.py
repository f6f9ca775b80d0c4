"""save and publish: the training-ready dataset, written by the one writer (dataset_writer.py) in the
layout chat-format produced (layouts.py), with trainer configs beside it (trainer_configs.py).

`save` writes the dataset folder; `publish` writes the same files plus README.md, the dataset card
(card.py), the inspect reports, and optionally pushes the folder to the Hub. Both give a `DatasetDict`
(`hf/`, always with a `train` split, + validation/test from a `split` column) and Hub-style Parquet shards
`data/<split>/<split>-NNNNN-of-NNNNN.parquet`, with the same columns and types.

`push_to_hub: user/name` uploads the folder with huggingface_hub (private by default; the token comes
from the environment variable `token_env`, never from the recipe; `HF_ENDPOINT` is honoured, which is
how tests talk to a fake hub on 127.0.0.1). What is uploaded is exactly what the card lists, by name
(`upload_list`, an allow-list given to huggingface_hub): the Parquet shards (written for a push even when
`formats` leaves them out), README.md, the trainer configs and the inspect reports that may leave the
machine; never `hf/`, JSONL copies or anything else in the folder.

Inspect reports of steps that come before a `pii` step show raw rows (e-mail addresses, phone numbers):
they stay in the run's stages/ folder and are neither copied next to the card nor uploaded, unless the
recipe says `reports_before_pii: redacted`, which copies them with every text passage run through the
recipe's own pii step (action redact).

Not here: dataset scripts, gated-access settings, pushing to anything but a Hugging Face-compatible hub.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.stages.card import render_card
from dsforge.pipelines.stages.dataset_writer import Written, write_layout
from dsforge.pipelines.core.run_info import RunInfo, run_of
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult
from dsforge.pipelines.stages.trainer_configs import write_trainer_configs

log = logging.getLogger("dsforge")
Layout = Literal["auto", "sft", "dpo", "orpo", "reward", "completion", "kto", "records"]


class SaveConfig(StageConfig):
    formats: list[Literal["hf", "parquet", "jsonl"]] = Field(["hf", "parquet"], description="hf (save_to_disk), parquet shards, jsonl")
    layout: Layout = Field("auto", description="training columns to export (auto: the layout chat-format wrote; records: all columns)")
    prefer: Literal["messages", "text"] = Field("messages", description="message lists or rendered strings")
    keep: list[str] = Field(["id", "source"], description="extra columns kept for traceability")
    columns: dict[str, str] | list[str] | None = Field(
        None, description="explicit export: output name -> column, or a list of columns (overrides layout)")
    drop_columns: list[str] = Field([], description="columns to leave out before choosing the layout's columns")
    split_column: str = Field("split", description="column naming each row's split (absent: everything is train)")
    shard_rows: int = Field(100_000, ge=1, description="rows per Parquet shard")
    kto_threshold: float | None = Field(None, description="kto: scored rows with score >= this are desirable")
    trainer_configs: bool = Field(True, description="write trainers/ (TRL, axolotl), dataset_info.json (LLaMA-Factory)")
    output_dir: str | None = Field(None, description="where to write (default: the step's dataset/ folder)")


def output_dir(cfg: SaveConfig, ctx: StageContext) -> Path:
    if cfg.output_dir:
        out = Path(cfg.output_dir)
        out = out if out.is_absolute() else ctx.base_dir / out
        if out.exists() and not out.is_dir():
            raise ConfigError(f"output_dir: {out} is a file; give a folder (it is replaced by the dataset)")
        return out
    return ctx.work_dir / "dataset"


def chat_format_info(df: pl.DataFrame) -> dict[str, Any]:
    """Template and tokenizer that chat-format recorded in the first row's lineage (publish copies them into
    the dataset's metadata: input_ids are only valid with that tokenizer)."""
    if "lineage" not in df.columns or df.height == 0:
        return {}
    for entry in reversed(df["lineage"].to_list()[0] or []):
        if entry["stage"] == "chat-format":
            try:
                info = json.loads(entry["info"] or "{}")
            except ValueError:
                return {}
            return {k: info[k] for k in ("template", "template_sha256", "tokenizer", "tokenizer_sha256") if k in info}
    return {}


def first_row(source: pl.DataFrame | list[Path]) -> pl.DataFrame:
    """The first row of a table or of the first non-empty Parquet part (for its lineage and columns)."""
    if isinstance(source, pl.DataFrame):
        return source.head(1)
    for path in source:
        head = pl.scan_parquet(path).head(1).collect()
        if head.height:
            return head
    return pl.read_parquet(source[0]).head(0) if source else pl.DataFrame()


def write_dataset(source: pl.DataFrame | list[Path], out_dir: Path, cfg: SaveConfig, name: str,
                  formats: list[str] | None = None, repo_id: str | None = None) -> tuple[Written, list[str]]:
    """The shared body of save and publish: the layout's files, then the trainer configs beside them.
    `source` is the whole table or the runner's Parquet parts (read one at a time)."""
    columns = {c: c for c in cfg.columns} if isinstance(cfg.columns, list) else cfg.columns
    head = first_row(source)
    info = chat_format_info(head)
    if "input_ids" not in head.columns:
        info = {k: v for k, v in info.items() if not k.startswith("tokenizer")}
    written = write_layout(source, out_dir, layout=cfg.layout, formats=formats or cfg.formats, prefer=cfg.prefer,
                           keep=cfg.keep, columns=columns, split_column=cfg.split_column, shard_rows=cfg.shard_rows,
                           kto_threshold=cfg.kto_threshold, metadata=info,
                           drop_columns=cfg.drop_columns)
    extra: list[str] = []
    axolotl_reward: dict[str, list[str]] = {}
    if cfg.trainer_configs and written.layout == "reward" and written.files and "chosen" in written.columns:
        # axolotl's reward loader reads plain strings: a second, small export beside the TRL one
        strings = write_layout(source, out_dir / "axolotl-reward", layout="reward-strings", formats=["parquet"],
                               keep=cfg.keep, split_column=cfg.split_column, shard_rows=cfg.shard_rows, metadata=info)
        axolotl_reward = {s: [f"axolotl-reward/{f}" for f in names] for s, names in strings.files.items()}
    if cfg.trainer_configs:
        from dsforge.pipelines.stages.chat_template import builtin_info

        template = info.get("template")
        model = (builtin_info().get(template or "", {}).get("model") or "").split(" ")[0] or None
        extra = write_trainer_configs(out_dir, name=name, layout=written.layout, columns=written.columns,
                                      files=written.files, template=template, model=model, repo_id=repo_id,
                                      axolotl_reward_files=axolotl_reward)
    return written, extra


def written_stats(out_dir: Path, written: Written, extra: list[str]) -> dict[str, Any]:
    """The step's stats: where, which layout and columns, rows and files per split, configs, metadata."""
    return {"output": str(out_dir), "layout": written.layout, "columns": written.columns, "splits": written.splits,
            "files": written.files, "trainer_configs": extra, **written.metadata}


class Save(Stage[SaveConfig]):
    """Write the final dataset (DatasetDict, Parquet shards, JSONL) in its training layout, with trainer configs.

    In a run it streams the previous step's Parquet parts to the writer (`process_parts`), one at a time;
    `process(df)` writes the same files from a table."""

    name = "save"
    mode = "table"
    changes_rows = False  # the runner links the input parts instead of rewriting them
    Config = SaveConfig
    needs_run_info = True  # the dataset card lists the recipe and every earlier step

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        return StageResult(kept=df, stats=self._write(df, ctx))

    def process_parts(self, paths: list[Path], ctx: StageContext) -> dict[str, Any] | None:
        return self._write([Path(p) for p in paths], ctx) if paths else None

    def _write(self, source: pl.DataFrame | list[Path], ctx: StageContext) -> dict[str, Any]:
        out_dir = output_dir(self.config, ctx)
        run = run_of(ctx)
        written, extra = write_dataset(source, out_dir, self.config, (run and run.recipe_name) or "dataset")
        return written_stats(out_dir, written, extra)


class PublishConfig(SaveConfig):
    card: bool = Field(True, description="write README.md (the dataset card)")
    name: str | None = Field(None, description="pretty name for the card (default: the recipe name)")
    description: str | None = Field(None, description="card text (default: the recipe's description)")
    license: str | None = Field(None, description="card licence id (default: from the inputs' licences)")
    licenses: dict[str, str] = Field({}, description="licence per input source name or file name")
    tags: list[str] = []
    push_to_hub: str | None = Field(None, description="repo id (user/name) to upload to; nothing is uploaded without it")
    private: bool = Field(True, description="create the Hub repo as private")
    token_env: str = Field("HF_TOKEN", description="environment variable holding the Hub token")
    reports_before_pii: Literal["local", "redacted"] = Field("local", description=(
        "inspect reports of steps before a pii step: local (not copied next to the card, never uploaded) or "
        "redacted (copied and uploaded with their text passed through the recipe's pii step)"))


def upload_list(folder: Path, written: Written, extra: list[str], figures: list[str]) -> list[str]:
    """The files of `folder` a push uploads: what the card describes, filtered by huggingface_hub's own
    filter (the one upload_folder applies) with that allow-list."""
    from huggingface_hub.utils import filter_repo_objects

    allowed = ["README.md", *[f for names in written.files.values() for f in names], *extra, *figures]
    present = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return list(filter_repo_objects(present, allow_patterns=[_literal(a) for a in allowed],
                                    ignore_patterns=["hf/**", "*.jsonl"]))


def _literal(path: str) -> str:
    """An fnmatch pattern that matches only `path` (brackets and wildcards in names escaped)."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def push_folder(folder: Path, repo_id: str, private: bool, token_env: str, files: list[str]) -> str:
    """Create the dataset repo (private by default) and upload `files` of the folder; returns the commit URL."""
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
                             commit_message="Upload dataset built with dsforge",
                             allow_patterns=[_literal(f) for f in files], ignore_patterns=["hf/**", "*.jsonl"])
    return str(getattr(info, "commit_url", info))


class Publish(Stage[PublishConfig]):
    """Write the dataset (save_to_disk, Parquet shards, card, trainer configs) and optionally push it to the Hub.

    It takes the whole table (no `process_parts`): the card summarises every row's lineage and lengths."""

    name = "publish"
    mode = "table"
    changes_rows = False  # the runner links the input parts instead of rewriting them
    Config = PublishConfig
    needs_run_info = True  # the dataset card lists the recipe and every earlier step

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        out_dir = output_dir(cfg, ctx)
        formats = list(cfg.formats)
        if cfg.push_to_hub and "parquet" not in formats:  # the Hub gets Parquet shards, and the card lists them
            formats.append("parquet")
        run = run_of(ctx)
        name = cfg.name or (run and run.recipe_name) or "dataset"
        written, extra = write_dataset(df, out_dir, cfg, name, formats, cfg.push_to_hub)
        figures = copy_reports(run, out_dir, cfg.reports_before_pii)
        if cfg.card:
            card = render_card(df, name=name, written=written, run=run, licenses=cfg.licenses,
                               license=cfg.license, description=cfg.description, tags=cfg.tags,
                               repo_id=cfg.push_to_hub, figures=figures, trainer_files=extra)
            (out_dir / "README.md").write_text(card, encoding="utf-8")
        stats = written_stats(out_dir, written, extra)
        stats["upload"] = upload_list(out_dir, written, extra, figures)
        if cfg.push_to_hub:
            stats["pushed"] = push_folder(out_dir, cfg.push_to_hub, cfg.private, cfg.token_env, stats["upload"])
            stats["private"] = cfg.private
        return StageResult(kept=df, stats=stats)


def copy_reports(run: RunInfo | None, dest: Path, before_pii: str = "local") -> list[str]:
    """The inspect steps' reports (report.html, plots inlined) and PNG/SVG plots, copied next to the card;
    those of steps before a pii step only with before_pii="redacted", and then redacted."""
    steps = list(run.steps) if run else []
    last_pii = max((k for k, st in enumerate(steps) if st.stage == "pii"), default=-1)
    found = []
    for k, step in enumerate(steps):
        if not step.stage.startswith("inspect"):
            continue
        raw = k < last_pii
        if raw and before_pii != "redacted":
            log.info("publish: %s ran before the pii step; its report stays local", step.stats.get("step"))
            continue
        (dest / "inspect").mkdir(exist_ok=True)
        for f in [f for f in step.files if f.suffix in (".html", ".png", ".svg")][:12]:
            name = f"{f.parent.name}-{f.name}"
            if raw and f.suffix == ".png":
                continue  # pixels cannot be redacted
            if raw:
                (dest / "inspect" / name).write_text(redact_report(f.read_text(encoding="utf-8"),
                                                                   steps[last_pii].stats.get("config", {})),
                                                     encoding="utf-8")
            else:
                shutil.copy(f, dest / "inspect" / name)
            found.append(f"inspect/{name}")
    return found


_TAG = re.compile(r"(<[^>]*>)")


def redact_report(html: str, pii_config: dict[str, Any]) -> str:
    """The report with every text passage between tags (script and style bodies included) passed
    through the pii stage with the recipe's own settings and action redact. Attribute values are kept."""
    import tempfile

    from dsforge.pipelines.core import records
    from dsforge.pipelines.core.registry import stage_class

    parts = _TAG.split(html)
    texts = [(k, p) for k, p in enumerate(parts) if k % 2 == 0 and len(p.strip()) >= 6]
    if not texts:
        return html
    pii = stage_class("pii")
    config = {key: v for key, v in pii_config.items() if key in pii.Config.model_fields}
    stage = pii({**config, "action": "redact", "drop_entities": [], "fields": ["text"]})
    df = records.from_rows([{"id": f"t{k}", "source": "report", "kind": "document", "text": p} for k, p in texts])
    with tempfile.TemporaryDirectory() as tmp:
        out = stage.process(df, StageContext(work_dir=Path(tmp), base_dir=Path(tmp))).kept
    for row_id, text in zip(out["id"].to_list(), out["text"].to_list()):
        parts[int(row_id[1:])] = text
    return "".join(parts)
