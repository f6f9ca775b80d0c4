"""minhash-dedup on known answers: LSH parameters, signatures vs true Jaccard on real edited texts,
clusters and the keep rule, both engines, and the command line."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from dsforge.pipelines.neardup import lsh
from dsforge.dedup.minhash import MinhashDedup
from dsforge.pipelines.neardup.minhash import jaccard_exact, minhash_signatures
from neardup_set import exact_jaccard_pairs, load_real_texts, make_set
from dsforge.pipelines.neardup.shingles import shingle_hashes
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import ConfigError, StageContext
from dsforge.pipelines.core.shards import read_table


def docs(texts, **cols):
    rows = [{"id": f"d{i}", "source": "s", "kind": "document", "text": t} for i, t in enumerate(texts)]
    for name, values in cols.items():
        for r, v in zip(rows, values):
            r[name] = v
    return records.from_rows(rows)


@pytest.fixture()
def ctx(tmp_path):
    return StageContext(work_dir=tmp_path, seed=0)


@pytest.fixture(scope="module")
def labelled(external):
    """Real role-play and code texts with 2 edited copies each, and the exact Jaccard of every pair."""
    real = load_real_texts(external).filter(pl.col("source").is_in(["gpteacher-roleplay", "gpteacher-codegen"]))
    originals = real.sample(n=200, seed=1, shuffle=True)
    data = make_set(originals, copies=2, rates=(0.01, 0.3), seed=2)
    return data, exact_jaccard_pairs(data["text"], min_jaccard=0.3)


def test_shingles_short_and_empty_texts():
    sh = shingle_hashes(pl.Series(["", None, "one two", "a b c d e f", "A, b!  C d. E f"]), 5)
    assert sh.counts.tolist() == [0, 0, 1, 2, 2]
    # case and punctuation are normalised away: rows 3 and 4 have the same shingles
    assert sh.hashes[1:3].tolist() == sh.hashes[3:5].tolist()
    assert jaccard_exact("a b c d e f g", "a b c d e f h") == pytest.approx(2 / 4)
    assert jaccard_exact("abcdef", "abcdeg", ngram=3, shingle="char") == pytest.approx(3 / 5)


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9])
def test_bands_rows_match_datasketch(threshold):
    from datasketch import MinHashLSH

    ref = MinHashLSH(threshold=threshold, num_perm=128)
    assert lsh.optimal_bands_rows(threshold, 128) == (ref.b, ref.r)
    b, r = lsh.optimal_bands_rows(threshold, 128)
    assert lsh.s_curve(1.0, b, r) == pytest.approx(1.0)
    assert lsh.s_curve(threshold, b, r) == pytest.approx(1 - (1 - threshold**r) ** b)


def test_signature_estimates_true_jaccard(labelled):
    data, pairs = labelled
    cfg = MinhashDedup.Config()
    sig, active, _ = minhash_signatures(data["text"], cfg, seed=0)
    assert active.all()
    est = lsh.estimated_jaccard(sig, pairs["i"].to_numpy(), pairs["j"].to_numpy())
    err = est - pairs["jaccard"].to_numpy()
    # 128 permutations: standard error <= 0.045; the estimator is unbiased
    assert abs(err.mean()) < 0.01
    assert np.quantile(np.abs(err), 0.99) < 0.15


def test_minhash_dedup_finds_the_edited_copies(labelled, ctx):
    data, pairs = labelled
    df = docs(data["text"].to_list())
    res = MinhashDedup({"threshold": 0.8}).process(df, ctx)
    label = np.full(df.height, -1)
    for part in (res.kept, res.rejected):
        pos = part["id"].str.slice(1).cast(pl.Int64).to_numpy()
        label[pos] = part["dup_cluster"].fill_null(-1).to_numpy()

    def same(p: pl.DataFrame) -> np.ndarray:
        i, j = p["i"].to_numpy(), p["j"].to_numpy()
        return (label[i] >= 0) & (label[i] == label[j])

    sure = pairs.filter(pl.col("jaccard") >= 0.95)
    assert sure.height > 100
    assert same(sure).mean() >= 0.97
    # every row put in a cluster has a real near-duplicate (precision at the row level, with slack 0.2)
    partner = np.zeros(df.height, bool)
    close = pairs.filter(pl.col("jaccard") >= 0.6)
    partner[close["i"].to_numpy()] = partner[close["j"].to_numpy()] = True
    assert partner[label >= 0].all()
    assert res.stats["removed"] == res.rejected.height == df.height - res.kept.height
    # the S-curve says pairs below 0.5 almost never collide; verification removes the rest
    far = pairs.filter(pl.col("jaccard") < 0.5)
    assert same(far).mean() < 0.01


def test_keep_rules_and_cluster_audit(external, ctx):
    rows = json.loads((external / "gpteacher" / "codegen-instruct.json").read_text())
    base = next(r["response"] for r in rows if len(r["response"].split()) > 80)
    words = base.split()
    texts = [
        "An unrelated first row about gardening and tomatoes in the spring.",
        base,                                   # d1
        " ".join(words[:-1]),                   # d2: one word shorter
        base + " Extra words here.",            # d3: the longest
        " ".join(words[:-2]),                   # d4
    ]
    df = docs(texts, score=[None, 0.2, 0.9, 0.5, None], source=["a", "web", "web", "forum", "curated"])
    expect = {"first": "d1", "longest": "d3", "best_score": "d2", "preferred_source": "d4"}
    for rule, kept_id in expect.items():
        cfg = {"keep": rule, "preferred_sources": ["curated", "forum"]}
        res = MinhashDedup(cfg).process(df, ctx)
        assert set(res.kept["id"]) == {"d0", kept_id}, rule
        assert res.kept.filter(pl.col("id") == "d0")["dup_cluster"].to_list() == [None]
        kept_row = res.kept.filter(pl.col("id") == kept_id)
        assert kept_row["dup_cluster_size"].to_list() == [4]
        assert set(res.rejected["reason"]) == {"minhash-dedup:near_duplicate"}
        assert all(f"duplicate of {kept_id} " in d and f"keep={rule}" in d for d in res.rejected["detail"])
        clusters = pl.read_parquet(ctx.work_dir / "dup_cluster-clusters.parquet")
        assert clusters.height == 1
        row = clusters.row(0, named=True)
        assert row["kept_id"] == kept_id and sorted(row["members"]) == ["d1", "d2", "d3", "d4"]
        assert row["size"] == 4 and all(0.8 <= s <= 1.0 for s in row["est_jaccard"])
    assert "longest text" in MinhashDedup({"keep": "longest"}).process(df, ctx).rejected["detail"][0]
    assert "highest score (0.9)" in MinhashDedup({"keep": "best_score"}).process(df, ctx).rejected["detail"][0]
    with pytest.raises(ValueError, match="preferred_sources"):
        MinhashDedup({"keep": "preferred_source"}).process(df, ctx)


def test_deterministic_and_seeded(labelled, tmp_path):
    df = docs(labelled[0]["text"].head(150).to_list())
    a = MinhashDedup({}).process(df, StageContext(work_dir=tmp_path / "a", seed=0))
    b = MinhashDedup({}).process(df, StageContext(work_dir=tmp_path / "b", seed=0))
    assert a.kept["id"].to_list() == b.kept["id"].to_list()
    assert a.rejected["detail"].to_list() == b.rejected["detail"].to_list()
    assert pl.read_parquet(tmp_path / "a" / "dup_cluster-clusters.parquet").equals(
        pl.read_parquet(tmp_path / "b" / "dup_cluster-clusters.parquet"))


def test_char_shingles_and_empty_rows(ctx):
    text = "The quick brown fox jumps over the lazy dog near the riverbank today"
    typo = text.replace("lazy", "lazzy")
    df = docs([text, typo, "", "", "ok", "ok"])
    assert jaccard_exact(text, typo, 5, "char") >= 0.8
    res = MinhashDedup({"shingle": "char", "ngram": 5, "threshold": 0.7}).process(df, ctx)
    # the typo copy goes; empty rows are not duplicates of each other here (exact-dedup's job); "ok" twice is
    assert sorted(res.rejected["id"].to_list()) == ["d1", "d5"]
    assert res.stats["empty_rows"] == 2
    # word 5-grams: the typo breaks 5 of 9 shingles (Jaccard 4/14), so no duplicate at 0.7
    assert MinhashDedup({"threshold": 0.7}).process(df[:2], ctx).rejected.height == 0


@pytest.mark.parametrize("signatures", ["numpy", "datatrove"])
def test_datatrove_engine_keeps_the_same_rows(external, ctx, signatures):
    rows = json.loads((external / "gpteacher" / "roleplay-simple-deduped-roleplay-instruct.json").read_text())[:15]
    texts = []
    for r in rows:
        t = r["instruction"] + "\n" + r["response"]
        texts += [t, t.replace(".", "!", 1) + " Thanks."]  # a near-identical copy right after
    df = docs(texts)
    inproc = MinhashDedup({"keep": "longest"}).process(df, ctx)
    dt = MinhashDedup({"keep": "longest", "engine": "datatrove", "tasks": 3, "signatures": signatures}).process(df, ctx)
    assert dt.stats["datatrove_num_buckets"] == inproc.stats["bands"] == 9
    assert sorted(dt.kept["id"]) == sorted(inproc.kept["id"])
    assert dt.rejected.height == 15
    assert (ctx.work_dir / "datatrove" / "clusters").is_dir()


def test_config_errors():
    with pytest.raises(ConfigError, match="both bands and rows"):
        MinhashDedup({"bands": 4})
    with pytest.raises(ConfigError, match="exceeds num_perm"):
        MinhashDedup({"bands": 20, "rows": 10})
    with pytest.raises(ConfigError, match="shingle=word only"):
        MinhashDedup({"engine": "datatrove", "shingle": "char"})
    assert MinhashDedup({"bands": 16, "rows": 8}).config.lsh_params() == (16, 8)


def test_command_line_stage(tmp_path, copy_external):
    from dsforge.pipelines.apps.cli import main

    src = copy_external("gpteacher/roleplay-simple-deduped-roleplay-instruct.json")
    rows = json.loads(src.read_text())[:40]
    rows += [dict(r, response=r["response"] + " ok") for r in rows[:5]]  # 5 near-copies
    src.write_text(json.dumps(rows))
    rc = main(["stage", "minhash-dedup", "--input", str(src), "--out", str(tmp_path / "runs"), "--quiet",
               "--param", "keep=longest", "--param", "field=conversation"])
    assert rc == 0
    step = next((tmp_path / "runs").glob("*/stages/01-minhash-dedup"))
    rejected = read_table(step, "rejected")
    assert rejected.height == 5 and rejected["id"].str.contains(r"row[0-4]$").all()
    assert pl.read_parquet(step / "dup_cluster-clusters.parquet").height == 5
    assert json.loads((step / "stats.json").read_text())["stage_stats"]["bands"] == 9
