"""Whether a text is code: shared by clean-markup, quality-filter and repetition-filter (in the core so that
dedup/ may use it without importing filters/, a higher layer)."""

from __future__ import annotations

import re

CODE_LINE = re.compile(r"^\s*(?:#include|import |from \S+ import|def |class |public |private |return\b|//|/\*|\}|\{"
                       r"|<\?php|<!DOCTYPE|</?[a-z][\w-]*[^<>]*>\s*$"
                       r"|[\w.\[\]]+\s*[+\-*/]?=\s*\S|[\w.]+\(.*\)\s*;?\s*$|.*[;{]\s*$)", re.I)


def looks_like_code(text: str) -> bool:
    """Fenced code, or at least 30% of 3+ non-empty lines that look like code (or markup)."""
    if "```" in text:
        return True
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) >= 3 and sum(bool(CODE_LINE.match(ln)) for ln in lines) >= 0.3 * len(lines)
