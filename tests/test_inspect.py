"""Inspection figures checked on small tables whose right answers are known by construction.

Lengths use a word-level tokenizer folder built here (one token per whitespace-separated word), so every
percentile and histogram count is known; the real SmolLM2 tokenizer is exercised in test_inspect_cli.py.
"""

from __future__ import annotations

import json
from itertools import permutations

import numpy as np
import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.stages.inspect.annotators import krippendorff_alpha_interval
from dsforge.pipelines.stages.inspect.stats import InspectConfig, compute_stats, distribution

WORDS = ("write poem about the sea a story cat dog summarize this article translate sentence into french "
         "what is capital of france paris answer yes no give three tips for staying healthy eat sleep well").split()


@pytest.fixture(scope="session")
def word_tokenizer(tmp_path_factory):
    """A tokenizer folder whose token count is the number of whitespace-separated words."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(dict.fromkeys(WORDS))}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    folder = tmp_path_factory.mktemp("word-tokenizer")
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(str(folder))
    return str(folder)


def rows(*specs, **common):
    out = []
    for n, s in enumerate(specs):
        r = {"id": f"t:{n}", "source": "s", "kind": "instruction", "input": "", **common, **s}
        if isinstance(r.get("metadata"), dict):
            r["metadata"] = json.dumps(r["metadata"])
        out.append(r)
    return records.from_rows(out)


def cfg(tok, **kw):
    return InspectConfig(tokenizer=tok, verb_sample=0, **kw)


def test_counts_sources_kinds_empty_missing_and_exact_duplicates(word_tokenizer):
    df = rows(
        {"source": "a", "instruction": "write a poem", "response": "the sea"},
        {"source": "a", "instruction": "write a poem", "response": "the sea"},          # exact duplicate of t:0
        {"source": "a", "instruction": "write a poem", "response": "the sea"},          # and another
        {"source": "b", "instruction": "give three tips", "response": "   "},            # empty response
        {"source": "b", "instruction": "what is this", "response": None},               # missing response
        {"source": "c", "kind": "document", "text": "a story", "input": None},
    )
    s = compute_stats(df, cfg(word_tokenizer))
    c = s["counts"]
    assert c["rows"] == 6
    assert c["sources"] == {"a": 3, "b": 2, "c": 1}
    assert c["kinds"] == {"instruction": 5, "document": 1}
    fields = {f["field"]: f for f in c["fields"]}
    assert (fields["response"]["rows"], fields["response"]["missing"], fields["response"]["empty"]) == (5, 1, 1)
    assert fields["text"] == {"field": "text", "rows": 1, "missing": 0, "empty": 0, "note": ""}
    assert c["exact_duplicates"]["rows"] == 2 and c["exact_duplicates"]["groups"] == 1
    assert c["exact_duplicates"]["examples"][0]["ids"] == ["t:0", "t:1", "t:2"]
    assert s["breakdowns"]["source"]["values"][0]["exact_duplicates"] == 2   # source a holds the copies


def test_token_lengths_percentiles_histogram_and_top_tokens(word_tokenizer):
    lengths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 40]          # response lengths in words
    df = rows(*[{"instruction": "write a poem", "response": " ".join(["sea"] * k)} for k in lengths])
    s = compute_stats(df, cfg(word_tokenizer))
    resp = s["lengths"]["fields"]["response"]
    assert s["lengths"]["unit"] == "tokens"
    assert resp["n"] == 10 and resp["max"] == 40 and resp["min"] == 1 and resp["total"] == sum(lengths)
    assert resp["p50"] == pytest.approx(np.percentile(lengths, 50))
    assert resp["p90"] == pytest.approx(np.percentile(lengths, 90))
    h = resp["hist"]
    assert sum(h["counts"]) + h["overflow"] == 10 and h["overflow"] == int((np.array(lengths) > h["edges"][-1]).sum())
    assert s["lengths"]["fields"]["instruction"]["p50"] == 3
    assert "input" not in s["lengths"]["fields"]                   # every input is empty
    conv = s["lengths"]["fields"]["conversation"]
    assert conv["total"] == sum(lengths) + 3 * 10                 # prompt words + response words
    assert s["tokens"]["top_tokens"][0] == ["sea", sum(lengths)]
    assert s["tokens"]["total_tokens"] == conv["total"]
    assert s["tokens"]["top_words"][0] == ["sea", sum(lengths)]   # "write a poem": 'a' is a stop word
    assert s["turns"] == {"single_turn_rows": 10, "conversation_rows": 0}


def test_distribution_of_known_values():
    d = distribution(np.arange(101))
    assert (d["p50"], d["p90"], d["p99"], d["max"], d["mean"]) == (50, 90, 99, 100, 50)
    h = d["hist"]
    assert h["edges"][0] == 0 and h["edges"][-1] >= 99 and len(h["counts"]) == len(h["edges"]) - 1
    assert h["overflow"] == int((np.arange(101) > h["edges"][-1]).sum())
    assert sum(h["counts"]) + h["overflow"] == 101 and h["counts"][0] == 4     # bins of width 4: 0..3


def test_turns_of_conversations(word_tokenizer):
    conv = lambda k: [{"role": r, "content": "yes"} for _ in range(k) for r in ("user", "assistant")]  # noqa: E731
    df = rows({"kind": "conversation", "messages": conv(1)}, {"kind": "conversation", "messages": conv(3)},
              {"kind": "conversation", "messages": conv(3)}, {"instruction": "write", "response": "no"})
    t = compute_stats(df, cfg(word_tokenizer))["turns"]
    assert t["user_turns_per_conversation"] == {"1": 1, "3": 2}
    assert t["messages_per_conversation"] == {"2": 1, "6": 2}
    assert t["multi_turn_rows"] == 2 and t["single_turn_rows"] == 1


def test_special_tokens_html_markdown_and_encoding_debris(word_tokenizer):
    df = rows(
        {"instruction": "write a poem", "response": "<|im_start|>assistant the sea<|im_end|>"},
        {"instruction": "write a poem </s>", "response": "the sea</s>"},
        {"instruction": "summarize this article", "response": "<p>the sea</p><br>"},
        {"instruction": "write a story", "response": "```python\nprint(1)\n```"},
        {"instruction": "write a story", "response": "```python\nprint(1)"},         # unclosed fence
        {"instruction": "translate", "response": "Tom &amp; Jerry caf\ufffd"},
        {"instruction": "answer", "response": "<noinput>"},
        {"instruction": "answer", "response": "plain"},
    )
    d = compute_stats(df, cfg(word_tokenizer))["debris"]
    by = {p["pattern"]: p for p in d["patterns"]}
    assert by["<|im_start|> / <|im_end|>"]["rows"] == 1
    assert by["<s> / </s>"]["rows"] == 1 and by["<s> / </s>"]["by_field"] == {"prompt": 1, "answer": 1}
    assert by["HTML tag (<p>, <br>, <div>, ...)"]["rows"] == 1
    assert by["code fence ```"]["rows"] == 2
    assert by["unclosed code fence (odd number of ```)"]["rows"] == 1
    assert by["HTML entity (&amp; &#39; ...)"]["rows"] == 1
    assert by["replacement char U+FFFD"]["rows"] == 1
    assert by["<noinput> / <nooutput> placeholders"]["rows"] == 1
    tags = {t: r for t, r, _ in d["html_tags"]}
    assert tags["p"] == 1 and tags["br"] == 1 and tags["noinput"] == 1


def test_language_distribution(word_tokenizer):
    texts = {
        "en": "The weather is lovely today and we are going to walk in the park together.",
        "zh": "今天天气很好，我们一起去公园散步吧。请写一首关于大海的诗。",
        "fr": "Il fait très beau aujourd'hui et nous allons nous promener ensemble dans le parc.",
        "de": "Das Wetter ist heute sehr schön und wir gehen zusammen im Park spazieren.",
    }
    specs = [{"instruction": texts[l], "response": texts[l]} for l in ("en", "en", "zh", "fr", "de")]
    s = compute_stats(rows(*specs), cfg(word_tokenizer))
    assert s["language"]["counts"] == {"en": 2, "zh": 1, "fr": 1, "de": 1}


def test_verb_noun_pairs_with_the_dependency_parser(word_tokenizer):
    instr = ["Write a poem about the sea.", "Write a short poem about love.", "Write a story about a dog.",
             "Summarize this article.", "Translate the sentence into French.", "What is the capital of France?",
             "今天天气很好，我们一起去公园散步吧。"]
    s = compute_stats(rows(*[{"instruction": t, "response": "yes"} for t in instr]), cfg(word_tokenizer))
    v = s["verb_noun"]
    assert v["instructions"] == 7 and v["english"] == 6 and v["parsed"] == 6 and not v["sampled"]
    assert v["with_pair"] == 5                                   # the question has no direct object
    assert v["top_pairs"][0] == ["write", "poem", 2]
    assert {(a, b) for a, b, _ in v["top_pairs"]} == {("write", "poem"), ("write", "story"), ("summarize", "article"),
                                                      ("translate", "sentence")}
    assert v["top_verbs"][0] == ["write", 3, [["poem", 2], ["story", 1]]]


def test_verb_noun_sample_is_labelled(word_tokenizer):
    df = rows(*[{"instruction": f"Write a poem number {i}.", "response": "yes"} for i in range(30)])
    v = compute_stats(df, InspectConfig(tokenizer=word_tokenizer, verb_sample=10))["verb_noun"]
    assert v["sampled"] and v["parsed"] == 10 and "sample of 10 of 30" in v["method"]


def test_same_prompt_different_answers_and_reverse(word_tokenizer):
    df = rows(
        {"instruction": "Tell me a joke.", "response": "joke one"},
        {"instruction": "Tell me  a joke.", "response": "joke two"},      # same prompt after whitespace collapse
        {"instruction": "Tell me a joke.", "response": "joke one"},
        {"instruction": "Is this good?", "input": "review A", "response": "positive"},
        {"instruction": "Is this good?", "input": "review B", "response": "positive"},
        {"instruction": "Name a colour.", "response": "The answer is blue, as always, of course."},
        {"instruction": "Pick a colour.", "response": "The answer is blue, as always, of course."},
    )
    c = compute_stats(df, cfg(word_tokenizer))["conflicts"]
    assert c["same_prompt"]["groups"] == 1 and c["same_prompt"]["rows"] == 3
    assert c["same_prompt"]["examples"][0]["distinct"] == 2
    assert c["same_answer"]["groups"] == 2 and c["same_answer"]["rows"] == 4
    assert c["same_answer"]["short_answer_groups"] == 1
    assert c["same_answer"]["examples_long"][0]["key"].startswith("The answer is blue")


def test_outliers_are_judged_against_their_own_source(word_tokenizer):
    rng = np.random.default_rng(0)
    specs = [{"source": "short", "instruction": "write", "response": " ".join(["sea"] * int(k))}
             for k in rng.integers(8, 13, 40)]
    specs.append({"source": "short", "id": "t:long-one", "instruction": "write", "response": " ".join(["sea"] * 300)})
    specs += [{"source": "long", "instruction": "write", "response": " ".join(["sea"] * int(k))}
              for k in rng.integers(250, 350, 40)]
    df = records.from_rows([{"id": f"t:{n}", "kind": "instruction", "input": "", **s} for n, s in enumerate(specs)])
    o = compute_stats(df, cfg(word_tokenizer))["outliers"]
    assert o["flagged"] == 1 and o["flagged_high"] == 1
    assert o["most_extreme"][0]["id"] == "t:long-one"
    assert o["by_source"]["long"]["high"] == 0 and o["by_source"]["short"]["high"] == 1


def test_breakdown_by_metadata_key_and_dates(word_tokenizer):
    specs = []
    for n, (ann, date) in enumerate([("ann1", "2023-01-05"), ("ann1", "2023-03-02"), ("ann2", "2023-03-20"),
                                     ("ann2", "2023-08-01"), ("ann2", "2024-02-01"), (None, "2023-01-31")]):
        meta = {"date": date, **({"annotator": ann} if ann else {})}
        specs.append({"instruction": "write a poem", "response": " ".join(["sea"] * (n + 1)), "metadata": meta})
    b = compute_stats(rows(*specs), cfg(word_tokenizer, by=["annotator", "date", "nope"]))["breakdowns"]
    ann = {v["value"]: v for v in b["annotator"]["values"]}
    assert b["annotator"]["origin"] == "metadata" and b["annotator"]["missing"] == 1
    assert ann["ann2"]["rows"] == 3 and ann["ann1"]["rows"] == 2 and ann["(missing)"]["rows"] == 1
    assert ann["ann2"]["response_p50"] == 4          # responses of 3, 4, 5 words
    assert b["date"]["bucketed_by"] == "month"
    assert [(v["value"], v["rows"]) for v in b["date"]["values"]] == [
        ("2023-01", 2), ("2023-03", 2), ("2023-08", 1), ("2024-02", 1)]
    assert "no row has 'nope'" in b["nope"]["warning"]


def _alpha_brute_force(units):
    """Krippendorff's alpha (interval) straight from the definition via coincidence pairs."""
    units = [u for u in units if len(u) >= 2]
    n = sum(len(u) for u in units)
    d_o = sum(sum((a - b) ** 2 for a, b in permutations(u, 2)) / (len(u) - 1) for u in units) / n
    pooled = [v for u in units for v in u]
    d_e = sum((a - b) ** 2 for a, b in permutations(pooled, 2)) / (n * (n - 1))
    return 1 - d_o / d_e


