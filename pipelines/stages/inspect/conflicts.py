"""Conflicting pairs: the same prompt with different answers, and the same answer given to different prompts.

Prompts and answers (whitespace-normalised) are grouped by 64-bit hashes. A part sends one row per distinct
(prompt, answer) pair: its rows, its first rows (pos and id, up to 3) and snippets; merging groups the pairs
by prompt (or answer) hash, holding a few integers per distinct pair, and reads the snippets only of the
groups it shows. Two different texts with the same 64-bit hash would count as one (about 1 in 10^19 pairs).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dsforge.pipelines.stages.inspect.merging import ORDER, cat, positions
from dsforge.pipelines.stages.inspect.sections import snippet


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


def conflicts_part(view: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct (prompt hash `p`, answer hash `a`) of the rows with both."""
    base = view.with_columns(positions()).filter(pl.col("prompt").is_not_null() & pl.col("response").is_not_null())
    base = base.select("id", "pos", _norm(pl.col("prompt")).alias("pt"), _norm(pl.col("response")).alias("at"))
    base = base.filter((pl.col("pt") != "") & (pl.col("at") != ""))
    pairs = base.with_columns(pl.col("pt").hash().alias("p"), pl.col("at").hash().alias("a")).group_by(
        "p", "a", maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("n"), pl.col("pos").first(), pl.col("id").head(3).alias("ids"),
        pl.col("pos").head(3).alias("id_pos"), pl.col("pt").first(), pl.col("at").first())
    return pairs.select(
        "p", "a", "n", "pos", "ids", "id_pos",
        pl.Series("p_text", [snippet(t, 300) for t in pairs["pt"].to_list()], dtype=pl.String),
        pl.Series("a_text", [snippet(t, 300) for t in pairs["at"].to_list()], dtype=pl.String),
        pl.col("at").str.split(" ").list.len().alias("a_words"))


def conflicts_merge(parts: list[pl.LazyFrame], examples: int) -> dict[str, Any]:
    pairs = cat(parts)
    slim = pairs.select("p", "a", "n", "a_words", (pl.col("__part").cast(pl.Int64) * (1 << 40) + pl.col("pos"))
                        .alias("_at")).collect()
    out = {}
    for name, key, other in (("same_prompt", "p", "a"), ("same_answer", "a", "p")):
        g = (slim.group_by(key).agg(pl.col("n").sum().alias("rows"), pl.col(other).n_unique().alias("distinct"),
                                    pl.col("a_words").first(), pl.col("_at").min())
             .filter(pl.col("distinct") > 1).sort(["distinct", "rows", "_at"], descending=[True, True, False]))
        short = g.filter(pl.col("a_words") < 5) if name == "same_answer" else None
        long_ = g.filter(pl.col("a_words") >= 5) if name == "same_answer" else None
        wanted = {"examples": g.head(max(examples, 1) * 2 if name == "same_answer" else examples)}
        if long_ is not None:
            wanted["examples_long"] = long_.head(examples)
        keys = pl.concat([w[key] for w in wanted.values()]).unique()
        detail = _details(pairs, key, other, keys)
        entry: dict[str, Any] = {"groups": g.height, "rows": int(g["rows"].sum()) if g.height else 0}
        for field, frame in wanted.items():
            entry[field] = [{**detail[r[key]], "distinct": int(r["distinct"]), "rows": int(r["rows"])}
                            for r in frame.iter_rows(named=True)]
        if name == "same_answer":
            if g.height:
                entry["short_answer_groups"] = short.height
                entry["short_answer_rows"] = int(short["rows"].sum()) if short.height else 0
            else:
                entry.pop("examples_long")
            entry["examples"] = entry["examples"][:examples]
        out[name] = entry
    return out


def _details(pairs: pl.LazyFrame, key: str, other: str, keys: pl.Series) -> dict[int, dict[str, Any]]:
    """For the groups shown: the key text, the first 3 distinct other texts and the first 3 ids, in input order."""
    rows = pairs.filter(pl.col(key).is_in(keys.implode())).collect().sort(ORDER)
    out = {}
    texts = {"p": "p_text", "a": "a_text"}
    for (k,), g in rows.group_by(key, maintain_order=True):
        ids = (g.select(pl.col("__part"), pl.col("ids"), pl.col("id_pos")).explode("ids", "id_pos")
               .sort("__part", "id_pos")["ids"].head(3).to_list())
        others = g.unique(other, keep="first", maintain_order=True)[texts[other]].head(3).to_list()
        out[k] = {"key": g[texts[key]][0], "others": [snippet(o, 200) for o in others], "ids": ids}
    return out
