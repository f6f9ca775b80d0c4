"""The transformers backend for real (embedded SmolLM2 on CPU) and the on-disk response cache around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsforge.pipelines.llm.embedded import SMOLLM2_ID, MissingModelError
from dsforge.pipelines.llm.cache import CachedBackend, ResponseCache
from dsforge.pipelines.llm.config import SamplingParams, TransformersConfig, VLLMConfig
from dsforge.pipelines.llm.seam import (generate_rows,
                               generation_lineage, open_backend, usage_stats)

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]
QUESTIONS = [
    FRANCE,
    [{"role": "user", "content": "Name a colour."}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello."}],
    [{"role": "user", "content": "Write a haiku about rain."}],
    [{"role": "user", "content": "What is 2+2? Explain step by step, in detail, like a teacher would."}],
]


@pytest.fixture(scope="session")
def smol():
    """The embedded SmolLM2 on the transformers backend, uncached (tests add their own cache)."""
    return open_backend(TransformersConfig(model="smollm2", batch_size=4, cache=False,
                                      device="cpu"))


def test_greedy_answers_known_question_with_token_counts(smol):
    [[g]] = smol.generate([FRANCE], SamplingParams(temperature=0, max_tokens=24))
    assert "Paris" in g.text
    assert g.finish_reason == "stop" and g.model == SMOLLM2_ID and not g.cached
    prompt = smol.tokenizer.apply_chat_template(FRANCE, add_generation_prompt=True, tokenize=False)
    assert g.prompt_tokens == len(smol.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert 0 < g.completion_tokens < 24
    assert len(smol.tokenizer(g.text, add_special_tokens=False)["input_ids"]) <= g.completion_tokens


def test_max_tokens_gives_length_finish(smol):
    [[g]] = smol.generate(QUESTIONS[4:], SamplingParams(temperature=0, max_tokens=3))
    assert g.finish_reason == "length" and g.completion_tokens == 3 and g.text.strip()


def test_left_padded_batch_matches_one_by_one(smol):
    params = SamplingParams(temperature=0, max_tokens=8)
    batched = [gs[0].text for gs in smol.generate(QUESTIONS, params)]  # 5 rows: batches of 4 and 1, padded
    alone = [smol.generate([q], params)[0][0].text for q in QUESTIONS]
    assert batched == alone
    assert len(set(batched)) == len(QUESTIONS)


def test_seeded_sampling_is_reproducible_and_independent_of_batch(smol):
    params = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=10, seed=11, n=2)
    a = smol.generate(QUESTIONS, params)
    b = smol.generate([QUESTIONS[3]], params)  # same row, different batch mates
    assert [g.text for g in a[3]] == [g.text for g in b[0]]
    assert a[3][0].text != a[3][1].text  # completion i uses seed + i
    other = smol.generate([QUESTIONS[3]], params.model_copy(update={"seed": 12}))
    assert other[0][0].text == a[3][1].text  # seed 12, completion 0 == seed 11, completion 1


def test_stop_strings_cut_the_text(smol):
    [[full]] = smol.generate([FRANCE], SamplingParams(temperature=0, max_tokens=24))
    assert " " in full.text
    [[cut]] = smol.generate([FRANCE], SamplingParams(temperature=0, max_tokens=24, stop=[" "]))
    assert cut.finish_reason == "stop" and cut.text == full.text.split(" ")[0]


def test_cache_answers_a_rerun_without_generating(smol, tmp_path):
    params = SamplingParams(temperature=0.8, max_tokens=6, seed=3, n=2)
    cached = CachedBackend(smol, ResponseCache(tmp_path / "llm"))
    before = usage_stats(cached)
    first = generate_rows(cached, QUESTIONS[:3], params, progress=False)
    delta = usage_stats(cached, since=before)
    assert delta["llm_calls"] == 6 and delta["llm_cache_hits"] == 0

    # a "re-run": a new process would open the same SQLite file
    again = CachedBackend(smol, ResponseCache(tmp_path / "llm"))
    mid = usage_stats(again)
    second = generate_rows(again, QUESTIONS[:3], params, progress=False)
    delta = usage_stats(again, since=mid)
    assert delta["llm_calls"] == 0 and delta["llm_cache_hits"] == 6
    assert [[g.text for g in gs] for gs in second] == [[g.text for g in gs] for gs in first]
    assert all(g.cached for gs in second for g in gs)

    # n=3 reuses completions 0 and 1, generates only completion 2; other params miss
    mid = usage_stats(again)
    three = again.generate(QUESTIONS[:1], params.model_copy(update={"n": 3}))
    assert [g.text for g in three[0][:2]] == [g.text for g in first[0]]
    assert usage_stats(again, since=mid)["llm_calls"] == 1
    mid = usage_stats(again)
    again.generate(QUESTIONS[:1], params.model_copy(update={"seed": 4, "n": 1}))
    assert usage_stats(again, since=mid)["llm_calls"] == 1
    assert len(again.cache) == 3 * 2 + 1 + 1


def test_open_backend_wraps_cache_and_accepts_local_folder(smol, tmp_path):
    b = open_backend(TransformersConfig(model=str(smol.folder), cache_dir=str(tmp_path), batch_size=2))
    assert isinstance(b, CachedBackend) and b.model_id == str(smol.folder)
    params = SamplingParams(temperature=0, max_tokens=5)
    assert b.generate([FRANCE], params)[0][0].text == smol.generate([FRANCE], params)[0][0].text
    b.generate([FRANCE], params)
    assert b.usage.calls == 1 and b.usage.cache_hits == 1 and (tmp_path / "responses.sqlite").exists()


def test_missing_model_names_what_to_do(tmp_path):
    with pytest.raises(MissingModelError, match="never downloads"):
        open_backend(TransformersConfig(model=str(tmp_path / "nope"), cache=False))


def test_generation_lineage(smol):
    params = SamplingParams(temperature=0.5, max_tokens=8)
    info = generation_lineage(smol, params, template_id="self-instruct/v1")
    assert info["backend"] == "transformers" and info["model"] == SMOLLM2_ID
    assert info["template"] == "self-instruct/v1" and info["sampling"]["temperature"] == 0.5
    json.dumps(info)


def test_vllm_backend_without_vllm_says_how_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "vllm", None)  # as on CI: no GPU, no vLLM
    with pytest.raises(ImportError, match=r"pip install 'dsforge\[vllm\]'"):
        open_backend(VLLMConfig(model="smollm2", cache_dir=str(tmp_path)))


def _backtranslate_prompts(n: int) -> list[list[dict[str, str]]]:
    """The whole-chain recipe's back-translation prompts for n shipped Wikipedia paragraphs: two few-shot
    turns every prompt shares, then the paragraph's own turn."""
    from dsforge.pipelines.llm.prompt import load_template

    root = Path(__file__).resolve().parents[1] / "data"
    template = load_template("backtranslate_subject_v1")
    shots = [json.loads(line) for line in (root / "backtranslate_subject_examples.jsonl").read_text().splitlines()]
    turns = []
    for e in shots:
        turns += [{"role": "user", "content": template.render(text=e["output"])},
                  {"role": "assistant", "content": e["instruction"]}]
    paragraphs = [json.loads(line)["text"] for line in (root / "wiki_passages.jsonl").read_text().splitlines()]
    return [turns + [{"role": "user", "content": template.render(text=p)}] for p in paragraphs[:n]]


