"""Check: axolotl's and LLaMA-Factory's OWN loading code reads what `dsforge run` writes (SFT, DPO, reward).

Not a test: each pins its own transformers/datasets/trl, so each lives in a separate venv that borrows torch
(2.13.0) and the rest from the project's venv through a .pth file and never touches it:

    python3 -m venv /tmp/axo-venv
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/axo-venv/lib/python3.11/site-packages/zz_main.pth
    /tmp/axo-venv/bin/pip install --no-deps axolotl==0.19.0 llamafactory==0.9.5 \\
        datasets==4.8.4 transformers==5.16.1 trl==1.9.0 huggingface_hub==1.17.0 peft==0.20.0 \\
        accelerate==1.13.0 tokenizers==0.23.1 posthog==6.7.11 pydantic==2.12.5 pydantic-core==2.41.5 \\
        packaging==26.0 typing-extensions==4.15.0 PyYAML==6.0.3 addict fire python-dotenv==1.0.1 \\
        backoff distro termcolor            # axolotl's own pins; the last three are what its imports need
    python3 -m venv /tmp/lf-venv      # LLaMA-Factory pins older versions than axolotl: a second venv, same .pth
    echo "$PWD/.venv/lib/python3.11/site-packages" > /tmp/lf-venv/lib/python3.11/site-packages/zz_main.pth
    /tmp/lf-venv/bin/pip install --no-deps llamafactory==0.9.5 transformers==5.6.0 datasets==4.0.0 trl==0.24.0 \
        peft==0.18.1 accelerate==1.11.0 tokenizers==0.22.2 huggingface_hub==1.17.0 fsspec==2025.3.0 omegaconf \
        antlr4-python3-runtime==4.9.3 "tyro<0.9.0" docstring-parser shtab fire termcolor
    .venv/bin/python bench/check_trainer_loaders.py [--python /tmp/axo-venv/bin/python] \
        [--lf-python /tmp/lf-venv/bin/python] [--keep DIR]

Part 1 (project venv): `dsforge run` writes three datasets from real shipped rows (data/alpaca_libre_v1.jsonl):
SFT (alpaca → chat-format sft → publish), DPO and reward pairs given as TRL conversational rows
(UltraFeedback-binarized shape: chosen/rejected message lists with the prompt inside, score_chosen/rejected).
Part 2 (the separate venv, HF_HUB_OFFLINE=1, telemetry off): axolotl's `load_cfg` + `load_datasets` /
`load_preference_datasets` on each emitted `trainers/axolotl.yaml` merged into a minimal config (base model:
the embedded SmolLM2 folder), and LLaMA-Factory's `get_dataset` (its full loader: parser, converter,
template, tokenisation) on each `dataset_info.json` entry. It prints the versions and rows each loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

N = 20
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1",
           "AXOLOTL_DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "WANDB_MODE": "disabled",
           "DISABLE_VERSION_CHECK": "1", "LLAMAFACTORY_VERBOSITY": "WARN", "TOKENIZERS_PARALLELISM": "false"}


def build(root: Path) -> dict[str, Path]:
    """Three datasets written by `dsforge run` (the runner, no Prefect) from real rows."""
    from dsforge.pipelines.core.readers import InputSpec, read_input
    from dsforge.pipelines.core.recipe import build_recipe
    from dsforge.pipelines.core.runner import run_recipe

    rows = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=N)).kept.to_dicts()
    pairs = []
    for i, r in enumerate(rows):
        user = {"role": "user", "content": r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")}
        pairs.append({"prompt": user["content"], "chosen": [user, {"role": "assistant", "content": r["response"]}],
                      "rejected": [user, {"role": "assistant", "content": rows[(i + 1) % N]["response"]}],
                      "score_chosen": 8.0, "score_rejected": 4.0})
    (root / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    out = {}
    for name, inp, layout in (("sft", "data:alpaca_libre_v1.jsonl", "sft"), ("dpo", str(root / "pairs.jsonl"), "dpo"),
                              ("reward", str(root / "pairs.jsonl"), "reward")):
        recipe = build_recipe({"name": f"loaders-{name}", "inputs": [{"path": inp, "limit": N}],
                               "stages": [{"stage": "chat-format", "layout": layout}, {"stage": "publish"}]})
        summary = run_recipe(recipe, root / "runs", progress=False)
        assert summary["status"] == "ok", summary.get("error")
        out[name] = Path(summary["run_dir"]) / "dataset"
    return out


AXOLOTL = r'''
import json, sys, tempfile, yaml
from importlib.metadata import version
from pathlib import Path
from axolotl.cli.config import load_cfg
from axolotl.common.datasets import load_datasets, load_preference_datasets
from axolotl.utils.dict import DictDefault
model, folders = sys.argv[1], json.loads(sys.argv[2])
print("axolotl", version("axolotl"), "| datasets", version("datasets"), "| transformers", version("transformers"),
      "| torch", version("torch"))
for name, folder in folders.items():
    emitted = yaml.safe_load((Path(folder) / "trainers" / "axolotl.yaml").read_text())
    work = tempfile.mkdtemp()
    cfg = {**emitted, "base_model": model, "sequence_len": 1024, "micro_batch_size": 1, "gradient_accumulation_steps": 1,
           "num_epochs": 1, "learning_rate": 1e-5, "output_dir": work + "/out", "dataset_prepared_path": work + "/prep",
           "val_set_size": 0, "dataset_processes": 1}
    if name == "reward":
        cfg.update(reward_model=True, model_type="AutoModelForSequenceClassification", num_labels=1)
    cfg = load_cfg(DictDefault(cfg))
    meta = load_preference_datasets(cfg=cfg) if cfg.rl else load_datasets(cfg=cfg)
    ds = meta.train_dataset
    print(f"axolotl {name}: {'load_preference_datasets' if cfg.rl else 'load_datasets'} -> {len(ds)} rows, "
          f"columns {sorted(ds.column_names)}; path {emitted['datasets'][0]['path']}")
'''

LLAMAFACTORY = r'''
import importlib.machinery, json, sys, tempfile, types
# data/mm_plugin.py imports torchaudio at the top, and no torchaudio wheel matches torch 2.13; text data never
# reaches the audio code, so an empty module stands in for it (the only thing not LLaMA-Factory's own here)
audio = types.ModuleType("torchaudio"); audio.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
sys.modules["torchaudio"] = audio
from importlib.metadata import version
from pathlib import Path
from llamafactory.hparams import get_train_args
from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.model import load_tokenizer
model, folders = sys.argv[1], json.loads(sys.argv[2])
print("llamafactory", version("llamafactory"), "| datasets", version("datasets"), "| transformers", version("transformers"))
for name, folder in folders.items():
    info = json.loads((Path(folder) / "dataset_info.json").read_text())
    stage = {"sft": "sft", "dpo": "dpo", "reward": "rm"}[name]
    args = {"model_name_or_path": model, "stage": stage, "do_train": True, "finetuning_type": "lora",
            "dataset_dir": folder, "dataset": ",".join(k for k in info if "_" not in k), "template": "default",
            "cutoff_len": 1024, "output_dir": tempfile.mkdtemp(), "overwrite_cache": True, "report_to": "none",
            "preprocessing_num_workers": 1, "use_cpu": True}
    model_args, data_args, training_args, finetuning_args, _ = get_train_args(args)
    tok = load_tokenizer(model_args)
    template = get_template_and_fix_tokenizer(tok["tokenizer"], data_args)
    data_stage = "sft" if stage == "sft" else "rm"  # as train/dpo/workflow.py and train/rm/workflow.py call it
    module = get_dataset(template, model_args, data_args, training_args, stage=data_stage, **tok)
    ds = module["train_dataset"]
    print(f"LLaMA-Factory {name}: get_dataset(stage={data_stage!r}) for stage {stage} -> {len(ds)} rows, "
          f"columns {sorted(ds.column_names)}")
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default="/tmp/axo-venv/bin/python", help="the axolotl venv's python")
    ap.add_argument("--lf-python", default="/tmp/lf-venv/bin/python", help="the LLaMA-Factory venv's python")
    ap.add_argument("--keep", help="write the datasets here (default: a temporary folder)")
    args = ap.parse_args()
    from dsforge.pipelines.llm.embedded import smollm2_model_dir

    model = str(smollm2_model_dir())
    root = Path(args.keep or tempfile.mkdtemp(prefix="loaders-"))
    root.mkdir(parents=True, exist_ok=True)
    folders = {k: str(v) for k, v in build(root).items()}
    env = {**os.environ, **OFFLINE}
    env.pop("PYTHONPATH", None)  # the separate venv must not see this checkout's dsforge (it needs none of it)
    failed = 0
    for label, code, python in (("axolotl", AXOLOTL, args.python), ("llamafactory", LLAMAFACTORY, args.lf_python)):
        proc = subprocess.run([python, "-c", code, model, json.dumps(folders)], env=env, cwd=root,
                              capture_output=True, text=True, timeout=900)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("axolotl", "llamafactory", "LLaMA-Factory"))]
        print("\n".join(lines))
        if proc.returncode:
            failed += 1
            print(f"{label}: FAILED (exit {proc.returncode})\n" + proc.stderr[-3000:])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
