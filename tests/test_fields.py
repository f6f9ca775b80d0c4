"""Field references (pipelines/core/fields.py): one rule per row kind, the same from an expression and from a
row, one metadata spelling, and checked with the recipe (before any ingest)."""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import polars as pl
import pytest

from dsforge.pipelines.core import fields, records
from dsforge.pipelines.core.fields import FieldError, FieldRef, ref
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.registry import STAGES, stage_class
from dsforge.pipelines.core.stage import ConfigError
from dsforge.pipelines.core.row_text import text_of

META = {"a": 1, "f": 1.5, "t": True, "s": "x", "l": ["assert f()", "é"], "o": {"d": "deep"}, "n": None}
ROWS = [
    {"id": "doc", "kind": "document", "text": "a doc"},
    {"id": "ins", "kind": "instruction", "instruction": "Q", "input": "ctx", "response": "A",
     "metadata": json.dumps(META)},
    {"id": "ins-empty-input", "kind": "instruction", "instruction": "Q", "input": "", "response": None},
    {"id": "conv", "kind": "conversation", "messages": [
        {"role": "system", "content": "S"}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]},
    {"id": "conv-empty", "kind": "conversation", "messages": []},
    {"id": "conv-null-turn", "kind": "conversation", "messages": [{"role": "user", "content": None}]},
    {"id": "pref", "kind": "preference", "instruction": "Q", "chosen_response": "C", "rejected_response": "R"},
    {"id": "scored", "kind": "scored", "instruction": "Q", "response": "A", "score": 0.5, "metadata": "not json"},
    {"id": "nothing", "kind": "instruction", "metadata": "[1, 2]"},
]
EXPECTED = {  # id -> (prompt, answer, conversation)
    "doc": (None, None, "a doc"),
    "ins": ("Q\n\nctx", "A", "Q\n\nctx\n\nA"),
    "ins-empty-input": ("Q", None, "Q"),
    "conv": ("Q1\n\nQ2", "A1\n\nA2", "S\n\nQ1\n\nA1\n\nQ2\n\nA2"),
    "conv-empty": (None, None, None),
    "conv-null-turn": (None, None, None),
    "pref": ("Q", "C", "Q\n\nC\n\nR"),
    "scored": ("Q", "A", "Q\n\nA"),
    "nothing": (None, None, None),
}
REFS = ["prompt", "answer", "conversation", "text", "instruction", "input", "response", "chosen_response", "rejected_response",
        *(f"metadata.{k}" for k in META), "metadata.o.d", "metadata.absent"]


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return records.from_rows(ROWS)


def test_logical_fields_per_kind(table):
    for name, i in (("prompt", 0), ("answer", 1), ("conversation", 2)):
        got = dict(zip(table["id"], ref(name).values(table).to_list()))
        assert got == {k: v[i] for k, v in EXPECTED.items()}, name


def test_expression_and_row_getter_agree_on_every_kind(table):
    dicts = list(table.iter_rows(named=True))
    for spec in REFS:
        f = ref(spec)
        assert f.values(table).to_list() == [f.get(r) for r in dicts], spec


def test_metadata_values():
    got = {k: ref(f"metadata.{k}").get({"metadata": json.dumps(META)}) for k in META}
    assert got == {"a": "1", "f": "1.5", "t": "true", "s": "x", "l": '["assert f()","é"]', "o": '{"d":"deep"}',
                   "n": None}
    assert ref("metadata.o.d").get({"metadata": json.dumps(META)}) == "deep"
    for bad in (None, "", "not json", "[1]", '"a string"'):
        assert ref("metadata.a").get({"metadata": bad}) is None


def test_the_copies_now_agree(table):
    """The disagreement issue 17 found: text_of and the table expression gave different prompts."""
    for r in table.iter_rows(named=True):
        for spec in ("prompt", "answer", "conversation"):
            assert text_of(r, spec) == (EXPECTED[r["id"]][("prompt", "answer", "conversation").index(spec)] or "")
    assert table.select(ref("prompt").expr().alias("p"))["p"].to_list() == ref("prompt").values(table).to_list()


def test_one_metadata_spelling_and_typos_say_what_to_write():
    for wrong in ("meta:lang", "meta.lang", "metadata:lang"):
        with pytest.raises(FieldError, match="write 'metadata.lang'"):
            ref(wrong)
    with pytest.raises(FieldError, match="did you mean 'prompt'"):
        ref("promt")
    with pytest.raises(FieldError, match="'score' is not a text column"):
        ref("score")
    with pytest.raises(FieldError, match="without quotes"):
        ref("metadata.it's")
    assert ref("score", text_only=False).sort == "column"
    assert ref("task_type", text_only=False).key == "task_type"  # a column an earlier stage adds
    with pytest.raises(FieldError, match="no column 'task_type'.*have id, source"):
        ref("task_type", text_only=False).values(records.empty())


def test_a_reference_is_its_string():
    f = ref("metadata.doc")
    assert f == "metadata.doc" and isinstance(f, str) and json.dumps({"f": f}) == '{"f": "metadata.doc"}'
    back = pickle.loads(pickle.dumps(f))  # configs travel to worker processes
    assert isinstance(back, FieldRef) and (back.sort, back.key) == ("metadata", "doc")


