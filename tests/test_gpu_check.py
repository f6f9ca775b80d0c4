"""bench/gpu_check.py, the GPU check's Python core, in its CPU mode with tiny sizes: every part runs and
writes its figures. The engine and Ray parts use the transformers backend (bare HF generate vs ours; ours
in a Ray actor); the recipe part runs the main recipe with `model:` pointed at the fake served model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from served_fake import start

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

pytestmark = pytest.mark.slow


def test_gpu_check_recipe_part_on_a_served_model(tmp_path):
    import gpu_check

    srv = start()
    try:
        model = {"backend": "openai", "model": "fake-1", "base_url": srv.url, "cache_dir": str(tmp_path / "cache")}
        report = gpu_check.main(["--cpu", "--skip", "engine,ray", "--sample", "30", "--model", json.dumps(model),
                                 "--out", str(tmp_path / "gc.json")])
    finally:
        srv.shutdown()
        srv.server_close()
    saved = json.loads((tmp_path / "gc.json").read_text())
    assert saved["recipe"]["status"] == report["recipe"]["status"] == "ok"
    steps = saved["recipe"]["steps"]
    assert steps["self-instruct"]["kept"] > 0 and steps["judge"]["kept"] > 0 and srv.sent() > 0
    assert saved["machine"]["mode"] == "cpu"


def test_gpu_check_engine_and_ray_parts_on_cpu(tmp_path):
    import gpu_check

    report = gpu_check.main(["--cpu", "--engine", "transformers", "--prompts", "4", "--max-tokens", "4",
                             "--skip", "recipe", "--out", str(tmp_path / "gc.json")])
    rows = report["engine"]
    assert [r["batch"] for r in rows] == [1, 4, "all 4"]
    assert all(r["bare_tok_s"] > 0 and r["ours_tok_s"] > 0 and r["ours_tokens"] == r["bare_tokens"] for r in rows)
    assert report["ray"]["tokens"] > 0 and report["ray"]["ratio_vs_ours_in_process"] > 0
    assert json.loads((tmp_path / "gc.json").read_text())["ray"]["engine"].startswith("transformers in a Ray actor")
