"""Build an N-row Alpaca-style JSONL from ../shared/data/external for the scale benchmark.

About 30k real rows (alpaca-libre, GPTeacher, Self-Instruct T0 templates, alpaca_chinese) are repeated
with edits, seeded: ~8% exact copies of an earlier row, ~8% near-duplicates (a word dropped or swapped,
a sentence added), ~1% HTML-wrapped, the rest made distinct by a changed word and a number, the way
large scraped instruction sets look. Every row has an `id`.

    python bench/scale_data.py 1000000 /tmp/alpaca-1m.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "external"
WORDS = ("quickly", "carefully", "briefly", "simple", "detailed", "modern", "classic", "short", "clear", "new")


def base_rows() -> list[dict]:
    rows: list[dict] = []
    for name in ("alpaca_libre_tasks_v1.jsonl", "alpaca_libre_tasks_v2.jsonl"):
        for line in (EXTERNAL / "alpaca_libre" / name).read_text(encoding="utf-8").splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            rows.append({"instruction": r.get("instruction", ""), "input": r.get("input", ""), "output": r.get("output", "")})
    for name in ("toolformer-dedupe-only-dataset.json", "codegen-instruct.json", "roleplay-simple-deduped-roleplay-instruct.json"):
        for r in json.loads((EXTERNAL / "gpteacher" / name).read_text(encoding="utf-8")):
            rows.append({"instruction": r.get("instruction", ""), "input": r.get("input", ""), "output": r.get("response", "")})
    for f in sorted((EXTERNAL / "self_instruct_t0").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows.append({"instruction": r["prompt"].strip(), "input": "", "output": r["completion"].replace("<|endoftext|>", "").strip()})
    for f in sorted((EXTERNAL / "alpaca_chinese").glob("zh_*.json")):
        for r in json.loads(f.read_text(encoding="utf-8")):
            rows.append({"instruction": r.get("instruction", ""), "input": r.get("input", ""), "output": r.get("output", "")})
    return rows


def build(n: int, out: Path, seed: int = 0) -> Path:
    rng = random.Random(seed)
    base = base_rows()
    made: list[dict] = []
    with out.open("w", encoding="utf-8") as f:
        for i in range(n):
            roll = rng.random()
            if made and roll < 0.08:
                row = dict(rng.choice(made[-5000:]))
            elif made and roll < 0.16:
                row = dict(rng.choice(made[-5000:]))
                words = row["output"].split()
                if len(words) > 8:
                    k = rng.randrange(len(words))
                    words[k] = rng.choice(WORDS) if rng.random() < 0.5 else ""
                    row["output"] = " ".join(w for w in words if w)
                else:
                    row["output"] += " " + rng.choice(WORDS)
            else:
                b = base[rng.randrange(len(base))]
                row = {"instruction": f"{b['instruction']} ({rng.choice(WORDS)} {i % 9973})",
                       "input": b["input"], "output": b["output"]}
                if rng.random() < 0.01:
                    row["output"] = f"<p>{row['output']}</p>"
                if len(made) < 5000:
                    made.append(row)
                elif rng.random() < 0.05:
                    made[rng.randrange(len(made))] = row
            f.write(json.dumps({"id": f"r{i}", **row}, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    build(int(sys.argv[1]), Path(sys.argv[2]))
