"""The judge never turns noise into a score (issue 27).

SmolLM2-135M sometimes echoes the row instead of judging it; the old last-line fallback of `parse_score` then
read a number from the row's own text (7 of 20 judged GSM8K rows). Here: echo replies built the way SmolLM2
wrote them (the row's answer copied back, its last line a number) are unscored, rejected or flagged per
`on_fail`, with the reply kept verbatim; real SmolLM2-135M replies (captured 2026-12-07 with the embedded
model judging CHAMP solutions, bench/decisions_data/) still parse to their scores.
"""

from __future__ import annotations

from test_validators_llm import Scripted, ctx, qa_rows

from dsforge.pipelines.llm.parse import parse_score
from dsforge.validators.judge import Judge

# GSM8K train row 2 (MIT licence); its answer ends with a line holding nothing but the result.
QUESTION = ("Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her "
            "parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How "
            "much more money does Betty need to buy the wallet?")
ANSWER = ("In the beginning, Betty has only 100 / 2 = $50.\nBetty's grandparents gave her 15 * 2 = $30.\n"
          "This means, Betty needs 100 - 50 - 30 - 15 = $5 more.\n5")
ECHO = f"RESPONSE:\n{ANSWER}"          # the model copies the row back and stops
ECHO_PROMPT = f"PROMPT:\n{QUESTION}\n\nRESPONSE:\n{ANSWER}\n\nReply with JSON only"
# Real replies of SmolLM2-135M (judge_score_v1, greedy) to CHAMP rows.
REAL = {'{"score": 2, "reason": "exactly twice the number of ways to choose 5 distinct numbers from 10 numbers"}': 2.0,
        '{"score": 1.0, "reason": "The answer is not provided."}': 1.0,
        '{"score": 4.0, "reason": "The answer is 4.0"}': 4.0}


def test_an_echoed_row_is_not_a_score():
    assert parse_score(ECHO, echo=(QUESTION, ANSWER)) == (None, "")
    assert parse_score(ECHO_PROMPT, echo=(QUESTION, ANSWER)) == (None, "")
    # a verdict after an echo still counts; a bare number only when it is the reply's own last line
    assert parse_score(ECHO + '\n{"score": 3, "reason": "correct but terse"}', echo=(QUESTION, ANSWER))[0] == 3.0
    assert parse_score("I would say\n4", echo=(QUESTION, ANSWER))[0] == 4.0
    assert parse_score("#### 5")[0] is None and parse_score("Total: $5 more")[0] is None


def test_real_smollm2_replies_still_parse():
    for reply, score in REAL.items():
        assert parse_score(reply, echo=(QUESTION, ANSWER))[0] == score


def test_judge_rejects_an_echo_as_unscored_and_keeps_the_reply(tmp_path):
    df = qa_rows([{"instruction": QUESTION, "response": ANSWER},
                  {"instruction": "Capital of France?", "response": "Paris"}])
    backend = Scripted(lambda p: ECHO if "Betty" in p else '{"score": 5, "reason": "correct"}')
    res = Judge({"threshold": 4}).process(df, ctx(tmp_path, backend))
    rej = res.rejected.row(0, named=True)
    assert res.kept["id"].to_list() == ["r1"] and res.kept["judge_verdict"].to_list() == ["pass"]
    assert rej["id"] == "r0" and rej["reason"] == "judge:unscored" and rej["judge_score"] is None
    assert rej["judge_raw"] == ECHO and rej["judge_verdict"] == "unscored"
    assert res.stats["unscored"] == 1 and res.stats["mean_score"] == 5.0


def test_judge_flags_an_echo_as_unscored_without_a_score(tmp_path):
    df = qa_rows([{"instruction": QUESTION, "response": ANSWER}])
    res = Judge({"threshold": 4, "on_fail": "flag"}).process(df, ctx(tmp_path, Scripted(lambda p: ECHO)))
    row = res.kept.row(0, named=True)
    assert res.rejected.height == 0 and row["judge_verdict"] == "unscored"
    assert row["judge_score"] is None and row["judge_raw"] == ECHO
