"""data/python_reference.jsonl: the shipped Language Reference sections are what build_python_reference.py
makes from this Python's own `pydoc_data.topics`, one whole opening per section, nothing that points at a
table it leaves out."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from pydoc_data.topics import topics

from dsforge.data.build_python_reference import MAX_WORDS, MIN_WORDS, opening, sections

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "python_reference.jsonl"


def shipped() -> list[dict]:
    return [json.loads(line) for line in SHIPPED.read_text(encoding="utf-8").splitlines()]


def test_assert_section_is_its_opening_with_grammar_and_code():
    (title, body), = sections(topics["assert"])
    assert title == 'The "assert" statement'
    text = opening(body)
    assert text.startswith("Assert statements are a convenient way to insert debugging assertions")
    assert '\n\n   assert_stmt ::= "assert" expression ["," expression]\n\n' in text  # grammar kept as a block
    assert "if __debug__:\n       if not expression: raise AssertionError" in text  # code keeps its lines


def test_subsections_are_their_own_documents():
    titles = [t for t, _ in sections(topics["compound"])]
    assert titles[0] == "Compound statements" and {"Guards", "Capture Patterns", "Class definitions"} <= set(titles)


def test_left_out_sections():
    assert sections(topics["debugger"]) == []  # the pdb module page is not the Language Reference
    (_, body), *_ = sections(topics["operator-summary"])
    assert opening(body) is None  # "The following table summarizes ..." without the table


def test_shipped_file_is_what_the_builder_makes():
    rows = shipped()
    ids = [r["id"] for r in rows]
    assert len(rows) == 143 and len(set(ids)) == len(ids) and len({r["text"] for r in rows}) == len(rows)
    assert ids[0] == "pyref-assert" and "pyref-compound-guards" in ids
    for r in rows:
        words = len(r["text"].split())
        assert MIN_WORDS <= words and (words <= MAX_WORDS or "\n\n" not in r["text"]), r["id"]
        assert not r["text"].rstrip().endswith(":"), r["id"]
    # every shipped section's opening words are in this Python's own Language Reference text
    flat = {name: " ".join(text.split()) for name, text in topics.items()}
    for r in rows:
        name = r["source"].split("pydoc_data.topics[", 1)[1].strip("'])")
        assert " ".join(r["text"].split()[:12]) in flat[name], r["id"]
    if platform.python_version() == "3.11.7":  # the Python that built the file: a fresh build is identical
        by_id = {r["id"]: r for r in rows}
        for name in ("assert", "lambda", "with"):
            (title, body), *_ = sections(topics[name])
            assert by_id[f"pyref-{name}"] == {
                "id": f"pyref-{name}", "title": title, "text": opening(body),
                "source": f"Python 3.11.7 Language Reference (pydoc_data.topics[{name!r}])"}
