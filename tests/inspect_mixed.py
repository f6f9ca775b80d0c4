"""A mixed record table built from the team's real datasets (../shared/data/external), for the inspection
merge tests: Alpaca-style rows, Chinese rows, two-turn conversations and preference pairs made of real rows,
annotated scored rows, documents, null and empty fields, exact duplicates, conflicting pairs and one very
long outlier, shuffled with a fixed seed so that duplicates and conflicts fall into different parts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl

from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers import InputSpec, read_input


def _rows(path: Path, limit: int) -> list[dict]:
    df = read_input(InputSpec(path=str(path), limit=limit)).kept
    return df.select("id", "source", "kind", "instruction", "input", "response", "metadata").to_dicts()


def mixed_table(external: Path, seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    alpaca = _rows(external / "alpaca_libre/alpaca_libre_tasks_v2.jsonl", 1200)
    tools = _rows(external / "gpteacher/toolformer-dedupe-only-dataset.json", 800)
    code = _rows(external / "gpteacher/codegen-instruct.json", 400)
    play = _rows(external / "gpteacher/roleplay-simple-deduped-roleplay-instruct.json", 400)
    zh = _rows(next(iter(sorted((external / "alpaca_chinese").glob("zh_*.json")))), 300)
    t0 = _rows(next(iter(sorted((external / "self_instruct_t0").glob("*.jsonl")))), 120)
    out = alpaca + tools + zh
    for i in range(0, len(play) - 1, 2):  # two-turn conversations from consecutive role-play rows
        a, b = play[i], play[i + 1]
        out.append({"id": f"conv:{i}", "source": "roleplay-conversations", "kind": "conversation", "messages": [
            {"role": "system", "content": "Stay in character."},
            {"role": "user", "content": a["instruction"]}, {"role": "assistant", "content": a["response"]},
            {"role": "user", "content": b["instruction"]}, {"role": "assistant", "content": b["response"] if i % 20 else ""}]})
    for i, r in enumerate(code):  # preference pairs: the row's answer against another row's
        out.append({"id": f"pref:{i}", "source": "codegen-preference", "kind": "preference",
                    "instruction": r["instruction"], "input": r["input"], "chosen_response": r["response"] if i % 50 else None,
                    "rejected_response": code[(i + 7) % len(code)]["response"]})
    for i, r in enumerate(t0):  # each item scored by two or three annotators
        for a in ("ann-a", "ann-b", "ann-c")[: 2 + i % 2]:
            out.append({"id": f"scored:{i}:{a}", "source": "t0-scored", "kind": "scored", "instruction": r["instruction"],
                        "input": r["input"], "response": r["response"], "score": float((i * 7 + 2 * (a == "ann-c")) % 5 + 1),
                        "metadata": json.dumps({"annotator": a, "date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"})})
    for i, r in enumerate(tools[:150]):
        out.append({"id": f"doc:{i}", "source": "docs", "kind": "document", "text": r["response"]})
    out += [dict(r, id=f"dup:{i}") for i, r in enumerate(alpaca[:60] + tools[:40])]                 # exact duplicates
    out += [dict(r, id=f"conflict:{i}", response=alpaca[i + 100]["response"]) for i, r in enumerate(alpaca[:40])]
    out += [dict(r, id=f"same-answer:{i}", instruction=f"Answer this: {r['instruction']}") for i, r in enumerate(tools[200:230])]
    out += [dict(alpaca[5], id="null:0", response=None), dict(alpaca[6], id="empty:0", response="   "),
            dict(alpaca[7], id="empty:1", instruction=""), dict(tools[8], id="null:1", instruction=None)]
    out.append(dict(alpaca[9], id="long:0", response=" ".join([alpaca[9]["response"] or "word"] * 400)))
    rng.shuffle(out)
    for r in out:
        r.setdefault("metadata", None)
    return records.from_rows(out)


def split(df: pl.DataFrame, parts: int) -> list[pl.DataFrame]:
    """`parts` consecutive slices of unequal sizes (the runner's parts are in input order too)."""
    cuts = sorted(random.Random(parts).sample(range(1, df.height), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, df.height]
    return [df.slice(a, b - a) for a, b in zip(bounds, bounds[1:])]
