"""Build data/filters/common_words_en.txt: English words written in lower case at least 4 times in openly
licensed instruction data (alpaca-libre CC0; GPTeacher MIT; self-instruct T0 Apache-2.0, which carries news
and movie-review text). A word people write in lower case is an ordinary word; the PII name and place
finders use the list to tell "Salary account" from "Salma Akhtar" (pii_names.common_words).

    python data/filters/build_common_words.py ../shared/data/external
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

WORD = re.compile(r"(?<![\w@./\-'])[a-z]{3,}(?![\w@/\-])")


def texts(root: Path):
    for f in [root / "alpaca_libre/alpaca_libre_tasks_v1.jsonl", *sorted((root / "self_instruct_t0").glob("*.jsonl"))]:
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                yield " ".join(str(v) for v in json.loads(line).values())
            except json.JSONDecodeError:
                continue
    for f in sorted((root / "gpteacher").glob("*.json")):
        for row in json.loads(f.read_text(encoding="utf-8")):
            yield " ".join(str(v) for v in row.values())


def main(root: str) -> int:
    counts = Counter(w for t in texts(Path(root)) for w in WORD.findall(t))
    words = sorted(w for w, n in counts.items() if n >= 4)
    out = Path(__file__).with_name("common_words_en.txt")
    out.write_text("# " + __doc__.splitlines()[0] + "\n" + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/external"))
