"""Stages and backends from another installed package: the example plugin (tests/plugin_example) runs in a recipe.

The package is pip-installed (no index, no build isolation) into a temporary folder put on sys.path, with its
dist-info, so dsforge finds its entry points exactly as it would in site-packages; worker processes get the
same sys.path. Its stages run by entry-point name and by `module:Class`, its LLM task with the plugin backend
from a `model:` block, on the shipped Self-Instruct seed tasks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from dsforge.pipelines.core import plugins, records
from dsforge.pipelines.core.fingerprint import code_hash
from dsforge.pipelines.llm.config import parse_backend_config
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.core.recipe import build_recipe, load_recipe
from dsforge.pipelines.core.registry import stage_class, stage_entries
from dsforge.pipelines.core.runner import ExecutorSpec, run_recipe
from dsforge.pipelines.core.shards import read_table
from dsforge.pipelines.core.stage import ConfigError, StageContext

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "plugin_example"
SEEDS = ROOT / "data" / "seed_tasks.jsonl"


def _forget_plugin_modules() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in ("dsforge_plugin_example", "broken_plugin")]:
        del sys.modules[name]
    plugins.refresh()


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The example package installed into a temporary target folder; removed from sys.path afterwards."""
    work = tmp_path_factory.mktemp("plugin")
    src, target = work / "src", work / "site"
    shutil.copytree(EXAMPLE, src)  # setuptools writes build/ and *.egg-info beside the sources: not in the repo
    out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--no-index", "--target", str(target), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    sys.path.insert(0, str(target))
    _forget_plugin_modules()
    yield target
    sys.path.remove(str(target))
    _forget_plugin_modules()


def seed_rows() -> list[dict]:
    return [json.loads(line) for line in SEEDS.read_text().splitlines() if line.strip()]


def prompt_of(row: dict) -> str:
    inp = row["instances"][0]["input"]
    return row["instruction"] + (f"\n\n{inp}" if inp else "")


def recipe(answers: Path | None, base: Path) -> dict:
    stages = [
        {"stage": "keyword-drop", "words": ["poem", "story"]},                               # by entry-point name
        {"stage": "dsforge_plugin_example.keyword_drop:KeywordDrop", "id": "drop-email", "words": ["email"]},
    ]
    if answers is not None:
        stages.append({"stage": "title", "model": {"backend": "replay", "answers": str(answers)},
                       "sampling": {"temperature": 0, "max_tokens": 24}, "max_words": 8})
    return {"name": "plugin-example", "inputs": [{"path": str(SEEDS), "mapping": "seed-tasks", "source": "seeds"}],
            "stages": stages}


