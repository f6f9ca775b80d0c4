"""Known answers for the filter defaults changed in issue 27, each on the real row that showed the old default
wrong (bench/decisions.py, labels in bench/decisions_labels/), and on a real row the stage must still drop."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.stage import StageContext

CHAMP = Path(__file__).resolve().parents[1] / "bench" / "decisions_data" / "champ_math.jsonl"


def rows(path: Path, mapping: str, **contains: str) -> pl.DataFrame:
    """Rows of a real file whose field contains the text (each keyword: field=text)."""
    df = read_inputs([InputSpec(path=str(path), mapping=mapping, source=path.stem[:20])]).kept
    for field, text in contains.items():
        df = df.filter(pl.col(field).str.contains(text, literal=True))
    assert df.height >= 1, f"{path.name}: no row with {contains}"
    return df


def decide(stage: str, df: pl.DataFrame, tmp_path, **params) -> dict[str, str | None]:
    """id -> reject reason (None: kept) under the stage's defaults plus `params`."""
    res = stage_class(stage)(params).process(df, StageContext(work_dir=tmp_path))
    out = {i: None for i in res.kept["id"]}
    if res.rejected is not None:
        out.update(dict(zip(res.rejected["id"], res.rejected["reason"])))
    return out


# ---------------------------------------------------------------- quality-filter

def test_a_figurative_image_is_not_an_unseen_input_but_a_missing_picture_is(external, tmp_path):
    dracula = rows(external / "gpteacher/roleplay-simple-deduped-roleplay-instruct.json", "gpteacher",
                   instruction="improve the image of vampires")
    scene = rows(external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca",
                 instruction="Using the image provided, describe the scene")
    got = decide("quality-filter", pl.concat([dracula, scene]), tmp_path)
    assert set(got[i] for i in dracula["id"]) == {None}
    assert set(got[i] for i in scene["id"]) == {"quality-filter:needs_unseen_input"}


def test_self_contained_phrases_from_issue_27_are_not_unseen_inputs():
    from dsforge.filters.quality import load_word_lists
    from dsforge.pipelines.core.readers import resolve_path

    unseen = load_word_lists(str(resolve_path("data:filters/self_instruct.yaml")))["unseen_inputs"]
    for text in ("He spent $60 on the video game.", "Her new video card costs $250.", "She took 10 pictures."):
        assert unseen.search(text) is None, text
    assert unseen.search("Describe the image below.") and unseen.search("Watch the video and answer.")


def test_a_long_prompt_is_not_junk_by_default(external, tmp_path):
    xsum = rows(external / "self_instruct_t0/xsum_DOC_tldr.jsonl", "prompt-completion").head(20)
    long = xsum.filter(pl.col("instruction").str.split(" ").list.len() > 150)
    assert long.height >= 3
    assert set(decide("quality-filter", long, tmp_path).values()) == {None}
    assert set(decide("quality-filter", long, tmp_path, max_instruction_words=150).values()) == {
        "quality-filter:instruction_too_long"}   # Self-Instruct's limit is still there when asked for


def test_two_answers_to_a_repeated_prompt_are_kept_by_default(external, tmp_path):
    df = rows(external / "gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher",
              instruction="shell(shellcommand)\nList files in the current directory")
    df = df.filter(pl.col("id").str.ends_with(":row476") | pl.col("id").str.ends_with(":row514"))
    assert df.height == 2 and df["response"].n_unique() == 2   # "...: shell('ls')." twice, worded differently
    assert set(decide("quality-filter", df, tmp_path).values()) == {None}
    assert "quality-filter:conflicting_response" in decide("quality-filter", df, tmp_path, conflicting="keep_first").values()


def test_an_end_of_text_token_alone_is_a_placeholder_answer(external, tmp_path):
    trec = rows(external / "self_instruct_t0/trec_trec1.jsonl", "prompt-completion").head(5)
    assert set(trec["response"]) == {"<|endoftext|>"}
    assert set(decide("quality-filter", trec, tmp_path).values()) == {"quality-filter:placeholder_response"}


# ---------------------------------------------------------------- repetition-filter

@pytest.mark.parametrize("path,mapping,field,text", [
    (CHAMP, "alpaca", "instruction", "any 1 and 2 are never neighbors"),          # worked solution, dup 5-gram 0.35
    ("stanford_alpaca/seed_tasks.jsonl", "seed-tasks", "input", "Roger has 5 tennis balls"),  # top 2-gram 0.23
    ("gpteacher/codegen-instruct.json", "gpteacher", "instruction", "calculate the sum of odd numbers from 1 to n"),
    ("gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher", "instruction", "Who is the current Prime Minister"),
])
def test_correct_answers_that_repeat_their_terms_are_kept(external, tmp_path, path, mapping, field, text):
    df = rows(path if isinstance(path, Path) else external / path, mapping, **{field: text})
    assert set(decide("repetition-filter", df, tmp_path).values()) == {None}


def test_a_looping_solution_is_still_dropped(tmp_path):
    df = rows(CHAMP, "alpaca", instruction="For how many values of n in {101, ..., 1000}").filter(
        pl.col("id").str.ends_with("gpt35"))
    assert set(decide("repetition-filter", df, tmp_path).values()) == {"repetition-filter:dup_para_frac"}


# ---------------------------------------------------------------- language-filter

def test_short_english_the_identifier_is_unsure_about_is_kept(external, tmp_path):
    libre = external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl"
    short = pl.concat([rows(libre, "alpaca", instruction="Convert this Celsius temperature to Fahrenheit: 25°C."),
                       rows(libre, "alpaca", instruction="Convert a decimal number to a percentage.")])
    assert set(decide("language-filter", short, tmp_path, keep=["en", "zh"]).values()) == {None}
    review = rows(external / "self_instruct_t0/rotten_tomatoes_Reviewer_Enjoyment.jsonl", "prompt-completion",
                  instruction="el ladrón de orquídeas")
    assert set(decide("language-filter", review, tmp_path, keep=["en", "zh"]).values()) == {"language-filter:not_wanted"}


def test_an_arithmetic_exercise_is_not_too_short_but_a_one_word_instruction_is(external, tmp_path):
    zh = pl.concat([rows(external / "alpaca_chinese/zh_13.json", "alpaca", instruction="29*68="),
                    rows(CHAMP, "alpaca", instruction="Factorize x^3+y^3+z^3-3xyz.").filter(pl.col("id").str.ends_with("human"))],
                   how="diagonal_relaxed")
    libre = rows(external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca", instruction="ERROR").head(3)
    got = decide("quality-filter", pl.concat([zh, libre]), tmp_path)
    assert set(got[i] for i in zh["id"]) == {None}
    assert set(got[i] for i in libre["id"]) == {"quality-filter:instruction_too_short"}
