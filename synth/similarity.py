"""ROUGE-L novelty against a growing pool of texts, as Alpaca's Self-Instruct generator measures it.

Not here: embedding similarity (pipelines/llm/embedded.py) or n-gram near-duplicates (pipelines/neardup/).
"""

from __future__ import annotations

from typing import Iterable


class RougeL:
    """ROUGE-L F1 against a growing pool, with the pool tokenized once (as Alpaca's generator does).

    Tokens come from rouge_score's public DefaultTokenizer (lowercased alphanumeric words, no stemmer), so
    scores equal `RougeScorer(["rougeL"]).score(...)`; the LCS is ours (`lcs_f1`) because rouge_score
    offers no public call on tokens already made."""

    def __init__(self, texts: Iterable[str] = ()):
        from rouge_score.tokenizers import DefaultTokenizer

        self._tokenizer = DefaultTokenizer(use_stemmer=False)
        self.texts: list[str] = []
        self._tokens: list[list[str]] = []
        for t in texts:
            self.add(t)

    def tokens(self, text: str) -> list[str]:
        return self._tokenizer.tokenize(text)

    def add(self, text: str) -> None:
        self.texts.append(text)
        self._tokens.append(self.tokens(text))

    def most_similar(self, text: str) -> tuple[float, str | None]:
        toks = self.tokens(text)
        best, best_text = 0.0, None
        for other, other_toks in zip(self.texts, self._tokens):
            f = lcs_f1(toks, other_toks)
            if f > best:
                best, best_text = f, other
        return best, best_text


def lcs_f1(a: list[str], b: list[str]) -> float:
    """ROUGE-L F1 of two token lists: LCS length l, precision l/len(b), recall l/len(a), harmonic mean
    (symmetric, 0 when either is empty). One DP row at a time: O(len(a) * len(b)) time, O(len(b)) memory."""
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    lcs = prev[-1]
    return 2 * lcs / (len(a) + len(b))


def rouge_l(a: str, b: str) -> float:
    return RougeL([b]).most_similar(a)[0]
