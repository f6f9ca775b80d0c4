"""`dsforge review`: the run reader, the labels file, the HTTP API, the command, the `annotations` stage and
agreement in `dsforge inspect`, on a small real run (tests/review_run.py). The page in a browser:
tests/test_review_browser.py."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from dsforge.pipelines.core import shards
from dsforge.pipelines.stages.inspect.annotators import label_agreement
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.stages.labels import LabelError, LabelStore, read_labels
from dsforge.pipelines.apps.review.run_data import Query, ReviewError, RunData
from dsforge.pipelines.apps.review.server import create_app
from dsforge.pipelines.stages.annotations import Annotations
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.stage import ConfigError, StageContext

DSFORGE = str(Path(sys.executable).parent / "dsforge")
sys.path.insert(0, str(Path(__file__).parent))
from review_run import make_run  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("review"))


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith("labels.parquet")}


# ---------------------------------------------------------------- reading a run


def test_steps_and_rejects_match_the_step_files(run_dir):
    data = RunData(run_dir)
    assert [s.stage for s in data.steps] == ["ingest", "rules", "clean-markup", "exact-dedup", "length-filter"]
    for s in data.steps:
        folder = run_dir / "stages" / s.name
        assert s.kept == shards.count_rows(shards.parts(folder)) and s.rejected == shards.count_rows(
            shards.parts(folder, "rejected"))
        assert s.rows_in == s.kept + s.rejected
    by_reason = {(r["step"], r["reason"]): r["count"] for r in data.rejects_by_reason()}
    rejected = pl.read_parquet(run_dir / "rejected.parquet")
    assert sum(by_reason.values()) == rejected.height
    for (step, reason), n in by_reason.items():
        assert rejected.filter(pl.col("reason") == reason).height == n
        page = data.rows(Query(step=step, which="rejected", reason=reason, limit=5))
        assert page["total"] == n and all(r["reason"] == reason for r in page["rows"])


def test_filters_pages_and_seeded_samples(run_dir):
    data = RunData(run_dir)
    last = data.steps[-1].name
    full = shards.read_table(run_dir / "stages" / last)
    # text search, case-insensitive, over every text field (messages too)
    got = data.rows(Query(step=last, q="DETECTIVE", limit=200))
    want = full.filter(pl.concat_str([pl.col("instruction").fill_null(""), pl.col("response").fill_null(""),
                                      pl.col("messages").list.eval(pl.element().struct.field("content")).list.join(" ")
                                      .fill_null(""), pl.col("chosen_response").fill_null(""),
                                      pl.col("rejected_response").fill_null("")])
                       .str.to_lowercase().str.contains("detective"))
    assert got["total"] == want.height > 0 and {r["id"] for r in got["rows"]} == set(want["id"])
    # source and kind filters; pages tile the rows in order
    assert data.rows(Query(step=last, source="pairs"))["total"] == full.filter(pl.col("source") == "pairs").height
    pages = [r["id"] for off in range(0, full.height, 100) for r in data.rows(Query(step=last, offset=off, limit=100))["rows"]]
    assert pages == full["id"].to_list()
    # any column: the markup_changes column clean-markup added, and numbers compare as numbers
    changed = data.rows(Query(step=last, column="markup_changes", op="contains", value="html", limit=200))
    assert changed["total"] == full.filter(pl.col("markup_changes").list.join(",").str.contains("html")).height > 0
    # a seeded sample: same seed, same rows; another seed, other rows; all from the filtered set
    s1 = data.rows(Query(step=last, kind="instruction", sample=10, seed=7))
    s2 = data.rows(Query(step=last, kind="instruction", sample=10, seed=7))
    s3 = data.rows(Query(step=last, kind="instruction", sample=10, seed=8))
    assert [r["id"] for r in s1["rows"]] == [r["id"] for r in s2["rows"]] != [r["id"] for r in s3["rows"]]
    assert s1["total"] == 10 and s1["matching"] == full.filter(pl.col("kind") == "instruction").height
    assert all(r["kind"] == "instruction" for r in s1["rows"])
    # unfiltered, the sample reads single rows from the parts holding them (three parts here, one per input)
    assert len(shards.parts(run_dir / "stages" / last)) == 3
    s4 = data.rows(Query(step=last, sample=40, seed=2, limit=40))
    picks = sorted(random.Random(2).sample(range(full.height), 40))
    assert [r["id"] for r in s4["rows"]] == full["id"].gather(picks).to_list()
    assert {r["source"] for r in s4["rows"]} == {"alpaca-libre", "roleplay-chats", "pairs"}
    with pytest.raises(ReviewError, match="no column 'nope'"):
        data.rows(Query(step=last, column="nope", value="x"))
    with pytest.raises(ReviewError, match="no step"):
        data.rows(Query(step="99-missing"))


def test_row_before_after_and_lineage(run_dir):
    data = RunData(run_dir)
    cm = next(s.name for s in data.steps if s.stage == "clean-markup")
    out = data.row(cm, "roleplay-chats:line1")
    assert out["previous_step"].endswith("rules") and out["before"]["id"] == "roleplay-chats:line1"
    diff = next(c for c in out["changes"] if c["field"] == "messages")["diff"]
    assert ["-", "&amp;"] in diff and ["+", "&"] in diff           # the entity clean-markup decoded
    assert [e["stage"] for e in out["row"]["lineage"]][-1] == "clean-markup"
    unchanged = data.row(data.steps[-1].name, "pairs:line1")
    assert unchanged["changes"] == [] and unchanged["before"] is not None
    rej = data.row(data.steps[1].name, data.rows(Query(step=data.steps[1].name, which="rejected"))["rows"][0]["id"],
                   "rejected")
    assert rej["row"]["reason"] == "rules:generator-rejected" and rej["before"] is not None


# ---------------------------------------------------------------- labels


def test_labels_replace_remove_and_refuse_bad_input(tmp_path):
    store = LabelStore(tmp_path)
    store.save("a", "s", "alice", "accept", 4, "fine")
    store.save("a", "s", "bob", "reject", None, "wrong year")
    store.save("a", "s", "alice", "reject", "2", "")           # alice changes her mind: replaced, not added
    t = read_labels(tmp_path / "labels.parquet")
    assert t.height == 2 and t.filter(pl.col("annotator") == "alice").row(0, named=True)["label"] == "reject"
    assert t.filter(pl.col("annotator") == "alice")["score"].to_list() == [2.0]
    assert store.save("a", "s", "bob")["removed"] and read_labels(tmp_path).height == 1
    for bad, msg in [(dict(annotator=""), "annotator"), (dict(annotator="x", label="maybe"), "label must be"),
                     (dict(annotator="x", score="high"), "score must be a number")]:
        with pytest.raises(LabelError, match=msg):
            store.save("a", "s", **bad)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(LabelError, match="bad.parquet"):
        read_labels(tmp_path / "bad.parquet")


def _label_many(folder: str, who: str, n: int) -> None:
    store = LabelStore(folder)
    for i in range(n):
        store.save(f"row{i}", "s", who, "accept" if i % 2 else "reject", i % 5 + 1)


def test_concurrent_writers_lose_no_label(tmp_path):
    """Four processes, each with two threads, label the same 30 rows at once: all 240 labels are there."""
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_threads, args=(str(tmp_path), f"p{p}")) for p in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    t = read_labels(tmp_path)
    assert t.height == 4 * 2 * 30
    assert t.group_by("annotator").len()["len"].to_list() == [30] * 8
    assert not list(tmp_path.glob(".labels.parquet.*.tmp"))


def _threads(folder: str, prefix: str) -> None:
    ts = [threading.Thread(target=_label_many, args=(folder, f"{prefix}-t{k}", 30)) for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


# ---------------------------------------------------------------- the HTTP API


def test_api_serves_rows_labels_and_never_touches_the_run(run_dir, tmp_path):
    labels = tmp_path / "labels.parquet"
    before = tree_hashes(run_dir)
    client = TestClient(create_app(run_dir, guideline="Be strict.", labels_file=labels), base_url="http://127.0.0.1")
    assert "dsforge review" in client.get("/").text and "function" in client.get("/static/app.js").text
    run = client.get("/api/run").json()
    assert run["guideline"] == "Be strict." and run["steps"][-1]["stage"] == "length-filter"
    step = run["steps"][1]["name"]
    page = client.get("/api/rows", params={"step": step, "which": "rejected", "reason": "rules:generator-rejected",
                                           "limit": 3}).json()
    assert page["total"] == run["steps"][1]["rejected"] and len(page["rows"]) == 3
    ids = [r["id"] for r in page["rows"]]
    for who, verdicts in (("alice", ["accept", "reject", "reject"]), ("bob", ["accept", "accept", "reject"])):
        for rid, v in zip(ids, verdicts):
            r = client.post("/api/labels", json={"id": rid, "step": step, "annotator": who, "label": v, "note": "n"})
            assert r.status_code == 200, r.text
    row = client.get("/api/row", params={"step": step, "which": "rejected", "id": ids[1]}).json()
    assert {(l["annotator"], l["label"]) for l in row["labels"]} == {("alice", "reject"), ("bob", "accept")}
    # label filters: bob's accepted rows, rows nobody labelled
    acc = client.get("/api/rows", params={"step": step, "which": "rejected", "label": "accept", "annotator": "bob"}).json()
    assert sorted(r["id"] for r in acc["rows"]) == sorted(ids[:2])
    unl = client.get("/api/rows", params={"step": step, "which": "rejected", "label": "unlabelled"}).json()
    assert unl["total"] == page["total"] - 3
    got = client.get("/api/labels").json()
    assert got["agreement"]["accept_reject"]["agreement"] == pytest.approx(2 / 3, abs=1e-3)
    assert got["agreement"] == label_agreement(read_labels(labels))
    bad = client.post("/api/labels", json={"id": ids[0], "annotator": "alice", "label": "perhaps"})
    assert bad.status_code == 400 and "label must be" in bad.json()["detail"]
    assert client.get("/api/rows", params={"step": "nope"}).status_code == 400
    assert tree_hashes(run_dir) == before


def test_command_prints_url_and_serves_on_loopback(run_dir, tmp_path):
    proc = subprocess.Popen([DSFORGE, "review", str(run_dir), "--no-browser",
                             "--labels", str(tmp_path / "l.parquet")], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(0)
        deadline = time.time() + 30
        while True:
            try:
                body = json.loads(urllib.request.urlopen(url + "api/run", timeout=5).read())
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        assert body["recipe"] == "review-test"
        assert body["guideline"].startswith("Accept rows whose answer is correct")   # the recipe's guideline:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        busy = subprocess.run([DSFORGE, "review", str(run_dir), "--no-browser",
                               "--port", str(port)], capture_output=True, text=True, timeout=60)
        assert busy.returncode != 0 and f"--port {port}" in busy.stderr
    finally:
        proc.terminate()
        proc.wait(30)
    bad = subprocess.run([DSFORGE, "review", str(tmp_path), "--no-browser"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not a run folder" in bad.stderr


# ---------------------------------------------------------------- labels fed back into a recipe


def test_annotations_stage_in_a_recipe(run_dir, tmp_path):
    last = RunData(run_dir).steps[-1].name
    ids = shards.read_table(run_dir / "stages" / last)["id"].to_list()[:5]
    store = LabelStore(tmp_path)
    for rid, who, label, score in [(ids[0], "alice", "reject", None), (ids[1], "alice", "accept", 5),
                                   (ids[1], "bob", "accept", 4), (ids[2], "alice", "accept", 2),
                                   (ids[3], "alice", "accept", None), (ids[3], "bob", "reject", None)]:
        store.save(rid, last, who, label, score, note=f"{who} on {rid}")
    recipe = build_recipe({"name": "relabel", "inputs": [{"path": str(run_dir / "stages" / last)}],
                           "stages": [{"stage": "annotations", "labels": str(tmp_path / "labels.parquet"), "min_score": 3}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=False, executor=ExecutorSpec(workers=1))
    step = Path(summary["run_dir"]) / "stages" / "01-annotations"
    rej = shards.read_table(step, "rejected")
    assert dict(zip(rej["id"], rej["reason"])) == {ids[0]: "annotations:rejected_by_annotator",
                                                    ids[2]: "annotations:low_score", ids[3]: "annotations:tie"}
    assert "alice: reject (alice on" in rej.filter(pl.col("id") == ids[0])["detail"][0]
    kept = shards.read_table(step)
    assert kept.height == RunData(run_dir).steps[-1].kept - 3
    row = kept.filter(pl.col("id") == ids[1]).row(0, named=True)
    assert (row["annotation_decision"], row["annotation_score"], row["annotation_count"]) == ("accept", 4.5, 2)
    # relabelling changes the step's fingerprint: the next run recomputes it and drops the row
    store.save(ids[1], last, "bob", "reject")
    store.save(ids[1], last, "carol", "reject")
    again = run_recipe(recipe, tmp_path / "runs", progress=False, executor=ExecutorSpec(workers=1))
    step2 = Path(again["run_dir"]) / "stages" / "01-annotations"
    assert ids[1] in shards.read_table(step2, "rejected")["id"].to_list()


def test_a_person_overrides_the_judge(run_dir, tmp_path):
    """A flag-mode judge kept every row with a score; people's labels win where they exist."""
    df = shards.read_table(run_dir / "stages" / RunData(run_dir).steps[-1].name).head(6)
    df = df.with_columns(pl.Series("judge_score", [5.0, 1.0, 1.0, 5.0, 2.0, None]))
    ids = df["id"].to_list()
    store = LabelStore(tmp_path)
    store.save(ids[1], "s", "alice", "accept")     # judge said 1, the person says keep
    store.save(ids[3], "s", "alice", "reject")     # judge said 5, the person says drop
    stage = Annotations({"labels": str(tmp_path), "unlabelled": "judge", "judge_min_score": 4})
    res = stage.process(df, StageContext(work_dir=tmp_path))
    assert res.kept["id"].to_list() == [ids[0], ids[1]]
    reasons = dict(zip(res.rejected["id"], res.rejected["reason"]))
    assert reasons == {ids[2]: "annotations:judge_rejected", ids[3]: "annotations:rejected_by_annotator",
                       ids[4]: "annotations:judge_rejected", ids[5]: "annotations:judge_rejected"}
    assert "score < 4: 1.0" in res.rejected.filter(pl.col("id") == ids[2])["detail"][0]
    with pytest.raises(ConfigError, match="judge_score"):
        Annotations({"labels": str(tmp_path), "unlabelled": "judge"}).process(df.drop("judge_score"),
                                                                              StageContext(work_dir=tmp_path))
    with pytest.raises(ConfigError, match="labels file not found"):
        Annotations({"labels": str(tmp_path / "none.parquet")}).process(df, StageContext(work_dir=tmp_path))


