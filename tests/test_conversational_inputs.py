"""TRL's conversational forms in: UltraFeedback-binarized pairs, implicit prompts, prompt-completion and KTO rows.

Rows are real-shaped: UltraFeedback-binarized's fields (prompt, prompt_id, chosen/rejected as [user, assistant]
message lists, messages, score_chosen, score_rejected) filled with real Alpaca-style rows shipped in data/
(each row's answer is `chosen`, the next row's answer `rejected`, as test_trainers_e2e pairs them).
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import polars as pl
import pytest

from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import run_recipe

N = 8


@pytest.fixture(scope="module")
def real_rows():
    rows = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=N)).kept.to_dicts()
    return [(r["instruction"] + (f"\n\n{r['input']}" if r["input"] else ""), r["response"]) for r in rows]


def _ultrafeedback(real_rows) -> list[dict]:
    out = []
    for i, (prompt, answer) in enumerate(real_rows):
        other = real_rows[(i + 1) % len(real_rows)][1]
        user = {"role": "user", "content": prompt}
        out.append({"prompt": prompt, "prompt_id": f"p{i:03d}",
                    "chosen": [user, {"role": "assistant", "content": answer}],
                    "rejected": [user, {"role": "assistant", "content": other}],
                    "messages": [user, {"role": "assistant", "content": answer}],
                    "score_chosen": 8.0 + i % 2, "score_rejected": 3.5})
    return out


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.mark.parametrize("mapping", ["preference", "auto"])
def test_ultrafeedback_binarized_rows_are_pairs_with_scores(tmp_path, real_rows, mapping):
    rows = _ultrafeedback(real_rows)
    res = read_input(InputSpec(path=_write(tmp_path / "uf.jsonl", rows), mapping=mapping))
    assert res.rejected.height == 0, res.rejected["detail"].to_list()
    df = res.kept
    assert df["kind"].unique().to_list() == ["preference"]
    assert df["instruction"].to_list() == [p for p, _ in real_rows]
    assert df["chosen_response"].to_list() == [a for _, a in real_rows]
    assert df["rejected_response"][0] == real_rows[1][1]
    assert df["score_chosen"].to_list() == [8.0 + i % 2 for i in range(N)]
    assert df["score_rejected"].to_list() == [3.5] * N
    assert df["messages"].null_count() == N  # a one-turn prompt is the instruction, not a conversation
    assert json.loads(df["metadata"][0])["prompt_id"] == "p000"


def test_prompt_as_messages_implicit_prompt_and_system_turns(tmp_path, real_rows):
    (q, a), (_, b) = real_rows[0], real_rows[1]
    sys_turn = {"role": "system", "content": "You are a careful assistant."}
    rows = [
        {"prompt": [{"role": "user", "content": q}], "chosen": [{"role": "assistant", "content": a}],
         "rejected": [{"role": "assistant", "content": b}]},                                   # TRL conversational
        {"chosen": [sys_turn, {"role": "user", "content": q}, {"role": "assistant", "content": a}],
         "rejected": [sys_turn, {"role": "user", "content": q}, {"role": "assistant", "content": b}]},  # implicit prompt
        {"prompt": q, "chosen": a, "rejected": b},                                              # standard: still fine
    ]
    df = read_input(InputSpec(path=_write(tmp_path / "p.jsonl", rows), mapping="preference")).kept
    assert df.height == 3 and df["instruction"].to_list() == [q, q, q]
    assert df["chosen_response"].to_list() == [a, a, a] and df["rejected_response"].to_list() == [b, b, b]
    assert df["messages"][1].to_list() == [sys_turn, {"role": "user", "content": q}]
    assert df["messages"][0] is None and df["messages"][2] is None


def test_bad_conversational_pairs_are_rejected_with_field_and_reason(tmp_path, real_rows):
    (q, a), (q2, b) = real_rows[0], real_rows[1]
    rows = [
        {"prompt": q, "chosen": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
         "rejected": [{"role": "user", "content": q2}, {"role": "assistant", "content": b}]},   # other conversation
        {"prompt": q, "chosen": [{"role": "user", "content": q}], "rejected": [{"role": "assistant", "content": b}]},
        {"chosen": [{"role": "assistant", "content": a}], "rejected": [{"role": "assistant", "content": b}]},
        {"prompt": q2, "chosen": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
         "rejected": [{"role": "user", "content": q}, {"role": "assistant", "content": b}]},    # prompt disagrees
    ]
    res = read_input(InputSpec(path=_write(tmp_path / "bad.jsonl", rows), mapping="preference"))
    assert res.kept.height == 0
    reasons = dict(zip(res.rejected["id"].str.extract(r"line(\d+)$").to_list(), res.rejected["detail"].to_list()))
    assert res.rejected["reason"].to_list() == ["ingest:pair_mismatch", "ingest:wrong_type", "ingest:missing_field",
                                                "ingest:pair_mismatch"]
    assert "bad.jsonl line 1" in reasons["1"] and "'rejected'" in reasons["1"]
    assert "last message must be the assistant's reply" in reasons["2"]
    assert "field 'prompt' is missing" in reasons["3"]
    assert "not the prompt in 'prompt'" in reasons["4"]


def test_conversational_prompt_completion_and_kto(tmp_path, real_rows):
    pc = [{"prompt": [{"role": "user", "content": q}], "completion": [{"role": "assistant", "content": a}]}
          for q, a in real_rows[:3]]
    df = read_input(InputSpec(path=_write(tmp_path / "pc.jsonl", pc))).kept
    assert df["kind"].to_list() == ["instruction"] * 3
    assert df["instruction"].to_list() == [q for q, _ in real_rows[:3]]
    assert df["response"].to_list() == [a for _, a in real_rows[:3]]

    kto = [{"prompt": [{"role": "user", "content": q}], "completion": [{"role": "assistant", "content": a}],
            "label": i % 2 == 0} for i, (q, a) in enumerate(real_rows[:4])]
    kto.append({"prompt": "x", "completion": "y", "label": "yes"})
    res = read_input(InputSpec(path=_write(tmp_path / "kto.jsonl", kto)))
    assert res.kept["kind"].unique().to_list() == ["scored"]
    assert res.kept["label"].to_list() == [True, False, True, False]
    assert res.kept["score"].to_list() == [1.0, 0.0, 1.0, 0.0]
    assert res.rejected["reason"].to_list() == ["ingest:wrong_type"] and "'label'" in res.rejected["detail"][0]


def test_preference_preset_run_publishes_every_pair_with_scores(tmp_path, real_rows):
    rows = _ultrafeedback(real_rows)
    sys_turn = {"role": "system", "content": "Answer briefly."}
    rows[0]["chosen"] = [sys_turn, *rows[0]["chosen"]]  # one row's context carries a system turn
    rows[0]["rejected"] = [sys_turn, *rows[0]["rejected"]]
    inp = _write(tmp_path / "uf.jsonl", rows)
    recipe = build_recipe({"name": "uf-dpo", "inputs": [{"path": inp, "mapping": "preference"}],
                           "stages": [{"stage": "chat-format", "layout": "dpo"}, {"stage": "publish"}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=False)
    assert summary["status"] == "ok", summary.get("error")
    ds_dir = Path(summary["run_dir"]) / "dataset"
    table = pl.read_parquet(sorted((ds_dir / "data" / "train").glob("*.parquet")))
    assert table.height == N
    assert {"prompt", "chosen", "rejected", "score_chosen", "score_rejected"} <= set(table.columns)
    by_id = {r["id"]: r for r in table.to_dicts()}
    first = by_id["uf:line1"]
    assert [m["role"] for m in first["prompt"]] == ["system", "user"]
    assert first["chosen"] == [{"role": "assistant", "content": real_rows[0][1]}]
    assert sorted(table["score_chosen"].to_list()) == sorted(8.0 + i % 2 for i in range(N))
    loaded = datasets.load_dataset(str(ds_dir))["train"]
    assert loaded.num_rows == N and loaded.features["score_rejected"].dtype == "float64"


def test_kto_rows_publish_their_label_without_a_threshold(tmp_path, real_rows):
    kto = [{"prompt": [{"role": "user", "content": q}], "completion": [{"role": "assistant", "content": a}],
            "label": i % 2 == 0} for i, (q, a) in enumerate(real_rows[:6])]
    recipe = build_recipe({"name": "kto-in", "inputs": [{"path": _write(tmp_path / "kto.jsonl", kto)}],
                           "stages": [{"stage": "chat-format", "layout": "kto"}, {"stage": "publish"}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=False)
    assert summary["status"] == "ok", summary.get("error")
    table = pl.read_parquet(sorted((Path(summary["run_dir"]) / "dataset" / "data" / "train").glob("*.parquet")))
    assert table.height == 6 and {"prompt", "completion", "label"} <= set(table.columns)
    assert sorted(zip(table["id"].to_list(), table["label"].to_list())) == [
        (f"kto:line{i + 1}", i % 2 == 0) for i in range(6)]


def test_a_longer_conversational_prompt_is_rendered_before_the_answer(tmp_path, real_rows):
    from dsforge.pipelines.core import records

    (q, a), (q2, a2) = real_rows[0], real_rows[1]
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": q2},
             {"role": "assistant", "content": a2}, {"role": "user", "content": q}]
    rows = [{"prompt": turns, "completion": [{"role": "assistant", "content": a}]}]
    df = read_input(InputSpec(path=_write(tmp_path / "pc.jsonl", rows), mapping="prompt-completion")).kept
    row = df.row(0, named=True)
    assert row["instruction"] == q and row["response"] == a
    assert records.to_messages(row) == [*turns, {"role": "assistant", "content": a}]
