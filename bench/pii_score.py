"""Scoring for bench/pii.py: per-entity precision / recall / F1 under two matching rules, and look-alike rates.

Matching (said once, used everywhere):
- overlap (the headline figure): a gold span is FOUND when the predicted spans of the same entity together
  cover at least half of its characters; a predicted span is CORRECT when at least half of its characters lie
  inside gold spans of the same entity. Recall = found / gold, precision = correct / predicted. A detector
  that splits an address into street, city and postcode gets the address when the pieces cover half of it.
- strict: a predicted span counts only when its start, end and entity equal a gold span's (one to one).
Entities are compared coarsely: DATE_OF_BIRTH and presidio's DATE_TIME count as DATE, CN_MOBILE as
PHONE_NUMBER. A row may list `unscored_entities` (the first set: DATE, whose meeting dates are not labelled):
a prediction of such an entity that matches no gold span is then not counted as wrong; gold is still scored.
"""

from __future__ import annotations

from collections import defaultdict

COARSE = {"DATE_OF_BIRTH": "DATE", "DATE_TIME": "DATE", "CN_MOBILE": "PHONE_NUMBER"}
SHORT = {"PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "IP_ADDRESS": "IP", "IBAN_CODE": "IBAN"}
ORDER = ["LOCATION", "PERSON", "PHONE_NUMBER", "DATE", "CREDIT_CARD", "EMAIL_ADDRESS", "IP_ADDRESS", "US_SSN",
         "IBAN_CODE", "URL", "CN_RESIDENT_ID", "API_KEY", "AWS_KEY", "PRIVATE_KEY", "SECRET", "CRYPTO"]


def coarse(entity: str) -> str:
    return COARSE.get(entity, entity)


def _covered(span: tuple[int, int], others: list[tuple[int, int]]) -> int:
    """Characters of `span` inside the union of `others`."""
    marks = bytearray(span[1] - span[0])
    for s, e in others:
        lo, hi = max(s, span[0]), min(e, span[1])
        if lo < hi:
            marks[lo - span[0]:hi - span[0]] = b"\x01" * (hi - lo)
    return sum(marks)


def score(rows: list[dict], preds: list[list[tuple]], offered: set[str] | None = None,
          only: set[str] | None = None) -> dict:
    """{entity: {tp, fp, fn, precision, recall, f1, strict_*}, ..., "ALL": micro}. `offered`: the entities
    the scored system was asked for (gold of others is left out, so a peer is not blamed for what it lacks);
    `only`: score just these entities."""
    offered_c = {coarse(e) for e in offered} if offered else None
    keep = (lambda e: (offered_c is None or coarse(e) in offered_c) and (only is None or coarse(e) in {coarse(o) for o in only}))
    found, gold_n, correct, pred_n, exact = (defaultdict(int) for _ in range(5))
    for row, pred in zip(rows, preds):
        unlabelled = {coarse(e) for e in row.get("unscored_entities", [])}
        gold = [(coarse(g["entity"]), g["start"], g["end"]) for g in row["spans"] if keep(g["entity"])]
        pred = [(coarse(p[0]), p[1], p[2]) for p in pred if keep(p[0]) and p[2] > p[1]]
        by_ent_gold, by_ent_pred = defaultdict(list), defaultdict(list)
        for e, s, t in gold:
            by_ent_gold[e].append((s, t))
        for e, s, t in pred:
            by_ent_pred[e].append((s, t))
        for e, s, t in gold:
            gold_n[e] += 1
            found[e] += 2 * _covered((s, t), by_ent_pred[e]) >= t - s
        unused = set(gold)
        for e, s, t in pred:
            ok = 2 * _covered((s, t), by_ent_gold[e]) >= t - s
            if not ok and e in unlabelled:  # the row has values of this entity that are not labelled
                continue
            pred_n[e] += 1
            correct[e] += ok
            if (e, s, t) in unused:
                unused.discard((e, s, t))
                exact[e] += 1
    ents = sorted(set(gold_n) | set(pred_n), key=lambda e: (ORDER.index(e) if e in ORDER else 99, e))
    out = {e: _prf(found[e], gold_n[e], correct[e], pred_n[e], exact[e]) for e in ents}
    out["ALL"] = _prf(sum(found.values()), sum(gold_n.values()), sum(correct.values()), sum(pred_n.values()),
                      sum(exact.values()))
    return out


def _f1(p: float, r: float) -> float:
    return round(2 * p * r / (p + r), 3) if p + r else 0.0


def _prf(found: int, gold: int, correct: int, predicted: int, exact: int) -> dict:
    p = correct / predicted if predicted else (1.0 if not gold else 0.0)
    r = found / gold if gold else 1.0
    sp, sr = (exact / predicted if predicted else 0.0), (exact / gold if gold else 0.0)
    return {"gold": gold, "predicted": predicted, "found": found, "correct": correct, "exact": exact,
            "precision": round(p, 3), "recall": round(r, 3), "f1": _f1(p, r),
            "strict_precision": round(sp, 3), "strict_recall": round(sr, 3), "strict_f1": _f1(sp, sr)}


def lookalike_rate(rows: list[dict], preds: list[list[tuple]]) -> tuple[int, int]:
    """(look-alike values overlapped by any predicted span, look-alike values)."""
    hit = total = 0
    for row, pred in zip(rows, preds):
        for la in row.get("lookalikes", []):
            total += 1
            hit += any(p[1] < la["end"] and la["start"] < p[2] for p in pred)
    return hit, total


def table(title: str, ours: dict, peer: dict | None, names: tuple[str, str] = ("dsforge", "presidio")) -> str:
    """A Markdown table of one set: entity, each system's P / R / F1 (overlap) and strict F1, gold spans."""
    lines = [f"\n{title}", f"| entity | {names[0]} P / R / F1 | strict F1 | {names[1]} P / R / F1 | strict F1 | gold |",
             "|---|---|---|---|---|---|"]
    for e in [k for k in ours if k != "ALL"] + [k for k in (peer or {}) if k not in ours] + ["ALL"]:
        cells = []
        for res in (ours, peer or {}):
            r = res.get(e)
            if r and not r["gold"]:  # predictions of an entity the set has no gold of: all false positives
                cells += [f"{r['predicted']} spans, all wrong", "-"]
            else:
                cells += ([f"{r['precision']:.2f} / {r['recall']:.2f} / {r['f1']:.2f}", f"{r['strict_f1']:.2f}"]
                          if r else ["-", "-"])
        gold = (ours.get(e) or (peer or {}).get(e))["gold"]
        name = "micro" if e == "ALL" else SHORT.get(e, e)
        lines.append(f"| {name} | {' | '.join(cells)} | {gold:,} |")
    return "\n".join(lines)