def test_a_recipe_runs_plugin_stages_and_a_plugin_backend(plugin, tmp_path):
    # 1. the two filters: by entry-point name and by module:Class, in spawned worker processes
    runs = tmp_path / "runs"
    first = run_recipe(build_recipe(recipe(None, tmp_path), base_dir=tmp_path), runs, progress=False,
                       executor=ExecutorSpec(workers=2))
    seeds = seed_rows()
    hit = lambda row, words: any(w in prompt_of(row).lower() for w in words)  # noqa: E731
    by_word = {s["id"] for s in seeds if hit(s, ["poem", "story"])}
    by_email = {s["id"] for s in seeds if not hit(s, ["poem", "story"]) and hit(s, ["email"])}
    assert by_word and by_email  # the seeds do mention them
    run = Path(first["run_dir"])
    assert set(read_table(run / "stages" / "01-keyword-drop", "rejected")["id"]) == by_word
    assert set(read_table(run / "stages" / "02-drop-email", "rejected")["id"]) == by_email
    assert set(pl.read_parquet(run / "rejected.parquet")["reason"]) == {"keyword-drop:keyword"}
    assert [s["step"] for s in first["steps"]] == ["ingest", "keyword-drop", "drop-email"]
    written = yaml.safe_load((run / "recipe.yaml").read_text())["stages"]
    assert written[1]["stage"] == "dsforge_plugin_example.keyword_drop:KeywordDrop"  # the run's recipe reloads
    assert [s.id for s in build_recipe({**recipe(None, tmp_path), "stages": written},
                                       base_dir=tmp_path).steps] == ["ingest", "keyword-drop", "drop-email"]

    # 2. the LLM task (format_input + parse_output only) on the plugin backend, replaying recorded replies:
    # every third row a short title, every third a 12-word one (too long), every third none (llm_error)
    kept = read_table(run / "stages" / "02-drop-email")
    from dsforge_plugin_example.title import Title

    title = Title()
    template = load_template("title_v1", own=Title.prompt_dirs())
    answers, expect = tmp_path / "answers.jsonl", {}
    with answers.open("w") as f:
        for i, row in enumerate(kept.iter_rows(named=True)):
            prompt = title.format_input(row, template)[-1]["content"]
            if i % 3 == 2:
                continue
            reply = f"Seed task number {i}" if i % 3 == 0 else "A title that is far too long to be a title of eight words"
            expect[row["id"]] = reply
            f.write(json.dumps({"prompt": prompt, "reply": reply}) + "\n")
    second = run_recipe(build_recipe(recipe(answers, tmp_path), base_dir=tmp_path), runs, progress=False,
                        executor=ExecutorSpec(workers=2))
    assert [s.get("reused_from") is not None for s in second["steps"]] == [True, True, True, False]
    step = Path(second["run_dir"]) / "stages" / "03-title"
    titled = read_table(step)
    assert titled.height == sum(1 for i in range(kept.height) if i % 3 == 0)
    assert all(expect[r["id"]] == r["title"] for r in titled.iter_rows(named=True))
    reasons = read_table(step, "rejected")["reason"].value_counts().sort("reason").rows()
    assert reasons == [("title:llm_error", kept.height // 3), ("title:too_long", (kept.height + 1) // 3)]
    lineage = json.loads(titled["lineage"][0][-1]["info"])
    assert lineage["backend"] == {"backend": "replay", "model": "replay", "answers": "answers.jsonl"}
    assert lineage["template"] == template.lineage() and template.id == "title_v1"
    stats = json.loads((step / "stats.json").read_text())
    usage = stats["stage_stats"]  # replies may come from the response cache of an earlier run; failures never do
    assert usage["llm_calls"] + usage["llm_cache_hits"] == kept.height and usage["llm_calls"] >= kept.height // 3


def test_dsforge_stages_lists_plugins_with_their_package(plugin, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")])}
    dsforge = Path(sys.executable).with_name("dsforge")
    out = subprocess.run([str(dsforge), "stages"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if not ln.startswith(" ")]
    assert "keyword-drop: Drop rows that mention any of a list of words.  [from dsforge-plugin-example 0.1.0]" in lines
    assert "title: Give each row a short title written by the model.  [from dsforge-plugin-example 0.1.0]" in lines
    assert "exact-dedup: Drop rows whose normalised text is identical to an earlier row's." in lines  # no source
    one = subprocess.run([str(dsforge), "stages", "title", "--json"], capture_output=True, text=True, env=env,
                         timeout=120)
    info = json.loads(one.stdout)["title"]
    assert info["package"] == "dsforge-plugin-example 0.1.0"
    assert [p["name"] for p in info["params"]] == ["model", "sampling", "template", "max_words"]
    # `dsforge stage` runs a class named as module:Class alone, in a step named after the stage
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(line + "\n" for line in SEEDS.read_text().splitlines()[:5]))
    alone = subprocess.run([str(dsforge), "stage", "dsforge_plugin_example.keyword_drop:KeywordDrop", "--input",
                            str(seeds), "--out", str(tmp_path / "runs"), "--param", "words=[egg]", "--workers", "1"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert alone.returncode == 0, alone.stderr
    stats = Path(alone.stdout.splitlines()[-1].removeprefix("stats: "))
    assert stats.parent.name == "01-keyword-drop" and json.loads(stats.read_text())["rejected"] == 1  # seed_task_0


def test_the_fingerprint_covers_the_plugins_code_prompts_and_version(plugin, monkeypatch):
    from dsforge.pipelines.core import fingerprint

    keyword, title = stage_class("keyword-drop"), stage_class("title")
    before = code_hash(keyword), code_hash(title)
    assert [p.name for p in title.fingerprint_files()] == ["title_v1.jinja"]
    prompt = plugin / "dsforge_plugin_example" / "prompts" / "title_v1.jinja"
    source = plugin / "dsforge_plugin_example" / "keyword_drop.py"
    saved = prompt.read_text(), source.read_text()
    try:
        prompt.write_text(saved[0] + "Answer in English.\n")
        source.write_text(saved[1] + "\n# a comment is a change too\n")
        code_hash.cache_clear()
        assert code_hash(keyword) != before[0] and code_hash(title) != before[1]
    finally:
        prompt.write_text(saved[0])
        source.write_text(saved[1])
    code_hash.cache_clear()
    assert (code_hash(keyword), code_hash(title)) == before
    monkeypatch.setattr(fingerprint, "distribution_of", lambda module: ("dsforge-plugin-example", "0.2.0"))
    code_hash.cache_clear()
    assert code_hash(keyword) != before[0]  # a new release of the package: the step is recomputed
    code_hash.cache_clear()


def test_a_prompt_file_named_in_the_recipe_is_used(plugin, tmp_path):
    from dsforge_plugin_example.title import Title

    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "short.jinja").write_text("Title in three words: {{ prompt }}")
    df = records.from_rows([{"id": "seeds:1", "source": "seeds", "kind": "instruction", "instruction": "Name a colour.",
                             "input": "", "response": "Red"}])
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"prompt": "Title in three words: Name a colour.", "reply": "Naming a colour"}) + "\n")
    stage = Title({"template": "prompts/short.jinja", "model": {"backend": "replay", "answers": str(answers),
                                                                 "cache": False}})
    result = stage.process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path, progress=False))
    assert result.kept["title"].to_list() == ["Naming a colour"]
    info = json.loads(result.kept["lineage"][0][-1]["info"])
    assert info["template"]["id"] == "prompts/short.jinja"
    stage.close()


