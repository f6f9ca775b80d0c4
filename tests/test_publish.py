"""publish and the dataset card: save_to_disk, Parquet shards, layouts, and push_to_hub against a fake hub
on 127.0.0.1 (the network boundary: everything up to the HTTP calls is real)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import replace
from pathlib import Path

import datasets
import polars as pl
import pytest
import yaml

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.card import card_sections, lineage_summary, render_card
from dsforge.pipelines.stages.dataset_writer import Written
from dsforge.pipelines.stages.chat_format import ChatFormat
from dsforge.pipelines.stages.publish import Publish, Save
from dsforge.pipelines.core.recipe import load_recipe
from dsforge.pipelines.core.run_info import RunInfo
from dsforge.pipelines.core.runner import run_recipe
from dsforge.pipelines.core.shards import read_table
from dsforge.pipelines.core.stage import ConfigError, StageContext


class FakeHub:
    """The endpoints huggingface_hub calls to create a repo and upload a folder, recording every request."""

    def __init__(self):
        self.requests, self.repos, self.files, self.card_meta = [], {}, {}, None
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, obj):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                hub.requests.append(("GET", self.path, self.headers.get("authorization"), b""))
                self._send(404, {"error": "not found"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hub.requests.append(("POST", self.path, self.headers.get("authorization"), body))
                base = f"http://127.0.0.1:{hub.port}"
                parts = self.path.split("?")[0].split("/")
                if self.path == "/api/validate-yaml":
                    content = json.loads(body)["content"]
                    meta = yaml.safe_load(content.split("---")[1]) if content.startswith("---") else None
                    if not isinstance(meta, dict):
                        return self._send(400, {"errors": [{"message": "no YAML metadata block"}]})
                    hub.card_meta = meta
                    return self._send(200, {"warnings": []})
                if self.path == "/api/repos/create":
                    d = json.loads(body)
                    rid = f"{d.get('organization')}/{d['name']}"
                    hub.repos[rid] = d
                    return self._send(200, {"url": f"{base}/datasets/{rid}", "name": rid, "id": rid})
                if len(parts) >= 7 and parts[5] == "preupload":
                    files = json.loads(body)["files"]
                    return self._send(200, {"files": [{"path": f["path"], "uploadMode": "regular",
                                                       "shouldIgnore": False, "oid": None} for f in files]})
                if len(parts) >= 7 and parts[5] == "commit":
                    rid = f"{parts[3]}/{parts[4]}"
                    for line in body.decode().splitlines():
                        item = json.loads(line)
                        if item.get("key") == "file":
                            hub.files[(rid, item["value"]["path"])] = base64.b64decode(item["value"]["content"])
                    return self._send(200, {"commitUrl": f"{base}/datasets/{rid}/commit/{'a' * 40}", "commitOid": "a" * 40})
                self._send(404, {"error": f"fake hub: no route {self.path}"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fake_hub(monkeypatch):
    hub = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # conftest sets it for the session
    yield hub
    hub.close()


RECIPE = """
name: publish-test
description: Alpaca-style rows, rendered for SmolLM2, split leak-free and published.
seed: 3
inputs:
  - path: "data:alpaca_libre_v1.jsonl"
    mapping: alpaca
    source: alpaca-libre
    limit: 400
stages:
  - stage: inspect
    verb_sample: 20
  - stage: exact-dedup
    fields: [prompt]
  - stage: length-filter
    field: response
    min_words: 1
  - stage: chat-format
    template: smollm2
    loss_mask: true
  - stage: split
    fractions: {train: 0.8, validation: 0.1, test: 0.1}
  - stage: publish
    formats: [hf, parquet, jsonl]
    shard_rows: 150
    tags: [instruction-tuning]
