"""The row view and the simple sections of an inspection: counts (with exact duplicates), words, turns and
languages. Each section is a pair: `X_part(...)` summarises one part (counters, small tables with `pos`),
`X_merge(parts, ...)` turns the summaries of all parts, in input order, into the JSON-ready figures
(merging.py says why the merged figures are those of the whole table).

Exact duplicates are grouped by a 64-bit hash of the row's text, so merging holds a few integers per
distinct row and reads ids and snippets only for the groups it shows.
Left out: token lengths, outliers and breakdowns (lengths.py), conflicts (conflicts.py), the tokenizer
(tokens.py), debris (debris.py), verb-noun pairs (verbs.py), annotators (annotators.py), diversity
(diversity.py) and putting it all together (stats.py).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import polars as pl

from dsforge.pipelines.core import fields
from dsforge.pipelines.stages.inspect.merging import ORDER, add_counters, by_count, cat, positions

STOPWORDS = frozenset(
    "a an and are as at be but by can do for from has have how i if in into is it its me my no not of on or our "
    "so that the their them then there these they this to was we were what when where which who why will with "
    "you your yours he she his her him also than more most some such any each all about up out one two use used "
    "using should would could may might must been being had does did just only very s t".split()
)


# ---------------------------------------------------------------- helpers


def snippet(text: str | None, n: int = 160) -> str:
    if text is None:
        return ""
    t = " ".join(str(text).split())
    return t if len(t) <= n else t[: n - 1] + "…"


def column_or_meta(df: pl.DataFrame, key: str) -> tuple[pl.Expr, str]:
    """A real column if the table has it, else the metadata key (JSON) of that name."""
    if key in df.columns and key != "metadata":
        return pl.col(key).cast(pl.String).alias(key), "column"
    return fields.ref(key if key.startswith("metadata.") else f"metadata.{key}").expr().alias(key), "metadata"


# ---------------------------------------------------------------- the table of per-row figures


def row_view(df: pl.DataFrame) -> pl.DataFrame:
    """One row per record with the texts the inspection measures (nulls where a field does not apply)."""
    is_conv = pl.col("kind") == "conversation"
    return df.select(
        "id", "source", "kind",
        pl.when(~is_conv).then(pl.col("instruction")).alias("instruction"),
        pl.when(pl.col("input").str.strip_chars().str.len_chars() > 0).then(pl.col("input")).alias("input"),
        pl.when(pl.col("kind") != "document").then(fields.ANSWER.expr()).alias("response"),
        pl.when(pl.col("kind") == "preference").then(pl.col("rejected_response")).alias("rejected_response"),
        pl.when(is_conv).then(fields.PROMPT.expr()).alias("user_turns"),
        fields.CONVERSATION.expr().fill_null("").alias("conversation"),
        pl.when(pl.col("kind") == "document").then(pl.col("text")).alias("doc_text"),
        pl.when(pl.col("kind") != "document").then(fields.PROMPT.expr()).alias("prompt"),
        pl.col("messages").list.len().fill_null(0).alias("n_messages"),
        pl.col("messages").list.eval(pl.element().struct.field("role") == "user").list.sum()
        .fill_null(0).alias("n_user_turns"),
    )


def duplicate_key(df: pl.DataFrame, view: pl.DataFrame, annotator_key: str) -> pl.Series:
    """What makes two rows the same: kind and prompt + answer text, plus the score and annotator when there are
    scores (an item scored by three annotators is three annotations, not two duplicates). A 64-bit hash."""
    ann_expr, _ = column_or_meta(df, annotator_key)
    extra = df.select(pl.concat_str([pl.col("score").cast(pl.String), ann_expr], separator="\x00", ignore_nulls=True)
                      .fill_null("").alias("x"))["x"]
    return view.select(pl.concat_str([pl.col("kind"), pl.col("conversation"), pl.lit(extra)], separator="\x00")
                       .hash().alias("k"))["k"]


def first_seen(s: pl.Series) -> dict[str, int]:
    """Value counts in first-appearance order (merged counters keep it: ties sort the same whatever the parts)."""
    return {str(k): int(v) for k, v in pl.DataFrame({"v": s}).group_by("v", maintain_order=True).len().iter_rows()}


FIELD_KINDS = {
    "instruction": ("instruction", "preference", "scored"),
    "input": ("instruction", "preference", "scored"),
    "response": ("instruction", "scored"),
    "chosen_response": ("preference",),
    "rejected_response": ("preference",),
    "score": ("scored",),
    "text": ("document",),
    "messages": ("conversation",),
}


def counts_part(df: pl.DataFrame, view: pl.DataFrame, dup_key: pl.Series, by: dict[str, pl.Series]) -> dict[str, Any]:
    """Rows, sources, kinds, metadata keys and missing/empty fields as counters; and one row per distinct
    duplicate key: its rows here, its first row (pos, up to 3 ids, a snippet) and that row's `by` values."""
    meta_keys: Counter = Counter()
    for m in df["metadata"].to_list():
        try:
            obj = json.loads(m or "{}")
        except ValueError:
            continue
        if isinstance(obj, dict):
            meta_keys.update(obj.keys())
    field_counts: dict[str, list[int]] = {}
    for f, kinds in FIELD_KINDS.items():
        sub = df.filter(pl.col("kind").is_in(kinds))
        if f == "messages":
            empty = sub.filter(pl.col(f).list.len() == 0).height
        elif f == "score":
            empty = sub.filter(pl.col(f).is_nan()).height
        else:
            empty = sub.filter(pl.col(f).str.strip_chars().str.len_chars() == 0).height
        field_counts[f] = [sub.height, int(sub[f].null_count()), empty]
    conv = df.filter(pl.col("kind") == "conversation")
    empty_turns = conv.select(pl.col("messages").list.eval(
        pl.element().struct.field("content").str.strip_chars().str.len_chars() == 0).list.sum()).to_series()
    field_counts["messages[].content"] = [conv.height, 0, int((empty_turns > 0).sum())]
    keyed = view.select("id", "conversation", positions()).with_columns(
        dup_key.alias("k"), *[v.alias(f"v_{key}") for key, v in by.items()])
    groups = keyed.group_by("k", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("n"), pl.col("pos").first(), pl.col("id").head(3).alias("ids"),
        pl.col("conversation").first().alias("text"), *[pl.col(f"v_{key}").first() for key in by])
    groups = groups.with_columns(pl.Series("text", [snippet(t) for t in groups["text"].to_list()], dtype=pl.String))
    return {"rows": df.height, "sources": first_seen(df["source"]), "kinds": first_seen(df["kind"]),
            "metadata_keys": dict(meta_keys), "fields": field_counts, "dups": groups}


