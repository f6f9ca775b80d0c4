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


def test_formulas_do_not_make_a_worked_solution_another_language(tmp_path):
    # GPT-3.5's solution lists a_1 = 1 ... a_100 = 1291469493646091190097097097097: py3langid called it zxx (0.77)
    df = rows(CHAMP, "alpaca", instruction="a_(n+1)=(1+a_(n−1)*a_n)/a_(n−2)").filter(pl.col("id").str.ends_with("gpt35"))
    assert set(decide("language-filter", df, tmp_path, keep=["en", "zh"]).values()) == {None}
    assert set(decide("language-filter", df, tmp_path, keep=["en", "zh"], strip_formulas=False).values()) == {
        "language-filter:not_wanted"}


# ---------------------------------------------------------------- minhash-dedup and semantic-dedup

def test_questions_about_one_plot_are_not_duplicates_but_a_repeated_row_is(external, tmp_path):
    t0 = external / "self_instruct_t0"
    plot = rows(t0 / "duorc_ParaphraseRC_answer_question.jsonl", "prompt-completion",
                instruction="Movie plot title: The Forbidden Kingdom")   # 14 questions, three answered "JASON"
    cnn = rows(t0 / "cnn_dailymail_3_0_0_spice_up_story.jsonl", "prompt-completion")
    twice = cnn.filter(pl.col("id").str.ends_with(":line37") | pl.col("id").str.ends_with(":line121"))
    assert plot.height == 14 and twice.height == 2 and twice["instruction"].n_unique() == 1
    got = decide("minhash-dedup", pl.concat([plot, twice]), tmp_path)
    assert [i for i, r in got.items() if r] == [twice["id"][1]]
    old = decide("minhash-dedup", plot, tmp_path, answers_must_match=False)
    assert sum(r is not None for r in old.values()) == 13    # the old default kept one question of 14


def test_two_questions_with_one_short_answer_on_a_passage_are_not_duplicates(external, tmp_path):
    qa = rows(external / "self_instruct_t0/adversarial_qa_dbert_answer_the_following_q.jsonl", "prompt-completion",
              instruction="President Trochu resigned")
    pair = qa.filter(pl.col("instruction").str.contains("Question: __ was (preceded|succeeded) by"))
    assert pair.height == 2 and set(pair["response"]) == {"Trochu<|endoftext|>"}   # est. Jaccard 0.93
    assert set(decide("minhash-dedup", pair, tmp_path).values()) == {None}
    assert None in decide("minhash-dedup", pair, tmp_path, short_answer_threshold=0.8).values()


def test_a_request_reworded_with_the_same_tool_call_is_still_a_near_duplicate(external, tmp_path):
    df = rows(external / "gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher",
              instruction="Give me a summary of Albert Einstein's life")
    df = df.filter(pl.col("id").str.ends_with(":row914") | pl.col("id").str.ends_with(":row3954"))
    assert df.height == 2
    assert list(decide("minhash-dedup", df, tmp_path).values()).count("minhash-dedup:near_duplicate") == 1


def test_a_tool_description_shared_by_many_rows_does_not_make_them_duplicates(external, tmp_path):
    pytest.importorskip("sentence_transformers")
    tools = rows(external / "gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher",
                 instruction="toolformer access: weather\n")                    # every row: the same 4-line tool text
    paris = tools.filter(pl.col("id").str.ends_with(":row893"))                  # "Is it going to rain tomorrow in Paris?"
    london = tools.filter(pl.col("id").str.ends_with(":row810"))                 # "Will it rain tomorrow in London?"
    assert paris.height == london.height == 1 and tools.height >= 40
    pair = [paris["id"][0], london["id"][0]]
    got = decide("semantic-dedup", tools, tmp_path)
    assert [got[i] for i in pair] == [None, None]
    lines_only = decide("semantic-dedup", tools, tmp_path, answers_must_match=False)   # the template rule alone
    assert [lines_only[i] for i in pair] == [None, None]
    old = decide("semantic-dedup", tools, tmp_path, template_share=None, answers_must_match=False)
    assert old[paris["id"][0]] == "semantic-dedup:semantic_duplicate"            # cosine 0.948 with the tool text


def test_questions_on_one_passage_are_not_meaning_duplicates(external, tmp_path):
    pytest.importorskip("sentence_transformers")
    qa = rows(external / "self_instruct_t0/adversarial_qa_dbert_answer_the_following_q.jsonl", "prompt-completion",
              instruction="Windows 8")
    runs = qa.filter(pl.col("instruction").str.contains("Question: Where do you run Windows 8"))
    assert runs.height == 3 and set(runs["response"]) == {"devices<|endoftext|>"}   # cosine 0.967, one short answer
    assert qa.height == 39   # the questions on the Windows 8 passages
    assert set(decide("semantic-dedup", qa, tmp_path).values()) == {None}
    assert "semantic-dedup:semantic_duplicate" in decide("semantic-dedup", qa, tmp_path, answers_must_match=False).values()


def test_a_number_that_changes_the_problem_makes_two_problems(tmp_path):
    pytest.importorskip("sentence_transformers")
    champ = rows(CHAMP, "alpaca")
    auto = champ.filter(pl.col("instruction").str.contains("automorphic") & pl.col("id").str.ends_with("-human"))
    assert auto.height == 3   # two-, three- and four-digit automorphic numbers: solutions worded alike
    got = decide("semantic-dedup", champ, tmp_path)
    assert [got[i] for i in auto["id"]] == [None, None, None]
    twice = pl.concat([auto.head(1), auto.head(1).with_columns(pl.lit("copy").alias("id"))])
    assert list(decide("semantic-dedup", twice, tmp_path).values()).count("semantic-dedup:semantic_duplicate") == 1


def test_a_different_final_answer_makes_two_problems(tmp_path):
    pytest.importorskip("sentence_transformers")
    champ = rows(CHAMP, "alpaca")
    digits = champ.filter(pl.col("instruction").str.contains("have strictly increasing")
                          & pl.col("id").str.ends_with("-human"))
    assert digits.height == 2   # "... strictly increasing digits?" / "... strictly increasing or decreasing digits?"
    assert digits["response"].str.contains(r"Answer: (2\*)?C\(10, 5\)").all()   # worded alike, 252 vs 504
    got = decide("semantic-dedup", champ, tmp_path)
    assert [got[i] for i in digits["id"]] == [None, None]
    twice = pl.concat([digits.head(1), digits.head(1).with_columns(pl.lit("copy").alias("id"))])
    assert list(decide("semantic-dedup", twice, tmp_path).values()).count("semantic-dedup:semantic_duplicate") == 1
