"""Debris in training text: stray chat-template tokens, HTML tags, Markdown and encoding damage.

Counts rows per pattern and field with one example each (the first row hit, in input order), per part and
merged (`debris_part` / `debris_merge`). Left out: removing it (filters/markup does that).
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from dsforge.pipelines.stages.inspect.merging import cat
from dsforge.pipelines.stages.inspect.sections import snippet
from dsforge.pipelines.stages.inspect.tokens import TokenCounter

# Stray chat-template tokens and separators that should not be inside training text.
SPECIAL_TOKEN_PATTERNS: dict[str, str] = {
    "<|im_start|> / <|im_end|>": r"<\|im_(?:start|end)\|>",
    "<|endoftext|>": r"<\|endoftext\|>",
    "<|user|> / <|assistant|> / <|system|>": r"<\|(?:user|assistant|system|end|eot_id|start_header_id|end_header_id)\|>",
    "<s> / </s>": r"</?s>",
    "[INST] / [/INST]": r"\[/?INST\]",
    "<unk> / <pad> / <mask>": r"<(?:unk|pad|mask)>",
    "### Instruction: / ### Response:": r"(?m)^#{2,4}\s*(?:Instruction|Response|Input|Assistant|Human)\s*:",
    "Human: / Assistant: turn labels": r"(?m)^(?:Human|Assistant|User|AI)\s*:",
    "<noinput> / <nooutput> placeholders": r"(?i)<no ?(?:input|output)>",
}
MARKDOWN_PATTERNS: dict[str, str] = {
    "code fence ```": r"```",
    "heading (# ...)": r"(?m)^#{1,6} \S",
    "bold **...**": r"\*\*[^*\n]+\*\*",
    "link [..](..)": r"\[[^\]\n]+\]\([^)\s]+\)",
    "image ![..](..)": r"!\[[^\]\n]*\]\([^)\s]+\)",
    "table row |---|": r"(?m)^\|?\s*:?-{3,}:?\s*\|",
}
ENCODING_PATTERNS: dict[str, str] = {
    "HTML entity (&amp; &#39; ...)": r"&(?:[a-zA-Z]{2,8}|#\d{2,5}|#x[0-9a-fA-F]{2,4});",
    "replacement char U+FFFD": "\ufffd",
    "zero-width / BOM char": "[\u200b\u200c\u200d\u2060\ufeff]",
    "control char": r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    "mojibake (Ã© â€™ ...)": r"(?:Ã[\x80-\xbf©¨¤¶¼]|â€[™œ\x9d“”˜])",
}
HTML_TAG = r"</?([a-zA-Z][a-zA-Z0-9]{0,10})(?:\s[^<>]{0,200})?/?>"
HTML_NAMES = ("html|head|body|div|span|p|br|hr|a|b|i|u|em|strong|ul|ol|li|table|tr|td|th|thead|tbody|img|script|"
              "style|pre|h[1-6]|blockquote|font|center|iframe|meta|sup|sub|small|form|button|nav|footer|header|"
              "section|article|dl|dt|dd|figure|svg|noscript")
KNOWN_HTML_TAG = rf"(?i)</?(?:{HTML_NAMES})(?:\s[^<>]{{0,200}})?/?>"


def debris_part(df: pl.DataFrame, view: pl.DataFrame, counter: TokenCounter) -> dict[str, Any]:
    """Per pattern: rows hit, by field, and the first hit (pos, id, an example); unclosed fences; HTML tags."""
    frame = pl.DataFrame({
        "_id": view["id"],
        "prompt": view["prompt"].fill_null(""),
        "answer": view["response"].fill_null(""),
        "text": df["text"].fill_null(""),
    })
    patterns: list[tuple[str, str, str]] = []
    patterns += [("special token", name, rx) for name, rx in SPECIAL_TOKEN_PATTERNS.items()]
    for t in counter.special_tokens():  # the tokenizer's own special tokens, when not covered above
        if not any(re.search(rx, t) for rx in SPECIAL_TOKEN_PATTERNS.values()):
            patterns.append(("special token", f"{t} (tokenizer's own)", re.escape(t)))
    patterns += [("markdown", name, rx) for name, rx in MARKDOWN_PATTERNS.items()]
    patterns += [("encoding", name, rx) for name, rx in ENCODING_PATTERNS.items()]
    patterns.append(("html", "HTML tag (<p>, <br>, <div>, ...)", KNOWN_HTML_TAG))
    text_cols = [c for c in ("prompt", "answer", "text") if c in frame.columns]
    found = []
    for group, name, rx in patterns:
        hits = frame.with_row_index("pos").select(
            "pos", "_id", *text_cols, *[pl.col(c).str.contains(rx).alias(f"hit_{c}") for c in text_cols])
        any_hit = hits.filter(pl.any_horizontal([pl.col(f"hit_{c}") for c in text_cols]))
        entry: dict[str, Any] = {"group": group, "pattern": name, "rows": any_hit.height,
                                 "by_field": {c: int(any_hit[f"hit_{c}"].sum()) for c in text_cols}}
        if any_hit.height:
            first = any_hit.row(0, named=True)
            where = next(c for c in text_cols if first[f"hit_{c}"])
            m = re.search(rx, first[where])
            start = max(0, (m.start() if m else 0) - 60)
            entry.update(example_id=first["_id"], example=snippet(first[where][start:start + 200], 200))
        found.append(entry)
    odd_fences = frame.filter(pl.col("answer").str.count_matches("```") % 2 == 1).height if frame.height else 0
    tags = (frame.select(pl.concat_str([pl.col(c) for c in text_cols], separator="\n")
                         .str.extract_all(HTML_TAG).alias("t"), "_id")
            .explode("t").drop_nulls()
            .with_columns(pl.col("t").str.extract(r"</?([a-zA-Z][a-zA-Z0-9]*)").str.to_lowercase().alias("tag"))
            .group_by("tag").agg(pl.col("_id").n_unique().cast(pl.Int64).alias("rows"),
                                 pl.len().cast(pl.Int64).alias("times")))
    return {"patterns": found, "odd_fences": odd_fences, "tags": tags}


def debris_merge(parts: list[dict[str, Any]], top_n: int) -> dict[str, Any]:
    """Rows containing stray special tokens, HTML tags, Markdown or encoding debris (by field); the example of
    a pattern is its first row in input order. Tag rows add up because row ids are unique across parts."""
    found = []
    for i, entry in enumerate(parts[0]["patterns"]):
        mine = [p["patterns"][i] for p in parts]
        rows = sum(m["rows"] for m in mine)
        if not rows:
            continue
        first = next(m for m in mine if m["rows"])
        by_field = {c: sum(m["by_field"][c] for m in mine) for c in first["by_field"]}
        found.append({"group": entry["group"], "pattern": entry["pattern"], "rows": rows,
                      "by_field": {c: n for c, n in by_field.items() if n},
                      "example_id": first["example_id"], "example": first["example"]})
    odd_fences = sum(p["odd_fences"] for p in parts)
    if odd_fences:
        found.append({"group": "markdown", "pattern": "unclosed code fence (odd number of ```)",
                      "rows": odd_fences, "by_field": {"answer": odd_fences}, "example_id": "", "example": ""})
    tags = (cat(p["tags"] for p in parts).group_by("tag").agg(pl.col("rows").sum(), pl.col("times").sum())
            .sort(["rows", "tag"], descending=[True, False]).head(top_n).collect())
    return {"patterns": found,
            "html_tags": [[r["tag"], int(r["rows"]), int(r["times"])] for r in tags.iter_rows(named=True)]}
