"""chat-format: render rows with the target model's own chat template (chat_template.py) into training layouts.

The template is named by `template`: a built-in (smollm2, chatml, llama3, ...), a `.jinja` file or a
tokenizer folder; chat_template.py says how each is found and rendered.

Layouts: `sft` (text / messages), `dpo`/`orpo` (prompt, chosen, rejected: TRL's prompt + continuation
split), `reward` (pairs as dpo; scored rows as sft plus score), `completion` (prompt, completion), `kto`
(pairs as dpo, scored rows as completion; save/publish turn them into prompt/completion/label rows).
Output columns: rendered_text, messages, prompt_text, chosen_text, rejected_text, completion_text,
prompt_messages, chosen_messages, rejected_messages, completion_messages, layout, n_tokens; with
`loss_mask: true` also input_ids and assistant_masks (and the tokenizer's identity in the lineage, which
publish copies into the dataset's metadata). The rendered strings never overwrite a record column: `text`
(a document's body) and the raw chosen_response/rejected_response stay as they were; layouts.py gives
trainers the names they read (`rendered_text` is published as `text`).

Rendered strings are apply_chat_template's, except that a string ending with the eos token plus
whitespace ends at the eos (`<|im_end|>`, not `<|im_end|>\n`): TRL appends eos to text that does not end
with it, which would give two. Loss masks: loss_masks.py (the token convention and why).

Rows a template cannot render (documents, roles it refuses) are rejected with the template's own error.
Tool calls: a `messages_json` column (OpenAI-style messages with tool_calls) and a `tools` column (JSON
list of function schemas) are passed to templates that support them.

Not here: rendering (chat_template.py), token budgets (token_budget.py), the consistency checks
(format_checks.py), writing files (publish.py); packing several rows into one sequence (a trainer's job),
multimodal content.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.chat_template import ChatTemplate, RowError
from dsforge.pipelines.stages.format_checks import format_issues
from dsforge.pipelines.stages.loss_masks import end_at_eos
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult
from dsforge.pipelines.stages.token_budget import fit_conversation, fit_replies

log = logging.getLogger("dsforge")


class ChatFormatConfig(StageConfig):
    template: str = Field("smollm2", description="built-in name, .jinja file, or tokenizer folder")
    tokenizer: str | None = Field(None, description="the model's tokenizer folder: special tokens, token counts, loss masks")
    layout: Literal["sft", "dpo", "orpo", "reward", "completion", "kto"] = Field(
        "sft", description="training layout (kto: pairs as dpo, scored rows as completion; publish labels them)")
    output: Literal["text", "messages", "both"] = Field("both", description="rendered strings, message lists, or both")
    system_prompt: str | None = Field(None, description="system message for rows (see system_prompt_policy)")
    system_prompt_policy: Literal["add", "replace", "drop", "merge"] = Field(
        "add", description="add: only to rows without one; replace: override; drop: remove system turns; "
        "merge: fold the system text into the first user turn (templates without a system role, e.g. gemma)")
    add_generation_prompt: bool = Field(False, description="sft: end with the assistant header (for prompts only)")
    template_kwargs: dict[str, Any] = Field({}, description="extra template variables, e.g. {date_string: '1 Jan 2025'}")
    loss_mask: bool = Field(False, description="add input_ids and assistant_masks (1 = assistant token) columns")
    max_tokens: int | None = Field(None, ge=1, description="token budget per row, counted with the target tokenizer")
    overflow: Literal["drop", "truncate"] = Field(
        "drop", description="rows over max_tokens: drop, or truncate (drop trailing turns, then cut the last reply)")
    consistency: Literal["warn", "drop", "off"] = Field(
        "warn", description="prompt-format consistency check: warn (and a format_issues column), drop, or off")


MSG_LIST = records.SCHEMA["messages"]


class ChatFormat(Stage[ChatFormatConfig]):
    """Render rows with a model's chat template into training layouts (SFT, DPO/ORPO, reward, completion)."""

    name = "chat-format"
    mode = "rows"
    Config = ChatFormatConfig
    version = "2"
    batch_size = 5000
    _template: ChatTemplate | None = None

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        if self._template is None:  # loaded once, reused across batches
            self._template = ChatTemplate(cfg.template, cfg.tokenizer, ctx.base_dir)
            if cfg.max_tokens or cfg.loss_mask:
                self._template.tokenizer  # fail early (ConfigError) when no tokenizer is known
        tmpl = self._template
        cols = [c for c in ("id", "kind", "instruction", "input", "response", "messages", "chosen_response",
                            "rejected_response", "messages_json", "tools") if c in df.columns]
        outs: list[dict[str, Any] | None] = []
        errors: list[tuple[str, str]] = []
        methods: dict[str, int] = {}
        truncated = 0
        for row in df.select(cols).iter_rows(named=True):
            try:
                out = self._format_row(row, tmpl)
                if (m := out.pop("_mask_method", None)) is not None:
                    methods[m] = methods.get(m, 0) + 1
                truncated += out.pop("_truncated", 0)
                outs.append(out)
            except RowError as e:
                outs.append(None)
                errors.append((f"chat-format:{e.reason}", str(e)))
            except Exception as e:  # noqa: BLE001 - a template's raise_exception() or a document row
                outs.append(None)
                errors.append(("chat-format:cannot_render", f"{type(e).__name__}: {e}"))
        ok = pl.Series([o is not None for o in outs], dtype=pl.Boolean)
        good = [o for o in outs if o is not None]
        new_cols = self._columns(good, cfg, tmpl)
        kept = df.filter(ok).with_columns(new_cols) if good else df.filter(ok)
        stats: dict[str, Any] = {"template": tmpl.name, "layout": cfg.layout, "truncated": truncated}
        if methods:
            stats["mask_methods"] = methods
        rejected_parts = [self.reject(df.filter(~ok), pl.Series([e[0] for e in errors], dtype=pl.String),
                                      pl.Series([e[1] for e in errors], dtype=pl.String))]
        if good:
            ntok = [o.get("n_tokens") for o in good if o.get("n_tokens") is not None]
            if ntok:
                stats.update(tokens_total=sum(ntok), tokens_max=max(ntok), rows_counted=len(ntok))
        if cfg.consistency != "off" and kept.height:
            issues, warnings = format_issues([o["_prompt"] for o in good], [o["_response"] for o in good])
            dropped = 0
            for row_issues, o in zip(issues, good):
                row_issues.extend(o.get("_issues", []))
                dropped += "system_prompt_dropped" in o.get("_issues", [])
            if dropped:
                warnings.append(f"{dropped} rows lost their system prompt: template {tmpl.name!r} does not render it "
                                "for conversations ending with an assistant turn (use system_prompt_policy: merge)")
            for w in warnings:
                log.warning("chat-format: %s", w)
            stats["format_warnings"] = warnings
            stats["rows_with_format_issues"] = sum(1 for i in issues if i)
            kept = kept.with_columns(pl.Series("format_issues", [",".join(i) or None for i in issues], dtype=pl.String))
            if cfg.consistency == "drop":
                bad = pl.Series([bool(i) for i in issues])
                rejected_parts.append(self.reject(kept.filter(bad), "inconsistent_format",
                                                  pl.Series([", ".join(i) for i in issues if i], dtype=pl.String)))
                kept = kept.filter(~bad)
        info = {"template": tmpl.name, "template_sha256": tmpl.sha256[:16], "layout": cfg.layout}
        if cfg.loss_mask:  # input_ids are only valid with this tokenizer: say which one (publish copies it)
            info.update(tmpl.tokenizer_identity())
            stats.update(tmpl.tokenizer_identity())
        kept = records.append_lineage(kept, self.name, info)
        return StageResult(kept=kept, rejected=records.concat(rejected_parts, rejected=True), stats=stats)

    # ---------------------------------------------------------------- one row

    def _conversation(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        cfg = self.config
        if row.get("messages_json"):
            msgs = json.loads(row["messages_json"])
        else:
            msgs = records.to_messages(row)
        return apply_system_policy(msgs, cfg.system_prompt, cfg.system_prompt_policy)

    def _format_row(self, row: dict[str, Any], tmpl: ChatTemplate) -> dict[str, Any]:
        cfg = self.config
        tools = json.loads(row["tools"]) if row.get("tools") else None
        kw = dict(cfg.template_kwargs)
        layout = "dpo" if cfg.layout == "orpo" else cfg.layout
        if layout in ("reward", "kto"):  # pairs as dpo; single scored replies as sft (reward) or completion (kto)
            layout = "dpo" if row.get("kind") == "preference" else ("sft" if layout == "reward" else "completion")
        eos = tmpl.special_tokens.get("eos_token")
        msgs = self._conversation(row)
        out: dict[str, Any] = {"layout": cfg.layout}
        if layout == "dpo":
            if row.get("kind") != "preference" or row.get("chosen_response") is None \
                    or row.get("rejected_response") is None:
                raise RowError("not_a_pair", f"the {cfg.layout} layout needs preference rows with chosen_response and "
                               f"rejected_response (row is {row.get('kind')!r})")
            prompt_msgs = msgs[:-1] if msgs and msgs[-1].get("role") == "assistant" else msgs
            pair = {"chosen": row["chosen_response"], "rejected": row["rejected_response"]}  # the chosen_*/rejected_* sides
            prompt_text = tmpl.render(prompt_msgs, add_generation_prompt=True, tools=tools, **kw)
            if cfg.max_tokens:
                pair, cut = fit_replies(tmpl, prompt_msgs, prompt_text, pair, tools, kw, cfg.max_tokens, cfg.overflow)
                out["_truncated"] = cut
            conts = {}
            for side, reply in pair.items():
                full = tmpl.render(prompt_msgs + [{"role": "assistant", "content": reply}], tools=tools, **kw)
                if not full.startswith(prompt_text):
                    raise RowError("not_prefix", "the rendered prompt is not a prefix of prompt + reply with this "
                                   f"template ({side}); use output: messages for this template")
                conts[side] = end_at_eos(full[len(prompt_text):], eos)
            out.update(prompt_text=prompt_text, chosen_text=conts["chosen"], rejected_text=conts["rejected"],
                       prompt_messages=prompt_msgs, chosen_messages=[{"role": "assistant", "content": pair["chosen"]}],
                       rejected_messages=[{"role": "assistant", "content": pair["rejected"]}])
            if tmpl.has_tokenizer:
                out["n_tokens"] = tmpl.count(prompt_text) + max(tmpl.count(c) for c in conts.values())
            out["_prompt"], out["_response"] = _last_user(prompt_msgs), pair["chosen"]
            return out
        if layout == "completion":
            if not msgs or msgs[-1].get("role") != "assistant":
                raise RowError("no_completion", "the completion layout needs a conversation ending with an assistant turn")
        text = tmpl.render(msgs, add_generation_prompt=cfg.add_generation_prompt and layout == "sft", tools=tools, **kw)
        if cfg.max_tokens:
            msgs, text, cut = fit_conversation(tmpl, msgs, text, tools, kw, cfg.max_tokens, cfg.overflow)
            out["_truncated"] = cut
        if not (cfg.add_generation_prompt and layout == "sft"):
            text = end_at_eos(text, eos)
        out.update(rendered_text=text, messages=[{"role": m["role"], "content": m.get("content") or ""} for m in msgs])
        if msgs and msgs[0].get("role") == "system" and (msgs[0].get("content") or "").strip() not in text:
            out["_issues"] = ["system_prompt_dropped"]  # e.g. Mistral keeps it only when the last turn is the user's
        if layout == "completion":
            prompt_text = tmpl.render(msgs[:-1], add_generation_prompt=True, tools=tools, **kw)
            if not text.startswith(prompt_text):
                raise RowError("not_prefix", "the rendered prompt is not a prefix of the whole conversation with "
                               "this template; use output: messages")
            out.update(prompt_text=prompt_text, completion_text=text[len(prompt_text):],
                       prompt_messages=out["messages"][:-1], completion_messages=out["messages"][-1:])
        if cfg.loss_mask:
            mtext, ids, mask, method = tmpl.loss_mask(msgs, tools=tools, trim_eos=True, **kw)
            if mtext != text:  # only with add_generation_prompt: the mask is for the conversation itself
                ids, offsets = tmpl.encode(text)
                mask = [0] * len(ids)
            out.update(input_ids=ids, assistant_masks=mask, n_tokens=len(ids), _mask_method=method)
        elif tmpl.has_tokenizer and (cfg.max_tokens or tmpl.tokenizer_loaded):
            out["n_tokens"] = tmpl.count(text)
        out["_prompt"], out["_response"] = _last_user(msgs), _last_assistant(msgs)
        return out

    def _columns(self, good: list[dict[str, Any]], cfg: ChatFormatConfig, tmpl: ChatTemplate) -> list[pl.Series]:
        def col(name: str, dtype) -> pl.Series:
            return pl.Series(name, [o.get(name) for o in good], dtype=dtype)

        want_text = cfg.output in ("text", "both")
        want_msgs = cfg.output in ("messages", "both")
        cols = [col("layout", pl.String)]
        present = set().union(*(o.keys() for o in good))
        if "rendered_text" in present and want_text:
            cols.append(col("rendered_text", pl.String))
        if "messages" in present and want_msgs:
            cols.append(col("messages", MSG_LIST))
        for side in ("prompt", "chosen", "rejected", "completion"):
            if f"{side}_text" in present and want_text:
                cols.append(col(f"{side}_text", pl.String))
            if f"{side}_messages" in present and want_msgs:
                cols.append(col(f"{side}_messages", MSG_LIST))
        if "input_ids" in present:
            cols += [col("input_ids", pl.List(pl.Int64)), col("assistant_masks", pl.List(pl.Int8))]
        if "n_tokens" in present:
            cols.append(col("n_tokens", pl.Int64))
        return cols


def apply_system_policy(msgs: list[dict[str, Any]], system: str | None, policy: str) -> list[dict[str, Any]]:
    """Add, replace, drop or merge the system turn (merge: into the first user turn, for templates without one)."""
    msgs = [dict(m) for m in msgs]
    has = bool(msgs) and msgs[0].get("role") == "system"
    if policy == "add" and system and not has:
        msgs.insert(0, {"role": "system", "content": system})
    elif policy == "replace" and system:
        msgs = [{"role": "system", "content": system}] + (msgs[1:] if has else msgs)
    elif policy == "drop":
        msgs = [m for m in msgs if m.get("role") != "system"]
    elif policy == "merge":
        sys_text = msgs[0].get("content") if has else system
        msgs = [m for m in msgs if m.get("role") != "system"]
        if sys_text:
            first = next((i for i, m in enumerate(msgs) if m.get("role") == "user"), None)
            if first is not None:
                msgs[first] = {**msgs[first], "content": f"{sys_text}\n\n{msgs[first].get('content') or ''}"}
    return msgs


def _last_user(msgs: list[dict[str, Any]]) -> str | None:
    return next((m.get("content") for m in reversed(msgs) if m.get("role") == "user"), None)


def _last_assistant(msgs: list[dict[str, Any]]) -> str | None:
    return next((m.get("content") for m in reversed(msgs) if m.get("role") == "assistant"), None)
