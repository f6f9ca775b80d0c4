"""pii on presidio's registry: defaults that do not break rows (issue 27), consistent pseudonymisation,
presidio-anonymizer operators, recognisers added as presidio users add them, vetoes recorded by name.

The word-problem rows are the ones issue 27 quotes from a public maths word-problem set (its damage classes:
a name asked about again, two names compared).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from presidio_analyzer import Pattern, PatternRecognizer

from dsforge.filters import pii
from dsforge.filters.pii_operators import Pseudonymizer, name_gazetteer
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext

CTX = StageContext(work_dir=Path("."))
VICENTE = ("Vicente saw 2 kilograms of rice at $2 per kilogram and 3 pounds of meat at $5 per pound. "
           "How much did Vicente spend in all?")
AMON = ("Amon & Rhonda combined have 215 marbles. If Amon owns 55 marbles more than Rhonda, how many marbles "
        "does Rhonda have?")
NATALIA = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
           "How many clips did Natalia sell altogether in April and May?")
WITH_NAMES = [*pii.DEFAULT_ENTITIES, "PERSON"]


def table(rows: list[tuple[str, str]]):
    return records.from_rows([{"id": f"t:{i}", "source": "t", "kind": "instruction", "instruction": a,
                               "response": b} for i, (a, b) in enumerate(rows)])


def run(rows, **cfg):
    return pii.Pii(cfg).process(table(rows), CTX).kept.sort("id")


def test_defaults_leave_word_problems_unchanged():
    rows = [(VICENTE, "Vicente spent 2*2 + 3*5 = $19."), (AMON, "Rhonda has (215-55)/2 = 80 marbles."),
            (NATALIA, "Natalia sold 48/2 = 24 clips in May. Natalia sold 48+24 = 72 clips altogether.")]
    out = run(rows)
    assert list(zip(out["instruction"], out["response"])) == rows
    assert out["lineage"].list.len().to_list() == [0, 0, 0]


def test_names_opt_in_are_pseudonymised_consistently_across_fields():
    out = run([(VICENTE, "Vicente spent $19.")], entities=WITH_NAMES).row(0, named=True)
    fakes = set(re.findall(r"^(\w+) saw|did (\w+) spend", out["instruction"])[0]) - {""}
    fakes |= set(re.findall(r"did (\w+) spend", out["instruction"]))
    assert "Vicente" not in out["instruction"] + out["response"]
    assert len(fakes) == 1, out["instruction"]  # the same fake both times
    assert out["response"].startswith(next(iter(fakes)) + " spent")  # and in the response too


def test_two_different_names_stay_two_different_names():
    out = run([(AMON, "Rhonda has 80.")], entities=WITH_NAMES).row(0, named=True)["instruction"]
    m = re.match(r"(\w+) & (\w+) combined .* If (\w+) owns 55 marbles more than (\w+), how many marbles does (\w+) have",
                 out)
    assert m, out
    a, r, a2, r2, r3 = m.groups()
    assert a == a2 and r == r2 == r3 and a != r and {a, r}.isdisjoint({"Amon", "Rhonda"})


def test_pseudonyms_keep_gender_and_locale():
    firsts, _ = name_gazetteer()
    assert firsts["Natalia"][0] == "female" and firsts["Vicente"][0] == "male"
    p = Pseudonymizer(seed=0)
    fake = p.value("PERSON", "Natalia")
    assert fake != "Natalia" and firsts[fake][0] == "female"
    assert p.value("PERSON", "Natalia Lopez").split()[0] == fake  # the first name maps the same in a full name


def test_placeholders_remain_an_option():
    out = run([(VICENTE, "ok")], entities=WITH_NAMES, operators={"PERSON": {"type": "replace"}})
    assert out["instruction"][0].count("<PERSON>") == 2


def test_presidio_operators_mask_hash_redact_keep():
    text = "Card 4539 1488 0343 6467, mail maria.gonzalez@fastmail.fm, from 84.17.43.201, call (415) 692-0132."
    ops = {"CREDIT_CARD": {"type": "mask", "masking_char": "*", "chars_to_mask": 15, "from_end": False},
           "EMAIL_ADDRESS": {"type": "hash", "hash_type": "sha256"}, "IP_ADDRESS": {"type": "redact"},
           "PHONE_NUMBER": {"type": "keep"}}
    out = run([(text, "ok")], operators=ops)["instruction"][0]
    assert out.startswith("Card ***************6467, mail ") and "maria" not in out
    assert re.search(r"mail [0-9a-f]{64}, from , call \(415\) 692-0132\.$", out), out
    again = run([(text, "ok")], operators=ops)["instruction"][0]
    assert again == out  # the hash salt comes from the run's seed: the step is reproducible
    with pytest.raises(ValueError, match="unknown type 'scramble'"):
        pii.Pii({"operators": {"PERSON": {"type": "scramble"}}})


class EmployeeIdRecognizer(PatternRecognizer):
    """A user's recogniser, added by class path as presidio users add them."""

    def __init__(self):
        super().__init__(supported_entity="EMPLOYEE_ID", patterns=[Pattern("emp id", r"\bEMP-\d{6}\b", 0.9)])


