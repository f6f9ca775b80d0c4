"""Who scored what: per-annotator score distributions and, where an item was scored more than once,
inter-annotator disagreement (Krippendorff's alpha for interval data) and the most conflicting items.

Two layouts are understood, because both are common in reward/preference data:
  - one annotation per row: an annotator (column or metadata key, default "annotator") and a score
    (the `score` column, or a metadata key); rows with the same prompt + answer are the same item;
  - several per row: a metadata key "annotations" holding [{"annotator": ..., "score": ...}, ...].
Left out: categorical agreement (Cohen's/Fleiss' kappa) for labels that are not numbers.
"""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

from dsforge.pipelines.stages.inspect.merging import cat
from dsforge.pipelines.stages.inspect.sections import column_or_meta, snippet


def krippendorff_alpha_interval(units: list[list[float]]) -> float | None:
    """Krippendorff's alpha, interval metric, for units holding >= 2 values each (others are not pairable)."""
    units = [np.asarray(u, dtype=np.float64) for u in units if len(u) >= 2]
    if not units:
        return None
    n = sum(u.size for u in units)
    # sum over ordered pairs i != j of (a_i - a_j)^2 within a set = 2 (m sum a^2 - (sum a)^2)
    pair_sq = lambda a: 2.0 * (a.size * float((a * a).sum()) - float(a.sum()) ** 2)  # noqa: E731
    d_o = sum(pair_sq(u) / (u.size - 1) for u in units) / n
    d_e = pair_sq(np.concatenate(units)) / (n * (n - 1))
    if d_e == 0:
        return 1.0 if d_o == 0 else None
    return 1.0 - d_o / d_e


def annotator_part(df: pl.DataFrame, view: pl.DataFrame, annotator_key: str, score_key: str) -> dict[str, Any]:
    """This part's annotations in both layouts (which one applies is decided over all parts): one row per
    annotation with the item (its id, or a hash of prompt + answer), the row id, a snippet and the score."""
    item = view.select(pl.concat_str([pl.col("prompt").fill_null(""), pl.col("response").fill_null("")],
                                     separator="\x00").hash().alias("item"))["item"]
    nested = []
    if df["metadata"].str.contains('"annotations"', literal=True).any():
        for rid, meta, text in zip(df["id"], df["metadata"], view["conversation"]):
            try:
                anns = json.loads(meta or "{}").get("annotations")
            except (ValueError, AttributeError):
                continue
            if not isinstance(anns, list):
                continue
            for a in anns:
                if isinstance(a, dict) and isinstance(a.get(score_key, a.get("rating")), (int, float)):
                    nested.append({"item": rid, "item_id": rid, "text": snippet(text, 240),
                                   "annotator": str(a.get(annotator_key, "?")),
                                   "score": float(a.get(score_key, a.get("rating")))})
    ann_expr, _ = column_or_meta(df, annotator_key)
    t = pl.DataFrame({"item": item.cast(pl.String), "item_id": df["id"], "text": view["conversation"],
                      "annotator": df.select(ann_expr).to_series(),
                      "score_column": df[score_key].cast(pl.Float64, strict=False) if score_key in df.columns
                      else pl.Series([None] * df.height, dtype=pl.Float64),
                      "score_meta": df.select(column_or_meta(df, score_key)[0]).to_series().cast(pl.Float64, strict=False)})
    t = t.filter(pl.col("annotator").is_not_null())
    t = t.with_columns(pl.Series("text", [snippet(x, 240) for x in t["text"].to_list()], dtype=pl.String))
    schema = {"item": pl.String, "item_id": pl.String, "text": pl.String, "annotator": pl.String, "score": pl.Float64}
    return {"nested": pl.DataFrame(nested, schema=schema), "rows": t,
            "score_column_rows": int(df[score_key].drop_nulls().len()) if score_key in df.columns else 0}


