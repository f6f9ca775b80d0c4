"""Vectorised text normalisation and n-gram hashing shared by minhash-dedup and decontaminate.

Why: hashing shingles one at a time in Python (what datasketch's `update` and datatrove's signature step
do) is where their time goes. Here a whole batch of documents is normalised by Polars, split into words
(or code points), every token is hashed once by Polars, and n-gram hashes are combined from the token
hashes with NumPy array arithmetic: no Python loop runs per shingle or per document.

    shingle_hashes(texts, n=5) -> ShingleHashes(hashes: uint64[S], doc_of: int64[S], starts, counts)

A document shorter than n tokens gets one shingle made of all its tokens; an empty document gets none
(`counts == 0`). Hashes are 64-bit and deterministic for a given Polars version and seed (good for one
run; not meant as a stable on-disk format). Not here: MinHash itself (minhash.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

Shingle = Literal["word", "char"]

# Odd 64-bit multipliers for combining the k-th token hash of an n-gram (fixed: results stay reproducible).
_MULTS = np.random.default_rng(20240605).integers(1 << 62, 1 << 63, size=64, dtype=np.uint64) | np.uint64(1)


def normalise(texts: pl.Series | pl.Expr, lowercase: bool = True, punctuation: bool = True) -> pl.Series | pl.Expr:
    """Lower-case, turn punctuation/symbols into spaces, collapse whitespace (vectorised in Polars)."""
    s = texts.fill_null("")
    if lowercase:
        s = s.str.to_lowercase()
    # one regex pass: runs of punctuation, symbols and whitespace become one space
    s = s.str.replace_all(r"[\p{P}\p{S}\s]+" if punctuation else r"\s+", " ")
    return s.str.strip_chars()


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array (spreads combined hashes over all 64 bits)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass
class ShingleHashes:
    hashes: np.ndarray  # uint64[S], shingles of doc 0, then doc 1, ...
    counts: np.ndarray  # int64[N] shingles per document (0 for an empty one)

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64) if len(self.counts) else self.counts

    @property
    def doc_of(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.counts)), self.counts)


def token_hashes(normed: pl.Series, shingle: Shingle, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hash per token, token count per document) for already-normalised texts."""
    if shingle == "char":
        lens = normed.str.len_chars().to_numpy().astype(np.int64)
        joined = "".join(normed.to_list())
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        # code points are tiny integers: spread them with a seeded mix so n-gram sums do not collide
        cps = mix64(cps * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed + 1))
        return cps, lens
    words = normed.str.split(" ")
    lens = words.list.len().to_numpy().astype(np.int64)
    lens[(normed.str.len_bytes() == 0).to_numpy()] = 0  # "" splits into [""]: no tokens
    flat = words.explode()
    if len(flat) != lens.sum():  # drop the "" token of empty documents
        flat = flat.filter(flat.str.len_bytes() > 0)
    return flat.hash(seed=seed).to_numpy(), lens


def ngram_hashes(tok: np.ndarray, lens: np.ndarray, n: int) -> ShingleHashes:
    """Combine token hashes into n-gram hashes per document (short documents: one shingle of all tokens).

    The n-gram starting at every token is computed over the whole token array with n contiguous slices
    (no gathers); starts that would run past their document's end are then masked out."""
    if n > len(_MULTS):
        raise ValueError(f"n-gram size {n} is too large (max {len(_MULTS)})")
    lens = np.asarray(lens, dtype=np.int64)
    counts = np.where(lens >= n, lens - n + 1, np.minimum(lens, 1))
    total_tokens = int(lens.sum())
    if int(counts.sum()) == 0:
        return ShingleHashes(np.zeros(0, np.uint64), counts)
    padded = np.concatenate([tok, np.zeros(n, np.uint64)])
    out = padded[:total_tokens] * _MULTS[0]
    tmp = np.empty_like(out)
    for k in range(1, n):  # n slices, each vectorised over every token of the batch
        np.multiply(padded[k:k + total_tokens], _MULTS[k], out=tmp)
        out += tmp
    del tmp
    doc_start = np.cumsum(lens) - lens
    # an n-gram starting at token t stays inside its document iff t <= doc_start + len - n
    full = np.repeat(doc_start + lens - n, lens) >= np.arange(total_tokens)
    out += np.uint64(n)
    short = np.flatnonzero((lens > 0) & (lens < n))
    if len(short):  # documents shorter than n: one shingle of all their tokens, merged in document order
        width = lens[short]
        vals = np.zeros(len(short), dtype=np.uint64)
        for k in range(n - 1):
            has = width > k
            vals[has] += tok[doc_start[short[has]] + k] * _MULTS[k]
        vals += width.astype(np.uint64)
        full[doc_start[short]] = True
        out[doc_start[short]] = vals
    return ShingleHashes(mix64(out[full]), counts)


def shingle_hashes(texts: pl.Series, n: int = 5, shingle: Shingle = "word", seed: int = 0,
                   normalised: bool = False) -> ShingleHashes:
    """64-bit hashes of every word or character n-gram of every text."""
    normed = texts.fill_null("") if normalised else normalise(texts)
    tok, lens = token_hashes(normed, shingle, seed)
    return ngram_hashes(tok, lens, n)