def test_plugin_backend_configs_are_checked_and_listed(plugin):
    cfg = parse_backend_config({"backend": "replay", "answers": "a.jsonl"})
    assert type(cfg).__name__ == "ReplayConfig" and cfg.model_dump(mode="json")["answers"] == "a.jsonl"
    with pytest.raises(ConfigError, match=r"stages\[1\] \(title\): .*model.*answers.*required"):
        build_recipe({"inputs": [str(SEEDS)], "stages": [{"stage": "title", "model": {"backend": "replay"}}]})
    with pytest.raises(ValueError, match="unknown backend 'replai': use one of transformers, openai, vllm, vllm-server, replay"):
        parse_backend_config({"backend": "replai"})


def write_broken_package(folder: Path) -> None:
    """An installed distribution whose stage entry point names a module that fails at import."""
    (folder / "broken_plugin.py").write_text("import a_module_that_is_not_installed\n")
    info = folder / "dsforge_broken_plugin-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dsforge-broken-plugin\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text("[dsforge.stages]\nbroken = broken_plugin:Broken\npii = broken_plugin:Pii\n")
    (info / "top_level.txt").write_text("broken_plugin\n")


def test_a_plugin_that_fails_to_import_is_named_with_its_package(tmp_path, caplog):
    write_broken_package(tmp_path)
    sys.path.insert(0, str(tmp_path))
    plugins.refresh()
    try:
        assert stage_entries()["broken"].origin == "dsforge-broken-plugin 0.0.1"
        assert stage_entries()["pii"].origin == "dsforge" and stage_class("pii").__module__ == "dsforge.filters.pii"
        clash = [r.getMessage() for r in caplog.records if "'pii'" in r.getMessage()]
        assert set(clash) == {"dsforge.stages 'pii' of package dsforge-broken-plugin 0.0.1 is ignored: dsforge has one "
                              "of that name"}
        for _ in range(3):  # said once, however often the stages are looked up (an earlier test's flow may have
            stage_entries()  # given the dsforge logger Prefect's handlers too, so count what a lookup adds)
        assert len([r for r in caplog.records if "'pii'" in r.getMessage()]) == len(clash)
        with pytest.raises(ConfigError) as e:
            build_recipe({"inputs": [str(SEEDS)], "stages": [{"stage": "broken"}]})
        assert str(e.value) == (
            "recipe: stages[1] (broken): plugin 'broken' of package dsforge-broken-plugin 0.0.1 (broken_plugin:Broken) "
            "cannot be loaded: cannot import broken_plugin: ModuleNotFoundError: No module named "
            "'a_module_that_is_not_installed'. Reinstall or fix that package, or uninstall it.")
        assert stage_class("exact-dedup").name == "exact-dedup"  # the others still load
    finally:
        sys.path.remove(str(tmp_path))
        _forget_plugin_modules()


