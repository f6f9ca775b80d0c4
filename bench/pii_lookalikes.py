"""Look-alike false-positive rates of whichever dsforge is on PYTHONPATH, on the third, fourth and fifth sets:
for comparing versions of the code on the same look-alikes (bench/RESULTS-pii.md, "the same sets under each
version of the code"). The full benchmark is bench/pii.py.

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


def main() -> int:
    import argparse

    import dsforge.filters.pii as stage

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans-out", help="also write the spans found on 6,000 real texts to this file")
    args = ap.parse_args()

    print("dsforge from", stage.__file__)
    sets = [("third set, dev", lookalike_set.build("dev") + lookalike_set.real_code_lookalikes("dev")),
            ("third set, held-out", lookalike_set.build("heldout") + lookalike_set.real_code_lookalikes("heldout")),
            ("fourth set", lookalike_fresh.build()), ("fifth set", lookalike_fifth.build())]
    for name, docs in sets:
        preds, _, _ = bench.dsforge_predict([d["text"] for d in docs])
        hit, total = bench.lookalike_rate(docs, preds)
        print(f"{name}: {hit}/{total} = {100 * hit / total:.2f}%")
    if args.spans_out:
        real_spans(args.spans_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
