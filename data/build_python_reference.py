"""Build data/python_reference.jsonl: the opening of each section of the Python Language Reference.

Why: instruction back-translation needs human-written text with a clear licence, and the 48 Wikipedia
paragraphs are all the encyclopedic text ../shared/data/external holds. Every CPython install carries the
Language Reference's topics as plain text (`pydoc_data.topics`, what `help("assert")` prints), written by
people and licensed under the PSF License Version 2 (code examples also under the Zero-Clause BSD
licence). Each section opens by saying what it is about ("Assert statements are a convenient way to insert
debugging assertions ..."), which is what a documentation user asks for ("Describe the assert statement.").

One document per section: the section title (`title`), and as `text` the prose and code paragraphs that
follow it, up to the next subsection or `MAX_WORDS` (whole paragraphs; prose lines re-joined, code blocks kept
as indented lines). Every topic's opening comes first (ids `pyref-<topic>`), then the subsections
(`pyref-<topic>-<subsection>`); a section quoted by several topics is kept once. Left out: sections with
fewer than `MIN_WORDS` words of prose, openings that point at a table or list they do not include, and
library module pages (pdb).

    python data/build_python_reference.py

Not here: a section's text past `MAX_WORDS`, the library reference, or any cleaning the recipe does
(quality rules, PII).
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

MIN_WORDS = 40
MAX_WORDS = 220
UNDERLINE = re.compile(r"^([*=\-~^\"])\1{2,}\s*$")
# an opening that points at a table or list it does not include is no answer on its own
ANNOUNCES = re.compile(r"\b(?:following (?:table|list)|below is a list|table below)\b", re.I)


def _indented_prose(block: str) -> bool:
    """An indented block of sentences (a method's description), not grammar or code."""
    return "::=" not in block and ">>>" not in block and len(re.findall(r"[a-z]\. [A-Z]", block)) >= 1


def _paragraphs(body: str) -> list[str]:
    """Blank-line separated blocks; prose re-joined onto one line, indented (code/grammar) blocks kept."""
    out = []
    for block in re.split(r"\n\s*\n", body.strip("\n")):
        lines = block.splitlines()
        indented = all(line.startswith("   ") for line in lines if line.strip())
        if indented and not _indented_prose(block):
            out.append("\n".join(line.rstrip() for line in lines))
        else:
            out.append(" ".join(line.strip() for line in lines))
    return out


def sections(topic_text: str) -> list[tuple[str, list[str]]]:
    """(title, body lines) of a topic's opening and of each of its subsections; [] for a topic without a
    title or a library module's page (pdb: not part of the Language Reference)."""
    lines = topic_text.splitlines()
    if len(lines) < 3 or not UNDERLINE.match(lines[1]) or any(
            line.startswith("**Source code:**") for line in lines[2:4]):
        return []
    out: list[tuple[str, list[str]]] = [(lines[0].strip(), [])]
    i = 2
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and UNDERLINE.match(lines[i + 1]) and line.strip() and not UNDERLINE.match(line):
            out.append((line.strip(), []))  # a subsection starts
            i += 2
            continue
        out[-1][1].append(line)
        i += 1
    return out


def opening(body_lines: list[str]) -> str | None:
    """A section's opening paragraphs (whole, up to MAX_WORDS), or None when it is too short or points at a
    table or list it does not include."""
    kept, words = [], 0
    for p in _paragraphs("\n".join(body_lines)):
        n = len(p.split())
        if kept and words + n > MAX_WORDS:
            break
        kept.append(p)
        words += n
    if any(ANNOUNCES.search(p) for p in kept):
        return None
    while kept and (kept[-1].rstrip().endswith(":") or "as follows" in kept[-1]):
        kept.pop()  # an opening that announces what comes next is cut off there
    prose = sum(len(p.split()) for p in kept if not p.startswith("   "))
    return "\n\n".join(kept) if prose >= MIN_WORDS else None


def main() -> None:
    from pydoc_data.topics import topics

    here = Path(__file__).parent
    docs, seen = [], set()
    for part in ("opening", "subsection"):  # every topic's opening first, then the subsections
        for name in sorted(topics):
            found = sections(topics[name])
            for k, (title, body) in enumerate(found[:1] if part == "opening" else found[1:], 0 if part == "opening" else 1):
                text = opening(body)
                if text is None or text in seen:  # several topics quote one section
                    continue
                seen.add(text)
                slug = "" if k == 0 else "-" + re.sub(r"[^a-z0-9]+", "-", title.replace("*", " star").lower()).strip("-")
                docs.append({"id": f"pyref-{name}{slug}", "title": title, "text": text, "source":
                             f"Python {platform.python_version()} Language Reference (pydoc_data.topics[{name!r}])"})
    (here / "python_reference.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    print(f"{len(docs)} sections of {len(topics)} topics")


if __name__ == "__main__":
    main()
