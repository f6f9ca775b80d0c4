"""The ablation's mechanics on a tiny randomly initialised model of SmolLM2's architecture (seconds, not minutes):
every variant trains on exactly the same token budget, only assistant tokens are trained and evaluated (dsforge's
masks), held-out rows are never trained on, the table/page/curve are written, and a re-run reuses finished
variants. Rows are real Alpaca-style rows (shipped data). bench/ablate.py runs the real SmolLM2-135M.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.stages.chat_template import ChatTemplate
from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import run_recipe
from dsforge.pipelines.core.stage import ConfigError
from dsforge.validators.ablate import results, train
from dsforge.validators.ablate.stage import Ablate
from dsforge.validators.ablate.variants import exclude_eval, resolve, run_steps
from tiny_model import tiny_smollm2

pytest.importorskip("trl", reason="the `train` extra (trl) is installed by scripts/install.sh")
pytestmark = pytest.mark.slow
SETTINGS = {"budget_tokens": 384, "max_length": 64, "rows_per_step": 4, "learning_rate": 1e-3, "eval_rows": 12}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """SmolLM2's tokenizer with a 2-layer, 32-wide Llama of random weights (the real one: bench/ablate.py)."""
    return tiny_smollm2(tmp_path_factory.mktemp("tiny-smollm2"))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model) -> Path:
    """ingest 120 real rows -> drop short answers -> a 3-rung ladder -> an ablate step over the rungs."""
    root = tmp_path_factory.mktemp("ablate-run")
    recipe = build_recipe({"name": "ablate-test", "inputs": [{"path": "data:alpaca_libre_v1.jsonl", "limit": 120}],
                           "stages": [{"stage": "length-filter", "field": "response", "min_words": 12},
                                      {"stage": "ladder", "sizes": ["25%", "50%", "100%"], "write": False},
                                      {"stage": "ablate", "model": str(tiny_model), **SETTINGS}]})
    summary = run_recipe(recipe, root / "runs", progress=False)
    assert summary["status"] == "ok", summary.get("error")
    return Path(summary["run_dir"])


def test_masks_train_only_the_reply_and_the_budget_is_exact(run_dir):
    tmpl = ChatTemplate("smollm2")
    rows = pl.read_parquet(next((run_dir / "stages").glob("*-length-filter")) / "kept" / "part-00000.parquet")
    enc = train.encode(rows.head(3), tmpl, max_length=512)
    tok = tmpl.tokenizer
    for row, ids, labels in zip(rows.head(3).iter_rows(named=True), enc.input_ids, enc.labels):
        trained = tok.decode([t for t in labels if t != train.IGNORE])
        assert trained == row["response"] + "<|im_end|>"  # the reply and its end marker, never the prompt
        assert row["instruction"] in tok.decode(ids) and row["instruction"] not in trained
    stream = train.budget_stream(enc, budget=1000, seed=3)
    assert sum(len(x) for x in stream.input_ids) == 1000  # cycled (3 rows are fewer tokens) and cut to the budget
    assert stream.input_ids == train.budget_stream(enc, budget=1000, seed=3).input_ids  # seeded


def test_ablate_step_fits_the_scaling_curve_over_the_ladder(run_dir):
    step = next((run_dir / "stages").glob("*-ablate"))
    figures = json.loads((step / "stats.json").read_text())["stage_stats"]
    rungs = figures["variants"]
    assert [r["variant"] for r in rungs] == ["p25", "p50", "p100"]
    assert [r["rows"] for r in rungs] == sorted(r["rows"] for r in rungs) and rungs[0]["rows"] < rungs[2]["rows"]
    assert {r["tokens"] for r in rungs} == {SETTINGS["budget_tokens"]}  # the same budget for every variant
    assert all(0 < r["trained_tokens"] < r["tokens"] for r in rungs)  # prompts are masked out
    assert all(math.isfinite(r["eval_loss"]) and r["eval_loss"] > 0 for r in rungs)
    fit = figures["scaling"]["fit"]
    assert fit["n_max"] == rungs[2]["rows"] and math.isclose(fit["fit_at_max"] - fit["fit_at_double"], fit["doubling_gain"])
    assert (step / "scaling.png").read_bytes()[:4] == b"\x89PNG"
    assert "| p100 |" in (step / "results.md").read_text() and "<table>" in (step / "report.html").read_text()