# ---------------------------------------------------------------- agreement in inspect


def test_inspect_shows_agreement_on_review_labels(run_dir, tmp_path):
    last = RunData(run_dir).steps[-1].name
    ids = shards.read_table(run_dir / "stages" / last)["id"].to_list()[:4]
    store = LabelStore(tmp_path)
    for who, labels in (("alice", ["accept", "accept", "reject", "reject"]), ("bob", ["accept", "reject", "reject", "reject"])):
        for rid, lab in zip(ids, labels):
            store.save(rid, last, who, lab)
    out = subprocess.run([DSFORGE, "inspect", str(run_dir), "--out", str(tmp_path / "i"),
                          "--labels", str(tmp_path / "labels.parquet"), "--verb-sample", "50", "--diversity-sample", "0"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "accept/reject agreement 75% on 4 rows" in out.stdout
    stats = json.loads((tmp_path / "i" / "stats.json").read_text())
    ar = stats["review_labels"]["accept_reject"]
    assert ar["agreement"] == 0.75 and ar["pairs"][0]["annotators"] == ["alice", "bob"]
    assert ar["pairs"][0]["kappa"] == pytest.approx(0.5)          # po .75, pe .5 -> (0.75-0.5)/(1-0.5)
    assert "Review labels" in (tmp_path / "i" / "report.html").read_text()


def test_inspect_stage_in_a_recipe_reads_the_labels_file(run_dir, tmp_path):
    """`inspect` with `labels:` as a recipe step gives the same agreement figures as `dsforge inspect --labels`."""
    from dsforge.pipelines.stages.inspect.stage import Inspect

    last = RunData(run_dir).steps[-1].name
    df = shards.read_table(run_dir / "stages" / last)
    store = LabelStore(tmp_path)
    for who, labels in (("alice", ["accept", "reject", "accept"]), ("bob", ["accept", "reject", "reject"])):
        for rid, lab in zip(df["id"].to_list()[:3], labels):
            store.save(rid, last, who, lab)
    stage = Inspect({"labels": str(tmp_path / "labels.parquet"), "verb_sample": 20, "diversity_sample": 0})
    work = tmp_path / "05-inspect-labels"
    out = stage.process(df, StageContext(work_dir=work, base_dir=tmp_path))
    ar = out.stats["review_labels"]["accept_reject"]
    assert ar["agreement"] == pytest.approx(2 / 3, abs=1e-4) and ar["items"] == 3  # rounded to 4 places
    assert out.kept.height == df.height and "Review labels" in (work / "report.html").read_text()