def test_shared_prefix_is_run_once_and_changes_no_token(smol, monkeypatch):
    from dsforge.pipelines.llm.backends import transformers_local

    prompts = _backtranslate_prompts(6)  # batches of 4 and 2
    params = SamplingParams(temperature=0, max_tokens=16)
    smol._prefixes.clear()
    reused = [gs[0].text for gs in smol.generate(prompts, params)]
    encoded = [smol.tokenizer(smol.render(p), add_special_tokens=False)["input_ids"] for p in prompts]
    common = transformers_local.shared_prefix_len(encoded)  # the system prompt, both examples, the request
    assert smol._prefixes and common > 150
    assert all(len(p) >= common and p[:common] == tuple(encoded[0][:common]) for p in smol._prefixes)
    monkeypatch.setattr(transformers_local, "MIN_SHARED_PREFIX", 10**9)
    smol._prefixes.clear()
    plain = [gs[0].text for gs in smol.generate(prompts, params)]
    assert not smol._prefixes
    assert reused == plain and all(t.startswith(("Describe", "What")) for t in plain)


def test_shared_prefix_len_leaves_each_prompt_a_token():
    from dsforge.pipelines.llm.backends.transformers_local import shared_prefix_len

    assert shared_prefix_len([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert shared_prefix_len([[1, 2, 3], [1, 2, 3, 4]]) == 2  # the shorter one keeps its last token
    assert shared_prefix_len([[1, 2, 3]]) == 0 and shared_prefix_len([[7, 1], [8, 1]]) == 0


def test_grouped_query_decoding_equals_repeated_kv_sdpa(smol):
    import torch
    from transformers.integrations.sdpa_attention import repeat_kv
    from dsforge.pipelines.llm.backends.transformers_local import GQA_ATTENTION, gqa_decode_attention

    assert smol.model.config._attn_implementation == GQA_ATTENTION  # SmolLM2: 9 query heads on 3 KV heads
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(shape, generator=g) for shape in [(4, 9, 1, 64), (4, 3, 30, 64), (4, 3, 30, 64)])
    mask = torch.ones(4, 1, 1, 30, dtype=torch.bool)
    mask[1, ..., :12] = False  # a left-padded row
    mask[2, ..., 5:9] = False  # padding between a shared prefix and the row's own tokens
    ours, _ = gqa_decode_attention(smol.model.model.layers[0].self_attn, q, k, v, mask, scaling=0.125)
    ref = torch.nn.functional.scaled_dot_product_attention(q, repeat_kv(k, 3), repeat_kv(v, 3), attn_mask=mask,
                                                           scale=0.125).transpose(1, 2)
    assert ours.shape == (4, 1, 9, 64) and torch.allclose(ours, ref, atol=1e-5)
