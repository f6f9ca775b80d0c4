"""The review page in a real browser: headless Chromium from the system packages, driven by Playwright.

Open a run with `dsforge review`, filter by a reject reason, label three rows as two annotators, then check
the labels file and the agreement figure the page shows. scripts/install.sh installs Chromium (apt, as
root) and Playwright (the dev extra); `playwright install` is never run. Without Chromium the test skips
and says why. DSFORGE_REVIEW_SHOTS=DIR also saves the screenshots used in docs/review.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.stages.inspect.annotators import label_agreement
from dsforge.pipelines.stages.labels import read_labels

sys.path.insert(0, str(Path(__file__).parent))
from review_run import make_run  # noqa: E402

CHROMIUM = os.environ.get("DSFORGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="no system Chromium (scripts/install.sh installs it with apt-get as root; or set DSFORGE_CHROMIUM)")
REASON = "rules:generator-rejected"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    run_dir = make_run(tmp_path_factory.mktemp("review-browser"))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dsforge"), "review", str(run_dir), "--no-browser"],
                            stdout=subprocess.PIPE, text=True)
    url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline()).group(0)
    yield run_dir, url
    proc.terminate()
    proc.wait(30)


def run_files(run_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(run_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and not p.name.startswith("labels.parquet")}


def label(page, row_id: str, verdict: str, score: str = "", note: str = "") -> None:
    page.click(f'#list li[data-id="{row_id}"]')
    page.wait_for_function(f"document.querySelector('#row-id') && document.querySelector('#row-id').textContent === {row_id!r}")
    page.click(f"#lab-{verdict}")
    page.fill("#lab-score", score)
    page.fill("#lab-note", note)
    before = page.get_attribute("#lab-status", "data-saved")
    page.click("#lab-save")
    page.wait_for_function(f"document.querySelector('#lab-status').dataset.saved !== {before!r}"
                           if before else "document.querySelector('#lab-status').dataset.saved")
    assert page.text_content("#lab-status").startswith("saved")


def test_filter_by_reason_label_as_two_annotators_and_see_agreement(served):
    run_dir, url = served
    before = run_files(run_dir)
    shots = os.environ.get("DSFORGE_REVIEW_SHOTS")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("#list li[data-id]")
        if shots:
            _shots_of_kinds(page, Path(shots))

        # filter by a reason: the sidebar's reject table opens that step's rejected rows with the reason set
        page.click(f'#rejects tr[data-reason="{REASON}"]')
        want = pl.read_parquet(run_dir / "rejected.parquet").filter(pl.col("reason") == REASON).height
        page.wait_for_function(f"document.querySelector('#total').textContent.startsWith('{want:,} rejected rows')")
        assert page.input_value("#f-reason") == REASON and page.input_value("#f-which") == "rejected"
        ids = page.eval_on_selector_all("#list li[data-id]", "els => els.map(e => e.dataset.id)")[:3]
        assert len(ids) == 3
        badges = page.eval_on_selector_all("#list li[data-id] .badge.reason", "els => els.map(e => e.textContent)")
        assert len(badges) == len(page.query_selector_all("#list li[data-id]")) and set(badges) == {REASON}

        # three rows, two annotators
        plan = {"alice": [("accept", "4", "fine after all"), ("reject", "", "answer is wrong"), ("reject", "1", "")],
                "bob": [("accept", "5", ""), ("accept", "", "looks right to me"), ("reject", "2", "off topic")]}
        for who, verdicts in plan.items():
            page.fill("#annotator", who)
            page.dispatch_event("#annotator", "change")
            for rid, (verdict, score, note) in zip(ids, verdicts):
                label(page, rid, verdict, score, note)
        if shots:
            page.screenshot(path=str(Path(shots) / "review-rejected-labelled.png"))

        # the labels file holds exactly what was clicked, and the run's own files are untouched
        labels = read_labels(run_dir / "labels.parquet")
        got = {(r["id"], r["annotator"]): (r["label"], r["score"], r["note"]) for r in labels.iter_rows(named=True)}
        assert got == {(rid, who): (v, float(s) if s else None, n or None)
                       for who, vs in plan.items() for rid, (v, s, n) in zip(ids, vs)}
        assert set(labels["step"]) == {"01-rules"}
        assert run_files(run_dir) == before

        # the agreement the page shows is the one computed from the file: 2 of 3 rows agree
        page.click("#tab-labels")
        page.wait_for_selector("#agree-pct")
        agreement = label_agreement(labels)["accept_reject"]
        assert agreement["agreement"] == pytest.approx(2 / 3, abs=1e-3)
        assert page.text_content("#agree-pct") == "67%"
        assert page.text_content("#agree-alpha") == f"{agreement['alpha_nominal']:.3f}" == "0.444"
        assert page.text_content("#pairs tbody td:nth-child(4)") == f"{agreement['pairs'][0]['kappa']:.3f}"
        if shots:
            page.screenshot(path=str(Path(shots) / "review-agreement.png"))
        assert not errors, errors
        browser.close()


def _shots_of_kinds(page, folder: Path) -> None:
    """Screenshots for docs/review.md: a chat's before/after (clean-markup), and a preference pair."""
    folder.mkdir(parents=True, exist_ok=True)
    page.select_option("#f-step", "02-clean-markup")
    page.wait_for_function("document.querySelector('#total').textContent.includes('02-clean-markup')")
    page.fill("#f-q", "detective")
    page.click("#apply")
    page.wait_for_function("document.querySelector('#total').textContent.startsWith('7 ')")
    page.click("#list li[data-id='roleplay-chats:line1']")
    page.wait_for_selector(".diff")
    page.locator("#detail h3", has_text="Before / after").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "review-chat-before-after.png"))
    page.fill("#f-q", "")
    page.select_option("#f-step", "04-length-filter")
    page.wait_for_function("document.querySelector('#total').textContent.includes('04-length-filter')")
    page.select_option("#f-source", "pairs")
    page.fill("#f-sample", "5")
    page.fill("#f-seed", "3")
    page.click("#apply")
    page.wait_for_function("document.querySelector('#total').textContent.startsWith('a sample of 5')")
    page.click("#list li[data-id]")
    page.wait_for_selector(".pair")
    page.screenshot(path=str(folder / "review-preference-sample.png"))
    page.click("#clear-filters")
    page.wait_for_function("!document.querySelector('#total').textContent.startsWith('a sample')")
