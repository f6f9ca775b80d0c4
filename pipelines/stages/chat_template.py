"""A model's chat template and its special tokens: render exactly as `tokenizer.apply_chat_template` does.

Data rendered with the wrong template "causes strange bugs" in the fine-tuned model, so we never
re-implement templates: we hand the model's Jinja template to `render_jinja_template`, the function
`tokenizer.apply_chat_template` itself calls, with the special tokens the model's tokenizer defines.
A template is named by:

- a built-in name: chatml, llama3, llama3.1, mistral, qwen2.5, gemma, smollm2 (pipelines/stages/templates/, the
  models' own strings, provenance in templates/SOURCES.md; special tokens in templates/builtins.json),
- a `.jinja` file (special tokens such as bos/eos come from `tokenizer`, default the embedded SmolLM2),
- a tokenizer folder or its tokenizer_config.json (template and special tokens both from there).

Not here: the chat-format stage and its layouts (chat_format.py), token budgets (token_budget.py), how
assistant spans are found (loss_masks.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from dsforge.pipelines.stages import loss_masks
from dsforge.pipelines.llm.embedded import load_tokenizer
from dsforge.pipelines.stages.loss_masks import mask_from_spans
from dsforge.pipelines.core.stage import ConfigError

TEMPLATES_DIR = Path(__file__).parent / "templates"
GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")


def builtin_templates() -> dict[str, Path]:
    return {p.name[: -len(".jinja")]: p for p in sorted(TEMPLATES_DIR.glob("*.jinja"))}


@lru_cache(maxsize=1)
def builtin_info() -> dict[str, dict[str, Any]]:
    path = TEMPLATES_DIR / "builtins.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class RowError(ValueError):
    """One row cannot be formatted; `reason` is the short greppable part."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


class ChatTemplate:
    """A chat template plus the special tokens it reads; renders exactly like apply_chat_template.

    The tokenizer (for token counts and loss masks) loads only when needed; built-ins other than
    smollm2 have none unless `tokenizer` names the model's tokenizer folder."""

    def __init__(self, spec: str = "smollm2", tokenizer: str | None = None, base_dir: Path | None = None):
        builtins = builtin_templates()
        path = Path(spec).expanduser()
        if not path.is_absolute() and base_dir is not None and (base_dir / path).exists():
            path = base_dir / path
        tok_path = tokenizer
        if tokenizer and base_dir is not None and not Path(tokenizer).is_absolute() and (base_dir / tokenizer).exists():
            tok_path = str(base_dir / tokenizer)
        self._special: dict[str, str] = {}
        self._tok = None
        if spec in builtins:
            self.template = builtins[spec].read_text(encoding="utf-8")
            info = builtin_info().get(spec, {})
            self._tokenizer_spec = tok_path or info.get("tokenizer")
            self._special = dict(info.get("special_tokens", {}))
            self.name = spec
        elif path.is_file() and path.suffix in (".jinja", ".j2", ".txt"):
            self.template = path.read_text(encoding="utf-8")
            self._tokenizer_spec = tok_path or "smollm2"
            self.name = path.name
        elif path.exists():
            self._tokenizer_spec = str(path)
            if not self.tokenizer.chat_template:
                raise ConfigError(f"tokenizer at {path} has no chat_template; give a .jinja file instead")
            tpl = self.tokenizer.chat_template
            if isinstance(tpl, dict):  # several named templates (e.g. default + tool_use): the default one
                tpl = tpl.get("default") or next(iter(tpl.values()))
            self.template = tpl
            self.name = str(path)
        else:
            raise ConfigError(
                f"chat template {spec!r} not found: use a built-in ({', '.join(builtins)}), a .jinja file, "
                "or a tokenizer folder"
            )
        if self._tokenizer_spec:  # the tokenizer's own special tokens win over builtins.json
            self._special = dict(self.tokenizer.special_tokens_map)
        self.sha256 = hashlib.sha256(self.template.encode()).hexdigest()
        self.has_generation_blocks = bool(GENERATION_TAG.search(self.template))

    @property
    def tokenizer(self):
        if self._tok is None:
            if not self._tokenizer_spec:
                raise ConfigError(
                    f"template {self.name!r} has no tokenizer here: counting tokens and loss masks need the "
                    "model's own tokenizer. Set `tokenizer: /path/to/the/model/folder` (holding tokenizer.json)"
                )
            self._tok = load_tokenizer(self._tokenizer_spec)
        return self._tok

    def tokenizer_identity(self) -> dict[str, str]:
        """Which tokenizer made input_ids: its model id (or folder) and a hash of its vocabulary, so a
        pre-tokenized dataset is never trained with a model whose ids differ."""
        from dsforge.pipelines.llm.embedded import SMOLLM2_ID

        tok = self.tokenizer
        spec = self._tokenizer_spec
        name = SMOLLM2_ID if spec in ("smollm2", SMOLLM2_ID) else str(spec)
        vocab = json.dumps(sorted(tok.get_vocab().items(), key=lambda kv: kv[1]), ensure_ascii=False)
        return {"tokenizer": name, "tokenizer_sha256": hashlib.sha256(vocab.encode()).hexdigest()[:16]}

    @property
    def has_tokenizer(self) -> bool:
        """Whether a tokenizer is known (built-ins other than smollm2 have none unless `tokenizer` is set)."""
        return bool(self._tokenizer_spec)

    @property
    def tokenizer_loaded(self) -> bool:
        return self._tok is not None

    @property
    def special_tokens(self) -> dict[str, str]:
        return dict(self._special)

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = False,
               tools: list[dict] | None = None, **kwargs: Any) -> str:
        """The string apply_chat_template(messages, tokenize=False, ...) gives with this template."""
        from transformers.utils.chat_template_utils import render_jinja_template

        conv = [{k: v for k, v in m.items() if v is not None} for m in messages]
        if not conv:
            raise RowError("empty", "no messages to render")
        rendered, _ = render_jinja_template(conversations=[conv], tools=tools, chat_template=self.template,
                                            add_generation_prompt=add_generation_prompt,
                                            **{**self._special, **kwargs})
        return rendered[0]

    # ---------------------------------------------------------------- tokens and loss masks

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]

    def count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def assistant_spans(self, messages: list[dict[str, Any]], tools: list[dict] | None = None,
                        **kwargs: Any) -> tuple[str, list[tuple[int, int]], str]:
        """(rendered text, character spans of the assistant turns, method used): see loss_masks.py."""
        return loss_masks.assistant_spans(self, messages, tools=tools, **kwargs)

    def loss_mask(self, messages: list[dict[str, Any]], tools: list[dict] | None = None, trim_eos: bool = False,
                  **kwargs: Any) -> tuple[str, list[int], list[int], str]:
        """(text, input_ids, assistant mask, method): 1 for tokens overlapping an assistant span. With
        `trim_eos`, the text ends at its final eos token (what chat-format writes, see end_at_eos)."""
        try:
            text, spans, method = self.assistant_spans(messages, tools=tools, **kwargs)
        except loss_masks.MaskError as e:
            raise RowError("mask_failed", str(e)) from e
        if trim_eos:
            text = loss_masks.end_at_eos(text, self._special.get("eos_token"))
        ids, offsets = self.encode(text)
        return text, ids, mask_from_spans(offsets, spans), method
