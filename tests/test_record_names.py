"""Record names (issue 17): chat-format writes `rendered_text` and never overwrites `text`; a preference row's
answers are `chosen_response`/`rejected_response` ("rejected" means a dropped row), read from TRL-style
`chosen`/`rejected` input fields and published under those names again; a step folder written before the
rename (columns `chosen`/`rejected`) still reads, inspects and reviews; translate copies the answers of a pair
it translates only the prompt of.

Rows are real shipped Alpaca rows (data/alpaca_libre_v1.jsonl); the template is the embedded SmolLM2's own.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from synth_fakes import ScriptedBackend

from dsforge.pipelines.core import records, shards
from dsforge.pipelines.stages.chat_format import ChatFormat
from dsforge.pipelines.stages.inspect.stage import inspect_path
from dsforge.pipelines.stages.publish import Save
from dsforge.pipelines.core.readers import DataError, InputSpec, read_input
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.apps.review.run_data import Query, RunData
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.stage import StageContext
from dsforge.synth.translate import Translate


@pytest.fixture(scope="module")
def alpaca():
    return read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", mapping="alpaca", limit=8)).kept.to_dicts()


def _pairs_file(folder: Path, alpaca: list[dict]) -> Path:
    """TRL / UltraFeedback-style pairs: each real answer (chosen) against the next row's (rejected)."""
    path = folder / "pairs.jsonl"
    rows = [{"prompt": a["instruction"], "chosen": a["response"], "rejected": b["response"]}
            for a, b in zip(alpaca, alpaca[1:] + alpaca[:1])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_document_keeps_its_text_through_chat_format(tmp_path, alpaca):
    body = alpaca[0]["response"]
    chat = [{"role": "user", "content": "Summarise the passage."}, {"role": "assistant", "content": body[:80]}]
    df = records.from_rows([
        # a document carrying a conversation made from it (messages_json): rendered, and its body kept
        {"id": "doc", "source": "web", "kind": "document", "text": body, "messages_json": json.dumps(chat)},
        {"id": "plain-doc", "source": "web", "kind": "document", "text": "A document with no conversation."},
        {"id": "ins", "source": "alpaca", "kind": "instruction", "instruction": alpaca[1]["instruction"],
         "input": alpaca[1]["input"], "response": alpaca[1]["response"]}])
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path)
    res = ChatFormat({"template": "smollm2"}).process(df, ctx)
    kept = {r["id"]: r for r in res.kept.iter_rows(named=True)}
    assert set(kept) == {"doc", "ins"} and res.rejected["id"].to_list() == ["plain-doc"]
    assert kept["doc"]["text"] == body  # the source text, not the rendered string
    assert kept["doc"]["rendered_text"].startswith("<|im_start|>system") and body[:80] in kept["doc"]["rendered_text"]
    assert kept["doc"]["rendered_text"].endswith(f"{body[:80]}<|im_end|>")
    assert kept["ins"]["text"] is None and alpaca[1]["response"] in kept["ins"]["rendered_text"]
    assert res.rejected["text"].to_list() == ["A document with no conversation."]
    # trainers still read `text` (TRL SFT's dataset_text_field): the rendered strings, renamed at save
    Save({"formats": ["parquet"], "prefer": "text", "output_dir": "out"}).process(res.kept, ctx)
    out = pl.read_parquet(tmp_path / "out" / "data" / "train" / "train-00000-of-00001.parquet")
    assert out.columns[0] == "text" and "rendered_text" not in out.columns
    assert dict(zip(out["id"], out["text"])) == {i: r["rendered_text"] for i, r in kept.items()}


def test_trl_pairs_ingest_into_the_new_columns_and_publish_as_chosen_rejected(tmp_path, alpaca):
    read = read_input(InputSpec(path=str(_pairs_file(tmp_path, alpaca))))  # mapping: auto -> preset preference
    df = read.kept
    assert read.rejected.height == 0 and set(df["kind"]) == {"preference"}
    assert "chosen" not in df.columns and "rejected" not in df.columns
    assert df["chosen_response"].to_list() == [a["response"] for a in alpaca]
    assert df["rejected_response"].to_list() == [a["response"] for a in alpaca[1:] + alpaca[:1]]
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path)
    formatted = ChatFormat({"template": "smollm2", "layout": "dpo"}).process(df, ctx).kept
    assert formatted["chosen_response"].to_list() == df["chosen_response"].to_list()  # raw replies kept
    Save({"formats": ["parquet"], "output_dir": "dpo"}).process(formatted, ctx)
    out = pl.read_parquet(tmp_path / "dpo" / "data" / "train" / "train-00000-of-00001.parquet")
    assert out.columns[:3] == ["prompt", "chosen", "rejected"]  # TRL's names
    assert not {"chosen_response", "rejected_response"} & set(out.columns)
    first = out.row(0, named=True)
    assert first["chosen"] == [{"role": "assistant", "content": alpaca[0]["response"]}]
    assert first["rejected"] == [{"role": "assistant", "content": alpaca[1]["response"]}]
    # the dsforge names are recognised on ingest too, and a mapping written with the old targets says what to write
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({"instruction": "Q", "chosen_response": "good", "rejected_response": "bad"}) + "\n")
    row = read_input(InputSpec(path=str(own))).kept.row(0, named=True)
    assert (row["kind"], row["chosen_response"], row["rejected_response"]) == ("preference", "good", "bad")
    with pytest.raises(DataError, match="write chosen_response: good, rejected_response: bad"):
        read_input(InputSpec(path=str(own), mapping={"instruction": "q", "chosen": "good", "rejected": "bad"}))


