"""decontaminate: drop training rows that share word n-grams (13 by default) with evaluation sets.

Why: a benchmark question in the training data makes the benchmark score meaningless. GPT-3 and Llama
report contamination as 13-gram overlap between training text and eval items; we do the same, on
normalised words (lower case, punctuation removed), and name the benchmark file and row each hit came
from so the report can be checked by hand.

Eval files are read with dsforge's readers (JSONL, JSON, Parquet, CSV, saved HF datasets; `mapping` as in
recipe inputs). An eval row shorter than `ngram` words but at least `min_words` long is matched as a whole
(its full word sequence), so short questions are not missed; shorter ones are ignored (too common).

Hashing is vectorised (shingles.py); matching is a sorted-array lookup (np.searchsorted), so the cost is
linear in the total number of words. A report (data row, benchmark file, benchmark row, shared n-grams, an
example n-gram) goes to decontaminate-report.parquet in the stage's work folder.
Not here: fuzzy/semantic contamination (use semantic-dedup against the eval set for that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.neardup.shingles import ngram_hashes, normalise, token_hashes
from dsforge.pipelines.core.readers import DataError, InputSpec, read_input
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult


class DecontaminateConfig(StageConfig):
    eval_files: list[str | dict[str, Any]] = Field(
        description="evaluation sets: paths, or {path, mapping, format, source} as recipe inputs")
    eval_field: TextField = Field(ref("prompt"), description="logical field of eval rows to match (prompt, conversation, ...)")
    field: TextField = Field(ref("conversation"), description="logical field of training rows to search")
    ngram: int = Field(13, ge=3, le=64, description="n-gram size in words")
    min_words: int = Field(8, ge=1, description="eval rows shorter than ngram but at least this long match as a whole")
    min_matches: int = Field(1, ge=1, description="shared n-grams that make a row contaminated")
    drop: bool = Field(True, description="drop contaminated rows (false: keep them, marked in `contaminated_by`)")


def _grams(normed: pl.Series, n: int, min_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hashes, owner row, start word, width) of the n-grams of normalised texts, short texts whole."""
    tok, lens = token_hashes(normed, "word")
    sh = ngram_hashes(tok, lens, n)
    owner = sh.doc_of
    start = np.arange(len(sh.hashes)) - sh.starts[owner]
    width = np.minimum(lens[owner], n)
    keep = width >= min(min_words, n)
    return sh.hashes[keep], owner[keep], start[keep], width[keep]


