"""Issue 29: publishing uploads only what the card describes; the raw inspection report of a step before
the pii step never leaves the machine (unless the recipe asks for it redacted); the card names inputs,
never this machine's paths.

The recipe has the shipped whole-chain recipe's front: inputs → inspect (id inspect-raw) → pii with the
shipped recipe's own pii parameters → a second inspect → chat-format → publish. The input holds real-form
e-mail addresses and phone numbers. The upload list is huggingface_hub's own filter over the folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from dsforge.pipelines.core.recipe import load_recipe, shipped_recipes
from dsforge.pipelines.core.runner import run_recipe
from test_publish import fake_hub  # noqa: F401 - the fake Hub on 127.0.0.1 (a fixture)

EMAILS = ["maria.gonzalez@gmail.com", "j.smith1984@yahoo.co.uk", "li.wei@outlook.com", "tom.baker@proton.me"]
PHONES = ["(415) 867-2301", "+44 20 3318 6542", "212-739-4410", "+1 646 283 9917"]  # not 555-01xx: those are fiction


def shipped_pii_step() -> dict:
    recipe = yaml.safe_load(shipped_recipes()["sft-from-seeds-and-docs"].read_text())
    kinds = [s["stage"] for s in recipe["stages"]]
    assert kinds.index("inspect") < kinds.index("pii")  # the layout this test is about
    return next(s for s in recipe["stages"] if s["stage"] == "pii")


def make_run(root: Path, **publish) -> Path:
    rows = []
    for i in range(24):
        who = f"Write to {EMAILS[i % 4]} or call {PHONES[i % 4]} about order {i}." if i % 2 == 0 else f"Plain task {i}."
        rows.append({"instruction": f"Answer the customer {i}.", "input": who, "output": f"Thanks, we will reply {i}."})
    data = root / "private-inbox.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = {"name": "private-chain", "inputs": [{"path": str(data), "mapping": "alpaca", "source": "inbox"}],
              "stages": [{"stage": "inspect", "id": "inspect-raw"}, shipped_pii_step(),
                         {"stage": "inspect", "id": "inspect-clean"}, {"stage": "chat-format"},
                         {"stage": "publish", "formats": ["hf", "parquet", "jsonl"], "licenses": {"inbox": "MIT"},
                          **publish}]}
    (root / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    summary = run_recipe(load_recipe(str(root / "recipe.yaml")), out_root=root / "runs", progress=False)
    assert summary["status"] == "ok", summary
    return Path(summary["run_dir"])


def private_values(text: str) -> list[str]:
    return [v for v in EMAILS + PHONES if v in text]


def test_push_uploads_no_pre_pii_report_and_no_local_path(tmp_path, fake_hub, monkeypatch):
    """Pushed to a fake hub on 127.0.0.1: what arrived is the card's files, and the upload list is
    huggingface_hub's own filter over the folder with our patterns (computed again here, offline)."""
    from huggingface_hub.utils import filter_repo_objects

    from dsforge.pipelines.stages.publish import _literal

    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    run_dir = make_run(tmp_path, push_to_hub="me/private-chain")
    raw = next((run_dir / "stages").glob("01-inspect-raw/*.html"))
    assert private_values(raw.read_text()), "the test needs a raw report that shows the contacts"
    upload = json.loads(next((run_dir / "stages").glob("*-publish/stats.json")).read_text())["stage_stats"]["upload"]
    assert {p for (repo, p) in fake_hub.files if repo == "me/private-chain"} == set(upload)
    assert "README.md" in upload and any(f.startswith("data/train/") for f in upload)
    assert not any("inspect-raw" in f for f in upload) and any("inspect-clean" in f for f in upload), upload
    assert not any(f.endswith(".jsonl") or f.startswith("hf/") for f in upload)
    assert not list((run_dir / "dataset").rglob("*inspect-raw*"))
    for (repo, name), data in fake_hub.files.items():
        text = data.decode("utf-8", "replace")
        assert private_values(text) == [], name
        assert str(tmp_path) not in text, f"a local path in {name}"
    out = run_dir / "dataset"
    everything = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    again = list(filter_repo_objects(everything, allow_patterns=[_literal(f) for f in upload],
                                     ignore_patterns=["hf/**", "*.jsonl"]))
    assert again == upload and set(everything) - set(upload)  # something local is left out (hf/, jsonl)
    card = (out / "README.md").read_text()
    assert "| inbox | private-inbox.jsonl | jsonl |" in card
    assert str(tmp_path) not in card and not re.search(r"\| /\S+ \|", card)


def test_redacted_on_request(tmp_path):
    run_dir = make_run(tmp_path, reports_before_pii="redacted")
    copied = list((run_dir / "dataset" / "inspect").glob("*inspect-raw*.html"))
    assert copied
    text = copied[0].read_text()
    assert private_values(text) == [] and "<EMAIL_ADDRESS>" in text.replace("&lt;", "<").replace("&gt;", ">")
