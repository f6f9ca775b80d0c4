"""clean-markup, quality-filter, language-filter and rules on small tables with known answers, plus the
clean-instructions recipe end to end on a sample of real data and one stage through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from dsforge.filters.language import LanguageFilter, identify
from dsforge.filters.markup import CleanMarkup, CleanMarkupConfig, clean_text, looks_like_code
from dsforge.filters.quality import QualityFilter
from dsforge.filters.rules import Rules
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import ConfigError, StageContext


def rows(*items: dict) -> pl.DataFrame:
    return records.from_rows([{"id": f"r:{i}", "source": "t", "kind": "instruction", **it} for i, it in enumerate(items)])


@pytest.fixture()
def ctx(tmp_path) -> StageContext:
    return StageContext(work_dir=tmp_path, base_dir=tmp_path)


def reasons(res) -> dict[str, str]:
    return dict(zip(res.rejected["id"], res.rejected["reason"])) if res.rejected is not None else {}


# ---------------------------------------------------------------- clean-markup


def test_clean_markup_known_answers():
    cfg = CleanMarkupConfig()
    assert clean_text("<p>Hello&nbsp;<b>world</b> &amp; friends</p>", cfg)[0] == "Hello\u00a0world & friends".replace("\u00a0", " ")
    code = "```cpp\n#include <iostream>\nint  main() {  return 0; }\n```"
    assert clean_text(code, cfg)[0] == code  # fenced code untouched
    assert clean_text("Use vector<int> and `<b>` here", cfg)[0] == "Use vector<int> and `<b>` here"
    assert clean_text("a\u200bb   c\n\n\n\n\nd  \t", cfg)[0] == "ab c\n\nd"
    assert clean_text("逗号，句号。", cfg)[0] == "逗号，句号。"  # NFC keeps full-width CJK punctuation
    assert clean_text("<ul><li>one</li><li>two</li></ul>", cfg)[0] == "- one\n- two"
    assert clean_text("x<script>alert(1)</script>y", cfg)[0] == "xy"
    strip = CleanMarkupConfig(markdown="strip")
    assert clean_text("## Title\n**bold** and [a link](http://x.io) ![img](p.png)", strip)[0] == "Title\nbold and a link img"
    assert clean_text("## Title\n**bold**", cfg)[0] == "## Title\n**bold**"  # intended Markdown kept
    assert clean_text("see [](https://x.io) here", cfg)[0] == "see  here".replace("  ", " ")
    lam = "std::sort(v.begin(), v.end(), [](int a, int b) { return a < b; });"
    assert clean_text(lam, cfg)[0] == lam  # a C++ lambda is not an empty Markdown link
    assert clean_text("<a link to a funny photo>", cfg)[0] == "<a link to a funny photo>"  # prose, not a tag
    assert clean_text('<img src="https://x.io/f.png"> and <a href="u">text</a>', cfg)[0] == "and text"


def test_clean_markup_stage_reports_changes_and_rejects_empty(ctx):
    html_page = "<!DOCTYPE html>\n<html>\n<body>\n  <p>Hello</p>\n</body>\n</html>"
    df = rows({"instruction": "Say hi", "response": "<div>Hi&#33;</div>"},
               {"instruction": "Plain", "response": "Nothing to do."},
               {"instruction": "<br>", "input": "<p></p>", "response": "<span> </span>"},
               {"instruction": "Write an HTML page that says hello.", "response": html_page + "\n\n"},
               {"instruction": "Echo it back", "response": "echo '<table><tr><td>1</td></tr></table>';\n$x = 1;\nprint($x);"})
    res = CleanMarkup().process(df, ctx)
    kept = res.kept.sort("id")
    assert kept["response"].to_list() == ["Hi!", "Nothing to do.", html_page, df["response"][4]]
    changes = ["response: html_tags 2", "response: html_entities 1", "response: whitespace 1"]  # </div> -> "\n", trimmed
    assert kept["markup_changes"].to_list() == [changes, [], ["response: whitespace 1"], []]
    assert json.loads(kept["lineage"][0][-1]["info"])["changes"] == changes
    assert kept["lineage"][1].to_list() == []
    assert reasons(res) == {"r:2": "clean-markup:empty_after_cleaning"}
    assert res.stats["rows_changed"] == 3


# ---------------------------------------------------------------- quality-filter

LONG = ("The river runs through the valley, and farmers use it to water their fields in the dry season. "
        "In spring the snow melts and the water rises, so villages have built stone walls along its banks. "
        "Fishermen go out before dawn to set nets near the old mill, where trout gather in cold pools. "
        "Children learn to swim there in summer, watched by grandparents who remember the great flood of their youth. "
        "Each autumn a fair celebrates the harvest with music, bread baked in clay ovens and long tables by the water.")


def test_self_instruct_rules_known_answers(ctx):
    df = rows(
        {"instruction": "Sort.", "response": "1 2 3"},                                            # 0 too short
        {"instruction": " ".join(["word"] * 151), "response": "ok fine"},                         # 1 too long
        {"instruction": "Describe the attached image in detail.", "response": "A cat."},          # 2 unseen
        {"instruction": "Summarise the article at this link please.", "response": "It is about x."},  # 3 unseen
        {"instruction": "Name a primary colour.", "response": "  "},                               # 4 empty
        {"instruction": "Name a primary colour now.", "response": "N/A"},                          # 5 placeholder
        {"instruction": "What will the weather be tomorrow?", "response": "I'm sorry, as an AI I cannot know."},  # 6
        {"instruction": "Repeat after me please.", "input": "Hello there", "response": "Hello there"},  # 7 copy
        {"instruction": "Fix the indentation of this code.", "input": "if x:\nprint(x)", "response": "if x:\n    print(x)"},  # 8 ok
        {"instruction": "Give me a fruit name.", "response": "Apple"},                             # 9 ok
        {"instruction": "Give me a fruit name.", "response": "Banana"},                            # 10 conflicting
        {"instruction": "Write a program that reads a file and counts lines.", "response": "wc -l file"},  # 11 ok
        {"instruction": "作为一个问题，请解释这张图片的内容。", "response": "这是一只猫。"},                   # 12 unseen (zh)
        {"instruction": "toolformer: enabled\ntoolformer access: request\nFetch this link for me.", "response": "request('x')"},  # 13 ok
        {"instruction": "Write a witty caption for it.", "input": "<a link to a funny photo>", "response": "Ha."},  # 14
        {"instruction": "Write JavaScript code to fetch JSON from the following URL.", "input": "https://x.io/a",
         "response": "fetch('https://x.io/a')"},                                                  # 15 ok: code
    )
    defaults = reasons(QualityFilter().process(df, ctx))
    assert "r:1" not in defaults and "r:10" not in defaults  # no length limit, no conflict rule by default (issue 27)
    res = QualityFilter({"max_instruction_words": 150, "conflicting": "keep_first"}).process(df, ctx)
    assert reasons(res) == {
        "r:0": "quality-filter:instruction_too_short", "r:1": "quality-filter:instruction_too_long",
        "r:2": "quality-filter:needs_unseen_input", "r:3": "quality-filter:needs_unseen_input",
        "r:4": "quality-filter:empty_response", "r:5": "quality-filter:placeholder_response",
        "r:6": "quality-filter:refusal_response", "r:7": "quality-filter:response_copies_input",
        "r:10": "quality-filter:conflicting_response", "r:12": "quality-filter:needs_unseen_input",
        "r:14": "quality-filter:needs_unseen_input",
    }
    detail = dict(zip(res.rejected["id"], res.rejected["detail"]))
    assert detail["r:0"] == "instruction: 1 words < 3" and "r:9" in detail["r:10"]
    assert res.rejected.columns[-3:] == ["stage", "reason", "detail"]
    both = QualityFilter({"conflicting": "drop_all"}).process(df, ctx)
    assert {"r:9", "r:10"} <= set(reasons(both))


def test_datatrove_filters_with_thresholds(ctx):
    spam = "buy cheap pills now " * 40
    df = rows({"instruction": "Write about rivers.", "response": LONG},
              {"instruction": "Write an advert for me.", "response": spam},
              {"instruction": "Write a placeholder text.", "response": "Lorem ipsum dolor sit amet. " + LONG},
              {"instruction": "Say buy twice.", "response": "buy buy"},  # too short to judge
              {"instruction": "Write C code for me.", "response": "#include <stdio.h>\n#include <stdlib.h>\n" * 20})
    res = QualityFilter({"gopher_repetition": {}, "c4": {"filter_no_terminal_punct": False, "min_num_sentences": -1},
                         "doc_filters_min_words": 50}).process(df, ctx)
    assert reasons(res) == {"r:1": "quality-filter:gopher_repetition", "r:2": "quality-filter:c4"}
    assert "top_2_gram" in dict(zip(res.rejected["id"], res.rejected["detail"]))["r:1"] or "dup" in res.rejected["detail"][0]
    strict = QualityFilter({"gopher_quality": {"min_doc_words": 500}}).process(df.head(1), ctx)
    assert "gopher_short_doc" in strict.rejected["detail"][0]
    assert looks_like_code("#include <stdio.h>\nint main() {\n  return 0;\n}") and not looks_like_code(LONG)
    with pytest.raises(ConfigError, match="unknown threshold"):
        QualityFilter({"gopher_quality": {"min_words": 3}})


# ---------------------------------------------------------------- language-filter


def test_language_identification_known_answers():
    got = identify(["The weather is lovely today and we are going to the beach.",
                    "今天天气很好，我们要去海边。", "Spin Speed ()块属于哪个扩展？",
                    "Le chat est sur la table et il dort depuis ce matin.", "ok", None])
    assert [g[0] for g in got] == ["en", "zh", "zh", "fr", "und", "und"]
    assert got[0][1] > 0.9


def test_language_filter_keep_drop_and_unsure(ctx):
    df = rows({"instruction": "Explain why the sky is blue in simple words.", "response": "Light scatters."},
              {"instruction": "请用简单的话解释天空为什么是蓝色的。", "response": "光的散射。"},
              {"instruction": "Explique pourquoi le ciel est bleu avec des mots simples.", "response": "La lumière."},
              {"instruction": "Generate a resume summary.", "response": "x"})
    res = LanguageFilter({"field": "instruction", "keep": ["en", "zh"], "min_confidence": 0.5}).process(df, ctx)
    r = reasons(res)
    assert r["r:2"] == "language-filter:not_wanted" and "r:0" not in r and "r:1" not in r
    assert "not in keep" in dict(zip(res.rejected["id"], res.rejected["detail"]))["r:2"]
    assert res.kept.sort("id")["lang"].to_list()[:2] == ["en", "zh"]
    lenient = LanguageFilter({"field": "instruction", "keep": ["en", "zh"], "min_confidence": 0.99,
                              "unsure": "keep"}).process(df, ctx)
    strict = LanguageFilter({"field": "instruction", "keep": ["en", "zh"], "min_confidence": 0.99,
                             "unsure": "drop"}).process(df, ctx)
    assert "r:3" not in reasons(lenient)
    assert reasons(strict).get("r:3") == "language-filter:low_confidence"
    assert reasons(LanguageFilter({"field": "instruction", "drop": ["fr"]}).process(df, ctx)) == {"r:2": "language-filter:not_wanted"}


# ---------------------------------------------------------------- rules


def meta_rows() -> pl.DataFrame:
    return records.from_rows([
        {"id": "m:0", "source": "a", "kind": "instruction", "instruction": "Say hi", "response": "Hi, I am ChatGPT.",
         "metadata": json.dumps({"annotator": "ann-1", "date": "2024-03-01", "zip_code": "94103"})},
        {"id": "m:1", "source": "a", "kind": "instruction", "instruction": "TODO write", "response": "ok",
         "metadata": json.dumps({"annotator": "bot-7", "date": "2024-05-01"})},
        {"id": "m:2", "source": "b", "kind": "instruction", "instruction": "Old one", "response": "ok",
         "metadata": json.dumps({"annotator": "ann-2", "date": "2021-01-09", "license": "cc0"})},
        {"id": "m:3", "source": "c", "kind": "instruction", "instruction": "Good row", "response": "fine",
         "metadata": json.dumps({"annotator": "ann-2", "date": "2024-01-09", "license": "cc0", "zip_code": "10001",
                                 "gender": "f"})},
    ])


def test_rules_known_answers(ctx):
    cfg = {"rules": [
        {"name": "vendor", "field": "answer", "contains_any": ["chatgpt"]},
        {"name": "todo", "field": "prompt", "regex": r"\bTODO\b", "case_sensitive": True},
        {"name": "bad-annotator", "field": "metadata.annotator", "in": ["BOT-7"]},
        {"name": "too-old", "field": "metadata.date", "before": "2023-01-01"},
        {"name": "known-source", "field": "source", "not_in": ["a", "b", "c"]},
        {"name": "licensed", "field": "metadata.license", "missing": False, "keep": True},
    ], "drop_fields": ["metadata.zip_code", "metadata.gender", "input"]}
    res = Rules(cfg).process(meta_rows(), ctx)
    assert reasons(res) == {"m:0": "rules:vendor", "m:1": "rules:todo", "m:2": "rules:too-old"}
    kept = res.kept.row(0, named=True)
    assert json.loads(kept["metadata"]) == {"annotator": "ann-2", "date": "2024-01-09", "license": "cc0"}
    assert json.loads(kept["lineage"][-1]["info"]) == {"removed_fields": ["metadata.zip_code", "metadata.gender"]}
    assert res.stats == {"removed_metadata.zip_code": 1, "removed_metadata.gender": 1, "removed_input": 0}
    # keep: true inverts: rows WITHOUT a licence are dropped
    only = Rules({"rules": [{"name": "licensed", "field": "metadata.license", "missing": False, "keep": True}]}).process(meta_rows(), ctx)
    assert reasons(only) == {"m:0": "rules:licensed", "m:1": "rules:licensed"}


def test_rules_only_sources_with_the_whole_chain_recipe_rules(ctx):
    """The shipped recipe's rules on real rows: seed tasks whose input holds "the following paragraph" stay;
    instructions SmolLM2-135M really wrote for Wikipedia paragraphs (no input) that point at "the above
    paragraph" or talk about the task are dropped."""
    import yaml
    from dsforge.pipelines.core.recipe import find_recipe

    recipe = yaml.safe_load(find_recipe("sft-from-seeds-and-docs").read_text())
    (rules,) = [e for e in recipe["stages"] if e["stage"] == "rules"]
    seeds = {json.loads(line)["id"]: json.loads(line) for line in
             (Path(__file__).resolve().parents[1] / "data" / "seed_tasks.jsonl").read_text().splitlines()}
    rows = [{"id": sid, "source": "seeds", "kind": "instruction", "instruction": seeds[sid]["instruction"],
             "input": seeds[sid]["instances"][0]["input"], "response": seeds[sid]["instances"][0]["output"]}
            for sid in ("seed_task_83", "seed_task_156")]
    para = "Birds that employ many strategies to obtain food or feed on a variety of food items are called generalists."
    rows += [{"id": "bt:0", "source": "backtranslated", "kind": "instruction", "response": para,
              "instruction": "Tell me how the above paragraph answers:"},
             {"id": "bt:1", "source": "backtranslated", "kind": "instruction", "response": para,
              "instruction": "You've written a detailed explanation of the Cretaceous period, including the Mesozoic era."},
             {"id": "bt:2", "source": "backtranslated", "kind": "instruction", "response": para,
              "instruction": "Explain what generalist birds are."},
             # a self-instruct row SmolLM2-135M wrote in the demo (run of 2026-12-07 15:00)
             {"id": "si:0", "source": "self-instruct", "kind": "instruction", "instruction":
              "I'm ready to help. What is your next question?", "response": "I'm ready to assist you with a problem."}]
    res = Rules({"rules": rules["rules"]}).process(records.from_rows(rows), ctx)
    assert reasons(res) == {"bt:0": "rules:refers-to-unseen-text", "bt:1": "rules:chat-preamble",
                            "si:0": "rules:chat-filler"}
    assert res.kept["id"].to_list() == ["seed_task_83", "seed_task_156", "bt:2"]
    assert "following paragraph" in res.kept["instruction"][0]  # the same words, but its input holds the text


