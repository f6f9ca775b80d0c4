"""mix, ladder and the classify rules on toy tables whose right answers are known by construction."""

from __future__ import annotations

import json
from collections import Counter

import polars as pl
import pytest

from dsforge.filters.curate.classify import answer_format, bucket_of
from dsforge.filters.curate.common import largest_remainder
from dsforge.filters.curate.ladder import Ladder
from dsforge.filters.curate.mix import Mix
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import ConfigError, StageContext


def table(sizes: dict[str, int], words=lambda i: i % 7 + 1) -> pl.DataFrame:
    rows, n = [], 0
    for group, k in sizes.items():
        for _ in range(k):
            rows.append({"id": f"r{n}", "source": "toy", "kind": "instruction", "instruction": f"question {n}",
                         "input": "", "response": " ".join(["word"] * words(n)), "domain": group,
                         "metadata": json.dumps({"lang": group})})
            n += 1
    return records.conform(records.from_rows(rows))


@pytest.fixture()
def ctx(tmp_path):
    return StageContext(work_dir=tmp_path / "step", seed=7)


def counts(df: pl.DataFrame, col: str = "domain") -> dict[str, int]:
    return dict(Counter(df[col].to_list()))


def test_mix_down_samples_to_exact_targets_and_rejects_the_rest(ctx):
    df = table({"a": 100, "b": 50, "c": 10})
    res = Mix({"column": "domain", "targets": {"a": 5, "b": 3, "c": 2}}).process(df, ctx)  # shares normalise to .5/.3/.2
    # the largest total without repetition: c has 10 rows for a 20% share -> 50 rows: 25 / 15 / 10
    assert counts(res.kept) == {"a": 25, "b": 15, "c": 10}
    assert res.kept.height + res.rejected.height == df.height
    assert not set(res.kept["id"]) & set(res.rejected["id"])
    assert set(res.rejected["reason"]) == {"mix:over_quota"}
    assert "quota 25 rows" in res.rejected.filter(pl.col("domain") == "a")["detail"][0]
    by = {g["group"]: g for g in res.stats["groups"]}
    assert by["a"]["target"] == by["a"]["achieved"] == 25 and by["a"]["dropped_rows"] == 75
    assert by["c"]["achieved_share"] == pytest.approx(0.2)


def test_mix_up_samples_by_repetition_with_new_ids_and_lineage(ctx):
    df = table({"a": 100, "b": 50, "c": 10})
    res = Mix({"column": "domain", "targets": {"a": 0.5, "b": 0.3, "c": 0.2}, "total": 100}).process(df, ctx)
    assert counts(res.kept) == {"a": 50, "b": 30, "c": 20}
    assert res.kept["id"].n_unique() == 100
    copies = res.kept.filter(pl.col("id").str.contains("~mix"))
    assert copies.height == 10 and set(copies["domain"]) == {"c"}
    for row in copies.iter_rows(named=True):
        info = json.loads(row["lineage"][-1]["info"])
        assert row["lineage"][-1]["stage"] == "mix"
        assert row["id"] == f"{info['sources'][0]}~mix{info['copy']}"
        assert row["instruction"] == df.filter(pl.col("id") == info["sources"][0])["instruction"][0]
    by = {g["group"]: g for g in res.stats["groups"]}
    assert by["c"]["repeated_rows"] == 10 and by["c"]["copies_added"] == 10
    assert Mix.creates_rows is True


def test_mix_uneven_repetition_and_seed(ctx):
    df = table({"a": 30, "b": 7})
    res = Mix({"column": "domain", "targets": {"a": 0.5, "b": 0.5}, "total": 40}).process(df, ctx)
    assert counts(res.kept) == {"a": 20, "b": 20}
    per_source = Counter(json.loads(r[-1]["info"])["sources"][0] for r in
                         res.kept.filter(pl.col("id").str.contains("~mix"))["lineage"].to_list())
    # 20 from 7 rows: every row twice or three times (6 rows get a third copy)
    assert sorted(per_source.values()) == [1] + [2] * 6
    again = Mix({"column": "domain", "targets": {"a": 0.5, "b": 0.5}, "total": 40}).process(df.reverse(), ctx)
    assert sorted(again.kept["id"]) == sorted(res.kept["id"])  # the draw depends on seed and ids, not row order
    other = Mix({"column": "domain", "targets": {"a": 0.5, "b": 0.5}, "total": 40, "seed": 99}).process(df, ctx)
    assert set(other.kept["id"]) != set(res.kept["id"])


