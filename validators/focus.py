"""Is a generated instruction about what its paragraph mainly says, in the paragraph's own terms? (no model)

A small model back-translating a paragraph writes instructions made of the paragraph's own names that still
misread it: a false premise joining words from different sentences ("Explain how Windows 7 was leaked on June
17, 2011" when build 7989 of Windows 8 leaked that day and Windows 7 is named elsewhere), a request for what
the paragraph never says ("how it impacted the market", "eggshell production"), or a question about one
closing sentence ("Explain how the avian ear works" for a paragraph on bird vision). Four model-free tests,
each a reject reason of the `faithfulness` step:

- `unsupported_words`: a content word of the instruction (not a task or function word of
  data/filters/focus.yaml) that no word of the paragraph shares a stem with;
- `too_broad`: fewer than `min_content_words` content words ("What is known about the Korean War?" for a
  paragraph on its few naval battles: the paragraph answers a narrower request);
- `off_focus`: fewer than `min_opening_share` of its content words occur in the paragraph's first
  `opening_sentences` sentences (where a paragraph names its subject);
- `scattered`: the content words not in the opening do not all fit in one window of `window_sentences`
  adjacent sentences (a relation the paragraph never states).

Not here: meaning. A request whose words all sit in one sentence can still misread it (an NLI judge's job).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from dsforge.pipelines.core.readers import resolve_path

DEFAULT_RULES = "data:filters/focus.yaml"
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])[\"”')\]]*\s+(?=[\"“(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class FocusRules:
    ignore: frozenset[str]
    window: int
    opening: int
    opening_share: float
    min_words: int


@lru_cache(maxsize=8)
def load_rules(path: str = DEFAULT_RULES) -> FocusRules:
    p = resolve_path(path)
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    words = [str(w).lower() for key in ("task_words", "function_words") for w in data.get(key) or []]
    return FocusRules(frozenset(words), int(data.get("window_sentences", 1)), int(data.get("opening_sentences", 2)),
                      float(data.get("min_opening_share", 0.5)), int(data.get("min_content_words", 0)))


def _stem(word: str) -> str:
    """A crude stem: lower case, no possessive, the first max(4, n-3) letters ("migrating" ~ "migration")."""
    w = re.sub(r"['’]s?$", "", word.lower())
    return w[: max(4, len(w) - 3)] if not any(c.isdigit() for c in w) else w


def _matches(stem: str, words: set[str]) -> bool:
    if any(c.isdigit() for c in stem):  # numbers match whole: "7" is not "7850"
        return stem in words
    return any(w.startswith(stem) or (len(w) >= 4 and stem.startswith(w)) for w in words)


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s.strip()]


def content_words(instruction: str, rules: FocusRules) -> list[str]:
    out: list[str] = []
    for w in _WORD.findall(instruction or ""):
        bare = re.sub(r"['’]s?$", "", w.lower())
        if bare and bare not in rules.ignore and w not in out:
            out.append(w)
    return out


def focus_problem(paragraph: str, instruction: str, rules: FocusRules | None = None) -> tuple[str, str] | None:
    """None when the instruction passes, else (reason, detail): too_broad, unsupported_words, off_focus or
    scattered."""
    rules = rules or load_rules()
    sentences = [{x.lower() for x in _WORD.findall(s)} for s in split_sentences(paragraph)]
    if not sentences:
        return None
    words = content_words(instruction, rules)
    where = {w: [i for i, s in enumerate(sentences) if _matches(_stem(w), s)] for w in words}
    if len(words) < rules.min_words:
        return "too_broad", f"{len(words)} content words ({', '.join(words) or 'none'}); at least {rules.min_words}"
    missing = [w for w, found in where.items() if not found]
    if missing:
        return "unsupported_words", f"not in the paragraph: {', '.join(missing[:8])}"
    opening = set(range(min(rules.opening, len(sentences))))
    in_opening = [w for w, found in where.items() if opening & set(found)]
    if words and len(in_opening) < rules.opening_share * len(words):
        return "off_focus", (f"{len(in_opening)} of its {len(words)} words are in the paragraph's first "
                             f"{rules.opening} sentences (it opens {split_sentences(paragraph)[0][:80]!r})")
    rest = [w for w in words if w not in in_opening]
    if rest and not any(all(any(s <= i < s + rules.window for i in where[w]) for w in rest)
                        for s in range(len(sentences))):
        spots = "; ".join(f"{w}: sentence {', '.join(str(i + 1) for i in where[w][:3])}" for w in rest[:6])
        return "scattered", f"its words sit in sentences more than {rules.window} apart ({spots})"
    return None
