"""A row's token budget (chat-format's `max_tokens`), counted with the target model's tokenizer.

`overflow: drop` rejects a row over the budget; `truncate` first drops trailing exchanges while more than
one assistant turn remains, then cuts the last reply's tokens (re-rendering after each cut, since a
template adds tokens around the text). For pairs the prompt must fit and each reply is cut to the room
left. A row that cannot fit raises RowError("too_long") with the counts.

Not here: rendering (chat_template.py), dropping rows by length without a tokenizer (filters/length.py).
"""

from __future__ import annotations

from typing import Any

from dsforge.pipelines.stages.chat_template import ChatTemplate, RowError


def fit_conversation(tmpl: ChatTemplate, msgs: list[dict[str, Any]], text: str, tools: list[dict] | None,
                     kw: dict[str, Any], max_tokens: int, overflow: str) -> tuple[list[dict[str, Any]], str, int]:
    """Apply the max_tokens policy to a conversation: (messages, text, 1 if truncated)."""
    n = tmpl.count(text)
    if n <= max_tokens:
        return msgs, text, 0
    if overflow == "drop":
        raise RowError("too_long", f"{n} tokens > max_tokens {max_tokens} ({tmpl.name} tokenizer)")
    msgs = list(msgs)
    # 1. drop trailing exchanges while more than one assistant turn remains
    while n > max_tokens and sum(m["role"] == "assistant" for m in msgs) > 1:
        msgs.pop()
        while msgs and msgs[-1]["role"] != "assistant":
            msgs.pop()
        text = tmpl.render(msgs, tools=tools, **kw)
        n = tmpl.count(text)
    # 2. cut the last reply's tokens
    for _ in range(6):
        if n <= max_tokens:
            return msgs, text, 1
        last = msgs[-1]
        if last["role"] != "assistant" or not last.get("content"):
            break
        ids = tmpl.tokenizer(last["content"], add_special_tokens=False)["input_ids"]
        keep = len(ids) - (n - max_tokens) - 1
        if keep <= 0:
            break
        msgs = msgs[:-1] + [{**last, "content": tmpl.tokenizer.decode(ids[:keep])}]
        text = tmpl.render(msgs, tools=tools, **kw)
        n = tmpl.count(text)
    if n <= max_tokens:
        return msgs, text, 1
    raise RowError("too_long", f"{n} tokens > max_tokens {max_tokens} even after truncation (the prompt alone is too long)")


def fit_replies(tmpl: ChatTemplate, prompt_msgs: list[dict[str, Any]], prompt_text: str, pair: dict[str, str],
                tools: list[dict] | None, kw: dict[str, Any], max_tokens: int, overflow: str) -> tuple[dict[str, str], int]:
    """max_tokens for pairs: the prompt must fit; each reply is cut to the room left."""
    room = max_tokens - tmpl.count(prompt_text)
    cut = 0
    out = {}
    for side, reply in pair.items():
        full = tmpl.render(prompt_msgs + [{"role": "assistant", "content": reply}], tools=tools, **kw)
        over = tmpl.count(full) - max_tokens
        if over <= 0:
            out[side] = reply
            continue
        if overflow == "drop" or room <= 0:
            raise RowError("too_long", f"prompt + {side}: {over + max_tokens} tokens > max_tokens {max_tokens}")
        ids = tmpl.tokenizer(reply, add_special_tokens=False)["input_ids"]
        for _ in range(6):
            keep = len(ids) - over - 1
            if keep <= 0:
                raise RowError("too_long", f"prompt leaves no room for the {side} reply within {max_tokens} tokens")
            ids = ids[:keep]
            reply = tmpl.tokenizer.decode(ids)
            full = tmpl.render(prompt_msgs + [{"role": "assistant", "content": reply}], tools=tools, **kw)
            over = tmpl.count(full) - max_tokens
            if over <= 0:
                break
        out[side] = reply
        cut = 1
    return out, cut
