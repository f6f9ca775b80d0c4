"""What counts as a duplicate (issue 14): exact-dedup sees a preference row's rejected answer, and the
near-duplicate stages say which clustering rule applies and offer one without chains."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from dsforge.pipelines.neardup import lsh
from dsforge.dedup.exact import ExactDedup
from dsforge.dedup.minhash import MinhashDedup
from dsforge.pipelines.neardup.minhash import jaccard_exact
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext


@pytest.fixture
def ctx(tmp_path):
    return StageContext(work_dir=tmp_path)


def test_exact_dedup_default_field_sees_the_rejected_answer(ctx):
    df = records.from_rows([
        {"id": "p1", "source": "t", "kind": "preference", "instruction": "Q", "chosen_response": "good", "rejected_response": "bad"},
        {"id": "p2", "source": "t", "kind": "preference", "instruction": "Q", "chosen_response": "good", "rejected_response": "worse"},
        {"id": "c1", "source": "t", "kind": "conversation",
         "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}]},
        {"id": "p3", "source": "t", "kind": "preference", "instruction": "q ", "chosen_response": "Good", "rejected_response": "bad"},
    ])
    res = ExactDedup({}).process(df, ctx)
    # p2 differs from p1 only in `rejected`, c1 has no rejected answer: neither is a duplicate; p3 is p1 again
    assert res.kept["id"].to_list() == ["p1", "p2", "c1"]
    assert dict(zip(res.rejected["id"], res.rejected["detail"])) == {"p3": "same text as p1"}
    # asking for prompt + answer only is still possible, and then the pairs are the same
    same = ExactDedup({"fields": ["prompt", "answer"]}).process(df, ctx)
    assert same.kept["id"].to_list() == ["p1"]


def chain_texts(seed: int = 3) -> list[str]:
    """a ~ b and b ~ c at Jaccard 0.86 (word 5-grams), but a vs c 0.73: c is a duplicate only via b."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    a = [rng.choice(vocab) for _ in range(200)]
    b = a[:185] + [rng.choice(vocab) for _ in range(15)]
    c = [rng.choice(vocab) for _ in range(15)] + b[15:]
    return [" ".join(t) for t in (a, b, c)]


def test_minhash_chains_by_default_and_representative_never_drops_below_threshold(ctx):
    a, b, c = chain_texts()
    assert jaccard_exact(a, b) > 0.85 and jaccard_exact(b, c) > 0.85 and jaccard_exact(a, c) < 0.78
    df = records.from_rows([{"id": i, "source": "t", "kind": "document", "text": t}
                            for i, t in zip(["a", "b", "c"], (a, b, c))])
    cfg = {"field": "text", "threshold": 0.8, "num_perm": 256}
    chained = MinhashDedup(cfg).process(df, ctx)
    assert chained.kept["id"].to_list() == ["a"]  # c goes through b although it is < 0.8 from a
    star = MinhashDedup({**cfg, "linkage": "representative"}).process(df, ctx)
    assert star.kept["id"].to_list() == ["a", "c"]
    assert star.rejected["id"].to_list() == ["b"] and "a" in star.rejected["detail"][0]
    clusters = pl.read_parquet(ctx.work_dir / "dup_cluster-clusters.parquet")
    assert all(s >= 0.8 for sims in clusters["est_jaccard"].to_list() for s in sims if s < 1.0)


def test_representatives_on_random_graphs_never_chain():
    """Every member of a representative cluster is paired with its kept row, which is the best-ranked."""
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = 60
        left, right = rng.integers(0, n, 120), rng.integers(0, n, 120)
        keep = left != right
        left, right = left[keep], right[keep]
        order = rng.permutation(n)
        labels = lsh.representatives(n, left, right, order)
        pairs = {(int(x), int(y)) for x, y in zip(left, right)} | {(int(y), int(x)) for x, y in zip(left, right)}
        rank = np.argsort(order)
        for rep in set(labels[labels >= 0].tolist()):
            members = np.flatnonzero(labels == rep)
            assert rank[rep] == rank[members].min()
            assert all((rep, int(m)) in pairs for m in members if m != rep)
        comps = lsh.components(n, left, right)
        assert ((labels >= 0) <= (comps >= 0)).all()  # never more rows in clusters than with components


def test_semantic_dedup_linkage_on_the_issue_figures(ctx, monkeypatch):
    """Issue 14: a row at cosine 0.908 to the kept row was dropped at threshold 0.95, through a row between."""
    from dsforge.dedup import semantic

    angle = np.arccos(0.908) / 2  # a -> b -> c in equal steps: cos(a, b) = cos(b, c) = 0.977, cos(a, c) = 0.908
    vectors = np.array([[np.cos(k * angle), np.sin(k * angle)] for k in range(3)], dtype=np.float32)
    monkeypatch.setattr(semantic, "embed_rows", lambda texts, cfg: vectors[[int(t[-1]) for t in texts]])
    df = records.from_rows([{"id": f"r{k}", "source": "t", "kind": "document", "text": f"row {k}"} for k in range(3)])
    cfg = {"field": "text", "threshold": 0.95, "clusters": 1}
    chained = semantic.SemanticDedup(cfg).process(df, ctx)
    assert chained.rejected["id"].to_list() == ["r1", "r2"]
    assert "cosine 0.908" in dict(zip(chained.rejected["id"], chained.rejected["detail"]))["r2"]
    star = semantic.SemanticDedup({**cfg, "linkage": "representative"}).process(df, ctx)
    assert star.kept["id"].to_list() == ["r0", "r2"] and star.rejected["id"].to_list() == ["r1"]