def test_user_recognizers_by_class_and_presidio_yaml(tmp_path):
    yml = tmp_path / "recognizers.yaml"
    yml.write_text("recognizers:\n  - name: Ticket recognizer\n    supported_language: en\n    supported_entity: TICKET\n"
                   "    patterns:\n      - name: ticket\n        regex: 'TCK-\\d{4}'\n        score: 0.8\n", encoding="utf-8")
    cfg = {"action": "tag", "recognizers": [f"{__name__}:EmployeeIdRecognizer"], "recognizer_files": [str(yml)]}
    spans = pii.Pii(cfg).process(table([("Badge EMP-004211 opened TCK-0042.", "ok")]), CTX).kept["pii_spans"][0]
    assert [(s["entity"], s["recognizer"]) for s in spans] == [("EMPLOYEE_ID", "EmployeeIdRecognizer"),
                                                              ("TICKET", "Ticket recognizer")]
    with pytest.raises(ValueError, match="cannot load recognizer class 'no.such:Thing'"):
        pii.Pii({"recognizers": ["no.such:Thing"]}).process(table([("x", "y")]), CTX)


def test_tag_records_recogniser_and_named_veto():
    text = "Order no. 4539148803436467 shipped; mail alice@example.com; card 4539 1488 0343 6467."
    res = pii.Pii({"action": "tag"}).process(table([(text, "ok")]), CTX)
    row = res.kept.row(0, named=True)
    assert [(s["entity"], s["recognizer"], text[s["start"]:s["end"]]) for s in row["pii_spans"]] == [
        ("CREDIT_CARD", "card", "4539 1488 0343 6467")]
    vetoes = {(v["recognizer"], v["veto"], text[v["start"]:v["end"]]) for v in row["pii_vetoed"]}
    assert ("card", "negative_cue", "4539148803436467") in vetoes
    assert ("email", "documentation_value", "alice@example.com") in vetoes
    assert res.stats["vetoed_negative_cue"] >= 1


def test_deny_list_and_street_address_without_bare_places():
    text = "Ship it to 939 Sunset Street, Raleigh, NC 27673 — I grew up in Lisbon, codename Bluejay."
    out = run([(text, "ok")], deny={"CODENAME": ["Bluejay"]})["instruction"][0]
    assert out == "Ship it to <LOCATION> — I grew up in Lisbon, codename <CODENAME>."
    places = run([(text, "ok")], entities=["LOCATION"])["instruction"][0]
    assert "Lisbon" not in places and "Sunset" not in places


@pytest.mark.parametrize("text,value", [
    ("Call our office on +1 (212) 639-0188 ext. 42 before noon.", "+1 (212) 639-0188 ext. 42"),
    ("Ring me at 020 7183 0321 tonight.", "020 7183 0321"),
    ("Mobile 0412 345 678 (Sydney).", "0412 345 678"),
    ("Reach Dr. Bauer at +49 (0) 89 1234 5678.", "+49 (0) 89 1234 5678"),
])
def test_phone_formats(text, value):
    spans = pii.Pii({"action": "tag"}).process(table([(text, "ok")]), CTX).kept["pii_spans"][0]
    assert ("PHONE_NUMBER", value) in [(s["entity"], text[s["start"]:s["end"]]) for s in spans]
