"""Look-alike false-positive rates (all, and by shape) of whichever dsforge is on PYTHONPATH, on every look-alike
set of bench/pii_eval/legacy/ (read by the one reader), and F1 on their true-PII texts: for comparing versions of
the code on the same sets (bench/RESULTS-pii.md). The full benchmark, with presidio and speed, is bench/pii.py.

    git worktree add /tmp/old-tree 8477457 && mkdir -p /tmp/old && ln -s /tmp/old-tree /tmp/old/dsforge
    PYTHONPATH=/tmp/old .venv/bin/python bench/pii_lookalikes.py --spans-out /tmp/old.jsonl   # an old version
    .venv/bin/python bench/pii_lookalikes.py --spans-out /tmp/new.jsonl                       # this checkout
    diff /tmp/old.jsonl /tmp/new.jsonl        # what changed on 6,000 real texts (a recall check)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "pii_eval"))
import pii as bench  # noqa: E402
from pii_score import lookalike_rate, score  # noqa: E402
from reader import read_set  # noqa: E402

# kinds whose value is a real or fictional person's own name: personal data since issue 28 (GDPR's reading)
PERSON_KINDS = re.compile(r"PUBLIC_FIGURE|HISTORICAL_FIGURE|FICTIONAL_CHARACTER|BRAND_PERSON|CRYPTO_PERSONA")


def value_shape(value: str, kind: str) -> str:
    """Chinese (any Han character), number/ID-shaped (any digit) or name-shaped: people's names or things'."""
    if re.search(r"[\u4e00-\u9fff]", value):
        return "Chinese"
    if re.search(r"\d", value):
        return "number/ID-shaped"
    return "name-shaped, people" if PERSON_KINDS.search(kind) else "name-shaped, things"


def by_shape(rows: list[dict], preds: list[list[tuple]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r, p in zip(rows, preds):
        for la in r.get("lookalikes", []):
            cell = out.setdefault(value_shape(la["value"], la["kind"]), [0, 0])
            cell[0] += any(x[1] < la["end"] and la["start"] < x[2] for x in p)
            cell[1] += 1
    return dict(sorted(out.items()))


def flagged_by_kind(rows: list[dict], preds: list[list[tuple]]) -> str:
    fired: dict[str, int] = {}
    for r, p in zip(rows, preds):
        for la in r.get("lookalikes", []):
            fired[la["kind"]] = fired.get(la["kind"], 0) + any(x[1] < la["end"] and la["start"] < x[2] for x in p)
    return ", ".join(f"{k} {v}" for k, v in sorted(fired.items()) if v) or "none"


def real_spans(path: str, detector: bench.Dsforge, n: int = 6000) -> None:
    """Spans found on n distinct real texts (the pattern-speed rows, shuffled with seed 1), one JSON line each."""
    import json
    import random

    texts = list(dict.fromkeys(x for r in bench.real_rows(200_000) for x in r if x))
    random.Random(1).shuffle(texts)
    texts = texts[:n]
    preds = detector.predict(texts)
    with open(path, "w", encoding="utf-8") as f:
        for i, (text, pred) in enumerate(zip(texts, preds)):
            for entity, s, e in pred:
                f.write(json.dumps([i, entity, text[s:e]], ensure_ascii=False) + "\n")
    print(f"real texts: {len(texts)}, spans: {sum(map(len, preds))} -> {path}")


def main() -> int:
    import argparse

    import dsforge.filters

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans-out", help="also write the spans found on 6,000 real texts to this file")
    args = ap.parse_args()
    print("dsforge from", Path(dsforge.filters.__file__).parent.parent)
    detector = bench.Dsforge(bench.ALL_ENTITIES)
    for name in bench.LOOKALIKE_SETS + ["bare_lookalikes"]:
        rows = read_set(f"legacy/{name}")
        preds = detector.predict([r["text"] for r in rows])
        la = [(r, p) for r, p in zip(rows, preds) if r.get("lookalikes")]
        hit, total = lookalike_rate([r for r, _ in la], [p for _, p in la])
        shapes = by_shape([r for r, _ in la], [p for _, p in la])
        print(f"{name}: {hit}/{total} = {100 * hit / total:.2f}%  ("
              + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in shapes.items()) + ")")
        print("  flagged by kind: " + flagged_by_kind([r for r, _ in la], [p for _, p in la]))
        pii = [(r, p) for r, p in zip(rows, preds) if r.get("part") == "pii"]
        if pii:
            res = score([r for r, _ in pii], [p for _, p in pii])
            print(f"  true-PII texts ({len(pii)}): micro-F1 {res['ALL']['f1']:.3f}, "
                  f"PERSON recall {res.get('PERSON', {}).get('recall', 0):.3f}")
    if args.spans_out:
        real_spans(args.spans_out, detector)
    return 0


if __name__ == "__main__":
    sys.exit(main())