def annotator_merge(parts: list[dict[str, Any]], annotator_key: str, score_key: str,
                    examples: int) -> dict[str, Any] | None:
    """The annotators section over every part's annotations, in input order. It holds one row per annotation
    (item, row id, annotator, score and a 240-character snippet): annotations are few next to rows."""
    nested = cat(p["nested"] for p in parts).drop("__part").collect()
    if nested.height:
        t, layout = nested, "metadata.annotations"
    else:
        rows = cat(p["rows"] for p in parts).drop("__part").collect()
        if not rows.height:
            return None
        use_column = sum(p["score_column_rows"] for p in parts) > 0
        t = rows.select("item", "item_id", "text", "annotator",
                        pl.col("score_column" if use_column else "score_meta").alias("score"))
        layout = "rows"
    scored = t.filter(pl.col("score").is_not_null() & pl.col("score").is_not_nan())
    out: dict[str, Any] = {"layout": layout, "annotator_key": annotator_key, "score_key": score_key,
                           "annotations": t.height, "scored": scored.height,
                           "annotators": t["annotator"].n_unique()}
    scale = sorted(scored["score"].unique().to_list()) if scored.height else []
    out["scale"] = scale if len(scale) <= 11 else None
    per = []
    for (name,), g in t.group_by("annotator", maintain_order=True):
        s = g["score"].drop_nulls().drop_nans()
        entry = {"annotator": name, "rows": g.height, "scored": s.len()}
        if s.len():
            entry.update(mean=round(float(s.mean()), 3), std=round(float(s.std() or 0.0), 3),
                         median=float(s.median()), min=float(s.min()), max=float(s.max()))
            if out["scale"] is not None:
                vc = dict(s.value_counts().iter_rows())
                entry["dist"] = {str(v): int(vc.get(v, 0)) for v in out["scale"]}
        per.append(entry)
    out["per_annotator"] = sorted(per, key=lambda e: -e["rows"])
    if not scored.height:
        out["warning"] = f"no numeric scores found under {score_key!r}; only annotation counts are shown"
        return out

    items = (scored.group_by("item", maintain_order=True)
             .agg(pl.col("item_id").first(), pl.col("text").first(), pl.col("annotator"), pl.col("score"))
             .filter(pl.col("score").list.len() >= 2))
    multi: dict[str, Any] = {"items": items.height}
    if items.height:
        units = items["score"].to_list()
        ranges = np.array([max(u) - min(u) for u in units])
        stds = np.array([float(np.std(u)) for u in units])
        pair_diffs = [abs(a - b) for u in units for a, b in combinations(u, 2)]
        pairs: dict[tuple[str, str], list[float]] = {}
        for anns, scores in zip(items["annotator"].to_list(), units):
            for (a1, s1), (a2, s2) in combinations(sorted(zip(anns, scores)), 2):
                if a1 != a2:
                    pairs.setdefault((a1, a2), []).append(abs(s1 - s2))
        order = np.lexsort((-stds, -ranges))[:max(examples, 1) * 2]
        multi.update({
            "alpha_interval": None if (a := krippendorff_alpha_interval(units)) is None else round(a, 4),
            "mean_range": round(float(ranges.mean()), 3),
            "mean_abs_pair_diff": round(float(np.mean(pair_diffs)), 3) if pair_diffs else 0.0,
            "items_disagreeing": int((ranges > 0).sum()),
            "annotator_pairs": [[a, b, len(d), round(float(np.mean(d)), 3)]
                                for (a, b), d in sorted(pairs.items(), key=lambda kv: -len(kv[1]))[:15]],
            "most_conflicting": [
                {"id": items["item_id"][int(i)], "text": items["text"][int(i)],
                 "scores": [[a, s] for a, s in zip(items["annotator"][int(i)], items["score"][int(i)])],
                 "range": float(ranges[i]), "std": round(float(stds[i]), 3)}
                for i in order if ranges[i] > 0],
        })
    out["multi"] = multi
    return out


# ---------------------------------------------------------------- labels from `dsforge review`


