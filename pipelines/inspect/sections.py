"""The sections of an inspection other than debris: counts, token lengths, words, turns, languages,
conflicts, outliers and breakdowns, each a function from the row view (`row_view`) to a JSON-ready dict.

Left out: the tokenizer (tokens.py), debris patterns (debris.py), verb-noun pairs (verbs.py), annotators
(annotators.py), diversity (diversity.py) and putting it all together (stats.py).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import polars as pl

from dsforge.pipelines import fields

from dsforge.pipelines.inspect import diversity
from dsforge.pipelines.inspect.tokens import TokenCounter

STOPWORDS = frozenset(
    "a an and are as at be but by can do for from has have how i if in into is it its me my no not of on or our "
    "so that the their them then there these they this to was we were what when where which who why will with "
    "you your yours he she his her him also than more most some such any each all about up out one two use used "
    "using should would could may might must been being had does did just only very s t".split()
)


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
    return fields.ref(key if key.startswith("metadata.") else f"metadata.{key}").expr().alias(key), "metadata"


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


# ---------------------------------------------------------------- the table of per-row figures


LENGTH_FIELDS: dict[str, tuple[str, str]] = {
    # name -> (label, which rows)
    "instruction": ("instruction", "rows with an instruction"),
    "input": ("input", "rows with a non-empty input"),
    "response": ("response", "response / chosen_response / assistant turns"),
    "rejected_response": ("rejected_response", "preference rows"),
    "user_turns": ("user turns", "conversation rows: all user messages"),
    "conversation": ("whole conversation", "prompt + answer (document text for documents; both answers for preference rows)"),
}
CONVERSATION_PARTS = ("instruction", "input", "response", "user_turns", "doc_text")


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
        "chosen_response": ("preference",),
        "rejected_response": ("preference",),
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
    for f in ("instruction", "input", "response", "rejected_response", "user_turns", "doc_text"):
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
