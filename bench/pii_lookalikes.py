"""Look-alike false-positive rates (all, and by shape) of whichever dsforge is on PYTHONPATH, on every
look-alike set, and F1 on the true-PII texts of the sixth to ninth sets: for comparing versions of the code on
the same sets (bench/RESULTS-pii.md, "every set under every version of the code"). The full benchmark, with
presidio and speed, is bench/pii.py. A new set's first run is its only clean figure: run it once.

    git worktree add /tmp/old-tree 8477457 && mkdir -p /tmp/old && ln -s /tmp/old-tree /tmp/old/dsforge
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
import lookalike_eighth  # noqa: E402
import lookalike_eleventh  # noqa: E402
import lookalike_fifth  # noqa: E402
import lookalike_fresh  # noqa: E402
import lookalike_ninth  # noqa: E402
import lookalike_set  # noqa: E402
import lookalike_seventh  # noqa: E402
import lookalike_sixth  # noqa: E402
import lookalike_tenth  # noqa: E402
import lookalike_twelfth  # noqa: E402
import lookalike_thirteenth  # noqa: E402
import lookalike_fourteenth  # noqa: E402
import lookalike_fifteenth  # noqa: E402
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


def flagged_by_kind(docs: list[dict], preds: list[list[tuple]]) -> str:
    fired: dict[str, int] = {}
    for d, p in zip(docs, preds):
        for k, s, e in d["lookalikes"]:
            fired[k] = fired.get(k, 0) + any(x[1] < e and s < x[2] for x in p)
    return ", ".join(f"{k} {v}" for k, v in sorted(fired.items()) if v) or "none"


def main() -> int:
    import argparse

    import dsforge.filters.pii as stage

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans-out", help="also write the spans found on 6,000 real texts to this file")
    args = ap.parse_args()

    print("dsforge from", stage.__file__)
    sets = [("third set, dev", lookalike_set.build("dev") + lookalike_set.real_code_lookalikes("dev")),
            ("third set, held-out", lookalike_set.build("heldout") + lookalike_set.real_code_lookalikes("heldout")),
            ("fourth set", lookalike_fresh.build()), ("fifth set", lookalike_fifth.build()),
            ("sixth set, dev", lookalike_sixth.build("dev")), ("sixth set, held-out", lookalike_sixth.build("heldout")),
            ("seventh set", lookalike_seventh.build()), ("eighth set", lookalike_eighth.build()),
            ("ninth set", lookalike_ninth.build()), ("tenth set", lookalike_tenth.build()),
            ("eleventh set", lookalike_eleventh.build()), ("twelfth set", lookalike_twelfth.build()),
            ("thirteenth set", lookalike_thirteenth.build()), ("fourteenth set", lookalike_fourteenth.build()),
            ("fifteenth set", lookalike_fifteenth.build())]
    for name, docs in sets:
        preds, _, _ = bench.dsforge_predict([d["text"] for d in docs])
        hit, total = bench.lookalike_rate(docs, preds)
        shapes = bench.by_shape(docs, preds, preds)
        print(f"{name}: {hit}/{total} = {100 * hit / total:.2f}%  ("
              + ", ".join(f"{k} {v['dsforge_fp']}/{v['values']}" for k, v in shapes.items()) + ")")
        print("  flagged by kind: " + flagged_by_kind(docs, preds))
    for name, docs in [("sixth set PII, dev", lookalike_sixth.build_pii("dev")),
                       ("sixth set PII, held-out", lookalike_sixth.build_pii("heldout")),
                       ("seventh set PII", lookalike_seventh.build_pii()), ("eighth set PII", lookalike_eighth.build_pii()),
                       ("ninth set PII", lookalike_ninth.build_pii()), ("tenth set PII", lookalike_tenth.build_pii()),
                       ("eleventh set PII", lookalike_eleventh.build_pii()),
                       ("twelfth set PII", lookalike_twelfth.build_pii()),
                       ("thirteenth set PII", lookalike_thirteenth.build_pii()),
                       ("fourteenth set PII", lookalike_fourteenth.build_pii()),
                       ("fifteenth set PII", lookalike_fifteenth.build_pii())]:
        preds, _, _ = bench.dsforge_predict([d["text"] for d in docs])
        res = bench.score(docs, preds)
        print(f"{name}: micro-F1 {res['ALL']['f1']:.3f}, PERSON recall {res.get('PERSON', {}).get('recall', 0):.3f}")
    if args.spans_out:
        real_spans(args.spans_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