"""


@pytest.fixture(scope="module")
def published_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pub")
    (root / "recipe.yaml").write_text(RECIPE)
    summary = run_recipe(load_recipe(str(root / "recipe.yaml")), out_root=root / "runs", progress=False)
    return Path(summary["run_dir"]), summary


def test_recipe_publishes_splits_shards_and_disk_dataset(published_run):
    run_dir, summary = published_run
    out = run_dir / "dataset"
    assert summary["status"] == "ok" and out.is_dir()
    dd = datasets.load_from_disk(str(out / "hf"))
    assert set(dd) == {"train", "validation", "test"}
    kept = summary["steps"][-1]["kept"]
    assert sum(len(dd[s]) for s in dd) == kept
    assert dd["train"].column_names[:1] == ["messages"] and "assistant_masks" in dd["train"].column_names
    shards = sorted(p.name for p in (out / "data" / "train").glob("train-*.parquet"))
    assert len(shards) == -(-len(dd["train"]) // 150) and shards[0].endswith(f"-of-{len(shards):05d}.parquet")
    via_parquet = datasets.load_dataset("parquet", data_files={"train": str(out / "data/train/*.parquet")})["train"]
    assert via_parquet["id"] == dd["train"]["id"]
    assert datasets.load_dataset(str(out))["train"]["id"] == dd["train"]["id"]  # the card's configs, as the Hub reads them
    assert (out / "test.jsonl").read_text().count("\n") == len(dd["test"])
    # no id in two splits
    ids = [set(dd[s]["id"]) for s in dd]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])


def test_card_reflects_the_run(published_run):
    run_dir, summary = published_run
    card = (run_dir / "dataset" / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["license"] == "cc0-1.0"  # from data/README.md for the shipped alpaca-libre file
    files = json.loads(next((run_dir / "stages").glob("*-publish/stats.json")).read_text())["stage_stats"]["files"]
    assert meta["configs"][0]["data_files"] == [{"split": s, "path": f if len(f) > 1 else f[0]} for s, f in files.items()]
    assert all((run_dir / "dataset" / f).is_file() for names in files.values() for f in names)
    assert meta["pretty_name"] == "publish-test" and meta["task_categories"] == ["text-generation"]
    assert meta["language"] == ["en"] and "source_datasets" not in meta  # alpaca-libre is a local name, not a Hub id
    assert [s["name"] for s in meta["dataset_info"]["splits"]] == ["train", "validation", "test"]
    assert {f["name"] for f in meta["dataset_info"]["features"]} >= {"messages", "input_ids", "assistant_masks"}
    assert "`input_ids` were made by the tokenizer of `HuggingFaceTB/SmolLM2-135M-Instruct`" in card
    assert "instruction-tuning" in meta["tags"] and "dsforge" in meta["tags"]
    assert card_sections(card) == ["Splits", "Sources and licences", "How it was made", "Models and templates (from lineage)",
                                   "Length statistics", "Inspection", "Loading"]
    # the inspect step's own findings, and its report copied next to the card
    assert "Step `inspect` (400 rows):" in card and "empty" in card.split("## Inspection")[1]
    report = next((run_dir / "dataset" / "inspect").glob("*report.html"))
    assert f"Full report: [inspect/{report.name}]" in card
    assert "Alpaca-style rows, rendered for SmolLM2" in card
    assert "| alpaca-libre | data:alpaca_libre_v1.jsonl | jsonl | 400 | 400 | CC0 1.0" in card
    for step in summary["steps"][:-1]:  # every step before publish, with its counts
        assert f"| {step['step']} | `{step['stage']}` |" in card
        assert f"| {step['rows_in']:,} | {step['kept']:,} | {step['rejected']:,} |" in card
    reasons = {r: n for s in summary["steps"] for r, n in (s["rejected_by_reason"] or {}).items()}
    for r, n in reasons.items():
        assert f"| `{r}` | {n:,} |" in card
    assert "| chat-format | – | smollm2 |" in card
    assert "Unit: tokens." in card
    splits = json.loads((run_dir / "stages").glob("*-publish/stats.json").__next__().read_text())["stage_stats"]["splits"]
    for s, n in splits.items():
        assert f"| {s} | {n:,} |" in card


def test_publish_knows_the_run_only_from_its_context(published_run, tmp_path):
    """The card's run facts come from the RunInfo in the context, not from folders around work_dir: the same
    stage run in a folder outside any run, handed the run's RunInfo, writes the same steps and report."""
    run_dir, summary = published_run
    run = RunInfo.of_run_dir(run_dir)
    assert run.recipe_name == "publish-test" and run.name == run_dir.name
    assert [s.stats["step"] for s in run.steps] == [s["step"] for s in summary["steps"]]
    inspect = next(s for s in run.steps if s.stage == "inspect")
    assert any(f.name == "report.html" for f in inspect.files) and not any(f.name == "kept" for f in inspect.files)
    df = read_table(run_dir / "stages" / "05-split")
    alone = StageContext(work_dir=tmp_path / "elsewhere", base_dir=tmp_path)
    Publish({"formats": ["parquet"], "output_dir": str(tmp_path / "with")}).process(df, replace(alone, extras={"run": run}))
    card = (tmp_path / "with" / "README.md").read_text()
    assert yaml.safe_load(card.split("---")[1])["pretty_name"] == "publish-test"
    assert f"run `{run_dir.name}`" in card and "Step `inspect` (400 rows):" in card
    assert (tmp_path / "with" / "inspect" / f"{inspect.files[0].parent.name}-report.html").is_file()
    for step in summary["steps"][:-1]:
        assert f"| {step['step']} | `{step['stage']}` |" in card
    Publish({"formats": ["parquet"], "output_dir": str(tmp_path / "without")}).process(df, alone)
    card = (tmp_path / "without" / "README.md").read_text()
    assert "Published outside a recipe run" in card and not (tmp_path / "without" / "inspect").exists()
    with pytest.raises(TypeError, match="must be a RunInfo"):
        Publish({"output_dir": str(tmp_path / "bad")}).process(df, replace(alone, extras={"run": str(run_dir)}))