def counts_merge(parts: list[dict[str, Any]], examples: int, by: list[str]) -> tuple[dict[str, Any], dict[str, Counter]]:
    """The counts section, and per `by` key how many distinct rows have their first row at each value
    (a value's duplicate rows are its rows minus those)."""
    fields_out = []
    for f in [*FIELD_KINDS, "messages[].content"]:
        rows, missing, empty = (sum(p["fields"][f][i] for p in parts) for i in range(3))
        if rows:
            note = {"input": "optional: empty is normal", "messages[].content": "conversations with an empty turn"}
            fields_out.append({"field": f, "rows": rows, "missing": missing, "empty": empty, "note": note.get(f, "")})
    dups = cat(p["dups"] for p in parts)
    keys = dups.group_by("k", maintain_order=True).agg(
        pl.col("n").sum(), pl.col("__part").first(), pl.col("pos").first(),
        *[pl.col(f"v_{key}").first() for key in by]).collect()
    firsts = {key: Counter(dict(keys.group_by(f"v_{key}", maintain_order=True).len().iter_rows())) for key in by}
    groups = keys.filter(pl.col("n") > 1)
    shown = groups.sort(["n", *ORDER], descending=[True, False, False]).head(examples)
    detail = (dups.filter(pl.col("k").is_in(shown["k"].implode())).select("k", "ids", "text", *ORDER).collect()
              .sort(ORDER).group_by("k", maintain_order=True).agg(pl.col("ids").list.explode(keep_nulls=False, empty_as_null=False).head(3), pl.col("text").first()))
    detail = {r["k"]: r for r in detail.iter_rows(named=True)}
    meta = add_counters(p["metadata_keys"] for p in parts)
    counts = {
        "rows": sum(p["rows"] for p in parts),
        "sources": by_count(add_counters(p["sources"] for p in parts)),
        "kinds": by_count(add_counters(p["kinds"] for p in parts)),
        "metadata_keys": dict(sorted(meta.items(), key=lambda kv: -kv[1])),
        "fields": fields_out,
        "exact_duplicates": {
            "rows": int((groups["n"] - 1).sum()) if groups.height else 0,
            "groups": groups.height,
            "definition": ("same kind and identical prompt + answer text (and the same score and annotator for scored rows); "
                           "counted: rows beyond the first of each group"),
            "examples": [{"count": int(r["n"]), "ids": detail[r["k"]]["ids"], "text": detail[r["k"]]["text"]}
                         for r in shown.iter_rows(named=True)],
        },
    }
    return counts, firsts


