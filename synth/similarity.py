"""ROUGE-L novelty against a growing pool of texts, as Alpaca's Self-Instruct generator measures it.

Not here: embedding similarity (pipelines/embedded.py) or n-gram near-duplicates (pipelines/neardup/).
"""

from __future__ import annotations

from typing import Iterable


class RougeL:
    """ROUGE-L F1 against a growing pool, with the pool tokenized once (as Alpaca's generator does)."""

    def __init__(self, texts: Iterable[str] = ()):
        from rouge_score import rouge_scorer

        self._scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        self.texts: list[str] = []
        self._tokens: list[list[str]] = []
        for t in texts:
            self.add(t)

    def tokens(self, text: str) -> list[str]:
        return self._scorer._tokenizer.tokenize(text)

    def add(self, text: str) -> None:
        self.texts.append(text)
        self._tokens.append(self.tokens(text))

    def most_similar(self, text: str) -> tuple[float, str | None]:
        from rouge_score.rouge_scorer import _score_lcs

        toks = self.tokens(text)
        best, best_text = 0.0, None
        for other, other_toks in zip(self.texts, self._tokens):
            f = _score_lcs(toks, other_toks).fmeasure
            if f > best:
                best, best_text = f, other
        return best, best_text


def rouge_l(a: str, b: str) -> float:
    return RougeL([b]).most_similar(a)[0]
