"""The transformers backend's per-row sampler: the top-p set is the one a full sort gives, and each row's draw
follows its probabilities and depends on its own seed only (what makes 1 and N workers give the same rows)."""

from __future__ import annotations

import collections

import torch

from dsforge.pipelines.llm.backends.transformers_local import _make_sampler, nucleus


def sorted_nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """The reference: sort the whole vocabulary, keep tokens while the mass above them is below top_p."""
    probs = logits.softmax(-1)
    top, order = torch.sort(probs, descending=True, dim=-1)
    keep = (top.cumsum(-1) - top) < top_p
    return torch.zeros_like(probs, dtype=torch.bool).scatter(1, order, keep)


def test_nucleus_is_the_sorted_top_p_set_on_peaked_distributions():
    torch.manual_seed(0)
    for scale in (8.0, 20.0):  # LLM next-token distributions are peaked
        logits = torch.randn(16, 49152) * scale
        for top_p in (0.5, 0.9, 0.95, 0.99):
            probs, ids = nucleus(logits.softmax(-1), top_p)
            mask = torch.zeros_like(logits, dtype=torch.bool).scatter(1, ids, probs > 0)
            assert torch.equal(mask, sorted_nucleus(logits, top_p)), (scale, top_p)


def test_draws_follow_the_renormalised_nucleus_and_the_seed():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0] + [-30.0] * 12])
    counts = collections.Counter()
    sampler = _make_sampler([7], 1.0, 0.8, "cpu")
    for _ in range(4000):
        counts[int(sampler(None, logits.clone()).argmax())] += 1
    p = logits.softmax(-1)[0, :2]
    assert set(counts) == {0, 1}  # 0.644 + 0.237 reach 0.8: tokens 2 and 3 are outside the nucleus
    assert abs(counts[0] / 4000 - float(p[0] / p.sum())) < 0.03
    row = torch.randn(1, 64) * 3
    batch = torch.cat([torch.randn(1, 64) * 3, row])
    one, two = _make_sampler([5], 0.7, 0.95, "cpu"), _make_sampler([9, 5], 0.7, 0.95, "cpu")
    alone = [int(one(None, row.clone()).argmax()) for _ in range(30)]
    in_batch = [int(two(None, batch.clone())[1].argmax()) for _ in range(30)]
    assert len(set(alone)) > 1
    assert alone == in_batch  # the same seed draws the same token whatever shares its batch