def test_a_stage_named_by_class_is_checked():
    with pytest.raises(ConfigError, match="cannot import no_such_pkg.stages: ModuleNotFoundError"):
        stage_class("no_such_pkg.stages:Drop")
    with pytest.raises(ConfigError, match="module json has no 'Drop'"):
        stage_class("json:Drop")
    with pytest.raises(ConfigError, match="is not a subclass of dsforge.pipelines.core.stage.Stage"):
        stage_class("json:JSONDecoder")
    assert stage_class("dsforge.dedup.exact:ExactDedup") is stage_class("exact-dedup")
    r = load_recipe(ROOT / "pipelines" / "recipes" / "alpaca-sft.yaml")
    assert all(s.ref == s.name for s in r.steps[1:])  # a shipped recipe names its stages by name


MODELESS = """
from dsforge.pipelines.core.stage import Stage, StageResult

class NoMode(Stage):
    name = "no-mode"
    def process(self, df, ctx):
        return StageResult(kept=df)

class Typo(NoMode):
    name = "typo"
    mode = "row"

class RowsWithoutBatch(NoMode):
    name = "rows-without-batch"
    mode = "rows"

class KeyedWithoutKeys(NoMode):
    name = "keyed-without-keys"
    mode = "keyed"
"""


def test_a_stage_class_must_declare_its_mode(tmp_path):
    """The execution mode is declared, never guessed: a class from outside dsforge without a valid `mode` (or
    without what its mode calls) is refused when a recipe names it, with the attribute named."""
    (tmp_path / "modeless_stages.py").write_text(MODELESS)
    sys.path.insert(0, str(tmp_path))
    try:
        for cls, says in [("NoMode", "declares no execution mode (mode = ''): set the class attribute `mode` to one "
                                     "of rows, keyed, summary, table, ingest"),
                          ("Typo", "declares no execution mode (mode = 'row')"),
                          ("RowsWithoutBatch", "has mode = 'rows' but no `batch_size`"),
                          ("KeyedWithoutKeys", "has mode = 'keyed' but does not implement shard_keys, decide")]:
            with pytest.raises(ConfigError) as e:
                build_recipe({"inputs": [str(SEEDS)], "stages": [{"stage": f"modeless_stages:{cls}"}]})
            assert says in str(e.value) and f"(modeless_stages:{cls})" in str(e.value), str(e.value)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("modeless_stages", None)


def test_the_stage_interface_example_is_the_example_plugins_stage():
    """docs/architecture.md's stage is the example plugin's keyword-drop to the letter (which the tests above
    install and run), and pipelines/core/stage.py's outline of it says the same lines."""
    import re

    from dsforge.pipelines.core import stage as stage_module

    plugin_file = (ROOT / "tests" / "plugin_example" / "dsforge_plugin_example" / "keyword_drop.py").read_text()
    code = plugin_file[plugin_file.index("class KeywordDropConfig"):].strip()
    docs = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```python\n(.*?)```", docs[docs.index("## The stage interface"):], re.S).group(1)
    assert code in block
    doc = stage_module.__doc__
    outline = doc[doc.index("    class KeywordDrop("):doc.index("Stages are plain Python")].strip().splitlines()
    for line in outline[1:-1]:  # the class line and `def process` are abridged
        assert line.strip() in plugin_file, line


def test_dsforge_stages_shows_each_stages_own_summary_whole():
    """The summary is the class docstring's first paragraph on one line: never cut mid-sentence, never a note
    on how the stage runs (quality-filter's used to show 'Keyed (stage.py): the per-row rules run per ...')."""
    from dsforge.pipelines.core.registry import STAGES

    summaries = {name: stage_class(name).summary() for name in STAGES}
    assert summaries["quality-filter"] == ("Drop rows that fail heuristic quality rules: datatrove's web-text filters "
                                           "and Self-Instruct's rules.")
    assert summaries["preference-pairs"].endswith("when the verdicts agree.")
    assert summaries["pii"] == ("Find personal data and secrets with presidio recognisers, then tag, anonymise or "
                                "drop.")  # from the module docstring
    for name, text in summaries.items():
        assert text and "\n" not in text and not text.startswith(("Keyed", f"{name}:")), (name, text)
