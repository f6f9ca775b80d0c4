"""The card's YAML metadata as the Hub and `datasets` read it (offline): Hub licence ids, a measured language,
Hub-id sources only, and a dataset_info whose splits `load_dataset` takes without a "malformed" warning.

The Hub's own validator is an online call (RepoCard.validate posts to /api/validate-yaml), so the rules it
applies are checked here with what the libraries ship: huggingface_hub's DatasetCard/DatasetCardData parse,
`datasets`' resources (languages.json, size_categories.json), its DatasetInfosDict/MetadataConfigs readers,
and the Hub's licence list in data/card/hub_licenses.tsv. Rows are real (data/alpaca_libre_v1.jsonl as
UltraFeedback-shaped pairs).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard, DatasetCardData

from dsforge.pipelines.stages.card_metadata import hub_licence, hub_licences, hub_sources
from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.recipe import build_recipe
from dsforge.pipelines.core.runner import run_recipe

RESOURCES = Path(datasets.__file__).parent / "utils" / "resources"


@pytest.mark.parametrize("text, hub_id", [
    ("CC-BY-4.0", "cc-by-4.0"), ("CC BY-NC 4.0", "cc-by-nc-4.0"), ("CC0 1.0 (public domain dedication)", "cc0-1.0"),
    ("code Apache-2.0; data CC BY-NC 4.0 (non-commercial)", "cc-by-nc-4.0"), ("MIT License (from LICENSE beside the input)", "mit"),
    ("Apache License, Version 2.0", "apache-2.0"), ("permitted for research", None), ("submit a request", None),
    ("unknown: set `licenses` in the publish step", None)])
def test_licences_become_hub_identifiers_by_whole_match(text, hub_id):
    assert hub_licence(text) == hub_id  # "permitted" and "submit" hold "mit" and are not MIT


def test_only_hub_ids_are_source_datasets(tmp_path):
    local = tmp_path / "owner" / "file.jsonl"
    local.parent.mkdir()
    local.write_text("{}")
    inputs = [{"source": "alpaca-libre", "given_path": "data:alpaca_libre_v1.jsonl"},
              {"source": "HuggingFaceH4/ultrafeedback_binarized", "given_path": "uf.jsonl"},
              {"source": "x", "given_path": str(local)}, {"source": "../up/file", "given_path": "a/b/c.jsonl"}]
    assert hub_sources(inputs) == ["HuggingFaceH4/ultrafeedback_binarized"]


def _pairs(path: Path) -> str:
    rows = read_input(InputSpec(path="data:alpaca_libre_v1.jsonl", limit=30)).kept.to_dicts()
    out = []
    for i, r in enumerate(rows):
        user = {"role": "user", "content": r["instruction"]}
        out.append({"prompt": r["instruction"], "chosen": [user, {"role": "assistant", "content": r["response"]}],
                    "rejected": [user, {"role": "assistant", "content": rows[i - 1]["response"]}],
                    "score_chosen": 9.0, "score_rejected": 2.0})
    path.write_text("".join(json.dumps(r) + "\n" for r in out))
    return str(path)


@pytest.fixture(scope="module")
def dpo_card(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    recipe = build_recipe({"name": "uf-card", "inputs": [{"path": _pairs(root / "uf.jsonl"), "source": "uf-local"}],
                           "stages": [{"stage": "chat-format", "layout": "dpo"},
                                      {"stage": "publish", "license": "CC-BY-4.0"}]})  # no inspect step
    summary = run_recipe(recipe, root / "runs", progress=False)
    assert summary["status"] == "ok", summary.get("error")
    return Path(summary["run_dir"]) / "dataset"


def test_card_metadata_follows_the_hub_rules(dpo_card):
    card = DatasetCard.load(dpo_card / "README.md")
    data = card.data
    assert isinstance(data, DatasetCardData)
    assert data.license == "cc-by-4.0" and "license_name" not in data.to_dict()  # not other + cc-by-4-0
    assert data.license in hub_licences().values()
    assert data.language == ["en"]  # measured at publish: no inspect step ran
    assert set(json.loads((RESOURCES / "languages.json").read_text())) >= set(data.language)
    assert set(data.size_categories) <= set(json.loads((RESOURCES / "size_categories.json").read_text()))
    assert "source_datasets" not in data.to_dict()  # "uf-local" is a local name, not a Hub dataset
    infos = datasets.info.DatasetInfosDict.from_dataset_card_data(data)
    (info,) = infos.values()
    split = info.splits["train"]
    assert split.num_examples == 30 and split.num_bytes > 0 and info.dataset_size == split.num_bytes
    assert {"score_chosen", "score_rejected", "prompt", "chosen", "rejected"} <= set(info.features)
    configs = datasets.utils.metadata.MetadataConfigs.from_dataset_card_data(data)
    assert configs["default"]["data_files"] == [{"split": "train", "path": "data/train/train-00000-of-00001.parquet"}]


def test_load_dataset_reads_the_card_without_a_malformed_splits_warning(dpo_card):
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    logger = logging.getLogger("datasets")
    logger.addHandler(handler)
    try:
        ds = datasets.load_dataset(str(dpo_card))["train"]
    finally:
        logger.removeHandler(handler)
    assert ds.num_rows == 30
    assert not [m for m in seen if "malformed" in m], seen
