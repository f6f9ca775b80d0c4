"""Build champ_math.jsonl: maths problems with step-by-step solutions, from the PyPI package champ-dataset.

Why: the decision bench needs a maths set with worked, step-by-step answers (repetition-filter dropped 12% of
such answers in issue 27). GSM8K is not shipped by any PyPI package we could find (aviary-gsm8k 0.37.0 has
code only); CHAMP (Mao, Kim, Zhou 2024, MIT licence, champ-dataset 1.0.0, dataset_files/v0.json) ships 270
competition problems, each with a human step-wise solution and GPT-3.5's worked solution.

    pip download --no-deps champ-dataset==1.0.0 -d /tmp/champ && python bench/decisions_data/build_champ.py /tmp/champ/*.whl

One row per problem and solution: {instruction, output, source_solution: human|gpt-3.5, id}. The model's
solutions are kept whether right or wrong: the bench judges the filters, not the maths.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read("champ_dataset/dataset_files/v0.json"))
    out = Path(__file__).with_name("champ_math.jsonl")
    rows = []
    for pid, p in sorted(data["problems"].items()):
        steps = "\n".join(f"{i}. {s['_text']}" for i, s in enumerate(p["solution"]["steps"], 1))
        rows.append({"id": f"{pid}-human", "instruction": p["_text"], "input": "",
                     "output": f"Step-wise solution:\n{steps}\nAnswer: {p['_answer']}", "source_solution": "human"})
        model = (p.get("fws_annotations") or {}).get("GPT-3.5|No C w/o H")
        if model and model.get("text"):
            rows.append({"id": f"{pid}-gpt35", "instruction": p["_text"], "input": "", "output": model["text"],
                         "source_solution": "gpt-3.5"})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{out}: {len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv[1])
