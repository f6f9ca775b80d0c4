"""ROUGE-L in self-instruct / paraphrase: our LCS on rouge_score's public tokenizer must give exactly what
rouge_score's own scorer gives, on real instructions (stanford_alpaca's 175 seed tasks)."""

import json

from rouge_score import rouge_scorer

from dsforge.synth.similarity import RougeL, lcs_f1, rouge_l


def test_rouge_l_equals_rouge_score_on_real_seed_instructions(external):
    lines = (external / "stanford_alpaca" / "seed_tasks.jsonl").read_text().splitlines()
    texts = [json.loads(line)["instruction"] for line in lines]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = RougeL(texts[:100])
    for text in texts[100:]:
        best, best_text = pool.most_similar(text)
        want = max(scorer.score(t, text)["rougeL"].fmeasure for t in texts[:100])
        assert abs(best - want) < 1e-12
        assert abs(rouge_l(text, best_text) - want) < 1e-12
    assert rouge_l(texts[0], texts[0]) == 1.0


def test_lcs_f1_edge_cases():
    assert lcs_f1([], ["a"]) == 0.0 and lcs_f1(["a"], []) == 0.0
    assert lcs_f1(["a", "b", "c", "d"], ["a", "c", "x"]) == 2 * 2 / (4 + 3)   # LCS "a c"
    assert lcs_f1(["a", "b"], ["b", "a"]) == lcs_f1(["b", "a"], ["a", "b"]) == 0.5
