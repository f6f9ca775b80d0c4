"""Look-alike false-positive rates of whichever dsforge is on PYTHONPATH, on the third, fourth and fifth sets:
for comparing versions of the code on the same look-alikes (bench/RESULTS-pii.md, "the same sets under each
version of the code"). The full benchmark is bench/pii.py.

    mkdir -p /tmp/old/dsforge && git archive 8477457 | tar -x -C /tmp/old/dsforge
    PYTHONPATH=/tmp/old .venv/bin/python bench/pii_lookalikes.py      # an old version
    .venv/bin/python bench/pii_lookalikes.py                          # this checkout
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


def main() -> int:
    import dsforge.filters.pii as stage

    print("dsforge from", stage.__file__)
    sets = [("third set, dev", lookalike_set.build("dev") + lookalike_set.real_code_lookalikes("dev")),
            ("third set, held-out", lookalike_set.build("heldout") + lookalike_set.real_code_lookalikes("heldout")),
            ("fourth set", lookalike_fresh.build()), ("fifth set", lookalike_fifth.build())]
    for name, docs in sets:
        preds, _, _ = bench.dsforge_predict([d["text"] for d in docs])
        hit, total = bench.lookalike_rate(docs, preds)
        print(f"{name}: {hit}/{total} = {100 * hit / total:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