class Decontaminate(Stage[DecontaminateConfig]):
    """Drop rows that share n-grams with evaluation files, naming the benchmark row they hit."""

    name = "decontaminate"
    mode = "table"
    Config = DecontaminateConfig
    batch_size = None  # the eval index is built once per run

    def _load_eval(self, ctx: StageContext) -> tuple[pl.DataFrame, list[str]]:
        cfg = self.config
        tables, names = [], []
        for i, item in enumerate(cfg.eval_files):
            spec = InputSpec(path=item) if isinstance(item, str) else InputSpec(**item)
            try:
                res = read_input(spec, ctx.base_dir, strict=False, progress=False)
            except DataError as e:
                raise DataError(f"decontaminate: eval_files[{i}]: {e}") from None
            file_name = res.manifest[0]["given_path"] if res.manifest else spec.path
            names.append(file_name)
            tables.append(res.kept.select("id", cfg.eval_field.expr().fill_null("").alias("__t"))
                          .with_columns(pl.lit(i).alias("__file")))
        return pl.concat(tables), names

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        evals, files = self._load_eval(ctx)
        ev_norm = normalise(evals["__t"])
        e_hash, e_owner, _, e_width = _grams(ev_norm, cfg.ngram, cfg.min_words)
        order = np.argsort(e_hash, kind="stable")
        e_hash, e_owner = e_hash[order], e_owner[order]
        widths = sorted(set(e_width.tolist()))  # data n-grams are needed at each width eval grams have

        norm = normalise(df.select(cfg.field.expr().fill_null("").alias("t"))["t"])
        tok, lens = token_hashes(norm, "word")
        hit_row, hit_eval, hit_start, hit_width = [], [], [], []
        for w in widths:
            sh = ngram_hashes(tok, lens, w)
            owner = sh.doc_of
            full = np.minimum(lens[owner], w) == w
            h, owner = sh.hashes[full], owner[full]
            start = (np.arange(len(sh.hashes)) - sh.starts[sh.doc_of])[full]
            pos = np.searchsorted(e_hash, h)
            pos[pos == len(e_hash)] = 0
            hit = e_hash[pos] == h if len(e_hash) else np.zeros(len(h), bool)
            hit_row.append(owner[hit]), hit_eval.append(e_owner[pos[hit]]), hit_start.append(start[hit])
            hit_width.append(np.full(int(hit.sum()), w))
        hits = pl.DataFrame({
            "__row": np.concatenate(hit_row) if hit_row else np.zeros(0, np.int64),
            "__eval": np.concatenate(hit_eval) if hit_eval else np.zeros(0, np.int64),
            "__start": np.concatenate(hit_start) if hit_start else np.zeros(0, np.int64),
            "__w": np.concatenate(hit_width) if hit_width else np.zeros(0, np.int64),
        }, schema={"__row": pl.Int64, "__eval": pl.Int64, "__start": pl.Int64, "__w": pl.Int64})
        per_row = (
            hits.sort("__row", "__start")
            .group_by("__row", maintain_order=True)
            .agg(pl.len().alias("shared_ngrams"), pl.col("__eval").first(), pl.col("__start").first(),
                 pl.col("__w").first(), pl.col("__eval").n_unique().alias("benchmark_rows"))
            .filter(pl.col("shared_ngrams") >= cfg.min_matches)
        )
        ev_ref = evals.with_row_index("__eval").select(
            pl.col("__eval").cast(pl.Int64), pl.col("id").alias("benchmark_row"),
            pl.col("__file").replace_strict(dict(enumerate(files)), return_dtype=pl.String).alias("benchmark_file"))
        words = norm.gather(per_row["__row"]).str.split(" ")
        example = [" ".join(ws[s:s + w]) for ws, s, w in zip(words.to_list(), per_row["__start"].to_list(),
                                                               per_row["__w"].to_list())]
        report = (
            per_row.with_columns(pl.Series("example_ngram", example, dtype=pl.String))
            .join(ev_ref, on="__eval", how="left")
            .with_columns(pl.Series("id", df["id"].gather(per_row["__row"])))
            .select("__row", "id", "benchmark_file", "benchmark_row", "shared_ngrams", "benchmark_rows", "example_ngram")
        )
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        report.drop("__row").write_parquet(ctx.work_dir / "decontaminate-report.parquet")

        flag = np.zeros(df.height, dtype=bool)
        flag[report["__row"].to_numpy()] = True
        by = pl.Series("contaminated_by", [None] * df.height, dtype=pl.String).scatter(
            report["__row"], (report["benchmark_file"] + " " + report["benchmark_row"]))
        detail = pl.format("{}-gram overlap with {} row {} ({} shared n-grams, {} benchmark rows), e.g. '{}'",
                           pl.lit(cfg.ngram), pl.col("benchmark_file"), pl.col("benchmark_row"),
                           pl.col("shared_ngrams"), pl.col("benchmark_rows"), pl.col("example_ngram"))
        marked = df.with_columns(by)
        stats = {"eval_files": files, "eval_rows": evals.height, "eval_ngrams": int(len(e_hash)),
                 "contaminated": int(flag.sum()),
                 "by_file": dict(report.group_by("benchmark_file").len().iter_rows()) if report.height else {}}
        if not cfg.drop:
            return StageResult(kept=marked, rejected=None, stats=stats)
        info = report.select("__row", "benchmark_file", "benchmark_row", "shared_ngrams", "benchmark_rows", "example_ngram")
        dropped = marked.with_row_index("__row").with_columns(pl.col("__row").cast(pl.Int64)).join(
            info, on="__row", how="inner", maintain_order="left")
        rejected = self.reject(dropped, "eval_overlap", detail).drop(
            "__row", "benchmark_file", "benchmark_row", "shared_ngrams", "benchmark_rows", "example_ngram")
        return StageResult(kept=marked.filter(pl.Series(~flag)), rejected=rejected, stats=stats)