def krippendorff_alpha_nominal(units: list[list[str]]) -> float | None:
    """Krippendorff's alpha, nominal metric (categories such as accept/reject), for units of >= 2 values."""
    units = [u for u in units if len(u) >= 2]
    if not units:
        return None
    cats = sorted({v for u in units for v in u})
    idx = {c: i for i, c in enumerate(cats)}
    o = np.zeros((len(cats), len(cats)))
    for u in units:  # coincidences: every ordered pair of values within a unit, weighted 1/(m-1)
        counts = np.bincount([idx[v] for v in u], minlength=len(cats)).astype(np.float64)
        o += (np.outer(counts, counts) - np.diag(counts)) / (len(u) - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = (n - np.trace(o)) / n
    d_e = (n * n - float((n_c * n_c).sum())) / (n * (n - 1))
    if d_e == 0:
        return 1.0 if d_o == 0 else None
    return float(1.0 - d_o / d_e)


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two annotators over the same items (None when chance agreement is 1)."""
    cats = sorted(set(a) | set(b))
    p_o = float(np.mean([x == y for x, y in zip(a, b)]))
    p_e = sum((a.count(c) / len(a)) * (b.count(c) / len(b)) for c in cats)
    return None if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


def label_agreement(labels: pl.DataFrame) -> dict[str, Any]:
    """Agreement of review labels (id, annotator, label accept/reject, score): per-annotator counts,
    accept/reject agreement (share of agreeing pairs, Krippendorff's nominal alpha, Cohen's kappa per pair)
    and score agreement (interval alpha) on the rows that two or more annotators labelled."""
    missing = [c for c in ("id", "annotator") if c not in labels.columns]
    if missing:
        raise ValueError(f"a labels table needs the columns id and annotator; missing {missing}")
    labels = labels.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in
                                 (("label", pl.String), ("score", pl.Float64), ("note", pl.String)) if c not in labels.columns)
    out: dict[str, Any] = {"labels": labels.height, "rows": labels["id"].n_unique() if labels.height else 0,
                           "annotators": sorted(labels["annotator"].unique().to_list()) if labels.height else []}
    out["per_annotator"] = [
        {"annotator": a, "labels": g.height, "accept": int((g["label"] == "accept").sum()),
         "reject": int((g["label"] == "reject").sum()), "scored": int(g["score"].is_not_null().sum()),
         "noted": int(g["note"].is_not_null().sum())}
        for (a,), g in labels.sort("annotator").group_by("annotator", maintain_order=True)]
    verdicts = labels.filter(pl.col("label").is_in(["accept", "reject"]))
    items = (verdicts.group_by("id").agg(pl.col("annotator"), pl.col("label"))
             .filter(pl.col("label").list.len() >= 2).sort("id"))
    section: dict[str, Any] = {"items": items.height}
    if items.height:
        units = items["label"].to_list()
        pairs_same = [x == y for u in units for x, y in combinations(u, 2)]
        alpha = krippendorff_alpha_nominal(units)
        by_pair: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
        for anns, labs in zip(items["annotator"].to_list(), units):
            for (a1, l1), (a2, l2) in combinations(sorted(zip(anns, labs)), 2):
                by_pair.setdefault((a1, a2), ([], []))
                by_pair[(a1, a2)][0].append(l1)
                by_pair[(a1, a2)][1].append(l2)
        section.update({
            "agreement": round(float(np.mean(pairs_same)), 4),
            "alpha_nominal": None if alpha is None else round(alpha, 4),
            "pairs": [{"annotators": [a, b], "items": len(x), "agreement": round(float(np.mean([p == q for p, q in zip(x, y)])), 4),
                       "kappa": None if (k := cohen_kappa(x, y)) is None else round(k, 4)}
                      for (a, b), (x, y) in sorted(by_pair.items())],
            "disagreements": [{"id": i, "labels": dict(zip(a, lab))} for i, a, lab in
                              zip(items["id"], items["annotator"], units) if len(set(lab)) > 1][:50],
        })
    out["accept_reject"] = section
    scores = labels.filter(pl.col("score").is_not_null())
    s_items = scores.group_by("id").agg(pl.col("score")).filter(pl.col("score").list.len() >= 2)
    s_section: dict[str, Any] = {"items": s_items.height}
    if s_items.height:
        units_s = s_items["score"].to_list()
        a = krippendorff_alpha_interval(units_s)
        s_section.update({"alpha_interval": None if a is None else round(a, 4),
                          "mean_range": round(float(np.mean([max(u) - min(u) for u in units_s])), 3)})
    out["scores"] = s_section
    return out


def agreement_line(agreement: dict[str, Any]) -> str:
    """One line for summaries: how many labels, and how far the annotators agree."""
    ar, sc = agreement["accept_reject"], agreement["scores"]
    parts = [f"labels: {agreement['labels']} on {agreement['rows']} rows by {len(agreement['annotators'])} annotators"]
    if ar.get("items"):
        alpha = ar["alpha_nominal"]
        parts.append(f"accept/reject agreement {ar['agreement']:.0%} on {ar['items']} rows labelled twice or more "
                     f"(Krippendorff's alpha {'n/a' if alpha is None else f'{alpha:.3f}'})")
    else:
        parts.append("no row has accept/reject labels from two annotators yet")
    if sc.get("items"):
        parts.append(f"scores: alpha {sc['alpha_interval']} on {sc['items']} rows")
    return "; ".join(parts)
