"""Is a pair of alike rows one example twice? Their answers have to be alike too (minhash- and semantic-dedup).

Why (bench/decisions.py, labels in bench/decisions_labels/): reading-comprehension sets (T0's DuoRC and
adversarial QA) ask several questions about one long passage. The shared passage makes two rows 0.9 alike
by word 5-grams and 0.96 by MiniLM cosine although each asks and answers something else ("Who is the
Seeker?" -> "JASON", "What gets smashed?" -> "The Monkey King's statue"); with the whole text compared,
minhash-dedup dropped 189 of 1,000 T0 rows, none of 30 sampled a duplicate. Three rules, on the pairs a
stage already found alike:

  1. the answers must be alike: MinHash estimate of the `answer` fields' Jaccard (word n-grams; an answer
     shorter than n words is one shingle) >= answer_threshold. Two rows without an answer (document rows)
     are alike, so plain-text dedup is unchanged;
  2. a row alike with another but answered differently holds a shared context, so none of its pairs count
     ("Who drinks the elixir?" and "Who is the Seeker?", both "JASON", on one plot are two questions);
  3. an answer shorter than `short_words` words (a name, "yes", a number) is weak evidence: such pairs need
     texts alike at short_answer_threshold ("__ was preceded by Napoleon III." and "__ was succeeded by
     Adolphe Thiers.", both "Trochu", are 0.93 alike by Jaccard);
  4. a number changes the task: two prompts that both hold numbers (digits or number words) and not the same
     ones ask different things ("Find all three-digit automorphic numbers" / "... four-digit ...", CHAMP:
     their solutions share their wording, MiniLM cosine 0.95-0.97);
  5. a different final answer is a different problem: when both answers state one (an "Answer:" line,
     "the answer is ...", \\boxed{...}, GSM8K's "#### ...") and its numbers differ, the pair is two
     problems ("strictly increasing digits" -> "Answer: C(10, 5), or equivalently 252" and "strictly
     increasing or decreasing digits" -> "... 504", CHAMP: one added clause, the same worked wording).

Keys hold a small signature of each answer and its word count, never its text (the keyed path).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import ANSWER, PROMPT
from dsforge.pipelines.core.stage import StageConfig
from dsforge.pipelines.neardup import lsh
from dsforge.pipelines.neardup.shingles import normalise, shingle_hashes


class AnswerCheckConfig(StageConfig):
    """Config fields of the answer check (mixed into the dedup stage configs, which set the thresholds)."""

    answers_must_match: bool = Field(True, description="a pair is a duplicate only when the answers are alike "
                                     "too (same passage, other question and answer: not a duplicate)")
    answer_perm: int = Field(64, ge=8, le=1024, description="MinHash permutations of the answer signature")


_NUMBER = (r"\d+(?:[.,]\d+)?|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
           r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
           r"|ninety|hundred|thousand|million|billion|half|third|quarter|first|second|fifth)\b")
_FINAL = (r"(?im)(?:^[ \t*#]*(?:final )?answer\s*[:：]|\bthe (?:final )?answer is\b|\\boxed\{|^####)[^\n]*")
ANSWER_COLUMNS = ["asig", "__awords", "__pnums", "__fnums"]


def _numbers_hash(text: pl.Expr, seed: int) -> pl.Expr:
    """A hash of the set of numbers `text` holds (digits or number words); 0 when it holds none."""
    nums = text.fill_null("").str.to_lowercase().str.extract_all(_NUMBER).list.unique().list.sort().list.join(" ")
    return pl.when(nums.fill_null("") == "").then(pl.lit(0, pl.UInt64)).otherwise(nums.hash(seed))


def answer_keys(df: pl.DataFrame, ngram: int, perm: int, seed: int) -> pl.DataFrame:
    """Per row: `asig` (MinHash of the answer's word n-grams), `__awords` (its words; 0 when empty),
    `__pnums` (a hash of the set of numbers its prompt holds; 0 when none) and `__fnums` (the same of the
    answer's last stated final answer; 0 when it states none)."""
    answers = df.select(ANSWER.expr().fill_null("").alias("t"))["t"]
    normed = normalise(answers)
    sig = lsh.signatures(shingle_hashes(normed, ngram, "word", seed, normalised=True), perm, seed)
    words = (normed.str.split(" ").list.len() * (normed.str.len_bytes() > 0)).cast(pl.UInt32)
    final = ANSWER.expr().fill_null("").str.extract_all(_FINAL).list.last()
    nums = df.select(_numbers_hash(PROMPT.expr(), seed).alias("p"), _numbers_hash(final, seed).alias("f"))
    return pl.DataFrame({"asig": pl.Series(sig, dtype=pl.Array(pl.UInt32, perm)), "__awords": words,
                         "__pnums": nums["p"], "__fnums": nums["f"]})


def answer_pairs(keys: pl.DataFrame, left: np.ndarray, right: np.ndarray, n: int, answer_threshold: float,
                 short_words: int, short_answer_threshold: float,
                 text_similarity: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> tuple[np.ndarray, dict]:
    """Mask of the pairs (left[i], right[i]) that stay duplicates under rules 1-5, and counts for the stats.
    `keys` holds ANSWER_COLUMNS of all n rows; text_similarity(a, b) is the stage's own similarity."""
    if not len(left):
        return np.ones(0, dtype=bool), {"pairs_answered_differently": 0, "context_rows": 0}
    sig = keys["asig"].to_numpy().reshape(keys.height, -1)
    ok = (sig[left] == sig[right]).mean(axis=1) >= answer_threshold
    nums = keys["__pnums"].to_numpy()
    other_numbers = (nums[left] != 0) & (nums[right] != 0) & (nums[left] != nums[right])
    finals = keys["__fnums"].to_numpy()
    other_numbers |= (finals[left] != 0) & (finals[right] != 0) & (finals[left] != finals[right])
    words = keys["__awords"].to_numpy()
    differ = int((~ok).sum())
    context = np.zeros(n, dtype=bool)
    context[left[~ok]] = context[right[~ok]] = True
    ok &= ~context[left] & ~context[right]
    short = ok & (words[left] > 0) & (words[left] < short_words) & (words[right] > 0) & (words[right] < short_words)
    if short.any():
        ok[short] = text_similarity(left[short], right[short]) >= short_answer_threshold
    numbers_differ = int((ok & other_numbers).sum())
    ok &= ~other_numbers
    return ok, {"pairs_answered_differently": differ, "context_rows": int(context.sum()),
                "short_answer_pairs_below": int(short.sum() - ok[short].sum() - (short & other_numbers).sum()),
                "pairs_with_other_numbers": numbers_differ}
