"""Decision-quality bench: are the rows each filtering stage drops (or rewrites) really junk, on real data?

    .venv/bin/python bench/decisions.py [--datasets a,b] [--stages x,y] [--cap 2000] [--keeps 20] [--rerun]
    .venv/bin/python bench/decisions.py --pending      # print the sampled rows that have no label yet

For every dataset below (public data nobody tuned the stages on, ../shared/data/external/, plus CHAMP maths
solutions from bench/decisions_data/) and every filtering stage run with its DEFAULTS (the few parameters a
stage cannot run without are in STAGES, with why), the bench samples the rows the stage acted on (all if
few, else `--rejects`) and `--keeps` rows it kept, and looks up a label for each in bench/decisions_labels/:
`junk` (the stage was right to drop or rewrite it) or `fine`. It prints, per stage and dataset:

    precision of rejects = rejects labelled junk / rejects labelled      (target >= 0.9)
    missed junk          = keeps labelled junk / keeps labelled

Labels are keyed by what was judged (`family` + sha256 of the row text, and of its twin for duplicates), so a
re-run after a change reuses them and lists only new samples as pending. Families: `content` (quality,
repetition, length: is the row junk as a training example), `lang` (language-filter: is the row in none of
the wanted languages), `pii` (does the row hold private data the stage should remove), `dup` (is the row a
duplicate of its twin). Decisions are cached per dataset and stage under --cache (delete or --rerun).
Results: bench/RESULTS-decisions.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
EXTERNAL = HERE.parents[1] / "shared" / "data" / "external"
LABELS = HERE / "decisions_labels"
DATASETS = {  # name -> [(path, mapping)]
    "alpaca_libre": [(EXTERNAL / "alpaca_libre/alpaca_libre_tasks_v1.jsonl", "alpaca")],
    "gpt_toolformer": [(EXTERNAL / "gpteacher/toolformer-dedupe-only-dataset.json", "gpteacher")],
    "gpt_codegen": [(EXTERNAL / "gpteacher/codegen-instruct.json", "gpteacher")],
    "gpt_roleplay": [(EXTERNAL / "gpteacher/roleplay-simple-deduped-roleplay-instruct.json", "gpteacher")],
    "self_instruct_t0": [(p, "prompt-completion") for p in sorted((EXTERNAL / "self_instruct_t0").glob("*.jsonl"))],
    "alpaca_seeds": [(EXTERNAL / "stanford_alpaca/seed_tasks.jsonl", "seed-tasks")],
    "alpaca_chinese": [(p, "alpaca") for p in sorted((EXTERNAL / "alpaca_chinese").glob("zh_*.json"))],
    "champ_math": [(HERE / "decisions_data/champ_math.jsonl", "alpaca")],
}
# stage -> (params, label family). {} is the stage's defaults. Where the defaults act on nothing, the
# parameters are the README's main recipe / the shipped clean-instructions recipe, as a user would set them.
STAGES = {
    "quality-filter": ({}, "content"),
    "repetition-filter": ({}, "content"),
    "length-filter": ({"field": "response", "min_words": 1}, "content"),      # README's main recipe
    "language-filter": ({"keep": ["en", "zh"]}, "lang"),                      # keep is required to act
    "pii": ({}, "pii"),
    "exact-dedup": ({}, "dup"),
    "minhash-dedup": ({}, "dup"),
    "semantic-dedup": ({}, "dup"),
}
LABELLER = "LLM agent (Claude) reading the row, 2026-12-07"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def row_text(row: dict) -> str:
    """The row as a reader sees it: prompt, input and answer."""
    parts = [row.get("instruction") or row.get("text") or "", row.get("input") or "", row.get("response") or ""]
    return "\n---\n".join(p for p in parts)


def load_dataset(name: str, cap: int, seed: int = 0) -> pl.DataFrame:
    from dsforge.pipelines.core.readers import InputSpec, read_inputs

    specs = [InputSpec(path=str(p), mapping=m, source=name if len(DATASETS[name]) == 1 else f"{name}:{Path(p).stem[:20]}")
             for p, m in DATASETS[name]]
    df = read_inputs(specs).kept
    return df.sample(cap, seed=seed, shuffle=True) if df.height > cap else df


def run_stage(stage_name: str, df: pl.DataFrame, work: Path) -> tuple[pl.DataFrame, pl.DataFrame, float]:
    """(kept, rejected, seconds) of one stage with the bench's parameters, in process."""
    from dsforge.pipelines.core.registry import stage_class
    from dsforge.pipelines.core.stage import StageContext

    params, _ = STAGES[stage_name]
    stage = stage_class(stage_name)(params)
    t0 = time.perf_counter()
    res = stage.process(df, StageContext(work_dir=work, progress=False))
    rejected = res.rejected if res.rejected is not None else df.clear()
    return res.kept, rejected, time.perf_counter() - t0