WORD_PATTERN = r"[\p{Han}\p{Hiragana}\p{Katakana}]|[\p{L}--\p{Han}\p{Hiragana}\p{Katakana}]{2,}"


def words_part(view: pl.DataFrame) -> pl.DataFrame:
    """(word, rows of it) of one part: lower-cased, stop words removed; Chinese/Japanese characters one by one."""
    words = view.select(pl.col("conversation").str.to_lowercase().str.extract_all(WORD_PATTERN).alias("w"))
    words = words.explode("w").drop_nulls().filter(~pl.col("w").is_in(list(STOPWORDS)))
    return words.group_by("w").agg(pl.len().cast(pl.Int64).alias("n"))


def top_words(parts: list[pl.LazyFrame], top_n: int) -> list[list[Any]]:
    """Most common words over all parts (ties by the word)."""
    top = (cat(parts).group_by("w").agg(pl.col("n").sum())
           .sort(["n", "w"], descending=[True, False]).head(top_n).collect())
    return [[w, int(c)] for w, c in top.iter_rows()]


def turns_part(view: pl.DataFrame) -> dict[str, Any]:
    conv = view.filter(pl.col("kind") == "conversation")
    return {"single": view.filter(pl.col("kind").is_in(["instruction", "preference", "scored"])).height,
            "conversations": conv.height, "messages": Counter(conv["n_messages"].to_list()),
            "user_turns": Counter(conv["n_user_turns"].to_list()),
            "multi": int((conv["n_user_turns"] > 1).sum()), "user_turn_sum": int(conv["n_user_turns"].sum())}


def turns_merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    conv = sum(p["conversations"] for p in parts)
    out: dict[str, Any] = {"single_turn_rows": sum(p["single"] for p in parts), "conversation_rows": conv}
    if conv:
        for key, name in (("messages", "messages_per_conversation"), ("user_turns", "user_turns_per_conversation")):
            out[name] = {str(k): int(v) for k, v in sorted(add_counters(p[key] for p in parts).items())}
        out["multi_turn_rows"] = sum(p["multi"] for p in parts)
        out["mean_user_turns"] = round(sum(p["user_turn_sum"] for p in parts) / conv, 2)
    return out


LANGUAGE_CHARS = 200


def languages(view: pl.DataFrame, chars: int = LANGUAGE_CHARS) -> pl.Series | None:
    """Language of each row (py3langid, offline) on the first `chars` characters of the conversation; None
    when py3langid is missing."""
    try:
        import py3langid as langid
    except ImportError:
        return None
    texts = view["conversation"].str.slice(0, chars).to_list()
    return pl.Series("language", [langid.classify(t)[0] if len(t.strip()) >= 3 else "(empty)" for t in texts],
                     dtype=pl.String)


def language_part(view: pl.DataFrame, language: pl.Series | None) -> pl.DataFrame | None:
    """(source, language, rows) in first-appearance order."""
    if language is None:
        return None
    return (pl.DataFrame({"source": view["source"], "language": language})
            .group_by("source", "language", maintain_order=True).agg(pl.len().cast(pl.Int64).alias("n")))


def language_merge(parts: list[pl.LazyFrame | None]) -> dict[str, Any]:
    if any(p is None for p in parts):
        return {"warning": "py3langid is not installed: pip install py3langid"}
    t = (cat(parts).group_by("source", "language", maintain_order=True).agg(pl.col("n").sum()).collect()
         .sort("n", descending=True, maintain_order=True))
    per_source: dict[str, dict[str, int]] = {}
    for src, lang, n in t.iter_rows():
        per_source.setdefault(src, {})[lang] = int(n)
    langs = t.group_by("language", maintain_order=True).agg(pl.col("n").sum()).sort("n", descending=True,
                                                                                     maintain_order=True)
    return {
        "method": f"py3langid (97 languages, offline) on the first {LANGUAGE_CHARS} characters of each conversation",
        "counts": {str(k): int(v) for k, v in langs.iter_rows()},
        "by_source": per_source,
    }
