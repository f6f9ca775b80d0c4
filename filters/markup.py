"""clean-markup: strip HTML and Markdown debris, normalise unicode and whitespace, and say what changed.

Scraped and generated rows carry `<br>`, `&nbsp;`, `<div>` wrappers, zero-width spaces and runs of blank
lines that a chat model should not learn to emit. This stage removes them field by field and writes, per
row, a `markup_changes` column (e.g. ["response: html_tags 3", "response: whitespace"]) and a lineage entry,
so a reviewer can see what was touched and count it.

Careful by default: only known HTML tag names are stripped (`vector<int>` and `#include <iostream>` are
code, not HTML), entities are decoded only in their full `&name;` form, fenced code blocks and inline
code are left alone (keep_code), and so are whole fields that look like code and rows whose prompt is about
code or markup ("write an HTML page": its tags are the answer; GPTeacher's code answers have no fences).
Markdown is kept unless markdown="strip". Unicode uses NFC, not NFKC,
because NFKC rewrites full-width CJK punctuation (，→,).

End-of-text tokens left at the end of a field (`<|endoftext|>`, `<|im_end|>`, `<|eot_id|>`, `</s>`: every T0
answer of Self-Instruct's fine-tuning data ends with one) are removed: a model would learn to print them.
A row is never left broken: when cleaning would make its input and its response the same text although
they differed (a "fix the spacing" task whose input is the thing to fix), the row keeps its original text
and says so in markup_changes ("kept_as_is").
Rows that are empty after cleaning are rejected (`clean-markup:empty_after_cleaning`).
Not here: boilerplate detection (menus, cookie banners) of whole web pages — use trafilatura before ingest.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.core.code_text import CODE_LINE, looks_like_code  # noqa: F401 - re-exported (quality-filter)
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

CLEANABLE = records.TEXT_COLUMNS
HTML_TAGS = ("a abbr address article aside b big blockquote body br caption center cite code dd del details div "
             "dl dt em figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img ins "
             "kbd label li link main mark meta nav noscript ol p pre q s section small span strike strong sub "
             "summary sup table tbody td tfoot th thead title tr tt u ul").split()
DROP_WITH_CONTENT = ("script", "style", "noscript", "iframe")

FENCED = re.compile(r"(```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z))", re.S)
INLINE_CODE = re.compile(r"(`[^`\n]+`)")
ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,30}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
COMMENT = re.compile(r"<!--.*?-->", re.S)
MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]+)(?:\s+\"[^\"]*\")?\)")
MD_EMPTY_LINK = re.compile(r"\[\s*\]\((?:https?://|www\.|/|#|mailto:)[^)\s]*\)")  # not C++'s `[](int x)`
MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
MD_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M)
END_TOKENS = re.compile(r"(?:\s*(?:<\|endoftext\|>|<\|im_end\|>|<\|eot_id\|>|</s>))+\s*\Z")


class CleanMarkupConfig(StageConfig):
    fields: list[records.TextColumn] = Field(default_factory=lambda: list(CLEANABLE), description="text fields to clean")
    html: bool = Field(True, description="strip known HTML tags and comments, decode &entities;")
    markdown: Literal["keep", "strip"] = Field("keep", description="keep intended Markdown, or strip it to text")
    keep_code: bool = Field(True, description="leave code untouched: fenced/inline code, code-looking fields, "
                            "and rows whose prompt is about code or markup")
    unicode: Literal["NFC", "NFKC", "none"] = Field("NFC", description="unicode normal form (NFKC folds CJK punctuation)")
    invisible: bool = Field(True, description="remove zero-width and control characters")
    whitespace: bool = Field(True, description="trim lines, collapse spaces and 3+ blank lines")
    end_tokens: bool = Field(True, description="remove end-of-text tokens (<|endoftext|>, </s>, ...) ending a field")
    drop_empty: bool = Field(True, description="reject rows whose cleaned fields are all empty")


# A row whose prompt is about code or markup wants its <tags>: "write an HTML page", "fix this PHP".
CODE_PROMPT = re.compile(r"\b(?:x?html|xml|css|jsx|tsx|react|vue|angular|svelte|php|javascript|typescript|js|"
                         r"web ?page|website|markup|markdown|tags?|template|regex|regular expression|code|program|"
                         r"script|function|snippet|sql|query|api|class|method)\b|代码|程序|网页|标签|函数|脚本",
                         re.I)


def _tag_regex(names: tuple[str, ...] | list[str]) -> re.Pattern:
    """Known tag names with real attribute syntax (name="v", name=v, at most one bare name): so
    `<a link to a funny photo>`, a placeholder in generated data, is not taken for an <a> tag."""
    alt = "|".join(sorted(names, key=len, reverse=True))
    valued = r"""\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>]+)"""
    return re.compile(rf"</?(?:{alt})(?:{valued})*(?:\s+[\w:-]+)?(?:{valued})*\s*/?>", re.I)


TAG = _tag_regex(HTML_TAGS)
BLOCK_BREAK = re.compile(r"<(?:br|/p|/div|/tr|/h[1-6]|hr)\b[^<>]*>", re.I)  # <li> itself starts a line
LIST_ITEM = re.compile(r"<li\b[^<>]*>", re.I)
WITH_CONTENT = re.compile(rf"<({'|'.join(DROP_WITH_CONTENT)})\b[^<>]*>.*?</\1\s*>", re.I | re.S)


def _clean_prose(s: str, cfg: CleanMarkupConfig, counts: dict[str, int]) -> str:
    def sub(name: str, pattern: re.Pattern, repl, text: str) -> str:
        new, n = pattern.subn(repl, text)
        if n:
            counts[name] = counts.get(name, 0) + n
        return new

    if cfg.html:
        s = sub("html_comments", COMMENT, "", s)
        s = sub("html_script_style", WITH_CONTENT, "", s)
        s = sub("html_tags", LIST_ITEM, "\n- ", s)
        s = sub("html_tags", BLOCK_BREAK, "\n", s)
        s = sub("html_tags", TAG, "", s)
        s = sub("html_entities", ENTITY, lambda m: html.unescape(m.group(0)), s)
    if cfg.markdown == "strip":
        s = sub("md_images", MD_IMAGE, r"\1", s)
        s = sub("md_links", MD_LINK, r"\1", s)
        s = sub("md_emphasis", MD_EMPHASIS, lambda m: m.group(2) if m.group(2) is not None else m.group(3), s)
        s = sub("md_headings", MD_HEADING, "", s)
        s = sub("md_rules", MD_RULE, "", s)
    s = sub("md_empty_links", MD_EMPTY_LINK, "", s)  # debris in any mode
    return s


def clean_text(text: str, cfg: CleanMarkupConfig, as_code: bool = False) -> tuple[str, dict[str, int]]:
    """Cleaned text and {change: count}. Code segments pass through unchanged when keep_code; as_code=True
    (a code answer without fences) gets only unicode, invisible characters and outer blank lines."""
    counts: dict[str, int] = {}
    s = text
    if cfg.end_tokens and (m := END_TOKENS.search(s)):
        s = s[:m.start()]
        counts["end_tokens"] = 1
    if cfg.unicode != "none":
        t = unicodedata.normalize(cfg.unicode, s)
        if t != s:
            counts["unicode"] = 1
        s = t
    if cfg.invisible:
        s, n = INVISIBLE.subn("", s)
        if n:
            counts["invisible_chars"] = n
    if as_code:
        t = s.strip("\n").rstrip() if cfg.whitespace else s
        if t != s:
            counts["whitespace"] = 1
        return t, counts
    if cfg.keep_code:
        parts = FENCED.split(s)
        out = []
        for i, part in enumerate(parts):
            if i % 2:  # fenced code
                out.append(part)
                continue
            inl = INLINE_CODE.split(part)
            out.append("".join(p if j % 2 else _clean_prose(p, cfg, counts) for j, p in enumerate(inl)))
        s = "".join(out)
    else:
        s = _clean_prose(s, cfg, counts)
    if cfg.whitespace:
        t = _normalise_whitespace(s, cfg.keep_code)
        if t != s:
            counts["whitespace"] = 1
        s = t
    return s, counts


def _normalise_whitespace(s: str, keep_code: bool) -> str:
    parts = FENCED.split(s) if keep_code else [s]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
            continue
        part = part.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
        part = re.sub(r"[ \t]+\n", "\n", part)
        part = re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", part)  # inner runs only: indentation stays
        part = re.sub(r"\n{3,}", "\n\n", part)
        out.append(part)
    return "".join(out).strip()


class CleanMarkup(Stage[CleanMarkupConfig]):
    name = "clean-markup"
    mode = "rows"
    Config = CleanMarkupConfig
    version = "2"
    batch_size = 20_000

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        fields = [f for f in cfg.fields if f in df.columns]
        rows = df.select(fields).to_dicts()
        new = {f: [] for f in fields}
        changes: list[list[str]] = []
        empty: list[bool] = []
        totals: dict[str, int] = {}
        prompts = df.select(pl.col("instruction").fill_null(""))["instruction"].to_list()
        for row, prompt in zip(rows, prompts):
            row_changes, had_text, has_text = [], False, False
            code_row = cfg.keep_code and bool(CODE_PROMPT.search(prompt))
            for f in fields:
                v = row[f]
                if f == "messages" and v is not None:
                    msgs = []
                    for m, msg in enumerate(v):
                        content = msg["content"] or ""
                        c, counts = clean_text(content, cfg, cfg.keep_code and looks_like_code(content))
                        had_text |= bool((msg["content"] or "").strip())
                        has_text |= bool(c)
                        row_changes += [f"messages.{m}: {k} {n}" for k, n in counts.items()]
                        _add(totals, counts)
                        msgs.append({**msg, "content": c})
                    new[f].append(msgs)
                elif isinstance(v, str):
                    c, counts = clean_text(v, cfg, code_row or (cfg.keep_code and looks_like_code(v)))
                    had_text |= bool(v.strip())
                    has_text |= bool(c)
                    row_changes += [f"{f}: {k} {n}" for k, n in counts.items()]
                    _add(totals, counts)
                    new[f].append(c)
                else:
                    new[f].append(v)
            if _collapsed(row, {f: new[f][-1] for f in fields}):
                for f in fields:  # the task would lose what it asks about: leave the row as it was
                    new[f][-1] = row[f]
                row_changes, has_text = ["kept_as_is: cleaning would make input and response the same"], had_text
            changes.append(row_changes)
            empty.append(cfg.drop_empty and had_text and not has_text)
        out = df.with_columns(pl.Series(f, v, dtype=df.schema[f]) for f, v in new.items())
        out = out.with_columns(pl.Series("markup_changes", changes, dtype=pl.List(pl.String)))
        info = [json.dumps({"changes": c}, ensure_ascii=False) if c else None for c in changes]
        entry = pl.struct(pl.lit(self.name).alias("stage"), pl.col("__info").alias("info"))
        out = out.with_columns(pl.Series("__info", info, dtype=pl.String), pl.Series("__empty", empty, dtype=pl.Boolean))
        out = out.with_columns(pl.when(pl.col("__info").is_not_null())
                               .then(pl.col("lineage").list.concat(pl.concat_list(entry)))
                               .otherwise(pl.col("lineage")).alias("lineage"))
        kept = out.filter(~pl.col("__empty")).drop("__info", "__empty")
        rejected = self.reject(df.filter(pl.Series(empty, dtype=pl.Boolean)), "empty_after_cleaning",
                               f"all of {', '.join(fields)} are empty after removing markup")
        stats = {"rows_changed": sum(1 for c in changes if c), **{f"changed_{k}": n for k, n in totals.items()}}
        return StageResult(kept=kept, rejected=rejected, stats=stats)


def _collapsed(before: dict, after: dict) -> bool:
    """Input and response differed and cleaning would make them equal."""
    a, b = before.get("input"), before.get("response")
    x, y = after.get("input"), after.get("response")
    return bool(a and b and x and y) and a.strip() != b.strip() and x == y


def _add(totals: dict[str, int], counts: dict[str, int]) -> None:
    for k, n in counts.items():
        totals[k] = totals.get(k, 0) + n
