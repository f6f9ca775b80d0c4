"""The LLM-stage base (pipelines/llm/task.py), prompt files and backend configs, with a scripted backend.

What a stage no longer writes itself is checked here once: n completions per item, failed calls and
unusable replies rejected with the raw text, lineage naming the template id and sha, the budget stopping
cleanly, backends closed, prompt variables that must be given, a wrong field for a backend refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from pydantic import ValidationError
from synth_fakes import ScriptedBackend

from dsforge.pipelines.core import records
from dsforge.pipelines.llm import seam
from dsforge.pipelines.llm.config import OpenAIConfig, TransformersConfig, VLLMConfig, parse_backend_config
from dsforge.pipelines.llm.prompt import PromptTemplate, load_template
from dsforge.pipelines.llm.seam import Generation
from dsforge.pipelines.core.stage import ConfigError, StageContext
from dsforge.synth.paraphrase import Paraphrase
from dsforge.validators.judge import Judge

ROOT = Path(__file__).resolve().parents[1]


def rows(*instructions: str) -> pl.DataFrame:
    return records.from_rows([{"id": f"r{i}", "source": "t", "kind": "instruction", "instruction": q, "input": "",
                               "response": "ok"} for i, q in enumerate(instructions)])


def ctx(tmp_path, backend) -> StageContext:
    return StageContext(work_dir=tmp_path, base_dir=tmp_path, seed=0, extras={"backend": backend})


def test_ask_gives_n_outputs_rejects_failures_with_raw_text_and_names_the_template(tmp_path):
    def script(prompt, conv, i):
        if "broken" in prompt:
            return Generation("", "error", 0, 0, "scripted-1", error="HTTP 503")
        if "cut" in prompt:
            return Generation("Reword this request abo", "length", 5, 5, "scripted-1")
        return ["", "Please tell me a joke about cats."][i]  # first completion empty, second usable

    df = rows("Tell me a joke about cats.", "broken request here", "cut off request here")
    res = Paraphrase({"n": 2, "keep_originals": False}).process(df, ctx(tmp_path, ScriptedBackend(script)))
    assert res.kept["instruction"].to_list() == ["Please tell me a joke about cats."]
    rej = {(r["id"], r["reason"]): r for r in res.rejected.iter_rows(named=True)}
    assert rej[("r0:para0", "paraphrase:empty")]["detail"] == "rewrite 0 of r0: the model returned no rewrite"
    assert rej[("r1:para0", "paraphrase:llm_error")]["raw"] == "HTTP 503"      # the error stands in for the text
    assert rej[("r2:para1", "paraphrase:truncated")]["raw"] == "Reword this request abo"
    entry = json.loads(res.kept["lineage"][0][-1]["info"])
    tmpl = load_template("paraphrase_v1")
    assert entry["template"] == {"id": "paraphrase_v1", "sha256": tmpl.sha}
    assert entry["sampling"]["n"] == 2 and entry["sources"] == ["r0"] and entry["backend"]["model"] == "scripted-1"


class PricedBackend(ScriptedBackend):
    """A scripted backend that costs $0.01 per call and asks for two conversations per call."""

    def __init__(self, script):
        super().__init__(script, requests_per_call=2)
        self.config = SimpleNamespace(budget_usd=0.015)

    def generate(self, conversations, params):
        self.usage.cost_usd += 0.01
        return super().generate(conversations, params)


def test_the_budget_stops_cleanly_and_rejects_what_was_not_asked(tmp_path):
    backend = PricedBackend(lambda p, c, i: "A reworded request about " + p.split()[-1])
    df = rows(*[f"Write a short poem about topic{i}" for i in range(6)])
    stage = Paraphrase({"n": 1, "keep_originals": False})
    res = stage.process(df, ctx(tmp_path, backend))
    assert res.kept.height == 4 and len(backend.prompts) == 4  # two calls of two, then the budget is reached
    budget = res.rejected.filter(pl.col("reason") != "paraphrase:used_as_source")
    assert budget["reason"].to_list() == ["paraphrase:budget_reached"] * 2 and budget["id"].to_list() == ["r4:para0", "r5:para0"]
    assert "budget_usd" in budget["detail"][0] and "re-run" in budget["detail"][0]
    assert "LLM budget reached" in res.stats["budget_reached"]
    # a later call of the same stage instance sends nothing more
    again = stage.process(rows("Write a short poem about rain"), ctx(tmp_path, backend))
    assert len(backend.prompts) == 4
    assert again.rejected.filter(pl.col("reason") != "paraphrase:used_as_source")["reason"].to_list() == [
        "paraphrase:budget_reached"]


def test_close_closes_the_backends_the_stage_opened(tmp_path, monkeypatch):
    closed = []

    class Closing(ScriptedBackend):
        def close(self):
            closed.append(self.model_id)

    monkeypatch.setattr(seam, "open_backend", lambda config: Closing(lambda p, c, i: "Reworded: a joke, please"))
    stage = Paraphrase({"n": 1})
    stage.process(rows("Tell me a joke."), StageContext(work_dir=tmp_path, base_dir=tmp_path))
    assert closed == [] and stage._backends
    stage.close()
    assert closed == ["scripted-1"] and not stage._backends


def test_prompt_files_refuse_missing_variables(tmp_path):
    with pytest.raises(ConfigError, match="'instruction' is undefined"):
        load_template("respond_v1").render(input="")
    (tmp_path / "mine.jinja").write_text("Judge {{ prompt }} against {{ rubric }}")
    judge = Judge({"mode": "pairwise", "prompt_template": "mine.jinja"})
    df = records.from_rows([{"id": "p", "source": "t", "kind": "preference", "instruction": "q", "chosen_response": "a",
                             "rejected_response": "b"}])
    res = judge.process(df, ctx(tmp_path, ScriptedBackend(lambda p, c, i: "[[A]]")))  # extra variables are fine
    assert res.stats["judged"] == 1
    (tmp_path / "typo.jinja").write_text("Judge {{ promt }}")
    with pytest.raises(ConfigError, match="typo.jinja: 'promt' is undefined"):
        Judge({"prompt_template": "typo.jinja"}).process(df, ctx(tmp_path, ScriptedBackend(lambda p, c, i: "5")))


def test_judge_prompts_come_from_versioned_files_named_in_lineage(tmp_path):
    df = rows("What is 2+2?")
    backend = ScriptedBackend(lambda p, c, i: '{"score": 5, "reason": "right"}')
    res = Judge({}).process(df, ctx(tmp_path, backend))
    info = json.loads(res.kept["lineage"][0][-1]["info"])
    assert info["template"] == load_template("judge_score_v1").lineage()
    assert info["system_template"]["id"] == "judge_system_v1"
    assert backend.prompts[0] == load_template("judge_score_v1").render(
        prompt="What is 2+2?", response="ok", rubric="helpfulness, correctness, and clarity")
    assert isinstance(load_template("judge_score_v1"), PromptTemplate)


def test_one_config_class_per_backend_and_a_clear_error_for_a_wrong_field():
    assert isinstance(parse_backend_config(None), TransformersConfig)  # `model: {model: smollm2}` still works
    assert isinstance(parse_backend_config({"model": "smollm2", "batch_size": 4}), TransformersConfig)
    assert isinstance(parse_backend_config({"backend": "openai", "model": "m", "concurrency": 32}), OpenAIConfig)
    assert isinstance(parse_backend_config({"backend": "vllm", "model": "m", "engine_args": {}}), VLLMConfig)
    with pytest.raises(ValidationError, match="'concurrency' is a field of the openai and vllm-server backends, not of transformers"):
        parse_backend_config({"backend": "transformers", "concurrency": 8})
    with pytest.raises(ValidationError, match="'device' is a field of the transformers backend, not of vllm"):
        parse_backend_config({"backend": "vllm", "device": "cuda"})
    with pytest.raises(ValidationError, match="unknown backend 'ollama'"):
        parse_backend_config({"backend": "ollama"})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        parse_backend_config({"model": "x", "temprature": 0.1})
    # a stage config checks its model block the same way
    with pytest.raises(ConfigError, match="model.transformers: .*'timeout' is a field of the openai and vllm-server backends"):
        Paraphrase({"model": {"backend": "transformers", "timeout": 5}})


def test_the_example_llm_stage_in_the_architecture_docs_runs(tmp_path):
    """docs/architecture.md, "Calling a model": its code and its prompt file, run as written."""
    doc = (ROOT / "docs" / "architecture.md").read_text().split("## Calling a model", 1)[1]
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    prompt = doc.split("```\n{#-", 1)[1].split("```", 1)[0]
    (tmp_path / "title_v1.jinja").write_text("{#-" + prompt)
    namespace: dict = {}
    exec(compile(code, "docs/architecture.md", "exec"), namespace)
    replies = {"Plan a meal.": "Cheap Meals", "Name a colour.": "A " + "very " * 10 + "long title", "Say hi.": "  "}
    backend = ScriptedBackend(lambda p, c, i: next(v for k, v in replies.items() if k in p))
    stage = namespace["Title"]({"template": "title_v1.jinja"})
    res = stage.process(rows(*replies), ctx(tmp_path, backend))
    assert res.kept["title"].to_list() == ["Cheap Meals"]
    assert dict(zip(res.rejected["id"], res.rejected["reason"])) == {"r1": "title:too_long", "r2": "title:empty"}
    assert res.rejected["raw"].to_list()[0].endswith("long title")
    info = json.loads(res.kept["lineage"][0][-1]["info"])
    assert info["template"]["id"] == "title_v1.jinja" and res.stats["llm_calls"] == 3
