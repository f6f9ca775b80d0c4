"""Labelled near-duplicate sets for measuring dedup: real texts plus edited copies with known edit rates.

Why: precision and recall of a near-duplicate detector mean nothing without ground truth. We take real
texts (the public datasets in ../shared/data/external), make copies with one kind of edit at a known
rate, and compute the true Jaccard of every pair exactly (sparse shingle-incidence product), so a method's
pairs can be scored against "true Jaccard >= threshold" and its detection rate compared with the S-curve.

Edits (rate = share of words touched): swap (adjacent words), insert (words from the corpus), delete,
reorder (sentences shuffled), noise (case and punctuation changes; our normalisation should undo them),
truncate (the last `rate` of the words cut). Used by tests/test_dedup.py and bench/dedup.py; a test fixture,
so it lives in tests/ and is not installed with the library.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl

from dsforge.pipelines.neardup.shingles import shingle_hashes

EDITS = ("swap", "insert", "delete", "reorder", "noise", "truncate")


def load_real_texts(external: Path, limit: int | None = None, min_words: int = 30) -> pl.DataFrame:
    """(source, text) of distinct real instruction/response texts from the shared external datasets."""
    rows = []

    def add(source: str, parts: list[str | None]) -> None:
        text = "\n".join(p for p in parts if p)
        if len(text.split()) >= min_words:
            rows.append((source, text))

    g = external / "gpteacher"
    for name in ("toolformer-dedupe-only-dataset.json", "codegen-instruct.json", "roleplay-simple-deduped-roleplay-instruct.json"):
        for r in json.loads((g / name).read_text()):
            add(f"gpteacher-{name.split('-')[0]}", [r.get("instruction"), r.get("input"), r.get("response")])
    for path in sorted((external / "alpaca_libre").glob("alpaca_libre_tasks_v*.jsonl")):
        for line in path.read_text(errors="replace").splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # v2 has malformed lines; the readers test covers those
            add(path.stem, [r.get("instruction"), r.get("input"), r.get("output")])
    for path in sorted((external / "self_instruct_t0").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            r = json.loads(line)
            add("t0-" + path.stem[:20], [r.get("prompt"), r.get("completion")])
    df = pl.DataFrame(rows, schema=["source", "text"], orient="row").unique("text", maintain_order=True)
    return df.head(limit) if limit else df


def edit_text(text: str, edit: str, rate: float, rng: np.random.Generator, vocab: list[str]) -> str:
    words = text.split()
    k = max(1, round(rate * len(words)))
    if edit == "swap":
        for i in rng.choice(max(1, len(words) - 1), size=min(k, max(1, len(words) - 1)), replace=False):
            words[i], words[i + 1] = words[i + 1], words[i]
    elif edit == "insert":
        for _ in range(k):
            words.insert(int(rng.integers(0, len(words) + 1)), vocab[int(rng.integers(0, len(vocab)))])
    elif edit == "delete":
        drop = set(rng.choice(len(words), size=min(k, len(words) - 1), replace=False).tolist())
        words = [w for i, w in enumerate(words) if i not in drop]
    elif edit == "reorder":
        sents = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
        n_move = max(2, round(rate * len(sents)))
        idx = rng.choice(len(sents), size=min(n_move, len(sents)), replace=False)
        moved = rng.permutation(idx)
        out = list(sents)
        for a, b in zip(idx, moved):
            out[a] = sents[b]
        return " ".join(out)
    elif edit == "noise":
        for i in rng.choice(len(words), size=min(k, len(words)), replace=False):
            w = words[i]
            words[i] = (w.upper() if rng.random() < 0.5 else w.capitalize()) + ("," if rng.random() < 0.5 else "")
    elif edit == "truncate":
        words = words[: max(1, len(words) - k)]
    else:
        raise ValueError(f"unknown edit {edit!r}: one of {EDITS}")
    return " ".join(words)


def make_set(originals: pl.DataFrame, copies: int = 2, rates: tuple[float, float] = (0.02, 0.35),
             seed: int = 0) -> pl.DataFrame:
    """Originals plus `copies` edited copies each: columns id, source, family, edit, rate, text."""
    rng = np.random.default_rng(seed)
    texts = originals["text"].to_list()
    sources = originals["source"].to_list()
    vocab = [w for t in texts[:2000] for w in t.split()][:50_000] or ["word"]
    rows = []
    for fam, (src, text) in enumerate(zip(sources, texts)):
        rows.append((f"f{fam}-orig", src, fam, "original", 0.0, text))
        for c in range(copies):
            edit = EDITS[int(rng.integers(0, len(EDITS)))]
            rate = float(np.round(rng.uniform(*rates), 3))
            rows.append((f"f{fam}-c{c}", src, fam, edit, rate, edit_text(text, edit, rate, rng, vocab)))
    return pl.DataFrame(rows, schema=["id", "source", "family", "edit", "rate", "text"], orient="row")


def exact_jaccard_pairs(texts: pl.Series, ngram: int = 5, shingle: str = "word", min_jaccard: float = 0.3,
                        seed: int = 0) -> pl.DataFrame:
    """All pairs (i < j) with exact Jaccard >= min_jaccard: sparse incidence X, intersections from X Xᵀ."""
    from scipy.sparse import csr_matrix, triu

    sh = shingle_hashes(texts, ngram, shingle, seed)
    doc = sh.doc_of
    uniq_pairs = np.unique(np.stack([doc, sh.hashes.view(np.int64)]), axis=1)  # a set per doc
    doc_u, h_u = uniq_pairs[0], uniq_pairs[1]
    _, col = np.unique(h_u, return_inverse=True)
    x = csr_matrix((np.ones(len(doc_u), dtype=np.float32), (doc_u, col)), shape=(len(texts), col.max() + 1))
    size = np.asarray(x.sum(axis=1)).ravel()
    inter = triu(x @ x.T, k=1).tocoo()
    union = size[inter.row] + size[inter.col] - inter.data
    jac = inter.data / np.maximum(union, 1)
    keep = jac >= min_jaccard
    return pl.DataFrame({"i": inter.row[keep].astype(np.int64), "j": inter.col[keep].astype(np.int64),
                         "jaccard": jac[keep].astype(np.float64)})