def test_krippendorff_alpha_interval():
    assert krippendorff_alpha_interval([[1, 1], [2, 2], [3, 3]]) == 1.0
    assert krippendorff_alpha_interval([[1, 2], [2, 1]]) == pytest.approx(-0.5)
    units = [[1, 2, 1], [4, 5], [3, 3, 2], [5, 1], [2]]
    assert krippendorff_alpha_interval(units) == pytest.approx(_alpha_brute_force(units))


def test_annotators_one_per_row_scores_and_most_conflicting(word_tokenizer):
    specs = []
    scores = {"item1": {"ann1": 5, "ann2": 5, "ann3": 4}, "item2": {"ann1": 1, "ann2": 5}, "item3": {"ann1": 3, "ann3": 3}}
    for item, by in scores.items():
        for ann, sc in by.items():
            specs.append({"kind": "scored", "instruction": f"prompt {item}", "response": "answer", "score": float(sc),
                          "metadata": {"annotator": ann}})
    s = compute_stats(rows(*specs), cfg(word_tokenizer, by=["annotator"]))
    a = s["annotators"]
    assert s["counts"]["exact_duplicates"]["rows"] == 0     # one item scored by 3 annotators: not duplicates
    per = {p["annotator"]: p for p in a["per_annotator"]}
    assert a["layout"] == "rows" and a["annotators"] == 3 and a["scale"] == [1.0, 3.0, 4.0, 5.0]
    assert per["ann1"]["mean"] == 3.0 and per["ann1"]["dist"] == {"1.0": 1, "3.0": 1, "4.0": 0, "5.0": 1}
    m = a["multi"]
    assert m["items"] == 3 and m["items_disagreeing"] == 2
    assert m["alpha_interval"] == pytest.approx(_alpha_brute_force([[5, 5, 4], [1, 5], [3, 3]]), abs=1e-4)
    assert m["most_conflicting"][0]["range"] == 4 and sorted(m["most_conflicting"][0]["scores"]) == [["ann1", 1.0], ["ann2", 5.0]]


