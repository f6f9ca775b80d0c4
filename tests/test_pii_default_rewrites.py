"""pii with its defaults on the real rows where issue 27's decision bench found its rewrites wrong
(bench/RESULTS-decisions.md, "pii's rebuilt defaults"): each row is left as it is, and the one row of the
bench that holds a person's contact details is still redacted. Rows are read from ../shared/data/external
(Stanford Alpaca seed tasks, alpaca-libre, GPTeacher, Self-Instruct's T0 data) and the shipped CHAMP set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsforge.filters import pii
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT.parent / "shared" / "data" / "external"


def _seed(n: int) -> str:
    for line in (EXT / "stanford_alpaca" / "seed_tasks.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["id"] == f"seed_task_{n}":
            return "\n".join([r["instruction"], r["instances"][0]["input"], r["instances"][0]["output"]])
    raise LookupError(n)


def _jsonl(path: Path, needle: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if needle in line:
            return "\n".join(str(v) for v in json.loads(line).values() if isinstance(v, str))
    raise LookupError(needle)


def _gpteacher(name: str, needle: str) -> str:
    for r in json.loads((EXT / "gpteacher" / name).read_text(encoding="utf-8")):
        text = "\n".join([r["instruction"], r.get("input", ""), r.get("response", "")])
        if needle in text:
            return text
    raise LookupError(needle)


# (row, the value the old default rewrote, why it is no one's private data)
WRONG = {
    "seed_task_14": (lambda: _seed(14), "October 28, 1955", "a public figure's birth date in a fact sheet"),
    "alpaca_libre Curie": (lambda: _jsonl(EXT / "alpaca_libre" / "alpaca_libre_tasks_v1.jsonl", "November 7, 1867"),
                           "November 7, 1867", "a biography's birth date"),
    "toolformer Gates": (lambda: _gpteacher("toolformer-dedupe-only-dataset.json", "October 28, 1955"),
                         "October 28, 1955", "a public figure's birth date"),
    "seed_task_86": (lambda: _seed(86), "During 2021", "a time phrase ending in a glued street word (-ring)"),
    "CHAMP P_Sequence_31": (lambda: _jsonl(ROOT / "bench" / "decisions_data" / "champ_math.jsonl", "L^2 - 4 * L = 0"),
                            "Factoring", "a maths solution's blank line and a word ending in -ring"),
    "seed_task_166": (lambda: _seed(166), "alerts@info6.citi.com", "a bank's automated sender"),
    "codegen email": (lambda: _gpteacher("codegen-instruct.json", "example@email.com"), "example@email.com",
                      "the placeholder of an email-validation snippet"),
    "codegen ISO date": (lambda: _gpteacher("codegen-instruct.json", "2021-11-09"), "2021-11-09", "a date in code"),
    "alpaca_libre Anytown": (lambda: _jsonl(EXT / "alpaca_libre" / "alpaca_libre_tasks_v1.jsonl", "Anytown, USA"),
                             "123 Main St", "a placeholder address in a directions task"),
    "T0 Downing Street": (lambda: _jsonl(next(p for p in sorted((EXT / "self_instruct_t0").glob("cnn_dailymail*.jsonl"))
                                              if "No. 10 Downing Street" in p.read_text(encoding="utf-8")),
                                         "No. 10 Downing Street"), "Downing Street", "a landmark in a news story"),
}


def _run(text: str) -> str:
    df = records.from_rows([{"id": "r", "source": "real", "kind": "document", "text": text}])
    res = pii.Pii({}).process(df, StageContext(work_dir=Path(".")))
    return res.kept["text"][0]


@pytest.mark.parametrize("name", sorted(WRONG))
def test_defaults_leave_rows_without_private_data_unchanged(name):
    load, value, why = WRONG[name]
    text = load()
    assert value in text
    assert _run(text) == text, why


def test_defaults_still_redact_a_persons_contact_details():
    text = _seed(74)  # the cover letter: an applicant's phone and e-mail
    out = _run(text)
    assert "emoore@email.com" not in out and "(123) 456-7891" not in out
    assert "<EMAIL_ADDRESS>" in out and "<PHONE_NUMBER>" in out
