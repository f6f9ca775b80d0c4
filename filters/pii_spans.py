"""The two shapes every PII module shares: a found Span, and a pattern Detector.

A Detector is one regex for one entity, with
  - `trigger`: a cheaper regex in the Rust syntax Polars runs over the whole column at once; only rows it
    matches are scanned with `pattern` (Python `re`, which has the look-arounds the Rust engine lacks);
  - `check`: an optional validator run on each candidate (checksum, calendar, libphonenumber): it returns
    the span's score, or None to drop the candidate.
The value is the named group `v` when the pattern has one (so cues like "DOB:" stay out of the span).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Union


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    score: float
    source: str = ""  # for names: "cue", "weak cue", "speaker", "gazetteer" or "ner" (pii_precision weighs them)
    recognizer: str = ""  # the name of the presidio recogniser that found it (what `action: tag` records)


STRONG_SOURCES = {"cue", "speaker", ""}  # a name label or title, a chat speaker, a Chinese name cue (pattern)


# (text, match, value) -> score, or (score, start, end) when the check moves the edges, or None to drop
Check = Callable[[str, "re.Match[str]", str], Union[float, tuple, None]]


@dataclass(frozen=True)
class Detector:
    entity: str
    pattern: re.Pattern
    trigger: str
    score: float
    check: Check | None = None
    name: str = ""

    def find(self, text: str) -> list[Span]:
        out = []
        has_v = "v" in self.pattern.groupindex
        for m in self.pattern.finditer(text):
            start, end = m.span("v") if has_v else m.span()
            if start < 0 or start == end:
                continue
            got = self.score if self.check is None else self.check(text, m, text[start:end])
            if isinstance(got, tuple):  # the check moved the span's edges
                got, start, end = got
            if got is not None:
                out.append(Span(self.entity, start, end, got))
        return out


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
