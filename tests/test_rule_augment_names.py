"""rule-augment's counterfactual twins stay consistent: names swap with their pronouns or the row gets no twin.

Issue 27: "Natalia sold clips to 48 of his friends" (pronoun swapped, name kept) is a broken row. Damage
classes tested, each on a real row: an unknown first name next to swapped pronouns (GSM8K train row 0, quoted
in the issue), a known first name (GSM8K train row 2: the name must change the same way in question and
answer), and real people named in full (alpaca-libre rows: "Vincent van Gogh", "Tom Cochrane").
"""

from __future__ import annotations

import json

import polars as pl

from dsforge.pipelines.core import records
from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.stage import StageContext
from dsforge.synth.rule_augment import RuleAugment

NATALIA = {"id": "gsm8k:0", "source": "gsm8k", "kind": "instruction", "input": "",
           "instruction": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
                          "May. How many clips did Natalia sell altogether in April and May?",
           "response": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips "
                       "altogether in April and May.\n#### 72"}
BETTY = {"id": "gsm8k:2", "source": "gsm8k", "kind": "instruction", "input": "",
         "instruction": "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she "
                        "needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as "
                        "much as her parents. How much more money does Betty need to buy the wallet?",
         "response": "In the beginning, Betty has only 100 / 2 = $<<100/2=50>>50.\nBetty's grandparents gave her 15 * 2 "
                     "= $<<15*2=30>>30.\nThis means, Betty needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5"}


def augment(df: pl.DataFrame, tmp_path) -> tuple[dict[str, dict], dict]:
    res = RuleAugment({"fill": False}).process(df, StageContext(work_dir=tmp_path, seed=0))
    return {r["id"]: r for r in res.kept.iter_rows(named=True)}, res.stats


def test_unknown_name_beside_swapped_pronouns_gets_no_twin(tmp_path):
    rows, stats = augment(records.from_rows([NATALIA]), tmp_path)
    assert "gsm8k:0:swap" not in rows and "gsm8k:0" in rows
    assert stats["unswappable_name"] == 1 and stats["swapped"] == 0


def test_known_name_swaps_with_its_pronouns_the_same_way_in_question_and_answer(tmp_path):
    rows, stats = augment(records.from_rows([BETTY]), tmp_path)
    twin = rows["gsm8k:2:swap"]
    new_name = twin["instruction"].split()[0]
    assert new_name != "Betty" and "Betty" not in twin["instruction"] + twin["response"]
    assert twin["instruction"] == BETTY["instruction"].replace("Betty", new_name).replace(" she ", " he ").replace(
        "Her parents", "His parents").replace("give her", "give him").replace("her grandparents", "his grandparents"
        ).replace("her parents", "his parents")
    assert twin["response"].count(new_name) == 3 and f"{new_name}'s grandparents gave him" in twin["response"]
    assert json.loads(twin["metadata"])["counterfactual_of"] == "gsm8k:2"


def test_real_people_named_in_full_are_not_swapped(external, tmp_path):
    df = read_inputs([InputSpec(path=str(external / "alpaca_libre/alpaca_libre_tasks_v1.jsonl"), mapping="alpaca",
                                source="al")]).kept
    rows = df.filter(pl.col("response").str.contains("Vincent van Gogh|Tom Cochrane|Peter Piper"))
    assert rows.height >= 3
    out, stats = augment(rows, tmp_path)
    assert not [i for i in out if i.endswith(":swap")]
    assert stats["unswappable_name"] == rows.height


def test_title_and_surname_still_swap(tmp_path):
    row = {"id": "r:0", "source": "s", "kind": "instruction", "input": "",
           "instruction": "She's a fantastic nurse. Praise her work.", "response": "Mr. Alex Wang says her patients love her."}
    out, _ = augment(records.from_rows([row]), tmp_path)
    assert out["r:0:swap"]["response"] == "Ms. Alexa Wang says his patients love him."
