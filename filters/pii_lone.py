"""A lone given name is a person only when the words around it say so.

    drop_lone_names(tagger, texts, spans_per_text, rows)   # what pii_detect calls, in place
    candidates(text, spans)             # one-word PERSON spans with no cue, no surname, no full name
    evidence_before(text, span)         # greeted, thanked, given a role, signed off with
    evidence_after(text, span, doc, at) # owns something, does something, is he or she later on

Why: one capitalised word that a name list or spaCy calls a person ("Lucy", "Valerie", "Leonardo", "Kelvin")
names a song, a fossil, a supercomputer or a unit as often as someone; a private person written by a given
name alone is nearly always addressed ("Hi Niamh", "ok Malik"), thanked, signed off (a name alone on its
line), given a role ("her daughter Astrid", "driver=Kwame"), said to do something ("Kwame just texted",
"did Marek say"), owns something ("Yusuf's laptop") or is referred to with he/she later on. A name with none
of that is dropped; so is a list of such names ("Roxanne and Valerie", "Steely Dan and Belle and
Sebastian"), unless one of them has a cue ("Many thanks to Emre and Sunniva").

The right-hand evidence needs part-of-speech tags (spaCy's tagger on a window around the span, the same
tagger pii_detect uses for noun modifiers): without the model nothing is dropped.

Kept whatever the words around: spans with a cue (pii_names: titles, greetings, name labels, chat
speakers), a one-word name right before a capitalised word (a full name spaCy split: "Walter White"), any
word of a multi-word name in the same text, and any name the text gives evidence for once ("Hi Emre ...
Emre will"). Not here: full names ("Taylor Swift", "Hermione Granger"): only world knowledge tells a famous or
fictional person's full name from a private one.
"""

from __future__ import annotations

import re

from dsforge.filters import pii_compounds
from dsforge.filters.pii_spans import STRONG_SOURCES, Span

# Words right before a name that take a person: greetings and thanks, verbs of talking to or about someone,
# prepositions people follow in messages.
_BEFORE = re.compile(
    r"(?i)(?:^|[^\w'’])(?:hi|hiya|hey|hello|dear|yo|ok|okay|thanks|thank you|thx|ty|cheers|congrats|congratulations"
    r"|welcome|bye|goodbye|morning|evening|night|sorry|love|xx|regards|sincerely|happy birthday|well done"
    r"|good job|great job|go|ask|asked|asking|tell|told|telling|call|called|calling|email|emailed|text|texted"
    r"|message|messaged|ping|pinged|dm|cc|bcc|thank|thanked|meet|met|meeting|invite|invited|remind|reminded"
    r"|contact|contacted|phone|phoned|visit|visited|pay|paid|hire|hired|interview|interviewed|introduce"
    r"|introduced|help|helped|send|sent|let|tag|tagged|congratulate|blame|blamed|miss|missed|married|marry"
    r"|named|nicknamed|with|from|to|by|for|attn|attention|c/o|name|user|username|customer|contact|author|owner)"
    r"[ \t]*[,:=]?[ \t]*[\"'“]?"
    # or a list after one ("From Isla and Finn"), or a given name spaCy left out ('name="Anil Gurung"')
    r"(?:[A-Z][\w'’\-]+[ \t]*(?:,|and|&|or)[ \t]*)*(?:[A-Z][\w'’\-]+[ \t]+)?$")
_PERSON_NOUN_BEFORE = re.compile(r"(?<![\w'’])([A-Za-z]+)[ \t]*[=:]?[ \t]*$")
# Titles of rulers, saints and fiction are not a private person's role ("Queen Anne", "Lady Macbeth").
_NOT_A_ROLE = frozenset("queen king lady lord prince princess saint emperor empress pope duke duchess baron count"
                        " countess tsar czar pharaoh sultan god goddess".split())
_ALONE_ON_LINE = re.compile(r"^[ \t]*(?:[-–—~>]+[ \t]*)?$")
_LINE_END = re.compile(r"[ \t]*[.!,]?[ \t]*(?:\n|$)")
_VOCATIVE = re.compile(r"[ \t]*,(?![ \t]*(?:the|a|an|our|my|their|his|her)\b)")
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)(?![\w])")
_SPLIT_NAME = re.compile(r"[ \t]+[A-Z][a-z]")
_NAME_WORD_BEFORE = re.compile(r"(?<![\w'’\-.])([A-Z][\w'’\-]+)[ \t]+$")
_COORDINATION = re.compile(r"^(?:[ \t]*,)?[ \t]*(?:and|or|&|,)[ \t]*$")
_PRONOUNS = frozenset("he she him his her hers himself herself".split())
_VERB_TAGS = frozenset("VB VBD VBP VBZ MD".split())
WINDOW_AFTER = 120