def test_rules_from_yaml_file_and_errors(ctx, tmp_path):
    (tmp_path / "r.yaml").write_text("rules:\n  - {name: bot, field: metadata.annotator, equals: bot-7}\ndrop_fields: [metadata.date]\n")
    res = Rules({"file": "r.yaml"}).process(meta_rows(), ctx)
    assert reasons(res) == {"m:1": "rules:bot"}
    assert all("date" not in json.loads(m) for m in res.kept["metadata"])
    shipped = Rules({"file": "data:filters/example-rules.yaml"}).process(meta_rows(), ctx)
    assert reasons(shipped) == {"m:1": "rules:untrusted-annotator", "m:2": "rules:too-old"}
    assert shipped.stats == {"removed_metadata.zip_code": 2, "removed_metadata.gender": 1}
    with pytest.raises(ConfigError, match="exactly one test"):
        Rules({"rules": [{"name": "x", "field": "prompt"}]})
    with pytest.raises(ConfigError, match="bad regex"):
        Rules({"rules": [{"name": "x", "field": "prompt", "regex": "("}]})
    with pytest.raises(ValueError, match="rule 'x'.*no column 'nope'"):
        Rules({"rules": [{"name": "x", "field": "nope", "equals": "1"}]}).process(meta_rows(), ctx)
    # one spelling per field: the old target keys and metadata spellings say what to write instead
    with pytest.raises(ConfigError, match="is written `field: metadata.annotator`"):
        Rules({"rules": [{"name": "x", "meta": "annotator", "equals": "1"}]})
    with pytest.raises(ConfigError, match="write 'metadata.annotator'"):
        Rules({"rules": [{"name": "x", "field": "meta:annotator", "equals": "1"}]})
    with pytest.raises(ConfigError, match="computed from other columns"):
        Rules({"drop_fields": ["prompt"]})


