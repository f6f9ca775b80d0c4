"""Reading model text: lists, code blocks, JSON, scores and pairwise verdicts, tolerant of what small models write.

Each parser returns None (or an empty list) for text it cannot read, never raises: the caller turns that
into a reject with the raw text (task.py's `Unusable`). The two judge readings that several stages share
live here once: `parse_score` (a 1-5 score and the judge's reason) and `parse_winner` (a pairwise verdict).

Not here: stage-specific formats (self-instruct's task blocks, long-context's Q/A pairs, judge labels and
checklists), which sit next to the stage that asks for them.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n(.*?)(?:```|$)", re.S)
_NUMBERED = re.compile(r"^\s*(?:\d+\s*[.):]|[-*•])\s+(.+?)\s*$")
# `"score": 4` of a reply cut off before its JSON closed counts too (the quote after the key).
_SCORE = re.compile(r"(?:score|rating)[\"']?\s*[:=]?\s*\**\s*(\d+(?:\.\d+)?)|\b(\d+(?:\.\d+)?)\s*/\s*5\b", re.I)
_REASON = re.compile(r"reason(?:ing)?\s*[:=]\s*(.+)", re.I | re.S)
_WINNER = re.compile(r"\[\[(A|B|C|tie)\]\]|(?:verdict|winner|better(?: response)?|answer)\s*(?:is)?\s*[:=]?\s*\**\s*"
                     r"\[*\s*(?:response\s+|assistant\s+)?\b(A|B|tie)\b", re.I)


def strip_text(text: str) -> str:
    return (text or "").strip().strip('"').strip()


def code_block(text: str, prefer: str = "python") -> str | None:
    """The first fenced code block (preferring one tagged `prefer`), or None."""
    tagged = re.search(rf"```{prefer}\s*\n(.*?)(?:```|$)", text or "", re.S | re.I)
    if tagged:
        return tagged.group(1).strip() or None
    m = _FENCE.search(text or "")
    return m.group(1).strip() or None if m else None


def numbered_list(text: str) -> list[str]:
    """Items of a numbered or bulleted list; falls back to non-empty lines when there are no markers."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    items = [m.group(1).strip().strip('"').strip() for ln in lines if (m := _NUMBERED.match(ln))]
    if not items and len(lines) >= 2:  # an unmarked list: several short lines (one line of prose is no list)
        items = [ln.strip().strip('"').strip() for ln in lines
                 if 1 <= len(ln.split()) <= 20 and not ln.rstrip().endswith(":")]
    seen, out = set(), []
    for it in items:
        key = it.lower()
        if it and key not in seen:
            seen.add(key)
            out.append(it)
    return out


def extract_json(text: str) -> Any | None:
    """The first JSON object or array in the text (inside a code fence or not), or None."""
    candidates = [m.group(1) for m in _FENCE.finditer(text or "")] + [text or ""]
    dec = json.JSONDecoder()
    for cand in candidates:
        for i, ch in enumerate(cand):
            if ch in "[{":
                try:
                    return dec.raw_decode(cand[i:])[0]
                except ValueError:
                    continue
    return None


def first_paragraph(text: str, prefixes: Iterable[str] = ()) -> str:
    """The first non-empty paragraph with a leading label such as "Instruction:" removed."""
    t = (text or "").strip()
    for p in prefixes:
        t = re.sub(rf"^\s*{re.escape(p)}\s*", "", t, flags=re.I)
    para = re.split(r"\n\s*\n", t, maxsplit=1)[0]
    return strip_text(para)


def reason_of(text: str, obj: Any = None) -> str:
    """The judge's reason: the JSON object's "reason", else the line after "Reason:", else ""."""
    if isinstance(obj, dict) and obj.get("reason"):
        return str(obj["reason"]).strip()[:500]
    m = _REASON.search(text or "")
    return m.group(1).strip().splitlines()[0][:500] if m and m.group(1).strip() else ""


def parse_score(text: str, low: int = 1, high: int = 5, echo: Iterable[str] = ()) -> tuple[float | None, str]:
    """(score, reason) from a judge's reply; score None when no verdict within [low, high] can be read.

    Read in order: a JSON object's "score" (or "rating"); the last "Score: N", "Rating: N" or "N/5"; a last
    line that is nothing but the number ("I would say\n5"). Lines the reply copies from `echo` (the row the
    judge was shown) are removed first: a small model that echoes the row instead of judging it has written
    no verdict, and a "2" in the row's own text is not a score (issue 27)."""
    text = without_echo(text or "", echo)
    obj = extract_json(text)
    if isinstance(obj, dict):
        v = obj.get("score", obj.get("rating"))
        try:
            if v is not None and low <= float(v) <= high:
                return float(v), reason_of(text, obj)
        except (TypeError, ValueError):
            pass
    found = [float(a or b) for a, b in _SCORE.findall(text)]
    found = [f for f in found if low <= f <= high]
    if found:
        return found[-1], reason_of(text)
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if lines and (m := _BARE_SCORE.fullmatch(lines[-1].strip())) and low <= float(m.group(1)) <= high:
        return float(m.group(1)), reason_of(text)
    return None, ""


_BARE_SCORE = re.compile(r"[*_\s]*(\d+(?:\.\d+)?)\s*(?:/\s*5|out of 5)?[*_.\s]*")


def _squash_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def without_echo(text: str, echo: Iterable[str]) -> str:
    """The reply without the lines it copies from the texts it was shown: a line equal to one of their lines,
    or of 12+ characters and found inside them (spaces and case ignored)."""
    shown = [_squash_ws(e) for e in echo if e]
    if not shown:
        return text
    shown_lines = {_squash_ws(ln) for e in echo if e for ln in e.splitlines() if ln.strip()}
    def copied(line: str) -> bool:
        sq = _squash_ws(line)
        return sq in shown_lines or (len(sq) >= 12 and any(sq in e for e in shown))
    return "\n".join(ln for ln in text.splitlines() if not copied(ln))


def parse_winner(text: str) -> tuple[str | None, str]:
    """("A" | "B" | "tie" | None, reason) from a pairwise judge's reply.

    Read in order: a JSON object's "winner" (or "better"); the last "[[A]]", "Verdict: B", "The better
    response is A" and the like; a bare A, B or tie on the last line."""
    obj = extract_json(text)
    if isinstance(obj, dict):
        w = str(obj.get("winner", obj.get("better", ""))).strip().upper()
        if w in ("A", "B"):
            return w, reason_of(text, obj)
        if w in ("TIE", "EQUAL", "NONE"):
            return "tie", reason_of(text, obj)
    found = [(a or b).upper() for a, b in _WINNER.findall(text or "")]
    if found:
        return ("tie" if found[-1] in ("TIE", "C") else found[-1]), reason_of(text)
    lines = [ln.strip().strip("[]*.") for ln in (text or "").strip().splitlines() if ln.strip()]
    if lines and lines[-1].upper() in ("A", "B", "TIE"):
        return ("tie" if lines[-1].upper() == "TIE" else lines[-1].upper()), reason_of(text)
    return None, ""
