"""The CLI as shell users expect: validate reports every problem with suggestions, completion for bash and
fish offers recipes and stages (checked by the shells themselves), and a run prints one bar per step and no
"Loading weights" bars from transformers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dsforge.pipelines.apps.cli import main
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import run_recipe


def _fails(argv: list[str], capsys) -> str:
    """stderr of a command that must fail (an exit status, or SystemExit with a message)."""
    try:
        rc = main(argv)
        message = ""
    except SystemExit as e:
        rc, message = (e.code, "") if isinstance(e.code, int) else (1, str(e.code))
    assert rc != 0
    return capsys.readouterr().err + message


def test_validate_reports_every_problem_with_did_you_mean(tmp_path, capsys):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(yaml.safe_dump({"name": "bad", "inputs": [{"path": "nothere.jsonl"}], "stages": [
        {"stage": "exact-dedupe", "fields": ["prompt"]},
        {"stage": "length-filter", "feild": "response", "min_word": 1},
        {"stage": "chat-format", "templat": "smollm2"}]}))
    err = _fails(["validate", str(recipe)], capsys)
    assert "4 problems" in err
    assert "input not found: nothere.jsonl" in err
    assert "unknown stage 'exact-dedupe'. Did you mean exact-dedup" in err
    assert "feild: unknown parameter (did you mean field?)" in err
    assert "min_word: unknown parameter (did you mean min_words" in err
    assert "stages[3] (chat-format)" in err and "templat: unknown parameter (did you mean template" in err


def test_validate_one_problem_reads_as_before(tmp_path, capsys):
    recipe = tmp_path / "one.yaml"
    recipe.write_text(yaml.safe_dump({"name": "one", "inputs": [{"path": "data:seed_tasks.jsonl"}],
                                      "stages": [{"stage": "exact-dedup", "fieldz": ["prompt"]}]}))
    err = _fails(["validate", str(recipe)], capsys)
    assert "problems" not in err and "fieldz: unknown parameter (did you mean fields?)" in err


def _script(shell: str, capsys) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def test_bash_completion_offers_recipes_stages_and_shells(tmp_path, capsys):
    path = tmp_path / "dsforge.bash"
    path.write_text(_script("bash", capsys))

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        out = subprocess.run(["bash", "-c", f"source {path}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
                              "_dsforge; printf '%s\\n' \"${COMPREPLY[@]}\""], capture_output=True, text=True,
                             cwd=tmp_path, check=True)
        return out.stdout.split()

    assert complete("dsforge", "run", "alp") == ["alpaca-sft"]
    assert complete("dsforge", "stage", "exact") == ["exact-dedup"]
    assert "minhash-dedup" in complete("dsforge", "stages", "m")
    assert complete("dsforge", "completion", "fi") == ["fish"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")
def test_fish_completion_offers_recipes_stages_and_options(tmp_path, capsys):
    path = tmp_path / "dsforge.fish"
    path.write_text(_script("fish", capsys))

    def complete(line: str) -> list[str]:
        out = subprocess.run(["fish", "-c", f"source {path}; complete -C '{line}'"], capture_output=True, text=True,
                             cwd=tmp_path, check=True)
        return [ln.split("\t")[0] for ln in out.stdout.splitlines()]

    assert complete("dsforge run alp") == ["alpaca-sft"]
    assert complete("dsforge stage exact") == ["exact-dedup"]
    assert complete("dsforge va") == ["validate"]
    assert complete("dsforge run --no-pre") == ["--no-prefect"]
    assert "fish" in complete("dsforge completion ")


def test_fish_script_lines_name_every_recipe_and_stage(capsys):
    from dsforge.pipelines.core.recipe import shipped_recipes
    from dsforge.pipelines.core.registry import STAGES

    script = _script("fish", capsys)
    recipe_line = next(ln for ln in script.splitlines() if "__fish_seen_subcommand_from run'" in ln and "-d recipe" in ln)
    assert all(name in recipe_line.split() or f"'{name}" in recipe_line or f"{name}'" in recipe_line
               for name in shipped_recipes())
    stage_line = next(ln for ln in script.splitlines() if "__fish_seen_subcommand_from stage'" in ln and "-d stage" in ln)
    assert len([s for s in STAGES if s in stage_line]) == len(STAGES)


def test_one_bar_per_step_and_no_loading_weights_bars(tmp_path, capfd):
    recipe = build_recipe({"name": "bars", "inputs": [{"path": "data:alpaca_libre_v1.jsonl", "limit": 60}],
                           "stages": [{"stage": "exact-dedup", "fields": ["prompt"]}, {"stage": "anomaly"}]})
    summary = run_recipe(recipe, tmp_path / "runs", progress=True)
    assert summary["status"] == "ok", summary.get("error")
    err = capfd.readouterr().err
    assert "Loading weights" not in err  # the MiniLM the anomaly step embeds with
    lines = [seg for seg in err.replace("\r", "\n").splitlines() if seg.startswith("exact-dedup:")]
    assert lines and all("/120" in seg for seg in lines)  # one bar over both passes (keys, then apply): 2 x 60
    assert len([seg for seg in lines if " 0/" in seg]) == 1  # started once, not once per pass
