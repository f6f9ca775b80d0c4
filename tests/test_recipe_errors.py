"""Issue 14, recipe and CLI side: a bad argument or recipe is a usage error (exit 2) naming the field, before any
work; secrets in base_url never reach recipe.yaml, stats.json, the card or the logs; math-answer on 0 rows."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from dsforge.pipelines.core import records
from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.redact import RedactingFilter, redact_text, redact_url
from dsforge.pipelines.core.runner import plan_run
from dsforge.pipelines.core.stage import ConfigError, StageContext


@pytest.fixture
def toy(tmp_path):
    p = tmp_path / "toy.jsonl"
    p.write_text(json.dumps({"instruction": "Hi", "input": "", "output": "Hello"}) + "\n")
    return p


def recipe_file(tmp_path, toy, **top) -> str:
    data = {"name": "r", "inputs": [{"path": str(toy)}], "stages": [{"stage": "exact-dedup"}], **top}
    p = tmp_path / "r.yaml"
    p.write_text(yaml.safe_dump(data))
    return str(p)


def test_negative_sample_is_a_usage_error_before_any_work(tmp_path, toy, capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", recipe_file(tmp_path, toy), "--no-prefect", "--sample", "-5", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "argument --sample: expected a whole number >= 1, got -5" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("top,message", [
    ({"seed": "abc"}, "seed: expected a whole number, got 'abc'"),
    ({"name": "../../x"}, "name: '../../x' names the run folder"),
    ({"output": {"dir": "runs", "formt": "x"}}, "output: unknown keys ['formt']; allowed: ['dir']"),
    ({"inputs": "toy.jsonl"}, "inputs: expected a list, e.g. `inputs: [{path: raw.jsonl}]`; got str 'toy.jsonl'"),
    ({"stages": {"stage": "exact-dedup"}}, "stages: expected a list of `- stage: NAME` entries; got dict"),
    ({"inputs": ["data:../../../etc/passwd"]}, "inputs: data:../../../etc/passwd: `data:` names a file shipped"),
])
def test_recipe_mistakes_are_errors_naming_the_field(tmp_path, toy, capsys, top, message):
    path = recipe_file(tmp_path, toy, **top)
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "root:x" not in err


def test_secrets_in_base_url_stay_out_of_recipe_stats_and_card(tmp_path, toy):
    url = "https://user:SECRETKEY1@llm.example.com:8443/v1?api-key=SECRETKEY2&region=eu"
    recipe = build_recipe({"name": "s", "inputs": [{"path": str(toy)}], "stages": [
        {"stage": "self-instruct", "model": {"backend": "openai", "model": "m", "base_url": url}}]})
    stage = recipe.steps[1].stage
    assert stage.config.model.base_url == url  # the backend still gets the real URL
    dumped = json.dumps(stage.config.model_dump(mode="json"))  # what stats.json, fingerprints and the card use
    assert "SECRETKEY" not in dumped
    assert "https://***@llm.example.com:8443/v1?api-key=***&region=***" in dumped  # every query value (issue 29)
    plan = plan_run(recipe, tmp_path / "runs")
    written = (plan.run_dir / "recipe.yaml").read_text()
    assert "SECRETKEY" not in written and "llm.example.com" in written


def test_url_redaction_rules_and_log_filter(caplog):
    assert redact_url("http://localhost:8000/v1") == "http://localhost:8000/v1"
    assert redact_url("https://TOKEN@h/v1?token=t&key=k&x=1") == "https://***@h/v1?token=***&key=***&x=***"  # every query value
    assert redact_text('POST https://a:b@h/v1/chat?api_key=abc "200"') == 'POST https://***@h/v1/chat?api_key=*** "200"'
    log = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactingFilter())
    log.warning("calling %s", "https://u:SECRETKEY3@h/v1")
    assert "SECRETKEY3" not in caplog.text and "https://***@h/v1" in caplog.text


def test_cli_installs_the_log_filter(tmp_path, toy):
    assert main(["-v", "validate", recipe_file(tmp_path, toy)]) == 0
    assert any(isinstance(f, RedactingFilter) for h in logging.getLogger().handlers for f in h.filters)


def test_math_answer_on_zero_rows():
    from dsforge.validators.math_answer import MathAnswer

    res = MathAnswer({}).process(records.empty(), StageContext(work_dir="."))
    assert res.kept.height == 0 and res.rejected.height == 0 and res.stats["rows"] == 0


def test_recipe_name_is_kept(toy):
    assert build_recipe({"name": "my-sft", "inputs": [{"path": str(toy)}], "stages": ["exact-dedup"]}).name == "my-sft"


def test_recipe_error_type_is_config_error(toy):
    with pytest.raises(ConfigError, match="seed: expected a whole number, got 'abc'"):
        build_recipe({"inputs": [{"path": str(toy)}], "seed": "abc"})
