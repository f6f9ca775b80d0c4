"""The dataset card's YAML metadata, built with the Hub's own classes so the Hub and `datasets` read it back.

`huggingface_hub.DatasetCardData` holds the fields; `datasets.DatasetInfo` with a `SplitInfo` per split
(num_examples AND num_bytes: without num_bytes every `load_dataset` warns "`splits` field in YAML is
malformed") gives `dataset_info`. Licences become the Hub's identifiers (data/card/hub_licenses.tsv: a whole
match of the identifier or an alias; free text the list does not know becomes `other` + license_name);
`language` is the inspect step's when one ran, else measured here with py3langid on a sample; and
`source_datasets` lists only Hub dataset ids (owner/name), never local names or paths.

Not here: the card's Markdown body (card.py), writing files (publish.py).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

LICENSES_FILE = Path(__file__).resolve().parents[2] / "data" / "card" / "hub_licenses.tsv"
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
LANGUAGE_SAMPLE, LANGUAGE_CHARS, LANGUAGE_SHARE = 500, 200, 0.05


@lru_cache(maxsize=1)
def hub_licences() -> dict[str, str]:
    """{spelling: Hub identifier} for every identifier and alias in the licence file."""
    table: dict[str, str] = {}
    for line in LICENSES_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ident, _, aliases = line.partition("\t")
        for spelling in (ident, *filter(None, aliases.split("|"))):
            table[spelling.strip()] = ident.strip()
    return table


def _spelling(text: str) -> str:
    text = re.sub(r"\([^)]*\)|,", " ", text.lower())  # "(public domain dedication)", "(from LICENSE ...)"
    text = re.sub(r"\b(licen[cs]e|version|v)\b(?=[\s\d.-]*$)|\blicen[cs]e\b$", " ", text.strip())
    return re.sub(r"[\s_]+", "-", text.strip()).strip("-")


def hub_licence(text: str | None) -> str | None:
    """The Hub identifier for one licence text, or None when the list does not know it.

    "code Apache-2.0; data CC BY-NC 4.0" is a data set's licence: the part that says `data`, else the whole
    text, else its first clause ("CC BY-SA 4.0 (...); the repository is Apache-2.0")."""
    if not text or text.startswith("unknown"):
        return None
    parts = [p.strip() for p in text.split(";")]
    data = [p[4:].strip() for p in parts if p.lower().startswith("data ")]
    for candidate in (data[0] if data else text, text, parts[0]):
        got = hub_licences().get(_spelling(candidate))
        if got:
            return got
    return None


def licence_fields(texts: list[str], given: str | None) -> dict[str, Any]:
    """license (+ license_name and license_link for `other`) from the recipe's licence or the inputs' ones."""
    texts = [given] if given else sorted(set(texts))
    ids = [hub_licence(t) for t in texts]
    if texts and all(ids):
        distinct = sorted(set(ids))  # type: ignore[arg-type]
        return {"license": distinct[0] if len(distinct) == 1 else distinct}
    unknown = [t for t, i in zip(texts, ids) if not i and t and not t.startswith("unknown")]
    name = "mixed" if len(texts) > 1 else re.sub(r"[^a-z0-9]+", "-", unknown[0].lower()).strip("-")[:60] \
        if unknown else "unknown"
    return {"license": "other", "license_name": name or "unknown", "license_link": "README.md#sources-and-licences"}


def inspect_languages(stats: list[dict[str, Any]]) -> Counter:
    langs: Counter = Counter()
    for s in stats:
        if str(s.get("stage", "")).startswith("inspect"):
            langs = Counter((s.get("stage_stats") or {}).get("language", {}).get("counts", {}))
    return langs


def measure_languages(df: pl.DataFrame, sample: int = LANGUAGE_SAMPLE) -> Counter:
    """py3langid on the first characters of each row's conversation, for up to `sample` rows (seeded);
    rows under 20 characters are left out (py3langid guesses at random on "Hi")."""
    try:
        import py3langid as langid
    except ImportError:
        return Counter()
    from dsforge.pipelines.core.fields import ref

    if df.height == 0 or "kind" not in df.columns:
        return Counter()
    rows = df.sample(sample, seed=0) if df.height > sample else df
    texts = rows.select(ref("conversation").expr().alias("t"))["t"].drop_nulls().str.slice(0, LANGUAGE_CHARS)
    return Counter(langid.classify(t)[0] for t in texts.to_list() if len(t.strip()) >= 20)  # shorter: a guess


def main_languages(langs: Counter) -> list[str]:
    total = sum(langs.values())
    return [lang for lang, n in langs.most_common() if total and n / total >= LANGUAGE_SHARE
            and re.fullmatch(r"[a-z]{2,3}", lang) and lang != "zxx"]


def hub_sources(inputs: list[dict[str, Any]]) -> list[str]:
    """Inputs named by a Hub dataset id (owner/name) that is not a local path; local names never appear."""
    out = set()
    for i in inputs:
        for name in (i.get("source"), i.get("given_path")):
            if isinstance(name, str) and HUB_ID.fullmatch(name) and not Path(name).exists():
                out.add(name)
    return sorted(out)


def dataset_info(written: Any) -> dict[str, Any]:
    """`dataset_info` as `datasets` writes it: features read from the files, a SplitInfo per split with its
    row count and bytes (the Parquet files' uncompressed size), download_size and dataset_size."""
    import datasets
    import pyarrow.parquet as pq

    files = {s: [written.out_dir / f for f in names] for s, names in written.files.items()}
    first = next((f for names in files.values() for f in names), None)
    if first is not None:
        features = datasets.Features.from_arrow_schema(pq.read_schema(first))
    elif written.hf:
        features = next(iter(datasets.load_from_disk(str(written.out_dir / written.hf)).values())).features
    else:
        return {}
    splits = datasets.SplitDict()
    for split, n in written.splits.items():
        metas = [pq.read_metadata(f) for f in files.get(split, [])]
        nbytes = sum(m.row_group(g).total_byte_size for m in metas for g in range(m.num_row_groups))
        splits.add(datasets.SplitInfo(name=split, num_bytes=nbytes, num_examples=n))
    info = datasets.DatasetInfo(features=features, splits=splits, dataset_size=splits.total_num_examples and
                                sum(s.num_bytes for s in splits.values()),
                                download_size=sum(f.stat().st_size for names in files.values() for f in names) or None)
    return info._to_yaml_dict()


def card_data(**fields: Any):
    """A huggingface_hub DatasetCardData (empty fields left out)."""
    from huggingface_hub import DatasetCardData

    return DatasetCardData(**{k: v for k, v in fields.items() if v not in (None, [], {})})
