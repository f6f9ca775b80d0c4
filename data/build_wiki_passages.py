"""Build data/wiki_passages.jsonl and data/eval/wiki_qa_sample.jsonl from the AdversarialQA rows of yizhongw/self-instruct.

Why: instruction back-translation needs human-written text nobody wrote a prompt for, and decontamination
needs an evaluation set that really shares text with it. AdversarialQA (Bartolo et al. 2020) asks questions
about SQuAD's Wikipedia paragraphs; the self-instruct repository's T0 file quotes 48 distinct paragraphs in
200 question prompts. The paragraphs become documents; the evaluation sample is 24 questions (with their
paragraph and answer) on paragraphs drawn at random with a fixed seed, as SQuAD splits by article: every
one of those paragraphs is also a document (as happens when a training set is built from Wikipedia and a
benchmark from SQuAD), so decontamination has them to remove, and the other 42 paragraphs are free for
back-translation. (Until 2026-12-07 the 24 questions were drawn from all 200 and quoted 21 paragraphs,
leaving 27.)

    python data/build_wiki_passages.py [../shared/data/external/self_instruct_t0]

Not here: any cleaning (the recipe does that) or any other T0 template.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

SOURCE_FILE = "adversarial_qa_dbert_answer_the_following_q.jsonl"
PROMPT = re.compile(r'^Given the following passage\s+"(?P<passage>.*)",\s+answer the following question\. '
                    r'Note that the answer is present within the text\.\s+Question: (?P<question>.*?)\s*$', re.S)
EVAL_ROWS = 24


def main(folder: str = "../shared/data/external/self_instruct_t0") -> None:
    here = Path(__file__).parent
    lines = (Path(folder) / SOURCE_FILE).read_text(encoding="utf-8").splitlines()
    passages: dict[str, str] = {}
    qa = []
    for n, line in enumerate(lines, 1):
        row = json.loads(line)
        m = PROMPT.match(row["prompt"])
        if m is None:
            raise SystemExit(f"{SOURCE_FILE}:{n}: prompt does not follow the AdversarialQA template")
        passage = m["passage"].strip()
        doc_id = passages.setdefault(passage, f"wiki-{len(passages):03d}")
        answer = row["completion"].replace("<|endoftext|>", "").strip()
        qa.append({"id": f"wiki-qa-{n:03d}", "instruction": m["question"], "input": passage, "output": answer,
                   "passage_id": doc_id})
    docs = [{"id": doc_id, "text": text} for text, doc_id in passages.items()]
    (here / "wiki_passages.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs),
                                              encoding="utf-8")
    held_out, count = set(), 0
    order = sorted(passages.values())
    random.Random(0).shuffle(order)
    for doc_id in order:  # whole paragraphs, until they hold EVAL_ROWS questions
        if count >= EVAL_ROWS:
            break
        held_out.add(doc_id)
        count += sum(1 for r in qa if r["passage_id"] == doc_id)
    pool = [r for r in qa if r["passage_id"] in held_out]
    sample = sorted(random.Random(0).sample(pool, EVAL_ROWS), key=lambda r: r["id"])
    (here / "eval").mkdir(exist_ok=True)
    (here / "eval" / "wiki_qa_sample.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample), encoding="utf-8")
    print(f"{len(docs)} passages, {len(sample)} eval questions on "
          f"{len({r['passage_id'] for r in sample})} of them")


if __name__ == "__main__":
    main(*sys.argv[1:])
