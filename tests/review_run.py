"""A small real run for the review tests: shipped alpaca-libre rows, GPTeacher role-play rows as chats and
alpaca-libre answers paired as preferences, through rules -> clean-markup -> exact-dedup -> length-filter.

It has rejects under several reasons, rows a stage rewrote (clean-markup), and all three row kinds the
page draws differently. Built once per test module (a few seconds, no Prefect).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from dsforge.pipelines.core.recipe import load_recipe
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe

EXTERNAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "external"
ROLEPLAY = EXTERNAL / "gpteacher" / "roleplay-simple-deduped-roleplay-instruct.json"
ALPACA = Path(__file__).resolve().parents[1] / "data" / "alpaca_libre_v1.jsonl"


def make_run(tmp: Path, rows: int = 800) -> Path:
    """Write the inputs into tmp and run the recipe; returns the run folder."""
    tmp.mkdir(parents=True, exist_ok=True)
    chats = tmp / "chats.jsonl"
    with chats.open("w") as f:
        for r in json.loads(ROLEPLAY.read_text())[:40]:
            # a markup-laden copy of real text, so clean-markup has something to change
            answer = r["response"].replace("\n\n", "<br><br>", 1) + " &amp; that is all."
            f.write(json.dumps({"messages": [{"role": "user", "content": r["instruction"]},
                                             {"role": "assistant", "content": answer}]}) + "\n")
    alpaca = [json.loads(line) for line in ALPACA.read_text().splitlines()[:rows]]
    prefs = tmp / "prefs.jsonl"
    with prefs.open("w") as f:
        for a, b in zip(alpaca[:30], alpaca[30:60]):
            f.write(json.dumps({"prompt": a["instruction"], "chosen": a["output"], "rejected": b["output"]}) + "\n")
    recipe_file = tmp / "review-test.yaml"
    recipe_file.write_text(yaml.safe_dump({
        "name": "review-test",
        "guideline": "Accept rows whose answer is correct and complete. Reject rows with markup debris.",
        "inputs": [{"path": str(ALPACA), "mapping": "alpaca", "source": "alpaca-libre", "limit": rows},
                   {"path": str(chats), "mapping": "messages", "source": "roleplay-chats"},
                   {"path": str(prefs), "mapping": "preference", "source": "pairs"}],
        "stages": [{"stage": "rules", "rules": [{"name": "generator-rejected", "field": "metadata.status", "not_in": ["ok"]}]},
                   {"stage": "clean-markup"},
                   {"stage": "exact-dedup", "fields": ["prompt"]},
                   {"stage": "length-filter", "field": "answer", "min_words": 1}],
    }))
    recipe = load_recipe(recipe_file)
    summary = run_recipe(recipe, tmp / "runs", progress=False, executor=ExecutorSpec(workers=1))
    assert summary["status"] == "ok", summary
    return Path(summary["run_dir"])