def test_dpo_layout_exports_trl_columns(tmp_path):
    df = records.from_rows([
        {"id": "p0", "source": "s", "kind": "preference", "instruction": "Name a colour.", "chosen_response": "Blue.", "rejected_response": "Dog."},
        {"id": "p1", "source": "s", "kind": "preference", "instruction": "2+2?", "chosen_response": "4", "rejected_response": "5"}])
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path)
    formatted = ChatFormat({"layout": "dpo"}).process(df, ctx).kept
    Publish({"formats": ["hf"], "output_dir": str(tmp_path / "msgs")}).process(formatted, ctx)
    ds = datasets.load_from_disk(str(tmp_path / "msgs" / "hf"))["train"]
    assert ds.column_names[:3] == ["prompt", "chosen", "rejected"]
    assert ds[0]["prompt"] == [{"role": "user", "content": "Name a colour."}]
    assert ds[0]["chosen"] == [{"role": "assistant", "content": "Blue."}]
    Publish({"formats": ["parquet"], "prefer": "text", "output_dir": str(tmp_path / "text")}).process(formatted, ctx)
    t = pl.read_parquet(tmp_path / "text" / "data" / "train" / "train-00000-of-00001.parquet")
    assert t["chosen"][0] == "Blue.<|im_end|>" and t["prompt"][0].endswith("<|im_start|>assistant\n")
    # save writes the very same layout (prompt included) as publish: one writer
    Save({"formats": ["hf"], "output_dir": str(tmp_path / "saved")}).process(formatted, ctx)
    saved = datasets.load_from_disk(str(tmp_path / "saved" / "hf"))
    assert isinstance(saved, datasets.DatasetDict) and saved["train"].features == ds.features
    assert saved["train"].to_list() == ds.to_list()
    card = (tmp_path / "text" / "README.md").read_text()
    assert "Layout: **dpo**" in card and "Published outside a recipe run" in card
    with pytest.raises(ConfigError, match="needs a 'completion' column"):
        Publish({"layout": "completion", "output_dir": str(tmp_path / "x")}).process(formatted, ctx)


def test_push_to_fake_hub_private_by_default(tmp_path, fake_hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    df = records.from_rows([{"id": f"r{i}", "source": "s", "kind": "instruction", "instruction": f"q{i}",
                             "response": "a"} for i in range(5)])
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path)
    formatted = ChatFormat({}).process(df, ctx).kept
    res = Publish({"formats": ["parquet"], "push_to_hub": "me/my-set", "licenses": {"s": "MIT"},
                   "output_dir": str(tmp_path / "out")}).process(formatted, ctx)
    assert res.stats["pushed"].startswith(fake_hub.url) and res.stats["private"] is True
    assert fake_hub.repos["me/my-set"]["visibility"] == "private" and fake_hub.repos["me/my-set"]["type"] == "dataset"
    assert all(r[2] == "Bearer hf_test_token" for r in fake_hub.requests)
    uploaded = {p for (_, p) in fake_hub.files}
    assert uploaded == {"README.md", "data/train/train-00000-of-00001.parquet", "chat_template.jinja",
                        "dataset_info.json", "trainers/README.md", "trainers/trl.yaml", "trainers/axolotl.yaml"}
    assert fake_hub.card_meta["license"] == "mit"
    card = fake_hub.files[("me/my-set", "README.md")].decode()
    assert 'load_dataset("me/my-set")' in card and "| s | 5 | MIT |" in card
    local = (tmp_path / "out" / "data" / "train" / "train-00000-of-00001.parquet").read_bytes()
    assert fake_hub.files[("me/my-set", "data/train/train-00000-of-00001.parquet")] == local
    assert yaml.safe_load(fake_hub.files[("me/my-set", "trainers/trl.yaml")])["dataset_name"] == "me/my-set"


