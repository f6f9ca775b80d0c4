"""The review page on preference pairs in a real browser (system Chromium driven by Playwright, as
test_review_browser.py): A / B / tie / both-bad labels, one keypress to save and move on, 1-5 scores from the
keyboard, j/k to move, and the preference guideline beside a pair. Rows: real Alpaca answers paired as
UltraFeedback-shaped conversational rows, run through the `preference` preset."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.stages.labels import read_labels
from dsforge.pipelines.core.runner import run_recipe

CHROMIUM = os.environ.get("DSFORGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="no system Chromium (scripts/install.sh installs it with apt-get as root; or set DSFORGE_CHROMIUM)")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("review-pairs")
    rows = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=6)).kept.to_dicts()
    pairs = [{"prompt": r["instruction"], "chosen": [{"role": "user", "content": r["instruction"]},
                                                      {"role": "assistant", "content": r["response"]}],
              "rejected": [{"role": "user", "content": r["instruction"]},
                           {"role": "assistant", "content": rows[i - 1]["response"]}]} for i, r in enumerate(rows)]
    (root / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    recipe = build_recipe({"name": "pairs", "inputs": [{"path": str(root / "pairs.jsonl"), "mapping": "preference"}],
                           "stages": [{"stage": "exact-dedup", "fields": ["prompt"]}]})
    run_dir = Path(run_recipe(recipe, root / "runs", progress=False)["run_dir"])
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dsforge"), "review", str(run_dir), "--no-browser"],
                            stdout=subprocess.PIPE, text=True)
    url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline()).group(0)
    yield run_dir, url
    proc.terminate()
    proc.wait(30)


def _saved_count(page) -> str | None:
    return page.get_attribute("#lab-status", "data-saved")


def _wait_row(page, row_id: str) -> None:
    page.wait_for_function(f"document.querySelector('#row-id') && document.querySelector('#row-id').textContent === {row_id!r}")


def test_pairs_are_labelled_a_b_tie_both_bad_from_the_keyboard(served):
    run_dir, url = served
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("#list li[data-id]")
        page.fill("#annotator", "carol")
        page.dispatch_event("#annotator", "change")
        ids = page.eval_on_selector_all("#list li[data-id]", "els => els.map(e => e.dataset.id)")
        assert len(ids) == 6
        page.click(f'#list li[data-id="{ids[0]}"]')
        _wait_row(page, ids[0])
        # a pair shows A / B / tie / both-bad (not accept / reject) and the preference guideline
        assert page.is_visible("#lab-a") and page.is_visible("#lab-both-bad") and not page.is_visible("#lab-accept")
        assert "A is the pair's chosen answer" in page.text_content("#guideline")
        assert "A · chosen_response" in page.text_content("#row-view")
        page.click("#row-view")  # focus out of the annotator box: keys go to the page
        for n, (key, row_id) in enumerate((("b", ids[0]), ("t", ids[1]), ("x", ids[2]), ("a", ids[3]))):
            _wait_row(page, row_id)  # the previous key's move to the next row is done before the next key
            before = _saved_count(page)
            page.keyboard.press(key)  # one key: label, save, next row
            page.wait_for_function(f"document.querySelector('#lab-status').dataset.saved !== {before!r}" if before
                                   else "document.querySelector('#lab-status').dataset.saved")
            _wait_row(page, ids[n + 1])
        before = _saved_count(page)
        page.keyboard.press("4")  # a score, saved at once
        page.wait_for_function(f"document.querySelector('#lab-status').dataset.saved !== {before!r}")
        _wait_row(page, ids[5])
        page.keyboard.press("k")
        _wait_row(page, ids[4])
        page.keyboard.press("ArrowUp")
        _wait_row(page, ids[3])
        assert "on" in page.get_attribute("#lab-a", "class")  # carol's label of that row, shown again
        page.keyboard.press("j")
        _wait_row(page, ids[4])
        assert errors == []
        browser.close()
    labels = {r["id"]: r for r in read_labels(run_dir).to_dicts()}
    assert {i: labels[i]["label"] for i in ids[:4]} == dict(zip(ids[:4], ["b", "tie", "both-bad", "a"]))
    assert labels[ids[4]]["score"] == 4.0 and labels[ids[4]]["label"] is None
    assert all(r["annotator"] == "carol" for r in labels.values())
