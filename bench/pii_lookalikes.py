"""Look-alike false-positive rates of whichever dsforge is on PYTHONPATH, on the third, fourth, fifth and sixth
sets, and recall on the sixth set's true-PII twins: for comparing versions of the code on the same look-alikes
(bench/RESULTS-pii.md, "the same sets under each version of the code"). The full benchmark is bench/pii.py.
The sixth set's held-out half is run only with --heldout (once per round: it is the clean figure); its
per-kind counts are printed for the dev half only.

    mkdir -p /tmp/old/dsforge && git archive 8477457 | tar -x -C /tmp/old/dsforge
    PYTHONPATH=/tmp/old .venv/bin/python bench/pii_lookalikes.py --spans-out /tmp/old.jsonl   # an old version
    .venv/bin/python bench/pii_lookalikes.py --spans-out /tmp/new.jsonl                       # this checkout
    diff /tmp/old.jsonl /tmp/new.jsonl        # what changed on 6,000 real texts (a recall check)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "pii_eval"))
import lookalike_fifth  # noqa: E402
import lookalike_fresh  # noqa: E402
import lookalike_set  # noqa: E402
import lookalike_sixth  # noqa: E402
import pii as bench  # noqa: E402


def real_spans(path: str, n: int = 6000) -> None:
    """Spans found on n distinct real texts (the pattern-speed rows, shuffled with seed 1), one JSON line each."""
    import json
    import random

    texts = list(dict.fromkeys(x for r in bench.real_rows(200_000) for x in r if x))
    random.Random(1).shuffle(texts)
    texts = texts[:n]
    preds, _, _ = bench.dsforge_predict(texts)
    with open(path, "w", encoding="utf-8") as f:
        for i, (text, pred) in enumerate(zip(texts, preds)):
            for entity, s, e in pred:
                f.write(json.dumps([i, entity, text[s:e]], ensure_ascii=False) + "\n")
    print(f"real texts: {len(texts)}, spans: {sum(map(len, preds))} -> {path}")


def sixth_by_kind(docs: list[dict], preds: list[list[tuple]]) -> str:
    fired: dict[str, int] = {}
    for d, p in zip(docs, preds):
        for k, s, e in d["lookalikes"]:
            fired[k] = fired.get(k, 0) + any(x[1] < e and s < x[2] for x in p)
    return ", ".join(f"{k} {v}" for k, v in sorted(fired.items()) if v) or "none"


def sixth_pii_recall(split: str) -> dict:
    """Per-entity P/R/F1 on the sixth set's true-PII texts (English and Chinese together)."""
    docs = lookalike_sixth.build_pii(split)
    preds, _, _ = bench.dsforge_predict([d["text"] for d in docs])
    res = bench.score(docs, preds)
    bench.table(f"sixth set, true-PII twins, {split} ({len(docs)} docs)", res, None)
    return res


def main() -> int:
    import argparse

    import dsforge.filters.pii as stage

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans-out", help="also write the spans found on 6,000 real texts to this file")
    ap.add_argument("--heldout", action="store_true", help="also run the sixth set's held-out half (look-alikes and PII)")
    args = ap.parse_args()

    print("dsforge from", stage.__file__)
    sets = [("third set, dev", lookalike_set.build("dev") + lookalike_set.real_code_lookalikes("dev")),
            ("third set, held-out", lookalike_set.build("heldout") + lookalike_set.real_code_lookalikes("heldout")),
            ("fourth set", lookalike_fresh.build()), ("fifth set", lookalike_fifth.build()),
            ("sixth set, dev", lookalike_sixth.build("dev"))]
    if args.heldout:
        sets.append(("sixth set, HELD-OUT", lookalike_sixth.build("heldout")))
    for name, docs in sets:
        preds, _, _ = bench.dsforge_predict([d["text"] for d in docs])
        hit, total = bench.lookalike_rate(docs, preds)
        print(f"{name}: {hit}/{total} = {100 * hit / total:.2f}%")
        if name == "sixth set, dev":
            print("  flagged by kind: " + sixth_by_kind(docs, preds))
    for split in ["dev"] + (["heldout"] if args.heldout else []):
        sixth_pii_recall(split)
    if args.spans_out:
        real_spans(args.spans_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