def test_publish_hf_only_with_a_push_uploads_what_the_card_lists(tmp_path, fake_hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    df = records.from_rows([{"id": f"r{i}", "source": "s", "kind": "instruction", "instruction": f"q{i}",
                             "response": "a"} for i in range(3)])
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path)
    formatted = ChatFormat({}).process(df, ctx).kept
    res = Publish({"formats": ["hf"], "push_to_hub": "me/hf-only", "output_dir": str(tmp_path / "o")}).process(formatted, ctx)
    uploaded = {p for (repo, p) in fake_hub.files if repo == "me/hf-only"}
    listed = {p for entry in fake_hub.card_meta["configs"][0]["data_files"] for p in
              ([entry["path"]] if isinstance(entry["path"], str) else entry["path"])}
    assert listed == {"data/train/train-00000-of-00001.parquet"} and listed <= uploaded
    assert not any(p.startswith("hf/") or p == "columns.json" for p in uploaded)
    assert res.stats["files"] == {"train": ["data/train/train-00000-of-00001.parquet"]}


def test_push_without_token_or_when_offline_uploads_nothing(tmp_path, fake_hub, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    df = records.from_rows([{"id": "r", "source": "s", "kind": "instruction", "instruction": "q", "response": "a"}])
    step = Publish({"formats": ["parquet"], "push_to_hub": "me/x", "output_dir": str(tmp_path / "o")})
    with pytest.raises(ConfigError, match="HF_TOKEN"):
        step.process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path))
    monkeypatch.setenv("HF_TOKEN", "hf_x")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ConfigError, match="HF_HUB_OFFLINE"):
        step.process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path))
    assert fake_hub.requests == [] and (tmp_path / "o" / "README.md").exists()


def test_lineage_summary_names_models_and_templates():
    df = records.from_rows([{"id": "a", "source": "s", "kind": "instruction", "instruction": "q", "response": "r",
                             "lineage": [{"stage": "self-instruct", "info": json.dumps({"model": "smollm2", "template": "self_instruct.txt"})},
                                         {"stage": "chat-format", "info": json.dumps({"template": "llama3"})}]}])
    assert lineage_summary(df) == [
        {"stage": "chat-format", "model": "", "template": "llama3", "rows": 1},
        {"stage": "self-instruct", "model": "smollm2", "template": "self_instruct.txt", "rows": 1}]
    card = render_card(df, name="x", written=Written(Path("."), "records", df.columns, {"train": 1}), run=None,
                       licenses={})
    assert "| self-instruct | smollm2 | self_instruct.txt | 1 |" in card


def test_reward_layout_exports_pairs_and_scored_rows(tmp_path):
    df = records.from_rows([
        {"id": "p0", "source": "s", "kind": "preference", "instruction": "Name a colour.", "chosen_response": "Blue.", "rejected_response": "Dog."},
        {"id": "s0", "source": "s", "kind": "scored", "instruction": "Hi", "response": "Hello", "score": 0.75}])
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path)
    formatted = ChatFormat({"layout": "reward"}).process(df, ctx).kept
    res = Publish({"formats": ["hf"], "output_dir": str(tmp_path / "r")}).process(formatted, ctx)
    assert res.stats["layout"] == "reward"
    ds = datasets.load_from_disk(str(tmp_path / "r" / "hf"))["train"]
    rows = {r["id"]: r for r in ds}
    assert rows["p0"]["chosen"] == [{"role": "assistant", "content": "Blue."}] and rows["p0"]["score"] is None
    assert rows["s0"]["score"] == 0.75 and rows["s0"]["messages"][-1] == {"role": "assistant", "content": "Hello"}


def test_sampled_run_card_has_the_recipe_name(tmp_path):
    from dsforge.pipelines.core.recipe import build_recipe

    recipe = build_recipe({"name": "sft-completion", "inputs": [{"path": "data:alpaca_libre_v1.jsonl", "mapping": "alpaca"}],
                           "stages": [{"stage": "chat-format", "layout": "completion"}, {"stage": "publish"}]})
    summary = run_recipe(recipe, tmp_path / "runs", sample=5, progress=False)
    assert summary["status"] == "ok" and "-sample5" in summary["run_dir"]
    meta = yaml.safe_load((Path(summary["run_dir"]) / "dataset" / "README.md").read_text().split("---")[1])
    assert meta["pretty_name"] == "sft-completion"
    trl = yaml.safe_load((Path(summary["run_dir"]) / "dataset" / "trainers" / "trl.yaml").read_text())
    assert trl["completion_only_loss"] is True