def test_mix_meta_key_temperature_and_groups_without_target(ctx):
    df = table({"x": 80, "y": 20})
    flat = Mix({"column": "metadata.lang", "temperature": 1e6, "total": 100}).process(df, ctx)
    assert counts(flat.kept) == {"x": 50, "y": 50}  # T -> infinity: uniform
    same = Mix({"column": "metadata.lang", "temperature": 1.0}).process(df, ctx)
    assert counts(same.kept) == {"x": 80, "y": 20}  # T = 1: the natural mix, nothing dropped
    only_x = Mix({"column": "domain", "targets": {"x": 1.0}}).process(df, ctx)
    assert counts(only_x.kept) == {"x": 80}
    assert "no target" in only_x.rejected["detail"][0]


def test_mix_by_tokens_fills_each_quota_within_one_row(ctx, monkeypatch):
    df = table({"a": 60, "b": 40}, words=lambda i: 1 + i % 10)
    import dsforge.filters.length as length

    monkeypatch.setattr(length, "count_tokens", lambda texts, spec: [len(t.split()) for t in texts])
    res = Mix({"column": "domain", "targets": {"a": 0.5, "b": 0.5}, "unit": "tokens", "token_field": "response",
               "total": 300}).process(df, ctx)
    for g in res.stats["groups"]:
        assert abs(g["achieved"] - 150) <= 10 / 2  # nearest whole row: off by at most half the longest row
    assert res.stats["unit"] == "tokens"


def test_mix_config_errors(ctx):
    with pytest.raises(ConfigError, match="exactly one"):
        Mix({"column": "domain", "targets": {"a": 1}, "temperature": 2})
    with pytest.raises(ConfigError, match="max_repeats"):
        Mix({"column": "domain", "targets": {"a": 0.5, "b": 0.5}, "total": 1000}).process(table({"a": 10, "b": 10}), ctx)
    with pytest.raises(ConfigError, match="no column 'topic'"):
        Mix({"column": "topic", "targets": {"a": 1}}).process(table({"a": 3}), ctx)


def test_largest_remainder_sums_exactly():
    q = largest_remainder(10, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert sum(q.values()) == 10 and sorted(q.values()) == [3, 3, 4]


def test_ladder_rungs_are_nested_stratified_and_written_as_splits(ctx):
    import datasets

    df = table({"a": 120, "b": 60, "c": 20})
    res = Ladder({"sizes": [10, "25%", "50%", "100%"], "stratify_by": "domain"}).process(df, ctx)
    assert res.kept.height == df.height and res.rejected is None
    rungs = {name: set(res.kept.filter(pl.col("ladder").list.contains(name))["id"]) for name in ("n10", "p25", "p50", "p100")}
    assert [len(r) for r in rungs.values()] == [10, 50, 100, 200]
    assert rungs["n10"] < rungs["p25"] < rungs["p50"] < rungs["p100"]
    for name, ids in rungs.items():
        got = counts(df.filter(pl.col("id").is_in(list(ids))))
        for g, total in {"a": 120, "b": 60, "c": 20}.items():
            assert abs(got.get(g, 0) - len(ids) * total / 200) <= 1, (name, got)
    saved = datasets.load_from_disk(str(ctx.work_dir / "ladder" / "hf"))
    assert {k: len(v) for k, v in saved.items()} == {"n10": 10, "p25": 50, "p50": 100, "p100": 200}
    assert pl.read_parquet(ctx.work_dir / "ladder" / "p25.parquet")["id"].to_list() == \
        res.kept.filter(pl.col("ladder").list.contains("p25"))["id"].to_list()
    # the same seed gives the same rungs whatever the row order
    again = Ladder({"sizes": [10, "25%"], "stratify_by": "domain", "write": False}).process(df.reverse(), ctx)
    assert set(again.kept.filter(pl.col("ladder").list.contains("n10"))["id"]) == rungs["n10"]


def test_ladder_rejects_bad_sizes():
    with pytest.raises(ConfigError, match="percentage"):
        Ladder({"sizes": ["150%"]})
    with pytest.raises(ConfigError, match="row count"):
        Ladder({"sizes": ["half"]})


@pytest.mark.parametrize("text, expected", [
    ('{"name": "Ada", "born": 1815}', "json"),
    ("```python\nprint('hi')\n```", "code"),
    ("def add(a, b):\n    return a + b\n", "code"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "table"),
    ("- eggs\n- milk\n- bread", "list"),
    ("1. Werewolf 2. Charades 3. Uno", "list"),
    ("Paris", "short"),
    ("The sky looks blue because air scatters short wavelengths of sunlight more than long ones.", "prose"),
    ("", "empty"),
])
def test_answer_format_rules(text, expected):
    assert answer_format(text) == expected


def test_length_buckets():
    buckets = {"short": 10, "medium": 100, "long": None}
    assert [bucket_of(n, buckets) for n in (0, 10, 11, 100, 5000)] == ["short", "short", "medium", "medium", "long"]
