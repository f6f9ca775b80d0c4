"""Token lengths, length outliers and breakdowns: the sections built on per-row token counts.

Token lengths are integers, so every part sends count tables, (value, rows), never the lengths of its
rows: percentiles, histograms, per-source medians and MADs of log length, and the number of flagged
outliers come out of the merged count tables exactly. Example rows (longest, shortest, most extreme)
are a part's own few most extreme rows per source, which always include the whole table's.
Left out: the tokenizer (tokens.py) and the other sections (sections.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from dsforge.pipelines.stages.inspect import diversity
from dsforge.pipelines.stages.inspect.merging import (ORDER, cat, distribution, median, merge_counts, nearest, percentiles,
                                               positions)
from dsforge.pipelines.stages.inspect.sections import column_or_meta, snippet
from dsforge.pipelines.stages.inspect.tokens import TokenCounter

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


def token_lengths(view: pl.DataFrame, counter: TokenCounter) -> tuple[pl.DataFrame, np.ndarray | None]:
    """Per-row token lengths (`tok_<field>`, null where the field does not apply) and every token id's count.

    Each text is tokenized once: a conversation's length is the sum of its parts (instruction, input, answer or
    user turns + assistant turns) plus the separator tokens between them, which is exact for tokenizers that
    split on whitespace before merging (BPE/byte-level ones such as SmolLM2's) and within a token or two
    otherwise. That halves the tokenizer time compared with tokenizing the joined text again."""
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
    per_row["conversation"] = np.where(is_doc, per_row["doc_text"], prompt + answer_sep + per_row["response"])
    present["conversation"] = np.ones(view.height, dtype=bool)
    lengths = pl.DataFrame({f"tok_{f}": pl.Series(per_row[f], dtype=pl.Int64) for f in LENGTH_FIELDS}).with_columns(
        pl.when(pl.Series(present[f])).then(pl.col(f"tok_{f}")).alias(f"tok_{f}") for f in LENGTH_FIELDS)
    return lengths, ids_counter


def lengths_part(lengths: pl.DataFrame, ids_counter: np.ndarray | None) -> dict[str, Any]:
    """(field, value, rows) count tables of the token lengths, and the token id counts."""
    tables = [lengths.select(pl.col(f"tok_{f}").alias("value")).drop_nulls().group_by("value")
              .agg(pl.len().cast(pl.Int64).alias("n")).with_columns(pl.lit(f).alias("field")) for f in LENGTH_FIELDS]
    return {"counts": pl.concat(tables), "ids": ids_counter}


def lengths_merge(parts: list[dict[str, Any]], counter: TokenCounter, top_n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The lengths section (a distribution per field) and the tokens section (top tokens, distinct, total)."""
    t = cat(p["counts"] for p in parts).select("field", "value", "n").collect()
    out: dict[str, Any] = {"unit": counter.unit, "fields": {}}
    for f, (label, which) in LENGTH_FIELDS.items():
        mine = t.filter(pl.col("field") == f)
        if mine.height:
            v, c = merge_counts(mine["value"].to_numpy(), mine["n"].to_numpy())
            out["fields"][f] = {"label": label, "rows": which, **distribution(v, c)}
    tokens: dict[str, Any] = {"top_tokens": [], "distinct_tokens": 0, "total_tokens": 0}
    ids = [p["ids"] for p in parts if p["ids"] is not None]
    ids_counter = np.sum(ids, axis=0) if ids else None
    if ids_counter is not None and ids_counter.sum():
        order = np.argsort(-ids_counter, kind="stable")[:top_n]
        tokens = {
            "top_tokens": [[counter.piece(int(i)), int(ids_counter[i])] for i in order if ids_counter[i]],
            "distinct_tokens": int((ids_counter > 0).sum()),
            "total_tokens": int(ids_counter.sum()),
            "vocab_size": counter.vocab_size(),
        }
    return out, tokens


# ---------------------------------------------------------------- outliers


def outliers_part(view: pl.DataFrame, lengths: pl.DataFrame, keep: int) -> dict[str, Any]:
    """(source, tokens, rows) of the conversation lengths, and per source the `keep` longest and shortest rows
    (the whole table's most extreme rows of a source are among some part's most extreme ones)."""
    t = pl.DataFrame({"id": view["id"], "source": view["source"], "tokens": lengths["tok_conversation"],
                      "response_tokens": lengths["tok_response"], "text": view["conversation"]}).with_columns(positions())
    counts = t.group_by("source", "tokens", maintain_order=True).agg(pl.len().cast(pl.Int64).alias("n"))
    ends = pl.concat([t.sort(["tokens", "pos"], descending=[True, False]).group_by("source").head(keep),
                      t.sort(["tokens", "pos"]).group_by("source").head(keep)]).unique("pos").sort("pos")
    ends = ends.with_columns(pl.Series("text", [snippet(x, 200) for x in ends["text"].to_list()], dtype=pl.String))
    return {"counts": counts, "candidates": ends}


def _robust_z(tokens: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """z per distinct length (0.6745 (log(1+t) - median) / MAD of one source), the median and MAD of log(1+t)."""
    logs = np.log1p(tokens.astype(np.float64))
    med = median(logs, counts)
    dev = np.abs(logs - med)
    order = np.argsort(dev, kind="stable")
    mad = median(dev[order], counts[order])
    z = 0.6745 * (logs - med) / mad if mad > 0 else np.zeros(len(tokens))
    return z, med, mad


def outliers_merge(parts: list[dict[str, Any]], z_limit: float, examples: int) -> tuple[dict[str, Any], pl.DataFrame | None]:
    """The outliers section, and the (source, tokens, flagged) table the breakdowns count outliers with."""
    counts = cat(p["counts"] for p in parts).group_by("source", "tokens", maintain_order=True).agg(
        pl.col("n").sum()).collect()
    if not counts.height:
        return {}, None
    per_source, z_tables = {}, []
    for (src,), g in counts.group_by("source", maintain_order=True):
        v, c = merge_counts(g["tokens"].to_numpy(), g["n"].to_numpy())
        z, _, mad = _robust_z(v, c)
        flag = np.abs(z) > z_limit
        q = percentiles(v, c, [5, 25, 50, 75, 95])
        per_source[src] = {"rows": int(c.sum()), "median": q[2], "box": q, "mad_log": round(float(mad), 4),
                           "high": int(c[flag & (z > 0)].sum()), "low": int(c[flag & (z < 0)].sum()),
                           "_median_tokens": median(v, c)}
        z_tables.append(pl.DataFrame({"source": [src] * len(v), "tokens": v, "z": z, "n": c},
                                     schema={"source": pl.String, "tokens": pl.Int64, "z": pl.Float64, "n": pl.Int64}))
    zt = pl.concat(z_tables).with_columns((pl.col("z").abs() > z_limit).alias("flagged"))
    medians = {s: e.pop("_median_tokens") for s, e in per_source.items()}
    cand = cat(p["candidates"] for p in parts).collect().join(zt.select("source", "tokens", "z"),
                                                             on=["source", "tokens"], how="left")

    def rows_of(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return [{"id": r["id"], "source": r["source"], "tokens": int(r["tokens"]),
                 "source_median": float(medians[r["source"]]), "z": round(float(r["z"]), 2),
                 "response_tokens": None if r["response_tokens"] is None else int(r["response_tokens"]),
                 "text": r["text"]} for r in frame.iter_rows(named=True)]

    flagged = zt.filter("flagged")
    extreme = cand.filter(pl.col("z").abs() > z_limit).with_columns(pl.col("z").abs().alias("_abs"))
    out = {
        "method": (f"robust z-score of log(1 + conversation tokens) against the row's own source: "
                   f"0.6745·(x − median)/MAD; |z| > {z_limit} is flagged (Iglewicz & Hoaglin)"),
        "threshold": z_limit,
        "flagged": int(flagged["n"].sum()),
        "flagged_high": int(flagged.filter(pl.col("z") > 0)["n"].sum()),
        "flagged_low": int(flagged.filter(pl.col("z") < 0)["n"].sum()),
        "by_source": per_source,
        "most_extreme": rows_of(extreme.sort(["_abs", *ORDER], descending=[True, False, False]).head(examples * 2)),
        "longest": rows_of(cand.sort(["tokens", *ORDER], descending=[True, False, False]).head(examples)),
        "shortest": rows_of(cand.sort(["tokens", *ORDER]).head(examples)),
    }
    return out, zt.select("source", "tokens", "flagged")


# ---------------------------------------------------------------- breakdowns


def breakdown_part(df: pl.DataFrame, view: pl.DataFrame, lengths: pl.DataFrame, language: pl.Series | None,
                   keys: list[str]) -> dict[str, Any]:
    """Per `by` key: where its values come from, and (value, source, tokens), (value, response tokens),
    (value, language) and (value, empty responses) count tables."""
    out = {}
    lang = language if language is not None else pl.Series([None] * df.height, dtype=pl.String)
    for key in keys:
        expr, origin = column_or_meta(df, key)
        t = pl.DataFrame({"v": df.select(expr).to_series(), "source": view["source"],
                          "tok": lengths["tok_conversation"], "resp": lengths["tok_response"], "lang": lang,
                          "empty": view["response"].is_not_null() & (view["response"].str.strip_chars() == "")})
        n = pl.len().cast(pl.Int64).alias("n")
        out[key] = {"origin": origin,
                    "tok": t.group_by("v", "source", "tok", maintain_order=True).agg(n),
                    "resp": t.filter(pl.col("resp").is_not_null()).group_by("v", "resp").agg(n),
                    "lang": t.filter(pl.col("lang").is_not_null()).group_by("v", "lang").agg(n),
                    "empty": t.group_by("v").agg(pl.col("empty").sum().cast(pl.Int64).alias("n"))}
    return out


def bucket_dates(values: pl.DataFrame) -> tuple[dict[str, str | None], str | None]:
    """ISO dates (YYYY-MM-DD...) bucketed by day, month or year (by the span) when 90% of the rows' values are
    dates. `values`: distinct values (v) and their rows (n); returns value -> bucket (None: not a date)."""
    present = values.filter(pl.col("v").is_not_null())
    rows = int(present["n"].sum()) if present.height else 0
    if not rows:
        return {}, None
    dated = present.filter(pl.col("v").str.contains(r"^\d{4}-\d{2}-\d{2}"))
    if int(dated["n"].sum()) < 0.9 * rows:
        return {}, None
    parsed = present.with_columns(pl.col("v").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias("d"))
    ok = parsed.filter(pl.col("d").is_not_null())
    if int(ok["n"].sum()) < 0.9 * rows:
        return {}, None
    span = (ok["d"].max() - ok["d"].min()).days
    every, fmt = ("1d", "%Y-%m-%d") if span <= 62 else (("1mo", "%Y-%m") if span <= 5 * 366 else ("1y", "%Y"))
    buckets = parsed.with_columns(pl.col("d").dt.truncate(every).dt.strftime(fmt).alias("b"))
    return dict(zip(buckets["v"].to_list(), buckets["b"].to_list())), {"1d": "day", "1mo": "month", "1y": "year"}[every]


def _values(frame: pl.DataFrame, mapping: dict[str, str | None] | None) -> pl.DataFrame:
    """The value column after date bucketing, with missing values as '(missing)'."""
    v = pl.col("v").replace_strict(mapping, default=None, return_dtype=pl.String) if mapping else pl.col("v")
    return frame.with_columns(v.fill_null("(missing)").alias("v"))


def breakdown_merge(parts: list[dict[str, Any]], keys: list[str], firsts: dict[str, Any],
                    flags: pl.DataFrame | None, total: int, max_values: int = 25) -> dict[str, Any]:
    """Per `by` key and value: rows, conversation-length box, median response length, empty responses, exact
    duplicates (rows beyond the first of their group), outliers and the most common language."""
    out = {}
    for key in keys:
        mine = [p[key] for p in parts]
        origin = "column" if any(m["origin"] == "column" for m in mine) else "metadata"
        tok = cat(m["tok"] for m in mine).group_by("v", "source", "tok").agg(pl.col("n").sum()).collect()
        raw = tok.group_by("v").agg(pl.col("n").sum())
        if not raw.filter(pl.col("v").is_not_null()).height:
            out[key] = {"origin": origin, "missing": total, "values": [],
                        "warning": f"no row has {key!r} (neither a column nor a metadata key)"}
            continue
        mapping, bucket = bucket_dates(raw)
        if flags is not None:
            tok = tok.join(flags, left_on=["source", "tok"], right_on=["source", "tokens"], how="left")
        else:
            tok = tok.with_columns(pl.lit(False).alias("flagged"))
        tok = _values(tok, mapping if bucket else None)
        first = pl.DataFrame({"v": list(firsts[key].keys()), "n": list(firsts[key].values())},
                             schema={"v": pl.String, "n": pl.Int64})
        tables = {name: _values(cat(m[name] for m in mine).collect(), mapping if bucket else None)
                  for name in ("resp", "lang", "empty")}
        first = _values(first, mapping if bucket else None)
        missing = int(_values(raw, mapping if bucket else None).filter(pl.col("v") == "(missing)")["n"].sum())
        agg = []
        for (v,), g in tok.group_by("v"):
            tv, tc = merge_counts(g["tok"].to_numpy(), g["n"].to_numpy())
            r = tables["resp"].filter(pl.col("v") == v)
            rv, rc = merge_counts(r["resp"].to_numpy(), r["n"].to_numpy())
            langs = tables["lang"].filter(pl.col("v") == v).group_by("lang").agg(pl.col("n").sum())
            top_lang = langs.sort(["n", "lang"], descending=[True, False])["lang"][0] if langs.height else None
            rows = int(tc.sum())
            agg.append({"v": v, "rows": rows, "box": [float(nearest(tv, tc, q)) for q in (0.05, 0.25)] +
                        [median(tv, tc)] + [float(nearest(tv, tc, q)) for q in (0.75, 0.95)],
                        "p90": float(nearest(tv, tc, 0.9)), "resp_p50": median(rv, rc),
                        "empty": int(tables["empty"].filter(pl.col("v") == v)["n"].sum()),
                        "dups": rows - int(first.filter(pl.col("v") == v)["n"].sum()),
                        "outliers": int(g.filter(pl.col("flagged").fill_null(False))["n"].sum()), "lang": top_lang})
        agg.sort(key=lambda a: a["v"]) if bucket else agg.sort(key=lambda a: (-a["rows"], a["v"]))
        shown, rest = agg[:max_values], agg[max_values:]
        vals = [{
            "value": a["v"], "rows": a["rows"], "share": round(a["rows"] / total, 4), "box": a["box"],
            "p90": a["p90"], "response_p50": a["resp_p50"], "empty_responses": a["empty"],
            "exact_duplicates": a["dups"], "outliers": a["outliers"], "top_language": a["lang"],
        } for a in shown]
        out[key] = {"origin": origin, "bucketed_by": bucket, "distinct": len(agg),
                    "coverage": diversity.coverage([a["rows"] for a in agg]),
                    "missing": missing, "values": vals,
                    "other": {"values": len(rest), "rows": sum(a["rows"] for a in rest)} if rest else None}
    return out
