"""Issue 29: the review page answers only its own Host (DNS rebinding), refuses cross-origin writes,
validates every label field, caps sizes, and answers bad input with 400 and a message, not a traceback."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from review_run import make_run
from dsforge.pipelines.apps.review.guard import MAX_BODY
from dsforge.pipelines.stages.labels import read_labels
from dsforge.pipelines.apps.review.server import MAX_NOTE, create_app

PORT = 34201
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    run_dir = make_run(tmp_path_factory.mktemp("review-guard"))
    labels = run_dir.parent / "labels.parquet"
    client = TestClient(create_app(run_dir, labels_file=labels, port=PORT), base_url=BASE,
                        raise_server_exceptions=False)
    run = client.get("/api/run").json()
    step = run["steps"][1]["name"]
    rid = client.get("/api/rows", params={"step": step, "which": "rejected", "limit": 1}).json()["rows"][0]["id"]
    return client, step, rid, labels


def test_dns_rebinding_host_is_refused(page):
    client, step, _, _ = page
    assert client.get("/api/rows", params={"step": step}).status_code == 200
    for host in ("attacker.test", f"attacker.test:{PORT}", "127.0.0.1:1", "localhost.attacker.test", ""):
        r = client.get("/api/rows", params={"step": step}, headers={"Host": host})
        assert r.status_code == 421 and "rows" not in r.text, (host, r.status_code)
    assert client.get("/", headers={"Host": f"localhost:{PORT}"}).status_code == 200


@pytest.mark.parametrize("headers,status", [
    ({"Origin": "http://attacker.test"}, 403),
    ({"Origin": "null"}, 403),
    ({"Referer": "http://attacker.test/x"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Origin": f"http://127.0.0.1:{PORT}", "Content-Type": "text/plain"}, 415),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
def test_cross_origin_and_non_json_writes_are_refused(page, headers, status):
    client, step, rid, labels = page
    body = '{"id": "%s", "step": "%s", "annotator": "mallory", "label": "accept"}' % (rid, step)
    r = client.post("/api/labels", content=body, headers={"Content-Type": "application/json", **headers})
    assert r.status_code == status, r.text
    assert "mallory" not in set(read_labels(labels)["annotator"].to_list())


def test_same_origin_write_is_stored(page):
    client, step, rid, labels = page
    r = client.post("/api/labels", json={"id": rid, "step": step, "annotator": "ann", "label": "accept", "score": "4.5"},
                    headers={"Origin": BASE})
    assert r.status_code == 200, r.text
    got = read_labels(labels).filter(read_labels(labels)["annotator"] == "ann").to_dicts()
    assert got[0]["score"] == 4.5 and got[0]["label"] == "accept"


@pytest.mark.parametrize("field,value,expect", [
    ("score", "inf", "finite number from 1 to 5"),
    ("score", "1e400", "finite number from 1 to 5"),
    ("score", 99, "finite number from 1 to 5"),
    ("score", 0, "finite number from 1 to 5"),
    ("score", "nan", "finite number from 1 to 5"),
    ("score", True, "not true/false"),
    ("score", [3], "score"),
    ("label", True, "label must be text"),
    ("annotator", 7, "annotator must be text"),
    ("note", "a\ud800b", "not valid Unicode"),
    ("note", "x" * (MAX_NOTE + 1), f"at most {MAX_NOTE}"),
    ("annotator", "y" * 500, "at most 100"),
    ("id", "no-such-row", "no row 'no-such-row'"),
    ("step", "99-nope", "99-nope"),
    ("extra", 1, "extra"),
])
def test_every_label_field_is_validated(page, field, value, expect):
    client, step, rid, labels = page
    body = {"id": rid, "step": step, "annotator": "val", "label": "reject", field: value}
    r = client.post("/api/labels", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (field, value, r.status_code, r.text)
    assert expect in r.json()["detail"], r.json()
    assert "Traceback" not in r.text and "val" not in set(read_labels(labels)["annotator"].to_list())


def test_oversized_body_is_refused_before_reading(page):
    client, step, rid, _ = page
    big = '{"id": "%s", "step": "%s", "annotator": "big", "note": "%s"}' % (rid, step, "z" * (30 * 1024 * 1024))
    r = client.post("/api/labels", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and str(MAX_BODY) in r.text
    assert len(client.get("/api/labels").content) < MAX_BODY


@pytest.mark.parametrize("params", [
    {"offset": "99999999999999999999999"}, {"offset": "-1"}, {"limit": "0"}, {"sample": "1e9"},
    {"seed": "-5"}, {"limit": "abc"},
])
def test_bad_query_numbers_are_400_with_a_message(page, params):
    client, step, _, _ = page
    r = client.get("/api/rows", params={"step": step, **params})
    assert r.status_code == 400 and "Traceback" not in r.text, (params, r.status_code, r.text)
    assert r.json()["detail"].split(":")[0] in params, r.json()