# ---------------------------------------------------------------- recipe and CLI


def test_clean_instructions_recipe_on_real_data(tmp_path, copy_external):
    from dsforge.pipelines.core.recipe import load_recipe
    from dsforge.pipelines.core.runner import run_recipe

    files = [copy_external("alpaca_libre/alpaca_libre_tasks_v1.jsonl"), copy_external("alpaca_chinese/zh_09.json")]
    recipe = load_recipe("clean-instructions", [str(f) for f in files])
    assert [s.name for s in recipe.steps] == ["ingest", "rules", "clean-markup", "language-filter", "quality-filter",
                                              "pii", "save"]
    summary = run_recipe(recipe, tmp_path / "runs", sample=300, progress=False)
    assert summary["status"] == "ok"
    rejected = pl.read_parquet(Path(summary["run_dir"]) / "rejected.parquet")
    assert rejected.height > 0
    assert rejected.select(pl.col("stage").is_null().sum() + pl.col("reason").is_null().sum()
                           + (pl.col("detail").fill_null("") == "").sum()).item() == 0
    assert all(r.split(":")[0] == s for r, s in zip(rejected["reason"], rejected["stage"]))
    assert "rules:generator-rejected" in set(rejected["reason"])


def test_stage_runs_alone_through_the_cli(tmp_path, copy_external):
    from dsforge.pipelines.apps.cli import main

    src = copy_external("alpaca_libre/alpaca_libre_tasks_v1.jsonl")
    assert main(["stage", "quality-filter", "--input", str(src), "--out", str(tmp_path / "o"),
                 "--param", "conflicting=drop_all"]) == 0
    step = next((tmp_path / "o").glob("*/stages/01-quality-filter"))
    stats = json.loads((step / "stats.json").read_text())
    assert stats["rejected_by_reason"]["quality-filter:empty_response"] >= 20
