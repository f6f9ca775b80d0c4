"""Curation benchmark: how well `classify` labels task types, and how well `quality-classifier` learns a judge.

    .venv/bin/python bench/curation.py classify [--per-source 50] [--llm-per-source 2]
    .venv/bin/python bench/curation.py quality  [--sample 1000]

classify: an evaluation set built from public data whose task type is known from where it comes from (none
of it was used to write the label lists in data/labels/sft-axes.yaml): T0 prompt templates of Self-Instruct's
fine-tuning data (summarisation, classification, closed QA, story generation) and GPTeacher's code
instructions, `--per-source` seeded rows each; plus English (alpaca-libre) vs Chinese (alpaca_chinese) rows
for the language axis. Prints accuracy per method against the majority-class baseline, rows/s, and the ratio
of the embedding method's speed to the LLM method's (the embedded SmolLM2 with the rubric prompt), measured
in the same run on the same rows.

quality: alpaca-libre rows carry their generator's own verdict (`status`: ok, too similar, too short,
blacklist). A scripted judge that returns that verdict (5 for ok, 1 otherwise) stands in for an LLM judge;
the stage judges `--sample` rows, trains on 80% of them and reports agreement on the other 20%; the script
also scores the rows nobody judged against their status.

Needs ../shared/data/external (see tests/conftest.py). Results: bench/RESULTS-curation.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import polars as pl

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"
TASK_SOURCES = {  # file -> (mapping, the task type the source is)
    "self_instruct_t0/xsum_DOC_tldr.jsonl": ("prompt-completion", "summarization"),
    "self_instruct_t0/imdb_Movie_Expressed_Sentiment.jsonl": ("prompt-completion", "classification"),
    "self_instruct_t0/rotten_tomatoes_Reviewer_Enjoyment.jsonl": ("prompt-completion", "classification"),
    "self_instruct_t0/trec_trec1.jsonl": ("prompt-completion", "classification"),
    "self_instruct_t0/adversarial_qa_dbert_answer_the_following_q.jsonl": ("prompt-completion", "closed_qa"),
    "self_instruct_t0/duorc_ParaphraseRC_answer_question.jsonl": ("prompt-completion", "closed_qa"),
    "self_instruct_t0/qasc_qa_with_separated_facts_4.jsonl": ("prompt-completion", "closed_qa"),
    "self_instruct_t0/cnn_dailymail_3_0_0_spice_up_story.jsonl": ("prompt-completion", "generation"),
    "gpteacher/codegen-instruct.json": ("gpteacher", "code"),
}


def load(path: str, mapping: str, source: str, n: int, seed: int = 0) -> pl.DataFrame:
    from dsforge.pipelines.core.readers import InputSpec, read_inputs

    df = read_inputs([InputSpec(path=str(EXTERNAL / path), mapping=mapping, source=source)]).kept
    return df.sample(min(n, df.height), seed=seed, shuffle=True)


def eval_set(per_source: int) -> pl.DataFrame:
    frames = []
    for path, (mapping, task) in TASK_SOURCES.items():
        frames.append(load(path, mapping, Path(path).stem[:24], per_source).with_columns(pl.lit(task).alias("gold")))
    return pl.concat(frames, how="diagonal_relaxed")


def accuracy(pred: list, gold: list) -> float:
    return sum(p == g for p, g in zip(pred, gold)) / max(len(gold), 1)


def run_classify(df: pl.DataFrame, method: str, work: Path, **extra) -> tuple[pl.DataFrame, float]:
    from dsforge.filters.curate.classify import Classify
    from dsforge.pipelines.core.stage import StageContext

    stage = Classify({"axes": ["task_type"], "method": method, **extra})
    ctx = StageContext(work_dir=work, progress=False)
    stage.process(df.head(2), ctx)  # load the model before timing
    t0 = time.perf_counter()
    out = stage.process(df, ctx).kept
    return out, time.perf_counter() - t0


def bench_classify(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-curation-"))
    df = eval_set(args.per_source)
    gold = df["gold"].to_list()
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    out, secs = run_classify(df, "embedding", work)
    pred = out["task_type"].to_list()
    print(f"task_type, embedding (MiniLM zero-shot): {len(gold)} rows from {len(TASK_SOURCES)} sources")
    print(f"  accuracy {accuracy(pred, gold):.3f}  vs majority baseline {majority:.3f}  "
          f"({len(gold) / secs:.1f} rows/s)")
    for task in sorted(set(gold)):
        idx = [i for i, g in enumerate(gold) if g == task]
        got = Counter(pred[i] for i in idx)
        print(f"  {task:15s} recall {got[task] / len(idx):.2f}  predicted as: "
              + ", ".join(f"{k} {v}" for k, v in got.most_common(3)))
    if args.llm_per_source:
        sub = pl.concat([g.head(args.llm_per_source) for _, g in df.group_by("source", maintain_order=True)])
        llm, lsecs = run_classify(sub, "llm", work, model={"backend": "transformers", "model": "smollm2", "batch_size": 4})
        emb = out.filter(pl.col("id").is_in(sub["id"].to_list()))
        emb = sub.select("id").join(emb, on="id", how="left")
        g = sub["gold"].to_list()
        print(f"task_type on the same {sub.height} rows: embedding accuracy {accuracy(emb['task_type'].to_list(), g):.3f}, "
              f"llm (SmolLM2-135M, rubric) accuracy {accuracy(llm['task_type'].to_list(), g):.3f} "
              f"({sum(v is None for v in llm['task_type'].to_list())} unparsable); llm {sub.height / lsecs:.2f} rows/s; "
              f"embedding / llm speed ratio {(len(gold) / secs) / (sub.height / lsecs):.0f}x")
    en = load("alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca", "en", args.per_source).with_columns(pl.lit("en").alias("gold"))
    zh = load("alpaca_chinese/zh_08.json", "alpaca", "zh", args.per_source).with_columns(pl.lit("zh").alias("gold"))
    lang = pl.concat([en, zh], how="diagonal_relaxed")
    from dsforge.filters.curate.classify import Classify
    from dsforge.pipelines.core.stage import StageContext

    lab = Classify({"axes": ["language"]}).process(lang, StageContext(work_dir=work)).kept
    print(f"language: accuracy {accuracy(lab['language'].to_list(), lang['gold'].to_list()):.3f} on {lang.height} rows "
          "(alpaca-libre en, alpaca_chinese zh; majority baseline 0.500)")


def bench_quality(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from synth_fakes import ScriptedBackend

    from dsforge.filters.curate.quality_classifier import QualityClassifier
    from dsforge.pipelines.core.fields import ref
    from dsforge.pipelines.core.stage import StageContext

    df = load("alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca", "alpaca-libre", 10**9)
    df = df.with_columns(ref("metadata.status").expr().alias("status"))
    good = dict(zip(df["response"].to_list(), (df["status"] == "ok").to_list()))

    def judge(prompt: str, conv, i: int) -> str:
        response = prompt.split("RESPONSE:\n", 1)[1].rsplit("\n\nReply with JSON", 1)[0]
        return json.dumps({"score": 5 if good.get(response) else 1, "reason": "generator status"})

    ctx = StageContext(work_dir=Path(tempfile.mkdtemp(prefix="bench-quality-")), extras={"backend": ScriptedBackend(judge)})
    t0 = time.perf_counter()
    res = QualityClassifier({"sample_size": args.sample}).process(df, ctx)
    secs = time.perf_counter() - t0
    a = res.stats["agreement"]
    print(f"quality-classifier on {df.height} alpaca-libre rows, judge = generator status (ok -> 5, else 1), "
          f"{res.stats['judged']} judged, {res.stats['train']} trained on, {res.stats['held_out']} held out, {secs:.1f} s")
    print(f"  held-out: keep agreement {a['keep_agreement']:.3f} vs majority baseline {a['majority_baseline']:.3f}, "
          f"kappa {a['cohen_kappa']:.3f}, Pearson {a.get('pearson')}, Spearman {a.get('spearman')}")
    allrows = pl.concat([res.kept, res.rejected], how="diagonal_relaxed").filter(pl.col("judge_score").is_null())
    ok = allrows["status"] == "ok"
    keep = allrows["quality_score"] >= 3
    print(f"  rows nobody judged ({allrows.height}): agreement with status {(keep == ok).mean():.3f} "
          f"vs majority baseline {max(ok.mean(), 1 - ok.mean()):.3f}")


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("classify")
    c.add_argument("--per-source", type=int, default=50)
    c.add_argument("--llm-per-source", type=int, default=2)
    q = sub.add_parser("quality")
    q.add_argument("--sample", type=int, default=1000)
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (shared machine)")
    bench_classify(args) if args.what == "classify" else bench_quality(args)


if __name__ == "__main__":
    main()
