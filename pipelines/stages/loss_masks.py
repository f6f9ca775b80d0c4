"""Loss masks for chat-format: which tokens of a rendered conversation a trainer computes the loss on.

Convention (dsforge's, and that of the generation-marked templates shipped in templates/generation/):
an assistant turn's trained span is exactly what the model writes at inference after the prompt that
`add_generation_prompt=True` renders: the reply and its end-of-turn marker (`<|im_end|>\\n`, `<|eot_id|>`,
`<end_of_turn>\\n`, `</s>`), never the role header. So for ChatML-style templates the `\\n` after
`<|im_start|>assistant` is *not* trained: it belongs to the generation prompt the inference server sends.
(TRL's own patched Qwen2.5 template puts that `\\n` inside `{% generation %}`, one token more per turn; use
`templates/generation/qwen2.5.jinja` as TRL's `chat_template_path` to get dsforge's masks from TRL.)

How the span is found: from the template's `{% generation %}` blocks when it has them (transformers' own
spans); otherwise span *i* = render(turns[:i+1]) minus render(turns[:i], add_generation_prompt=True); for
templates where a prefix does not render as a prefix (Mistral moves the system prompt), the reply is
located in the text plus the eos token after it. Tokens overlapping a span get 1 (transformers' rule).

Not here: rendering itself (chat_template.ChatTemplate), packing, multimodal content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GENERATION_DIR = Path(__file__).parent / "templates" / "generation"


class MaskError(ValueError):
    """An assistant reply cannot be located in the rendered text."""


def generation_template(name: str) -> Path:
    """The generation-marked copy of a built-in template (renders the same text, adds {% generation %})."""
    path = GENERATION_DIR / f"{name}.jinja"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in GENERATION_DIR.glob("*.jinja")))
        raise KeyError(f"no generation-marked copy of template {name!r} (have {known})")
    return path


def end_at_eos(text: str, eos: str | None) -> str:
    """Drop whitespace after a final eos token, so a trainer that appends eos unless the text ends with it
    (TRL's SFT, DPO and reward trainers do) does not add a second one."""
    if not eos:
        return text
    stripped = text.rstrip()
    return stripped if stripped.endswith(eos) else text


def assistant_spans(tmpl, messages: list[dict[str, Any]], tools: list[dict] | None = None,
                    **kwargs: Any) -> tuple[str, list[tuple[int, int]], str]:
    """(rendered text, character spans of the assistant turns, method used) for a ChatTemplate."""
    if tmpl.has_generation_blocks:
        from transformers.utils.chat_template_utils import render_jinja_template

        conv = [{k: v for k, v in m.items() if v is not None} for m in messages]
        rendered, spans = render_jinja_template(conversations=[conv], tools=tools, chat_template=tmpl.template,
                                                return_assistant_tokens_mask=True,
                                                **{**tmpl.special_tokens, **kwargs})
        return rendered[0], [tuple(s) for s in spans[0]], "generation-blocks"
    full = tmpl.render(messages, tools=tools, **kwargs)
    spans: list[tuple[int, int]] = []
    try:
        for i, m in enumerate(messages):
            if m.get("role") != "assistant":
                continue
            before = tmpl.render(messages[:i], add_generation_prompt=True, tools=tools, **kwargs) if i else ""
            upto = tmpl.render(messages[: i + 1], tools=tools, **kwargs)
            if not (full.startswith(before) and full.startswith(upto) and len(upto) > len(before)):
                raise MaskError("prefix rendering differs")
            spans.append((len(before), len(upto)))
        return full, spans, "prefix"
    except Exception:  # noqa: BLE001 - templates may raise on partial conversations
        return full, search_spans(full, messages, tmpl.special_tokens.get("eos_token") or ""), "search"


def search_spans(full: str, messages: list[dict[str, Any]], eos: str) -> list[tuple[int, int]]:
    """Locate each assistant reply in the text, in order, plus the eos token that follows it."""
    spans, cursor = [], 0
    for m in messages:
        content = (m.get("content") or "")
        if not isinstance(content, str) or not content.strip():
            continue
        needle = content  # as given; templates that trim (llama, gemma) need the stripped text
        at = full.find(needle, cursor)
        if at < 0:
            needle = content.strip()
            at = full.find(needle, cursor)
        if at < 0:
            if m.get("role") == "assistant":
                raise MaskError(f"assistant reply not found in the rendered text: {needle[:60]!r}")
            continue
        end = at + len(needle)
        if m.get("role") == "assistant":
            if eos and full.startswith(eos, end):
                end += len(eos)
            spans.append((at, end))
        cursor = end
    return spans


def mask_from_spans(offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[int]:
    """Token mask: 1 where a token overlaps a character span (the rule transformers uses)."""
    mask = [0] * len(offsets)
    k = 0
    for t, (start, end) in enumerate(offsets):
        while k < len(spans) and start >= spans[k][1]:
            k += 1
        if k == len(spans):
            break
        if end > spans[k][0]:
            mask[t] = 1
    return mask
