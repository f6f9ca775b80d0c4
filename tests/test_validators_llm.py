"""judge, faithfulness and relevance: known answers with a scripted backend (the Backend protocol), robust
parsing of malformed replies, and a small real run with the embedded SmolLM2 on CPU."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import ConfigError, StageContext
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.seam import Generation, UsageCounter
from dsforge.validators.faithfulness import Faithfulness, parse_verdict
from dsforge.pipelines.llm.parse import parse_score, parse_winner
from dsforge.validators.judge import Judge, parse_label, parse_requirements
from dsforge.validators.relevance import Relevance, parse_topic


class Scripted:
    """A Backend whose answer is a function of the last user message."""

    name = "scripted"

    def __init__(self, answer: Callable[[str], str], model_id: str = "scripted-judge"):
        self.answer, self.model_id, self.usage, self.prompts = answer, model_id, UsageCounter(), []

    def generate(self, conversations, params: SamplingParams):
        out = []
        for conv in conversations:
            prompt = conv[-1]["content"]
            self.prompts.append(prompt)
            self.usage.calls += 1
            out.append([Generation(self.answer(prompt), "stop", len(prompt) // 4, 5, self.model_id) for _ in range(params.n)])
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": "scripted", "model": self.model_id}


def ctx(tmp_path, backend):
    return StageContext(work_dir=tmp_path, base_dir=tmp_path, extras={"backend": backend})


def qa_rows(items):
    return records.from_rows([{"id": f"r{i}", "source": "t", "kind": "instruction", **r} for i, r in enumerate(items)])


# ---------------------------------------------------------------- parsing

@pytest.mark.parametrize("text,score", [
    ('{"score": 4, "reason": "fine"}', 4.0), ("```json\n{\"score\": 2}\n```", 2.0), ("Score: 5\nReason: exact", 5.0),
    ("I'd give it 3/5.", 3.0), ("4", 4.0), ("Rating: **1**", 1.0), ("great answer!", None), ('{"score": 9}', None),
])
def test_parse_score(text, score):
    assert parse_score(text)[0] == score


def test_parse_other_verdicts():
    assert parse_label('{"label": "bad", "reason": "wrong"}', ["good", "bad"]) == ("bad", "wrong")
    assert parse_label("Verdict: good", ["good", "bad"])[0] == "good"
    assert parse_label("good or bad, hard to say", ["good", "bad"])[0] is None
    assert parse_requirements('{"met": [true, "no", 1]}', 3)[0] == [True, False, True]
    assert parse_requirements("1. yes\n2. no", 2)[0] == [True, False]
    assert parse_requirements('{"met": [true]}', 2)[0] is None
    assert parse_winner('{"winner": "B"}')[0] == "B" and parse_winner("[[A]]")[0] == "A"
    assert parse_winner("The better response is B.")[0] == "B" and parse_winner("both fine")[0] is None
    assert parse_verdict('{"verdict": "unsupported", "reason": "x"}') == (False, "x")
    assert parse_verdict("Entailment.")[0] is True and parse_verdict("hmm")[0] is None
    assert parse_topic("2", ["a", "b"]) == 1 and parse_topic("0", ["a"]) == -1 and parse_topic("none", ["a"]) == -1
    assert parse_topic("cooking", ["python", "cooking: recipes"]) == 1 and parse_topic("??", ["a"]) is None


# ---------------------------------------------------------------- judge with known answers

def test_judge_score_threshold_reasons_and_unscored(tmp_path):
    def grade(prompt: str) -> str:
        if "Paris" in prompt:
            return '{"score": 5, "reason": "correct capital"}'
        if "Lyon" in prompt:
            return "Score: 2\nReason: wrong city"
        return "I cannot decide."  # malformed on purpose

    df = qa_rows([{"instruction": "Capital of France?", "response": "Paris"},
                  {"instruction": "Capital of France?", "response": "Lyon"},
                  {"instruction": "Capital of France?", "response": "Marseille"}])
    backend = Scripted(grade)
    res = Judge({"threshold": 4}).process(df, ctx(tmp_path, backend))
    assert res.kept["id"].to_list() == ["r0"] and res.kept["judge_score"][0] == 5.0
    assert res.kept["judge_reason"][0] == "correct capital"
    rej = {r["id"]: r for r in res.rejected.iter_rows(named=True)}
    assert rej["r1"]["reason"] == "judge:below_threshold" and "score 2 < threshold 4: wrong city" == rej["r1"]["detail"]
    assert rej["r2"]["reason"] == "judge:unscored" and "I cannot decide." in rej["r2"]["detail"]
    assert rej["r2"]["judge_raw"] == "I cannot decide."
    assert "helpfulness" in backend.prompts[0] and "Paris" in backend.prompts[0]
    info = json.loads(res.kept["lineage"][0][-1]["info"])
    assert info["backend"]["model"] == "scripted-judge" and info["mode"] == "score"
    assert res.stats["unscored"] == 1 and res.stats["mean_score"] == 3.5


def test_judge_classify_and_requirements(tmp_path):
    df = qa_rows([{"instruction": "Say hi politely", "response": "Hello, nice to meet you."},
                  {"instruction": "Say hi politely", "response": "whatever"}])
    polite = Scripted(lambda p: '{"label": "good"}' if "nice" in p else '{"label": "bad", "reason": "rude"}')
    res = Judge({"mode": "classify"}).process(df, ctx(tmp_path, polite))
    assert res.kept["id"].to_list() == ["r0"] and res.rejected["reason"].to_list() == ["judge:rejected_classify"]
    reqs = ["is polite", "is under 10 words", "mentions the user's name"]

    def check(p: str) -> str:
        return json.dumps({"met": ["nice" in p, True, False], "reason": "checked"})

    res = Judge({"mode": "requirements", "requirements": reqs, "min_met": 2}).process(df, ctx(tmp_path, Scripted(check)))
    assert res.kept["id"].to_list() == ["r0"] and res.kept["judge_label"][0] == "y,y,n"
    assert "met 1 of 3 requirements (need 2)" in res.rejected["detail"][0]
    with pytest.raises(ConfigError, match="mode requirements needs a `requirements:` list"):
        Judge({"mode": "requirements"})  # a config error when the recipe is loaded, before any row is read


def _pairs():
    return records.from_rows([
        {"id": f"p{i}", "source": "t", "kind": "preference", "instruction": q, "chosen_response": c, "rejected_response": r}
        for i, (q, c, r) in enumerate([("2+2?", "4 (correct)", "5"), ("Capital of Italy?", "Rome (correct)", "Milan"),
                                       ("Colour of the sky?", "Blue (correct)", "Green"), ("3*3?", "9 (correct)", "6")])])


def test_pairwise_asks_both_orders_and_measures_position_consistency(tmp_path):
    # A fair judge: picks whichever slot holds the correct answer.
    fair = Scripted(lambda p: '{"winner": "A"}' if p.index("(correct)") < p.index("RESPONSE B") else '{"winner": "B"}')
    res = Judge({"mode": "pairwise"}).process(_pairs(), ctx(tmp_path, fair))
    assert len(fair.prompts) == 8  # every pair asked twice
    assert res.stats["position_consistency_rate"] == 1.0 and res.kept.height == 4
    assert set(res.kept["judge_preferred"]) == {"chosen_response"}
    # A position-biased judge: always "A" -> never consistent.
    biased = Scripted(lambda p: "[[A]]")
    res = Judge({"mode": "pairwise", "keep": "consistent"}).process(_pairs(), ctx(tmp_path, biased))
    assert res.stats["position_consistency_rate"] == 0.0 and res.kept.height == 0
    assert set(res.rejected["reason"]) == {"judge:position_inconsistent"}
    # A judge that prefers the wrong answer in both orders: consistent, but disagrees with the label.
    contrarian = Scripted(lambda p: '{"winner": "B"}' if p.index("(correct)") < p.index("RESPONSE B") else '{"winner": "A"}')
    res = Judge({"mode": "pairwise", "keep": "agree"}).process(_pairs(), ctx(tmp_path, contrarian))
    assert res.stats["position_consistency_rate"] == 1.0 and res.stats["agree_with_label"] == 0
    assert set(res.rejected["reason"]) == {"judge:disagrees_with_label"}
    kept_all = Judge({"mode": "pairwise", "keep": "all"}).process(_pairs(), ctx(tmp_path, biased))
    assert kept_all.kept.height == 4 and kept_all.kept["judge_consistent"].to_list() == [False] * 4


# ---------------------------------------------------------------- faithfulness and relevance

SOURCE = ("The Eiffel Tower was completed in 1889 for the World's Fair in Paris. It is 330 metres tall and was "
          "designed by the company of Gustave Eiffel.")


def test_faithfulness_similarity_floor_then_nli_judge(tmp_path):
    df = qa_rows([
        {"instruction": "Summarise", "input": SOURCE, "response": "The Eiffel Tower, finished in 1889 in Paris, is 330 m tall."},
        {"instruction": "Summarise", "input": SOURCE, "response": "The Eiffel Tower, finished in 1920 in Lyon, is 500 m tall."},
        {"instruction": "Summarise", "input": SOURCE, "response": "Bananas are rich in potassium and grow in the tropics."},
        {"instruction": "Summarise", "input": SOURCE, "response": "The Eiffel Tower is in Paris."},
    ])

    def nli(p: str) -> str:
        resp = p.split("RESPONSE:")[1]
        if "1920" in resp:
            return '{"verdict": "unsupported", "reason": "wrong year and city"}'
        if "is in Paris" in resp:
            return "maybe?"
        return '{"verdict": "supported", "reason": "all claims in source"}'

    backend = Scripted(nli)
    res = Faithfulness({"source": "input", "min_similarity": 0.3}).process(df, ctx(tmp_path, backend))
    assert res.kept["id"].to_list() == ["r0"]
    reasons = dict(zip(res.rejected["id"], res.rejected["reason"]))
    assert reasons == {"r1": "faithfulness:unsupported", "r2": "faithfulness:low_similarity", "r3": "faithfulness:unparsable"}
    assert len(backend.prompts) == 3  # the banana row never reached the judge
    sims = dict(zip(res.rejected["id"], res.rejected["faithfulness_similarity"]))
    assert sims["r2"] < 0.3 < res.kept["faithfulness_similarity"][0]


def _wiki(doc_id: str) -> str:
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "wiki_passages.jsonl"
    return next(r["text"] for r in map(json.loads, path.read_text().splitlines()) if r["id"] == doc_id)


def test_faithfulness_grounded_rejects_names_and_numbers_the_source_never_uses(tmp_path):
    """Instructions SmolLM2-135M really wrote for shipped Wikipedia paragraphs (few_shot: turns, greedy)."""
    from dsforge.validators.faithfulness import ungrounded_terms

    parade, paleocene, hume = _wiki("wiki-018"), _wiki("wiki-027"), _wiki("wiki-001")
    assert ungrounded_terms(parade, "Explain how the Prussian Army won the Battle of Waterloo, and how the war "
                                    "ended in a stalemate.") == ["Battle", "Waterloo"]
    assert ungrounded_terms(paleocene, "Explain how the Paleocene ended the process of the Mesozoic Era.") == ["Mesozoic", "Era"]
    # names with a possessive, and a sentence-opening word, are fine; numbers count as names
    assert ungrounded_terms(hume, "Explain how Hume's argument about induction is circular.") == []
    assert ungrounded_terms(SOURCE, "When was the Eiffel Tower finished? Was it 1889 or 1901?") == ["1901"]
    df = qa_rows([{"instruction": "Explain how the Prussian Army won the Battle of Waterloo.", "input": parade, "response": ""},
                  {"instruction": "Describe the victory parade the Prussian Army held in Paris.", "input": parade, "response": ""}])
    res = Faithfulness({"source": "input", "response_field": "instruction", "min_similarity": 0.2, "grounded": True,
                        "use_judge": False}).process(df, ctx(tmp_path, None))
    assert res.kept["id"].to_list() == ["r1"] and res.rejected["reason"].to_list() == ["faithfulness:ungrounded"]
    assert res.rejected["detail"][0] == "not in the source: Battle, Waterloo" and res.stats["ungrounded"] == 1


def test_relevance_embedding_and_judge(tmp_path):
    topics = ["python programming", "cooking recipes"]
    df = qa_rows([{"instruction": "How do I reverse a list in Python?", "response": "lst[::-1]"},
                  {"instruction": "How long should I boil an egg for a soft yolk?", "response": "6 minutes"},
                  {"instruction": "Who won the 1998 football World Cup?", "response": "France"}])
    res = Relevance({"topics": topics}).process(df, ctx(tmp_path, None))
    assert res.kept["topic"].to_list() == ["python programming", "cooking recipes"]
    assert res.rejected["id"].to_list() == ["r2"] and res.rejected["reason"][0] == "relevance:off_topic"
    assert res.stats["per_topic"] == {"python programming": 1, "cooking recipes": 1}

    def judge(p: str) -> str:
        text = p.split("TEXT:")[1]
        return "1" if "Python" in text else "2" if "egg" in text else "I don't know"

    res = Relevance({"topics": topics, "method": "both"}).process(df, ctx(tmp_path, Scripted(judge)))
    assert res.kept["topic_method"].to_list() == ["judge", "judge"]
    assert res.rejected["reason"].to_list() == ["relevance:off_topic"]  # unreadable -> embedding fallback: off topic
    res = Relevance({"topics": topics, "method": "judge"}).process(df, ctx(tmp_path, Scripted(judge)))
    assert res.rejected["reason"].to_list() == ["relevance:unparsable"]


# ---------------------------------------------------------------- the real embedded model

@pytest.mark.slow
def test_judge_with_embedded_smollm2_on_cpu(tmp_path):
    """SmolLM2-135M is a weak judge: what matters is that real replies flow through and are either parsed or
    rejected as unscored with the raw text kept; that the one row costs one model call on an empty
    cache; and that judging it again is answered from the cache with the same verdict."""
    df = qa_rows([{"instruction": "What is 2+2?", "response": "4"}])
    stage = Judge({"threshold": 1, "model": {"backend": "transformers", "model": "smollm2", "cache_dir": str(tmp_path / "c")},
                   "sampling": {"temperature": 0, "max_tokens": 16}})
    res = stage.process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path))
    assert res.kept.height + res.rejected.height == 1
    for row in (*res.kept.iter_rows(named=True), *res.rejected.iter_rows(named=True)):
        assert row["judge_raw"]  # the model's own text is kept
        if row["judge_score"] is None:
            assert row["reason"] == "judge:unscored"
        else:
            assert 1 <= row["judge_score"] <= 5
    assert (res.stats["llm_calls"], res.stats["llm_cache_hits"]) == (1, 0)
    again = stage.process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path))
    assert (again.stats["llm_calls"], again.stats["llm_cache_hits"]) == (0, 1)
    first = (*res.kept.iter_rows(named=True), *res.rejected.iter_rows(named=True))[0]
    second = (*again.kept.iter_rows(named=True), *again.rejected.iter_rows(named=True))[0]
    assert (second["judge_raw"], second["judge_score"]) == (first["judge_raw"], first["judge_score"])


def test_judge_asks_servers_for_structured_output():
    assert Judge({"model": {"backend": "openai", "model": "m"}})._params().json_schema["required"] == ["score", "reason"]
    assert Judge({"mode": "pairwise", "model": {"backend": "vllm", "model": "m"}})._params().json_schema["properties"]["winner"]
    assert Judge({})._params().json_schema is None  # the in-process backend cannot enforce one
