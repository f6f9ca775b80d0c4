"""TRL's conversational forms folded into dsforge records: message lists where a record holds text.

TRL (and UltraFeedback-binarized, the most common preference set) write a pair as
`{"prompt": "..." | [messages], "chosen": [messages], "rejected": [messages]}`, the chosen/rejected lists
with or without the prompt turns repeated before the reply (the "implicit prompt" form has no `prompt` at
all), and prompt-completion / KTO rows as `{"prompt": [messages], "completion": [messages]}`. A record
keeps text answers, so a list is folded: its last message must be the assistant's reply (that is the
answer); the turns before it are the prompt, which must be the same for both sides and agree with
`prompt` when both are given. The prompt's last user turn becomes `instruction`; a prompt with more than
that one user turn (a system turn, earlier turns) is kept whole in `messages`, which records.to_messages
renders before the answer.

Not here: checking a single message (mapping.check_messages), the column-wise fast path (rows.py).
"""

from __future__ import annotations

from typing import Any

# record field -> which side of a pair / reply it is, for the folding below
ANSWER_FIELDS = ("response", "chosen_response", "rejected_response")


class FoldProblem(Exception):
    """A conversational row that does not fold into one prompt and its answers: (reason, field, message)."""

    def __init__(self, reason: str, fieldname: str, message: str):
        super().__init__(message)
        self.reason, self.field, self.message = reason, fieldname, message


def fold(out: dict[str, Any], lists: dict[str, list[dict[str, str]]], mapping: dict[str, str]) -> None:
    """Replace the message lists in `lists` (record field -> checked messages) by text fields of `out`.

    `out` already holds the text fields that were text. Sets instruction (and messages for a longer
    prompt) and each answer field; raises FoldProblem naming the source field at fault."""
    contexts: dict[str, list[dict[str, str]]] = {}
    for target in ANSWER_FIELDS:
        if target not in lists:
            continue
        msgs, src = lists[target], mapping[target]
        if msgs[-1]["role"] != "assistant":
            raise FoldProblem("wrong_type", src, f"field {src!r}: the last message must be the assistant's reply, "
                                                 f"got {msgs[-1]['role']!r}")
        out[target] = msgs[-1]["content"]
        if len(msgs) > 1:
            contexts[src] = msgs[:-1]
    prompt_src = mapping.get("instruction", "prompt")
    prompt = lists.get("instruction")
    if prompt is None and isinstance(out.get("instruction"), str):
        prompt = [{"role": "user", "content": out["instruction"]}]
    seen = list(contexts.items())
    for (src_a, a), (src_b, b) in zip(seen, seen[1:]):
        if a != b:
            raise FoldProblem("pair_mismatch", src_b, f"fields {src_a!r} and {src_b!r} answer different "
                                                      "conversations (the turns before the replies differ)")
    context = seen[0][1] if seen else None
    if prompt is not None and context is not None and not _same_prompt(prompt, context):
        raise FoldProblem("pair_mismatch", seen[0][0], f"field {seen[0][0]!r}: the turns before the reply are not "
                                                       f"the prompt in {prompt_src!r}")
    turns = context if context is not None and (prompt is None or _has_system(context) > _has_system(prompt)) else prompt
    if not turns:
        raise FoldProblem("missing_field", prompt_src, f"field {prompt_src!r} is missing")
    users = [m for m in turns if m["role"] == "user"]
    if not users:
        raise FoldProblem("wrong_type", prompt_src, f"field {prompt_src!r}: the prompt has no user turn")
    out["instruction"] = users[-1]["content"]
    if len(turns) > 1 or turns[0]["role"] != "user":
        out["messages"] = turns


def _has_system(msgs: list[dict[str, str]]) -> bool:
    return any(m["role"] == "system" for m in msgs)


def _same_prompt(prompt: list[dict[str, str]], context: list[dict[str, str]]) -> bool:
    """The turns before a reply are the prompt (a system turn may appear on one side only)."""
    strip = lambda ms: [(m["role"], m["content"].strip()) for m in ms if m["role"] != "system"]  # noqa: E731
    return strip(prompt) == strip(context)