def test_annotators_several_per_row(word_tokenizer):
    meta = lambda *s: {"annotations": [{"annotator": f"a{i}", "score": v} for i, v in enumerate(s)]}  # noqa: E731
    df = rows({"instruction": "x", "response": "y", "metadata": meta(1, 1)},
              {"instruction": "z", "response": "y", "metadata": meta(2, 4)})
    a = compute_stats(df, cfg(word_tokenizer))["annotators"]
    assert a["layout"] == "metadata.annotations" and a["annotations"] == 4
    assert a["multi"]["items"] == 2 and a["multi"]["mean_range"] == 1.0
    assert a["multi"]["most_conflicting"][0]["id"] == "t:1"


def test_missing_tokenizer_warns_and_falls_back_to_words(tmp_path):
    df = rows({"instruction": "write a poem", "response": "the sea is blue"})
    s = compute_stats(df, InspectConfig(tokenizer=str(tmp_path / "no-such-tokenizer"), verb_sample=0))
    assert s["lengths"]["unit"] == "words" and s["lengths"]["fields"]["response"]["max"] == 4
    assert "pip install" in s["tokenizer"]["warning"] and any("pip install" in f for f in s["findings"])


def test_report_is_one_self_contained_html_with_every_figure(word_tokenizer, tmp_path):
    from dsforge.pipelines.stages.inspect.report import render_html, summary_markdown, summary_text

    conv = [{"role": "user", "content": "write a poem"}, {"role": "assistant", "content": "the sea"}] * 2
    specs = [{"instruction": f"Write a poem about the sea {i}.", "response": " ".join(["sea"] * (i + 1)),
              "metadata": {"annotator": f"a{i % 2}"}, "kind": "scored", "score": float(i % 3)} for i in range(12)]
    specs.append({"kind": "conversation", "messages": conv, "metadata": {"annotator": "a0"}})
    s = compute_stats(rows(*specs), cfg(word_tokenizer, by=["annotator"]))
    page = render_html(s)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "http://" not in page and "https://" not in page           # nothing fetched: opens offline
    # lengths (instruction, response, user turns, conversation), turns, languages, verbs (sunburst + pairs),
    # outlier boxes per source (no by-source section here), by-annotator (bars + boxes), annotator scores
    assert page.count("data:image/png;base64,") == 4 + 1 + 1 + 2 + 1 + 1 + 1
    for section in ("overview", "counts", "lengths", "tokens", "language", "verbs", "conflicts", "outliers",
                    "by-annotator", "annotators"):
        assert f'id="{section}"' in page
    assert "13 rows" in summary_text(s).splitlines()[0]
    assert "| rows | 13 |" in summary_markdown(s)


def test_report_escapes_the_data_and_fails_loudly_on_a_missing_figure(word_tokenizer):
    """The page comes from autoescaped Jinja templates: text from rows, sources and titles is shown, never run;
    a figure the templates expect but the stats lack is an error, not a blank cell."""
    import jinja2

    from dsforge.pipelines.stages.inspect.report import render_html

    df = rows({"source": "<b>bold</b>", "instruction": "write <script>alert(1)</script> a poem", "response": "the sea"},
              {"source": "<b>bold</b>", "instruction": "write <script>alert(1)</script> a poem", "response": "the sea"})
    s = compute_stats(df, cfg(word_tokenizer), title="<img src=x onerror=alert(1)>")
    page = render_html(s)
    assert "<script>" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<title>&lt;img src=x onerror=alert(1)&gt; — dsforge inspect</title>" in page
    del s["counts"]["exact_duplicates"]["groups"]
    with pytest.raises(jinja2.UndefinedError, match="groups"):
        render_html(s)