def decisions(stage_name: str, df: pl.DataFrame, kept: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """One row per input row: id, acted (dropped or rewritten), reason, detail, before, after."""
    before = {r["id"]: r for r in df.iter_rows(named=True)}
    out = []
    for r in rejected.iter_rows(named=True):
        out.append({"id": r["id"], "acted": True, "reason": r.get("reason"), "detail": r.get("detail"),
                    "before": row_text(before[r["id"]]), "after": None})
    for r in kept.iter_rows(named=True):
        b, a = row_text(before[r["id"]]), row_text(r)
        changed = stage_name == "pii" and a != b
        out.append({"id": r["id"], "acted": changed, "reason": "pii:redacted" if changed else None,
                    "detail": None, "before": b, "after": a if changed else None})
    return pl.DataFrame(out, schema={"id": pl.String, "acted": pl.Boolean, "reason": pl.String,
                                     "detail": pl.String, "before": pl.String, "after": pl.String})


def twin_of(detail: str | None, texts: dict[str, str]) -> str | None:
    """The kept row a duplicate was matched to, read from the reject's detail (it names the kept id)."""
    if not detail:
        return None
    for tok in detail.replace(",", " ").replace("(", " ").replace(")", " ").split():
        if tok in texts:
            return tok
    return None


def nearest(text: str, others: list[tuple[str, str]]) -> tuple[str, float]:
    """The most similar other row by word 3-gram Jaccard (shown next to a kept row for the dup label)."""
    def grams(t):
        w = t.lower().split()
        return {tuple(w[i:i + 3]) for i in range(max(1, len(w) - 2))}
    g = grams(text)
    best = ("", -1.0)
    for oid, ot in others:
        h = grams(ot)
        j = len(g & h) / max(1, len(g | h))
        if j > best[1]:
            best = (oid, j)
    return best


def sample(dec: pl.DataFrame, stage: str, n_rejects: int, n_keeps: int, seed: int = 0) -> list[dict]:
    """Acted rows (all if few, else a seeded sample) and the kept rows with the smallest text hash, so the
    keeps sample of every stage is mostly the same rows (labelled once)."""
    family = STAGES[stage][1]
    texts = dict(zip(dec["id"], dec["before"]))
    acted = dec.filter(pl.col("acted"))
    if acted.height > n_rejects:
        acted = acted.sample(n_rejects, seed=seed)
    keeps = dec.filter(~pl.col("acted")).with_columns(
        pl.col("before").map_elements(sha, return_dtype=pl.String).alias("__h")).sort("__h").head(n_keeps)
    kept_pool = [(i, t) for i, t, a in zip(dec["id"], dec["before"], dec["acted"]) if not a]
    out = []
    for r, decision in [(r, "reject") for r in acted.iter_rows(named=True)] + \
                       [(r, "keep") for r in keeps.iter_rows(named=True)]:
        item = {"stage": stage, "family": family, "id": r["id"], "decision": decision, "reason": r["reason"],
                "detail": r["detail"], "text": r["before"], "after": r["after"], "twin": None}
        if family == "dup":
            if decision == "reject":
                tid = twin_of(r["detail"], texts)
            else:
                tid, _ = nearest(r["before"], [(i, t) for i, t in kept_pool if i != r["id"]])
            item["twin"] = texts.get(tid) if tid else None
            item["twin_id"] = tid
        key_text = item["text"] + ("\x00" + (item["twin"] or "") if family == "dup" else "")
        item["hash"] = sha(family + "\x00" + key_text)
        out.append(item)
    return out


def load_labels() -> dict[str, dict]:
    labels = {}
    for f in sorted(LABELS.glob("*.jsonl")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise SystemExit(f"{f}:{n}: bad JSON ({e})")
                if rec.get("label") not in ("junk", "fine"):
                    raise SystemExit(f"{f}:{n}: field label must be junk or fine, got {rec.get('label')!r}")
                labels[rec["text_hash"]] = rec
    return labels


def table(samples: dict[tuple[str, str], list[dict]], counts: dict, labels: dict) -> str:
    lines = ["| stage | dataset | rows | acted on | rejects labelled | precision of rejects | keeps labelled | missed junk | unlabelled |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (stage, ds), items in samples.items():
        rej = [labels[i["hash"]]["label"] for i in items if i["decision"] == "reject" and i["hash"] in labels]
        keep = [labels[i["hash"]]["label"] for i in items if i["decision"] == "keep" and i["hash"] in labels]
        pending = sum(i["hash"] not in labels for i in items)
        prec = f"{rej.count('junk') / len(rej):.2f}" if rej else "–"
        miss = f"{keep.count('junk') / len(keep):.2f}" if keep else "–"
        rows, acted = counts[(stage, ds)]
        lines.append(f"| {stage} | {ds} | {rows:,} | {acted:,} | {len(rej)} | {prec} | {len(keep)} | {miss} | {pending} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--cap", type=int, default=2000, help="rows per dataset (seeded sample)")
    ap.add_argument("--rejects", type=int, default=30)
    ap.add_argument("--keeps", type=int, default=20)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "dsforge-decisions-cache"))
    ap.add_argument("--rerun", action="store_true", help="ignore cached decisions")
    ap.add_argument("--pending", action="store_true", help="print unlabelled samples as JSONL and exit")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    labels = load_labels()
    samples, counts, seconds = {}, {}, {}
    for ds in args.datasets.split(","):
        df = None
        for stage in args.stages.split(","):
            path = cache / f"{ds}--{stage}--{args.cap}.parquet"
            if path.exists() and not args.rerun:
                dec = pl.read_parquet(path)
            else:
                df = load_dataset(ds, args.cap) if df is None else df
                kept, rejected, secs = run_stage(stage, df, cache / "work")
                dec = decisions(stage, df, kept, rejected)
                dec.write_parquet(path)
                seconds[(stage, ds)] = secs
                print(f"ran {stage} on {ds}: {dec.height} rows, {int(dec['acted'].sum())} acted on, {secs:.1f} s",
                      file=sys.stderr)
            counts[(stage, ds)] = (dec.height, int(dec["acted"].sum()))
            samples[(stage, ds)] = [dict(i, dataset=ds) for i in sample(dec, stage, args.rejects, args.keeps)]
    if args.pending:
        seen = set()
        for items in samples.values():
            for i in items:
                if i["hash"] not in labels and i["hash"] not in seen:
                    seen.add(i["hash"])
                    print(json.dumps({k: i.get(k) for k in ("dataset", "stage", "family", "id", "hash", "decision",
                                                            "reason", "detail", "text", "after", "twin")},
                                     ensure_ascii=False))
        return
    order = {s: n for n, s in enumerate(STAGES)}
    samples = dict(sorted(samples.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])))
    print(table(samples, counts, labels))
    below = [(s, d) for (s, d), items in samples.items()
             if (r := [labels[i["hash"]]["label"] for i in items if i["decision"] == "reject" and i["hash"] in labels])
             and r.count("junk") / len(r) < 0.9]
    print(f"\nbelow 0.9 precision: {', '.join(f'{s} on {d}' for s, d in below) or 'none'}")


if __name__ == "__main__":
    main()
