"""chat-format: render rows with the target model's own chat template, via transformers' apply_chat_template.

Data rendered with the wrong template "causes strange bugs" in the fine-tuned model, so we never
re-implement templates: we hand the model's Jinja template to `tokenizer.apply_chat_template`, the same
call the trainer will make. A template is named by:

- a built-in name ("smollm2", shipped in pipelines/templates/ as extracted from the model),
- a `.jinja` file (special tokens such as bos/eos come from `tokenizer`, default the embedded SmolLM2),
- a tokenizer folder or its tokenizer_config.json (template and special tokens both from there).

Output: `messages` (the conversation that was rendered) and `text` (the rendered string). Rows the
template cannot render (documents, or a template that raises, e.g. on non-alternating roles) are rejected
with the template's own error message.

Not here: loss masks, token-length policies and DPO layouts (issue "Verification, chat-template
formatting and publishing" extends this module).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.embedded import load_tokenizer
from dsforge.pipelines.stage import ConfigError, Stage, StageConfig, StageContext, StageResult

TEMPLATES_DIR = Path(__file__).parent / "templates"


def builtin_templates() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TEMPLATES_DIR.glob("*.jinja"))}


class ChatTemplate:
    """A chat template plus the tokenizer whose special tokens it uses; renders like apply_chat_template."""

    def __init__(self, spec: str = "smollm2", tokenizer: str | None = None, base_dir: Path | None = None):
        builtins = builtin_templates()
        path = Path(spec).expanduser()
        if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
            path = base_dir / path
        if spec in builtins:
            self.template = builtins[spec].read_text(encoding="utf-8")
            self.tokenizer = load_tokenizer(tokenizer or "smollm2")
            self.name = spec
        elif path.is_file() and path.suffix in (".jinja", ".j2", ".txt"):
            self.template = path.read_text(encoding="utf-8")
            self.tokenizer = load_tokenizer(tokenizer or "smollm2")
            self.name = path.name
        elif path.exists():
            self.tokenizer = load_tokenizer(str(path))
            if not self.tokenizer.chat_template:
                raise ConfigError(f"tokenizer at {path} has no chat_template; give a .jinja file instead")
            self.template = self.tokenizer.chat_template
            self.name = str(path)
        else:
            raise ConfigError(
                f"chat template {spec!r} not found: use a built-in ({', '.join(builtins)}), a .jinja file, "
                "or a tokenizer folder"
            )
        self.sha256 = hashlib.sha256(self.template.encode()).hexdigest()

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = False) -> str:
        return self.tokenizer.apply_chat_template(
            messages, chat_template=self.template, tokenize=False, add_generation_prompt=add_generation_prompt
        )


class ChatFormatConfig(StageConfig):
    template: str = Field("smollm2", description="built-in name, .jinja file, or tokenizer folder")
    tokenizer: str | None = Field(None, description="tokenizer for special tokens when template is a file")
    system_prompt: str | None = Field(None, description="system message added to rows that have none")
    add_generation_prompt: bool = Field(False, description="end with the assistant header (for prompts only)")


class ChatFormat(Stage):
    """Render each row's conversation with a model's chat template into `text`."""

    name = "chat-format"
    Config = ChatFormatConfig
    batch_size = 5000
    _template: ChatTemplate | None = None

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: ChatFormatConfig = self.config
        if self._template is None:  # loaded once, reused across batches
            self._template = ChatTemplate(cfg.template, cfg.tokenizer, ctx.base_dir)
        tmpl = self._template
        texts, convs, ok, errors = [], [], [], []
        for row in df.select("id", "kind", "instruction", "input", "response", "messages", "chosen").iter_rows(named=True):
            try:
                msgs = records.to_messages(row, cfg.system_prompt)
                text = tmpl.render(msgs, cfg.add_generation_prompt)
            except Exception as e:  # a template's raise_exception() or a document row
                errors.append(f"{type(e).__name__}: {e}")
                ok.append(False)
                texts.append(None)
                convs.append(None)
                continue
            texts.append(text)
            convs.append(msgs)
            ok.append(True)
        mask = pl.Series(ok, dtype=pl.Boolean)
        rendered = df.with_columns(
            pl.Series("text", texts, dtype=pl.String),
            pl.Series("messages", convs, dtype=records.SCHEMA["messages"]),
        )
        kept = records.append_lineage(
            rendered.filter(mask), self.name, {"template": tmpl.name, "template_sha256": tmpl.sha256[:16]}
        )
        rejected = self.reject(df.filter(~mask), "cannot_render", pl.Series(errors, dtype=pl.String))
        return StageResult(kept=kept, rejected=rejected, stats={"template": tmpl.name})


class SaveConfig(StageConfig):
    formats: list[str] = Field(["hf", "parquet"], description="any of hf (save_to_disk), parquet, jsonl")
    columns: list[str] | None = Field(None, description="columns to keep (default: every column with data)")
    drop_columns: list[str] = Field([], description="columns to leave out")


class Save(Stage):
    """Write the final dataset: HF `save_to_disk`, Parquet and/or JSONL under the run's dataset/ folder."""

    name = "save"
    Config = SaveConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: SaveConfig = self.config
        unknown = set(cfg.formats) - {"hf", "parquet", "jsonl"}
        if unknown:
            raise ConfigError(f"save: unknown formats {sorted(unknown)}; use hf, parquet, jsonl")
        out_dir = Path(ctx.extras.get("output_dir", ctx.work_dir / "dataset"))
        out = dataset_columns(df, cfg.columns, cfg.drop_columns)
        written = write_dataset(out, out_dir, cfg.formats)
        return StageResult(kept=df, stats={"output": written, "columns": out.columns})


def dataset_columns(df: pl.DataFrame, columns: list[str] | None, drop: list[str]) -> pl.DataFrame:
    if columns:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ConfigError(f"save: columns {missing} are not in the table (have {df.columns})")
        return df.select(columns)
    keep = [c for c in df.columns if c not in drop and (df.height == 0 or df[c].null_count() < df.height)]
    return df.select(keep)


def write_dataset(df: pl.DataFrame, out_dir: Path, formats: list[str]) -> dict[str, str]:
    """Write to a temporary folder and rename, so a crash never leaves a half-written dataset."""
    import shutil

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written: dict[str, str] = {}
    if "parquet" in formats:
        df.write_parquet(tmp / "train.parquet")
        written["parquet"] = str(out_dir / "train.parquet")
    if "jsonl" in formats:
        df.write_ndjson(tmp / "train.jsonl")
        written["jsonl"] = str(out_dir / "train.jsonl")
    if "hf" in formats:
        import datasets

        datasets.disable_progress_bars()  # the run prints its own summary
        datasets.Dataset(df.to_arrow()).save_to_disk(str(tmp / "hf"))
        written["hf"] = str(out_dir / "hf")
    (tmp / "columns.json").write_text(json.dumps(df.columns))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return written
