"""Every registered stage, through the runner, on mixed row kinds: the contract holds or the step fails.

Rows of every kind (instruction, document, conversation, preference, scored) with null and empty
fields, unicode and a very long text go through each stage alone (LLM stages ask a scripted
OpenAI-compatible server on loopback). The runner checks the contract on every part (rows in = kept +
rejected, disjoint ids, created rows with lineage); here we check the step's figures against the files
it wrote, so a stage that loses, duplicates or invents rows fails this test with its name.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.registry import STAGES, stage_class
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import read_table

ANSWER = ("1. Write a short poem about the sea.\n2. Explain why the sky is blue.\n3. List three prime numbers.\n"
          "Score: 4\n```python\ndef add(a, b):\n    return a + b\n```\nThe answer is 4.")


class Scripted(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = json.dumps({"score": 4, "label": "generation"}) if body.get("response_format") else ANSWER
        data = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                           "choices": [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                                       for i in range(body.get("n") or 1)],
                           "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def llm_url():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


def mixed_rows() -> pl.DataFrame:
    long_text = "A long document about rivers. " * 3000
    msgs = [{"role": "user", "content": "Hi there, what is 2+2?"}, {"role": "assistant", "content": "It is 4."},
            {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "6."}]
    rows = [
        {"id": "i1", "kind": "instruction", "instruction": "Name three colours.", "input": "", "response": "Red, green, blue."},
        {"id": "i2", "kind": "instruction", "instruction": "Translate to French: cat", "input": None, "response": "chat"},
        {"id": "i3", "kind": "instruction", "instruction": "Écris un haïku sur la mer 🌊", "input": "", "response": "La mer murmure"},
        {"id": "i4", "kind": "instruction", "instruction": "Empty answer?", "input": "", "response": ""},
        {"id": "i5", "kind": "instruction", "instruction": "写一首关于春天的诗。", "input": "", "response": "春风吹绿了江南岸。"},
        {"id": "i6", "kind": "instruction", "instruction": "Name three colours.", "input": "", "response": "Red, green, blue."},
        {"id": "i7", "kind": "instruction", "instruction": None, "input": None, "response": None},
        {"id": "d1", "kind": "document", "text": long_text},
        {"id": "d2", "kind": "document", "text": ""},
        {"id": "d3", "kind": "document", "text": "Contact john.smith@example.com or call 555-123-4567. <b>Bold</b> claim."},
        {"id": "c1", "kind": "conversation", "messages": msgs},
        {"id": "c2", "kind": "conversation", "messages": []},
        {"id": "p1", "kind": "preference", "instruction": "Add 2 and 2.", "input": "", "chosen_response": "4", "rejected_response": "5"},
        {"id": "p2", "kind": "preference", "instruction": "Say hi.", "input": None, "chosen_response": None, "rejected_response": ""},
        {"id": "s1", "kind": "scored", "instruction": "Rate this.", "input": "", "response": "Fine.", "score": 3.5},
        {"id": "s2", "kind": "scored", "instruction": "Rate that.", "input": "", "response": "Bad.", "score": None},
    ]
    return records.from_rows([{**r, "source": "mixed"} for r in rows])


def params_for(name: str, url: str, tmp_path: Path) -> dict:
    """The fewest parameters that make each stage runnable here: a model on loopback, an eval file, ..."""
    fields = stage_class(name).Config.model_fields
    params: dict = {}
    if "model" in fields:
        params["model"] = {"backend": "openai", "model": "scripted", "base_url": url, "api_key_env": "DSFORGE_FAKE_KEY",
                           "cache": False}
    for judge in ("judge_model", "user_model"):
        if judge in fields:
            params[judge] = params["model"]
    if name == "decontaminate":
        ev = tmp_path / "eval.jsonl"
        ev.write_text(json.dumps({"instruction": "Name three colours.", "output": "Red, green, blue."}) + "\n")
        params["eval_files"] = [str(ev)]
    if name == "language-filter":
        params["languages"] = ["en"]
    if name == "translate":
        params["languages"] = ["fr"]
    if name == "relevance":
        params["topics"] = ["colours", "arithmetic"]
    if name == "publish":
        params["output_dir"] = str(tmp_path / "published")
    if name == "mix":  # down-samples instructions and up-samples documents (copies with lineage)
        params.update(column="kind", targets={"instruction": 0.5, "document": 0.5}, total=20)
    if name == "annotations":  # labels from `dsforge review`: a reject, an accept, a tie, a low score
        from dsforge.pipelines.stages.labels import LabelStore

        store = LabelStore(tmp_path / "labels.parquet")
        for rid, who, label, score in [("i1", "ann", "reject", None), ("d1", "ann", "accept", 2), ("c1", "ann", "accept", None),
                                       ("c1", "bob", "reject", None), ("p1", "bob", "accept", 5)]:
            store.save(rid, "01-x", who, label, score)
        params.update(labels=str(store.path), min_score=3)
    if name == "ablate":  # trains a tiny random model on the ingested rows for a few dozen tokens
        from tiny_model import tiny_smollm2

        params = {"model": str(tiny_smollm2(tmp_path / "tiny")), "budget_tokens": 128, "max_length": 256, "eval_rows": 2}
    if name == "quality-classifier":
        params["judge"] = {"model": params.get("model") or {"backend": "openai", "model": "scripted", "base_url": url,
                                                           "api_key_env": "DSFORGE_FAKE_KEY", "cache": False}}
        params["sample_size"] = 16
    return params


STAGE_NAMES = [n for n in STAGES if n != "ingest"]


def test_every_stage_declares_its_mode_in_its_own_class():
    """No mode is inferred or merely inherited from a base: each registered stage class says how it runs."""
    from dsforge.pipelines.core.stage import MODES

    for name in STAGES:
        cls = stage_class(name)
        assert cls.__dict__.get("mode") in MODES, (name, cls)
        assert cls.execution() == cls.mode


@pytest.mark.parametrize("name", STAGE_NAMES)
def test_every_stage_keeps_the_contract_on_mixed_rows(name, llm_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DSFORGE_FAKE_KEY", "sk-test")
    src = tmp_path / "mixed.parquet"
    mixed_rows().write_parquet(src)
    recipe = build_recipe({"name": f"contract-{name}", "inputs": [{"path": str(src), "mapping": "records"}],
                           "stages": [{"stage": name, **params_for(name, llm_url, tmp_path)}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=False, executor=ExecutorSpec(workers=2))
    assert summary["status"] == "ok"
    step = Path(summary["run_dir"]) / "stages" / f"01-{name}"
    kept, rejected = read_table(step), read_table(step, "rejected")
    stats = json.loads((step / "stats.json").read_text())
    assert (stats["kept"], stats["rejected"]) == (kept.height, rejected.height)
    ids_in = set(mixed_rows()["id"])
    out = kept["id"].to_list() + rejected["id"].to_list()
    assert len(out) == len(set(out)), f"{name}: an id appears twice"
    assert ids_in <= set(out), f"{name}: lost {sorted(ids_in - set(out))}"
    created = set(out) - ids_in
    assert not created or stage_class(name).creates_rows, f"{name}: created rows {sorted(created)[:3]} undeclared"
    if stage_class(name).changes_rows is False:
        assert kept.height == len(ids_in) and rejected.height == 0
    assert rejected["reason"].str.starts_with(f"{name}:").all() if rejected.height else True