def test_a_step_written_before_the_rename_still_reads_inspects_and_reviews(tmp_path, alpaca):
    recipe = build_recipe({"name": "old-names", "inputs": [{"path": str(_pairs_file(tmp_path, alpaca)),
                                                            "mapping": "preference", "source": "pairs"}],
                           "stages": [{"stage": "length-filter", "field": "answer", "min_words": 30}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=False, executor=ExecutorSpec(workers=1))
    assert summary["status"] == "ok", summary.get("error")
    run_dir = Path(summary["run_dir"])
    step = next(p for p in sorted((run_dir / "stages").iterdir()) if "length-filter" in p.name)
    new = shards.read_table(step)
    assert new.height and shards.read_table(step, shards.REJECTED).height  # some kept, some dropped
    old_names = {"chosen_response": "chosen", "rejected_response": "rejected"}
    for folder in (run_dir / "stages").iterdir():  # rewrite every step's parts as the old code wrote them
        for f in shards.parts(folder, shards.KEPT) + shards.parts(folder, shards.REJECTED):
            part = pl.read_parquet(f)  # (parts may be links to one file: rename only what is still new)
            part.rename({k: v for k, v in old_names.items() if k in part.columns}).write_parquet(f)
    assert "chosen" in pl.read_parquet(shards.parts(step)[0]).columns
    old = records.conform(shards.read_table(step))  # what every reader of parts does: renames the old columns
    assert old.columns == new.columns and old.equals(new)
    stats, _ = inspect_path([step], tmp_path / "inspect")  # a step folder read as records-format Parquet
    assert stats["lengths"]["fields"]["rejected_response"]["n"] == new.height
    data = RunData(run_dir)
    prompts = " ".join(new["instruction"]).lower()  # a word found only in the replies, so the search needs them
    word = max((w for w in new["rejected_response"][0].split() if w.isalpha() and w.lower() not in prompts), key=len)
    hits = data.rows(Query(step=step.name, q=word, limit=200))
    want = new.filter(pl.concat_str([pl.col(c).fill_null("") for c in ("instruction", "chosen_response",
                                                                       "rejected_response")]).str.contains(word))
    assert {r["id"] for r in hits["rows"]} == set(want["id"]) and hits["total"] == want.height
    page = data.rows(Query(step=step.name, which=shards.REJECTED, limit=5))["rows"]
    assert page and all(r["chosen_response"] and r["reason"].startswith("length-filter:") for r in page)
    row = data.row(step.name, new["id"][0])
    assert row["row"]["rejected_response"] == new["rejected_response"][0] and "rejected" not in row["row"]
    assert row["changes"] == []  # the same row as in the step before: nothing changed, whatever the names


def test_a_pair_translated_on_its_prompt_keeps_both_answers(tmp_path):
    fr = {"How do I boil an egg?": "Comment faire cuire un œuf ?"}
    back = {v: k for k, v in fr.items()}

    def script(prompt, conv, i):
        text = prompt.split("\n\n", 1)[1]
        return fr[text] if prompt.startswith("Translate the following text from English") else back[text]

    df = records.from_rows([{"id": "p", "source": "t", "kind": "preference", "instruction": "How do I boil an egg?",
                             "chosen_response": "Nine minutes in boiling water.", "rejected_response": "Fry it."}])
    ctx = StageContext(work_dir=tmp_path, base_dir=tmp_path, seed=0, extras={"backend": ScriptedBackend(script)})
    res = Translate({"languages": ["French"], "fields": ["instruction"]}).process(df, ctx)
    new = res.kept.filter(pl.col("id") == "p:french").row(0, named=True)
    assert new["instruction"] == "Comment faire cuire un œuf ?" and new["kind"] == "preference"
    assert (new["chosen_response"], new["rejected_response"]) == ("Nine minutes in boiling water.", "Fry it.")
