"""The spine's stages on known answers: exact-dedup, length-filter, chat-format, save."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dsforge.dedup.exact import ExactDedup
from dsforge.filters.length import LengthFilter
from dsforge.pipelines.core import records
from dsforge.pipelines.core.fields import ref
from dsforge.pipelines.llm.embedded import load_tokenizer
from dsforge.pipelines.stages.chat_format import ChatFormat
from dsforge.pipelines.stages.chat_template import ChatTemplate
from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.stage import ConfigError, StageContext


def rows(*triples):
    return records.from_rows(
        {"id": f"r{i}", "source": "t", "kind": "instruction", "instruction": a, "input": b, "response": c}
        for i, (a, b, c) in enumerate(triples)
    )


@pytest.fixture()
def ctx(tmp_path):
    return StageContext(work_dir=tmp_path)


def test_exact_dedup_fields_and_normalisation(ctx):
    df = rows(("Hello,  World", "", "a"), ("hello, world", "", "b"), ("Hello World", "", "c"),
              ("ﬁle", "", "d"), ("file", "", "e"))
    res = ExactDedup({"fields": ["instruction"]}).process(df, ctx)
    # case + whitespace fold together; punctuation still differs; NFKC folds the "ﬁ" ligature.
    assert res.kept["id"].to_list() == ["r0", "r2", "r3"]
    assert res.rejected["detail"].to_list() == ["same text as r0", "same text as r3"]
    res = ExactDedup({"fields": ["instruction"], "normalize": ["lower", "whitespace", "punctuation"]}).process(df, ctx)
    assert res.kept["id"].to_list() == ["r0", "r3", "r4"]
    res = ExactDedup({"fields": ["instruction", "response"], "normalize": []}).process(df, ctx)
    assert res.kept.height == 5
    res = ExactDedup({"fields": ["conversation"]}).process(rows(("Q", "x", "A"), ("Q", "y", "A"), ("Q", "x", "A")), ctx)
    assert res.kept["id"].to_list() == ["r0", "r1"]


def test_exact_dedup_on_conversations_and_unknown_field(ctx):
    conv = records.from_rows([
        {"id": "c1", "source": "t", "kind": "conversation",
         "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]},
        {"id": "c2", "source": "t", "kind": "conversation",
         "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
    ])
    assert ExactDedup({"fields": ["conversation"]}).process(conv, ctx).kept["id"].to_list() == ["c1"]
    with pytest.raises(ConfigError, match="unknown field 'title'"):  # at config time, before any row
        ExactDedup({"fields": ["title"]})


def test_length_filter_chars_words_tokens(ctx):
    df = rows(("q", "", ""), ("q", "", "one two three"), ("q", "", "word " * 50))
    res = LengthFilter({"field": "response", "min_words": 1, "max_words": 10}).process(df, ctx)
    assert res.kept["id"].to_list() == ["r1"]
    assert res.rejected["reason"].to_list() == ["length-filter:too_short", "length-filter:too_long"]
    assert res.rejected["detail"].to_list() == ["response: 0 words < min_words 1", "response: 50 words > max_words 10"]
    tok = load_tokenizer("smollm2")
    n = len(tok("one two three", add_special_tokens=False)["input_ids"])
    res = LengthFilter({"field": "response", "max_tokens": n}).process(df, ctx)
    assert res.kept["id"].to_list() == ["r0", "r1"]
    assert res.rejected["detail"][0] == f"response: {len(tok(('word ' * 50), add_special_tokens=False)['input_ids'])} tokens > max_tokens {n}"
    with pytest.raises(ConfigError, match="min_chars"):
        LengthFilter({"min_chars": -1})


def test_chat_format_equals_apply_chat_template_for_shipped_template(ctx):
    df = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=300)).kept
    conv = records.from_rows([{
        "id": "m", "source": "t", "kind": "conversation",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                     {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"},
                     {"role": "assistant", "content": "Bye!"}]}])
    df = records.concat([df, conv])
    res = ChatFormat({"template": "smollm2"}).process(df, ctx)
    assert res.rejected.height == 0 and res.kept.height == df.height
    tok = load_tokenizer("smollm2")  # the real tokenizer, with the template that came inside the model's GGUF
    for row in res.kept.iter_rows(named=True):
        expected = tok.apply_chat_template(records.to_messages(row), tokenize=False)
        assert row["rendered_text"] == expected.removesuffix("\n")  # ends at the final eos: TRL then adds none
    first = res.kept.row(0, named=True)
    user = first["instruction"] + (f"\n\n{first['input']}" if first["input"] else "")
    assert first["rendered_text"].endswith(f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{first['response']}<|im_end|>")
    assert res.kept["lineage"][0].to_list()[-1]["stage"] == "chat-format"


def test_chat_format_template_file_folder_system_prompt_and_rejects(ctx, tmp_path):
    (tmp_path / "t.jinja").write_text("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}")
    df = records.concat([rows(("Q", "", "A")), records.from_rows([{"id": "d", "source": "t", "kind": "document", "text": "doc"}])])
    res = ChatFormat({"template": str(tmp_path / "t.jinja"), "system_prompt": "S"}).process(df, ctx)
    assert res.kept["rendered_text"].to_list() == ["[system] S\n[user] Q\n[assistant] A\n"]
    assert res.rejected["reason"].to_list() == ["chat-format:cannot_render"]
    assert "document" in res.rejected["detail"][0]
    tok = load_tokenizer("smollm2")
    tok.save_pretrained(tmp_path / "tokdir")
    folder = ChatTemplate(str(tmp_path / "tokdir"))
    assert folder.render([{"role": "user", "content": "x"}]) == tok.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    with pytest.raises(ConfigError, match="chat template 'llama9' not found"):
        ChatTemplate("llama9")


def test_metadata_and_lineage_helpers():
    df = records.from_rows([{"id": "a", "source": "s", "kind": "document", "text": "t", "metadata": json.dumps({"annotator": "ann"})}])
    assert df.select(ref("metadata.annotator").expr().alias("annotator"))["annotator"][0] == "ann"
    df = records.append_lineage(df, "x", {"k": 1})
    assert df["lineage"][0].to_list() == [{"stage": "x", "info": '{"k": 1}'}]
    with pytest.raises(records.RecordError, match="missing column 'lineage'"):
        records.validate(df.drop("lineage"))