def _field_params(cls):
    for name, info in cls.Config.model_fields.items():
        if "fields.TextField" in repr(info.annotation) or "fields.ValueField" in repr(info.annotation) \
                or info.annotation in (fields.TextField, fields.ValueField):
            yield name, info


def test_every_field_param_is_a_checked_reference_with_a_checked_default():
    """A field-naming param typed `str` would be checked only after ingest (issue 14); a default given as a
    plain string would skip the check (pydantic does not validate defaults)."""
    looks_like_a_field = ("field", "fields", "group_by", "stratify_by", "reference", "tests", "prompt_field",
                          "response_field", "eval_field", "token_field", "score_column")
    checked = 0
    for name in STAGES:
        cls = stage_class(name)
        typed = dict(_field_params(cls))
        for pname, info in cls.Config.model_fields.items():
            rewritten_columns = "Literal" in repr(info.annotation)  # clean-markup, pii: records.TextColumn
            if (pname in looks_like_a_field or pname.endswith("_field")) and not rewritten_columns:
                assert pname in typed, f"{name}.{pname} is a free string: type it TextField or ValueField"
        for pname, info in typed.items():
            if info.is_required():
                continue
            default = info.get_default(call_default_factory=True)
            values = default if isinstance(default, list) else [default]
            assert all(v is None or isinstance(v, FieldRef) for v in values), f"{name}.{pname} default {default!r}"
            checked += 1
    assert checked >= 20


def recipe(tmp_path: Path, *stages: dict) -> dict:
    (tmp_path / "in.jsonl").write_text('{"instruction": "q", "output": "a"}\n')
    return {"name": "t", "inputs": [{"path": str(tmp_path / "in.jsonl"), "mapping": "alpaca"}], "stages": list(stages)}


@pytest.mark.parametrize("stage, match", [
    ({"stage": "length-filter", "field": "promt"}, r"stages\[1\] \(length-filter\).*field: .*did you mean 'prompt'"),
    ({"stage": "exact-dedup", "fields": ["prompt", "metadata:x"]}, r"exact-dedup.*fields\.1: .*write 'metadata\.x'"),
    ({"stage": "split", "group_by": ["meta:doc"]}, r"split.*group_by\.0: .*write 'metadata\.doc'"),
    ({"stage": "execute", "tests": "meta:tests"}, r"execute.*tests: .*write 'metadata\.tests'"),
    ({"stage": "judge", "prompt_field": "title"}, r"judge.*prompt_field: .*unknown field 'title'"),
    ({"stage": "rules", "rules": [{"name": "x", "meta": "a", "equals": "b"}]}, r"`field: metadata\.a`"),
    # issue 14: these passed `dsforge validate`, then failed at run time
    ({"stage": "judge", "mode": "requirements"}, r"judge.*mode requirements needs a `requirements:` list"),
    ({"stage": "repetition-filter", "action": "drop_repeats"},
     r"repetition-filter.*drop_repeats rewrites a stored text column.*'answer' is computed"),
    ({"stage": "save", "formats": ["hf", "csv"]}, r"save.*formats\.1: .*'hf', 'parquet' or 'jsonl'.*'csv'"),
    ({"stage": "minhash-dedup", "linkage": "representative", "verify": False}, r"needs every pair checked"),
    ({"stage": "semantic-dedup", "keep": "preferred_source"}, r"needs preferred_sources"),
])
def test_recipe_load_rejects_bad_field_params(tmp_path, stage, match):
    with pytest.raises(ConfigError, match=match):
        build_recipe(recipe(tmp_path, stage))


def test_dsforge_validate_names_step_and_param(tmp_path):
    import yaml

    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe(tmp_path, {"stage": "minhash-dedup", "field": "promt"})))
    dsforge = Path(__file__).parent.parent / ".venv/bin/dsforge"
    p = subprocess.run([str(dsforge), "validate", str(path)], capture_output=True, text=True)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "stages[1] (minhash-dedup)" in p.stderr and "field: " in p.stderr and "did you mean 'prompt'" in p.stderr


def test_field_typing_keeps_old_default_dumps(tmp_path):
    """Config dumps (recipe.yaml, fingerprints) still hold plain strings, so they load again."""
    r = build_recipe(recipe(tmp_path, {"stage": "exact-dedup"}, {"stage": "split", "group_by": ["metadata.doc"]}))
    dumped = [s.stage.config.model_dump(mode="json") for s in r.steps[1:]]
    assert dumped[0]["fields"] == ["conversation"] and dumped[1]["group_by"] == ["metadata.doc"]
    assert issubclass(fields.ValueField, FieldRef) and issubclass(fields.TextField, FieldRef)


def test_execute_reads_tests_given_as_a_list():
    """A JSON list under metadata.KEY is read as compact JSON by the field rule; execute makes it lines."""
    from dsforge.validators.execute import tests_as_code

    df = records.from_rows([{"id": "a", "metadata": json.dumps({"tests": ["assert f(1) == 2", "assert f(0) == 1"]})},
                            {"id": "b", "metadata": json.dumps({"tests": "assert f(2) == 3"})}, {"id": "c"}])
    assert tests_as_code(df, ref("metadata.tests")) == ["assert f(1) == 2\nassert f(0) == 1", "assert f(2) == 3", None]
