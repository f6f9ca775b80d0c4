"""Check: LLaMA-Factory's and axolotl's own loader code accepts what dsforge writes (not a test: neither is
installed; each pins its own torch/transformers). Get their code without installing anything:

    pip download --no-deps llamafactory==0.9.5 axolotl==0.19.0 -d /tmp/trainer-wheels
    cd /tmp/trainer-wheels && for w in *.whl; do unzip -q -o $w -d ${w%%-*}; done
    WHEELS=/tmp/trainer-wheels python bench/check_trainer_loaders.py DATASET_DIR [DATASET_DIR ...]

Runs: LLaMA-Factory 0.9.5's get_dataset_list + SharegptDatasetConverter on every dataset_info.json entry, and
axolotl 0.19's SFTDataset/DPODataset pydantic models on trainers/axolotl.yaml. Result (2026-12-01, save of 20
Alpaca rows as sft, dpo and reward): 20 + 20 + 20 rows converted, 0 skipped as abnormal; all three axolotl
entries validate.

What it loads: LLaMA-Factory 0.9.5's own parser + SharegptDatasetConverter and axolotl 0.19's own pydantic
dataset schema on what dsforge writes (loaded from the downloaded wheels; package __init__s bypassed)."""
import importlib.util, json, os, sys, types
from pathlib import Path
import datasets, yaml
WHEELS = Path(os.environ.get("WHEELS", "/tmp/trainer-wheels"))
LF = WHEELS / "llamafactory" / "llamafactory"
# stub packages so only the data modules we need load (their __init__ pulls peft, gradio, ...)
for name, path in (("llamafactory", LF), ("llamafactory.extras", LF / "extras"), ("llamafactory.data", LF / "data")):
    m = types.ModuleType(name); m.__path__ = [str(path)]; sys.modules[name] = m
def load(name, file):
    spec = importlib.util.spec_from_file_location(name, file); mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod; spec.loader.exec_module(mod); return mod
cm = types.ModuleType("llamafactory.extras.constants"); cm.DATA_CONFIG = "dataset_info.json"; cm.RUNNING_LOG = "running_log.txt"; sys.modules[cm.__name__] = cm
load("llamafactory.extras.logging", LF / "extras/logging.py")
misc = types.ModuleType("llamafactory.extras.misc"); misc.use_modelscope = misc.use_openmind = lambda: False; sys.modules[misc.__name__] = misc
load("llamafactory.data.data_utils", LF / "data/data_utils.py")
parser = load("llamafactory.data.parser", LF / "data/parser.py")
conv = load("llamafactory.data.converter", LF / "data/converter.py")
class DataArgs: dataset_dir = None
for folder in sys.argv[1:]:
    folder = Path(folder)
    info = json.loads((folder / "dataset_info.json").read_text())
    for attr in parser.get_dataset_list(list(info), str(folder)):
        local = folder / attr.dataset_name
        files = [str(p) for p in sorted(local.iterdir())] if local.is_dir() else [str(local)]
        ds = datasets.load_dataset("parquet", data_files=files, split=attr.split)
        c = conv.SharegptDatasetConverter(attr, DataArgs())
        out = [c(ex) for ex in ds]
        bad = [o for o in out if not o["_prompt"] or not o["_response"]]
        print(folder.name, attr, "ranking" if attr.ranking else "sft", len(out), "rows,", len(bad), "skipped as abnormal;",
              "first:", out[0]["_prompt"][-1]["role"], "->", [r["role"] for r in out[0]["_response"]], "system:", repr(out[0]["_system"][:20]))
sys.path.insert(0, str(WHEELS / "axolotl"))
from axolotl.utils.schemas.datasets import SFTDataset, DPODataset
for folder in sys.argv[1:]:
    cfg = yaml.safe_load((Path(folder) / "trainers/axolotl.yaml").read_text())
    cls = DPODataset if cfg.get("rl") else SFTDataset
    for d in cfg["datasets"]:
        print(Path(folder).name, "axolotl", cls.__name__, "validates:", cls(**d).model_dump(exclude_none=True))