def candidates(text: str, spans: list[Span]) -> list[Span]:
    """One-word PERSON spans that only spaCy or a name list found: no cue of any strength over them, no
    capitalised word right after nor one right before that is no ordinary word (a full name spaCy split), no word
    of a longer name and no cued name of the same text."""
    people = [s for s in spans if s.entity == "PERSON"]
    cued = [s for s in people if s.source in STRONG_SOURCES or "cue" in s.source]
    known = {w for s in people if s in cued or len(text[s.start:s.end].split()) > 1 for w in text[s.start:s.end].split()}
    out = []
    for s in people:
        value = text[s.start:s.end]
        if s in cued or " " in value or "\n" in value or value in known or _SPLIT_NAME.match(text, s.end):
            continue
        before = _NAME_WORD_BEFORE.search(text, max(0, s.start - 30), s.start)
        if before and not pii_compounds.ordinary_word(before.group(1)):  # "Pradeep Venkatesan": spaCy found the surname
            continue
        if any(c.start < s.end and s.start < c.end for c in cued) or text[s.end:s.end + 1] == ":":
            continue
        out.append(s)
    return out


def evidence_before(text: str, s: Span) -> bool:
    """Greeted, thanked, talked to, given a role, or signed off with."""
    before = text[max(0, s.start - 40):s.start]
    if _BEFORE.search(before):
        return True
    m = _PERSON_NOUN_BEFORE.search(before)
    if m and m.group(1).lower() not in _NOT_A_ROLE and "p" in pii_compounds.ordinary_words().get(m.group(1).lower(), ""):
        return True
    line_start = text.rfind("\n", 0, s.start) + 1
    at_line_start = _ALONE_ON_LINE.match(text[line_start:s.start]) is not None
    # alone on its line (a signature, an address line), or called by name at the start of one ("Lucy, can")
    return at_line_start and (_LINE_END.match(text, s.end) is not None or _VOCATIVE.match(text, s.end) is not None)


def evidence_after(text: str, s: Span, doc, at: int) -> bool:
    """Owns something, does something (the next word, past one adverb, is a verb), or is he or she later on.
    `doc` is the tagged window, `at` the span's end inside it."""
    if _POSSESSIVE.match(text, s.end):
        return True
    after = [t for t in doc if t.idx >= at]
    nxt = after[1:2] if after and after[0].tag_ == "RB" else after[:1]
    if nxt and nxt[0].tag_ in _VERB_TAGS:
        return True
    return any(t.lower_ in _PRONOUNS for t in after[:25])


def drop_lone_names(tagger, texts: list[str], out: list[list[Span]], rows: list[int]) -> None:
    """Remove lone given names with no evidence of a person (in place). A name joined by "and" / "," to a
    name with evidence keeps it; so does evidence for the same word anywhere in the text."""
    if tagger is None:
        return
    todo = [(i, s) for i in rows for s in candidates(texts[i], out[i])]
    undecided = [(i, s) for i, s in todo if not evidence_before(texts[i], s)]
    if not undecided:
        return
    starts = [max(0, s.start - 60) for i, s in undecided]
    windows = [texts[i][a:s.end + WINDOW_AFTER] for (i, s), a in zip(undecided, starts)]
    docs = tagger.pipe(windows, batch_size=256)
    weak = {(i, s) for (i, s), a, doc in zip(undecided, starts, docs) if not evidence_after(texts[i], s, doc, s.end - a)}
    for i in {i for i, _ in weak}:
        text = texts[i]
        kept_values = {text[s.start:s.end] for s in out[i] if s.entity == "PERSON" and (i, s) not in weak}
        drop = {s for s in out[i] if (i, s) in weak and text[s.start:s.end] not in kept_values}
        changed = True
        while changed:  # a list of names: one with evidence keeps the others
            changed = False
            for s in list(drop):
                if any(_joined(text, s, o) for o in out[i] if o.entity == "PERSON" and o not in drop):
                    drop.discard(s)
                    changed = True
        out[i] = [s for s in out[i] if s not in drop]


def _joined(text: str, a: Span, b: Span) -> bool:
    first, second = (a, b) if a.end <= b.start else (b, a)
    return first.end <= second.start and bool(_COORDINATION.match(text[first.end:second.start]))