def test_cli_compares_two_steps_over_two_seeds_and_reuses_them(run_dir, tiny_model, capsys):
    args = ["ablate", str(run_dir), "--variants", "ingest", "length-filter", "--seeds", "2", "--no-prefect",
            "--model", str(tiny_model)] + [x for k, v in SETTINGS.items() for x in ("--param", f"{k}={v}")]
    assert main(args) == 0
    first = json.loads((run_dir / "ablate" / "results.json").read_text())
    # length-filter's rows are the ladder's p100 rung, which the ablate step already trained with seed 0: the
    # cache is keyed by content, so that one is reused
    assert first["trained"] == 3 and first["reused"] == 1
    ingest, filtered = first["variants"]
    assert ingest["rows"] > filtered["rows"] > 0 and ingest["seeds"] == 2
    assert ingest["eval_loss_sd"] is not None and ingest["eval_loss_sd"] >= 0
    assert first["comparisons"][0]["verdict"] in ("within noise", "better", "worse")
    assert {s["tokens"] for s in first["per_seed"]} == {SETTINGS["budget_tokens"]}
    # the held-out rows are in neither variant's training rows
    steps = run_steps(run_dir)
    eval_ids = set(first["eval_ids"])
    for v in exclude_eval(resolve(["ingest", "length-filter"], steps, set()),
                          pl.DataFrame({"id": sorted(eval_ids)})):
        assert not eval_ids & set(v.rows["id"].to_list())
    assert main(args) == 0  # everything cached: nothing trains again, same numbers
    second = json.loads((run_dir / "ablate" / "results.json").read_text())
    assert second["trained"] == 0 and second["reused"] == 4
    assert [v["eval_loss"] for v in second["variants"]] == [v["eval_loss"] for v in first["variants"]]
    assert "0 trained, 4 reused" in capsys.readouterr().out
    assert first["variants"][1]["eval_loss"] != first["variants"][0]["eval_loss"]


def test_power_law_and_noise_verdicts_known_answers():
    pts = [(n, 3.0 * n ** -0.1) for n in (100, 200, 400)]
    fit = results.power_law(pts)
    assert math.isclose(fit["b"], 0.1, rel_tol=1e-9) and math.isclose(fit["a"], 3.0, rel_tol=1e-9)
    assert math.isclose(fit["doubling_gain"], 3.0 * 400 ** -0.1 * (1 - 2 ** -0.1), rel_tol=1e-9)
    rows = [{"variant": "a", "eval_loss": 2.00, "eval_loss_sd": 0.01}, {"variant": "b", "eval_loss": 2.015, "eval_loss_sd": 0.01},
            {"variant": "c", "eval_loss": 1.90, "eval_loss_sd": 0.01}, {"variant": "d", "eval_loss": 1.0, "eval_loss_sd": None}]
    assert [c["verdict"] for c in results.compare(rows)] == ["within noise", "better", "spread unknown (run with --seeds 2)"]


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not a run folder"):
        Ablate({}).on_run_dir(tmp_path)
    with pytest.raises(ConfigError, match="unknown parameter"):
        Ablate({"budget": 10})


def test_the_flow_publishes_the_table_as_a_prefect_artifact(prefect_harness, run_dir, tiny_model):
    import anyio
    from prefect.client.orchestration import get_client

    from dsforge.flows.ablate_flow import run_ablate_flow

    figures = run_ablate_flow(run_dir=str(run_dir), params={"model": str(tiny_model), "variants": ["ladder"], **SETTINGS},
                              progress=False)
    assert figures["trained"] == 0 and figures["reused"] == 3  # the ablate step trained these already

    async def artifacts():
        async with get_client() as client:
            return {a.key: a for a in await client.read_artifacts() if a.key}

    table = anyio.run(artifacts)[f"dsforge-ablate-{run_dir.name}".lower()]
    assert table.type == "table" and "p100" in str(table.data) and "eval_loss" in str(table.data)
