"""execute, math-answer and anomaly: known answers on built rows and on the team's real data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext
from dsforge.validators.anomaly import Anomaly
from dsforge.validators.execute import Execute, extract_code
from dsforge.validators.math_answer import MathAnswer, answers_match, extract_answer
from dsforge.pipelines.core.shards import read_table

ROOT = Path(__file__).resolve().parents[1]


def ctx(tmp_path):
    return StageContext(work_dir=tmp_path, base_dir=tmp_path)


def rows(items):
    return records.from_rows([{"id": f"t:{i}", "source": "t", "kind": "instruction", "instruction": "q",
                               **r} for i, r in enumerate(items)])


# ---------------------------------------------------------------- execute

def test_extract_code_prefers_python_fences():
    answer = "Here:\n```python\ndef f():\n    return 1\n```\nand a shell line\n```bash\nls\n```"
    assert extract_code(answer) == "def f():\n    return 1\n"
    assert extract_code("x = 1") == "x = 1"
    assert extract_code("no code here", "fenced") == ""


def test_execute_stage_known_answers(tmp_path):
    tests = "assert square(3) == 9\nassert square(-2) == 4"
    df = rows([
        {"response": "```python\ndef square(x):\n    return x * x\n```", "metadata": json.dumps({"tests": tests})},
        {"response": "def square(x):\n    return x + x", "metadata": json.dumps({"tests": tests})},
        {"response": "def square(x):\n    while True:\n        pass", "metadata": json.dumps({"tests": tests})},
        {"response": "I cannot write code.", "metadata": json.dumps({"tests": tests})},
        {"response": "def square(x) return x", "metadata": json.dumps({"tests": tests})},
        {"response": "print('no tests needed')", "metadata": "{}"},
    ])
    res = Execute({"tests": "metadata.tests", "timeout": 2, "extract": "auto"}).process(df, ctx(tmp_path))
    assert res.kept["id"].to_list() == ["t:0", "t:5"]
    reasons = dict(zip(res.rejected["id"], res.rejected["reason"]))
    assert reasons == {"t:1": "execute:failed", "t:2": "execute:timeout", "t:3": "execute:syntax_error",
                       "t:4": "execute:syntax_error"}
    detail = dict(zip(res.rejected["id"], res.rejected["detail"]))
    assert "AssertionError" in detail["t:1"] and "tests" in detail["t:1"]
    assert res.stats["passed"] == 2 and res.stats["status_timeout"] == 1


def test_execute_flag_mode_keeps_everything(tmp_path):
    df = rows([{"response": "assert 1 == 2"}, {"response": "x = 1"}])
    res = Execute({"on_fail": "flag"}).process(df, ctx(tmp_path))
    assert res.kept["exec_passed"].to_list() == [False, True]
    assert res.rejected is None


def test_execute_on_real_gpteacher_python_rows(tmp_path, external):
    data = json.loads((external / "gpteacher/codegen-instruct.json").read_text())
    py = [d for d in data if "python" in d["instruction"].lower() and "input(" not in d["response"]
          and d["response"].lstrip().startswith(("def ", "import ", "class ", "from "))][:8]
    df = rows([{"instruction": d["instruction"], "response": d["response"]} for d in py])
    res = Execute({"timeout": 5, "on_fail": "flag"}).process(df, ctx(tmp_path))
    statuses = res.kept["exec_status"].to_list()
    assert len(statuses) == 8
    # Real GPT-4 snippets: most run; none may hang, crash the sandbox or flood it.
    assert statuses.count("passed") >= 5, statuses
    assert not {"timeout", "crashed", "output_limit"} & set(statuses)


def test_execute_through_the_cli(tmp_path):
    inp = tmp_path / "rows.jsonl"
    inp.write_text("\n".join(json.dumps(r) for r in [
        {"instruction": "add", "output": "def add(a, b):\n    return a + b", "tests": "assert add(1, 2) == 3"},
        {"instruction": "add", "output": "def add(a, b):\n    return a * b", "tests": "assert add(1, 2) == 3"},
    ]))
    out = tmp_path / "out"
    r = subprocess.run([str(ROOT / ".venv/bin/dsforge"), "stage", "execute", "--input", str(inp), "--out", str(out),
                        "--mapping", "alpaca", "--param", "tests=metadata.tests"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    step = next(out.glob("*/stages/01-execute"))
    kept, rejected = read_table(step), read_table(step, "rejected")
    assert kept.height == 1 and rejected["reason"].to_list() == ["execute:failed"]


# ---------------------------------------------------------------- math-answer

@pytest.mark.parametrize("text,expected", [
    ("so the result is \\boxed{\\frac{3}{4}}.", "\\frac{3}{4}"),
    ("Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72.\n#### 72", "72"),
    ("The answer is 1,250.", "1,250"),
    ("Answer: (C)", "(C)"),
    ("Adding them, x = -7", "-7"),
    ("She has 12 apples and eats 5, leaving 7 apples", "7"),
    ("\\boxed{\\sqrt{2}+\\frac{1}{2}} is final", "\\sqrt{2}+\\frac{1}{2}"),
    ("", None),
])
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize("a,b,same", [
    ("\\frac{3}{4}", "0.75", True), ("1,250", "1250", True), ("25%", "1/4", True), ("-7", "−7", True),
    ("2\\sqrt{3}", "\\sqrt{12}", True), ("x^2+2x+1", "(x+1)^2", True), ("\\pi/2", "1.5707963", True), ("\\pi/2", "1.57", False),
    ("(C)", "c", True), ("(1, 2)", "[1,2]", True), ("72", "73", False), ("3/4", "4/3", False),
    ("__import__('os').system('x')", "0", False),
])
def test_answers_match(a, b, same):
    assert answers_match(a, b) is same


def test_math_answer_stage(tmp_path):
    df = rows([
        {"response": "3 + 4 = 7. #### 7", "metadata": json.dumps({"answer": "7"})},
        {"response": "The answer is 8.", "metadata": json.dumps({"answer": "Some work... #### 7"})},
        {"response": "I am not sure.", "metadata": json.dumps({"answer": "7"})},
        {"response": "\\boxed{0.5}", "metadata": json.dumps({"answer": "\\frac{1}{2}"})},
        {"response": "42", "metadata": "{}"},
    ])
    res = MathAnswer({"field": "response", "reference": "metadata.answer"}).process(df, ctx(tmp_path))
    assert res.kept["id"].to_list() == ["t:0", "t:3"]
    assert dict(zip(res.rejected["id"], res.rejected["reason"])) == {
        "t:1": "math-answer:wrong", "t:2": "math-answer:no_answer", "t:4": "math-answer:no_reference"}
    assert "'8' != reference '7'" in res.rejected.filter(pl.col("id") == "t:1")["detail"][0]
    assert res.stats["correct"] == 2


# ---------------------------------------------------------------- anomaly

@pytest.fixture(scope="module")
def reviews_with_outliers(external):
    """60 real movie-review prompts (one T0 template) plus 3 rows from other tasks: code and a recipe."""
    lines = (external / "self_instruct_t0/imdb_Movie_Expressed_Sentiment.jsonl").read_text().splitlines()[:60]
    normal = [{"instruction": json.loads(x)["prompt"], "response": json.loads(x)["completion"]} for x in lines]
    code = json.loads((external / "gpteacher/codegen-instruct.json").read_text())[:2]
    odd = [{"instruction": g["instruction"], "response": g["response"]} for g in code]
    odd.append({"instruction": "Suggest a recipe for a vegan dish.",
                "response": "Vegan chili recipe: In a pot, saute onion and garlic."})
    return rows(normal + odd), {f"t:{i}" for i in range(len(normal), len(normal) + len(odd))}


def test_anomaly_flags_injected_outliers(tmp_path, reviews_with_outliers):
    df, injected = reviews_with_outliers
    res = Anomaly({"method": "centroid"}).process(df, ctx(tmp_path))
    flagged = set(res.kept.filter(pl.col("anomaly"))["id"])
    assert injected <= flagged, (injected - flagged)
    assert len(flagged - injected) <= 0.05 * df.height  # few false alarms among normal rows


def test_anomaly_isolation_forest_drop(tmp_path, reviews_with_outliers):
    df, injected = reviews_with_outliers
    res = Anomaly({"method": "isolation-forest", "contamination": 0.03, "action": "drop",
                   "features": ["embedding"]}).process(df, ctx(tmp_path))
    dropped = set(res.rejected["id"])
    assert len(injected & dropped) >= 2
    assert set(res.rejected["reason"]) == {"anomaly:embedding_outlier"}
    assert res.kept.height + res.rejected.height == df.height


def test_anomaly_too_few_rows_flags_nothing(tmp_path):
    res = Anomaly({}).process(rows([{"response": "a"}, {"response": "b" * 5000}]), ctx(tmp_path))
    assert not res.kept["anomaly"].any() and "skipped" in res.stats
