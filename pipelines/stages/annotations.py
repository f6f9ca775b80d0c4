"""annotations: feed people's labels (from `dsforge review`) back into a recipe: keep or drop rows by label,
and let a person's verdict override an AI judge's.

    - stage: annotations
      labels: runs/my-sft-20261201-120000/labels.parquet   # or the run folder itself
      combine: majority          # several annotators: majority | any-reject | unanimous
      unlabelled: keep           # rows nobody labelled: keep | drop | judge (use the judge's verdict)
      min_score: 3               # optional: also drop rows whose mean human score is below this

Per row, the accept/reject labels are combined into one decision: `majority` (more accepts than rejects;
a tie is rejected as `annotations:tie`), `any-reject` (one reject drops it) or `unanimous` (every label
must accept). Rejects name the reason (`annotations:rejected_by_annotator`, `annotations:tie`,
`annotations:low_score`, `annotations:unlabelled`, `annotations:judge_rejected`) and the detail names the
annotators and their notes. Kept rows gain `annotation_decision` (accept, reject, tie or null),
`annotation_score` (mean human score) and `annotation_count`.

Overriding a judge: run the judge with `on_fail: flag` (it keeps every row with `judge_score`/`judge_label`),
then this stage with `unlabelled: judge`: a human label decides where there is one, the judge's verdict
(`judge_min_score`, or `judge_keep_label`) everywhere else. The labels file is a parameter, so its content
is part of the step's fingerprint: new labels recompute the step on the next run.

Not here: writing labels (labels.py) or agreement figures (pipelines/stages/inspect/annotators.py).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult


class AnnotationsConfig(StageConfig):
    labels: str = Field(description="labels Parquet file written by `dsforge review` (or the run folder holding it)")
    annotators: list[str] | None = Field(None, description="use only these annotators' labels (default: all)")
    combine: Literal["majority", "any-reject", "unanimous"] = Field(
        "majority", description="how several annotators' accept/reject labels make one decision")
    unlabelled: Literal["keep", "drop", "judge"] = Field(
        "keep", description="rows without an accept/reject label: keep, drop, or follow the judge's verdict")
    min_score: float | None = Field(None, description="drop rows whose mean human score is below this")
    judge_min_score: float = Field(4.0, description="unlabelled: judge — keep rows with judge_score >= this")
    judge_keep_label: str | None = Field(None, description="unlabelled: judge — keep rows whose judge_label is this "
                                                           "(instead of judge_min_score)")


class Annotations(Stage):
    """Keep or drop rows by people's labels from `dsforge review`, overriding a judge where they labelled."""

    name = "annotations"
    mode = "rows"
    Config = AnnotationsConfig
    batch_size = 50_000

    def _decisions(self, ctx: StageContext) -> pl.DataFrame:
        """One row per labelled id: decision, mean score, count, and a detail naming who said what."""
        from dsforge.pipelines.stages.labels import LabelError, labels_path, read_labels

        cfg: AnnotationsConfig = self.config
        path = labels_path(ctx.resolve(cfg.labels))
        if not path.exists():
            raise ConfigError(f"annotations: labels file not found: {path} (label rows with `dsforge review RUN_DIR` first)")
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)  # one read per worker, again only when the file changed
        cached = getattr(self, "_cached", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            t = read_labels(path)
        except LabelError as e:
            raise ConfigError(f"annotations: {e}") from None
        if cfg.annotators:
            t = t.filter(pl.col("annotator").is_in(cfg.annotators))
        acc, rej = (pl.col("label") == "accept").sum(), (pl.col("label") == "reject").sum()
        n = acc + rej
        decision = {
            "majority": pl.when(acc > rej).then(pl.lit("accept")).when(rej > acc).then(pl.lit("reject")),
            "any-reject": pl.when(rej > 0).then(pl.lit("reject")).when(acc > 0).then(pl.lit("accept")),
            "unanimous": pl.when((acc > 0) & (rej == 0)).then(pl.lit("accept")).when(rej > 0).then(pl.lit("reject")),
        }[cfg.combine]
        said = pl.concat_str([pl.col("annotator"), pl.lit(": "), pl.col("label").fill_null("-"),
                              pl.when(pl.col("score").is_not_null()).then(pl.lit(" ") + pl.col("score").cast(pl.String))
                              .otherwise(pl.lit("")),
                              pl.when(pl.col("note").is_not_null()).then(pl.lit(" (") + pl.col("note") + pl.lit(")"))
                              .otherwise(pl.lit(""))])
        out = (t.sort("annotator").group_by("id").agg(
            pl.when(n == 0).then(pl.lit(None, dtype=pl.String)).otherwise(decision.otherwise(pl.lit("tie")))
            .alias("annotation_decision"),
            pl.col("score").mean().alias("annotation_score"),
            pl.len().cast(pl.Int64).alias("annotation_count"),
            said.str.join("; ").alias("__said")))
        self._cached = (key, out)
        return out

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: AnnotationsConfig = self.config
        d = self._decisions(ctx)
        joined = df.join(d, on="id", how="left", maintain_order="left").with_columns(
            pl.col("annotation_count").fill_null(0))
        decision, score = pl.col("annotation_decision"), pl.col("annotation_score")
        if cfg.unlabelled == "judge":
            judge_ok = self._judge_ok(df)
        reason = (pl.when(decision == "reject").then(pl.lit("annotations:rejected_by_annotator"))
                  .when(decision == "tie").then(pl.lit("annotations:tie")))
        if cfg.min_score is not None:
            reason = reason.when(score.is_not_null() & (score < cfg.min_score)).then(pl.lit("annotations:low_score"))
        if cfg.unlabelled == "drop":
            reason = reason.when(decision.is_null()).then(pl.lit("annotations:unlabelled"))
        elif cfg.unlabelled == "judge":
            reason = reason.when(decision.is_null() & ~judge_ok).then(pl.lit("annotations:judge_rejected"))
        joined = joined.with_columns(reason.otherwise(pl.lit(None, dtype=pl.String)).alias("__reason"))
        judge_text = self._judge_text() if cfg.unlabelled == "judge" else pl.lit("")
        detail = (pl.when(pl.col("__reason") == "annotations:low_score")
                  .then(pl.lit(f"mean human score < min_score {cfg.min_score}: ") + pl.col("__said"))
                  .when(pl.col("__reason") == "annotations:unlabelled").then(pl.lit("no accept/reject label"))
                  .when(pl.col("__reason") == "annotations:judge_rejected").then(pl.lit("no human label; judge: ") + judge_text)
                  .otherwise(pl.lit(f"{cfg.combine} of labels: ") + pl.col("__said")))
        bad = pl.col("__reason").is_not_null()
        rejected = joined.filter(bad)
        rejected = self.reject(rejected, rejected["__reason"], rejected.select(detail.fill_null(""))
                               .to_series()).drop("__reason", "__said")
        kept = joined.filter(~bad).drop("__reason", "__said")
        stats = {"labelled_rows": int((joined["annotation_count"] > 0).sum()),
                 "decisions": {str(k): int(v) for k, v in joined["annotation_decision"].value_counts().iter_rows()}}
        return StageResult(kept=kept, rejected=rejected, stats=stats)

    def _judge_ok(self, df: pl.DataFrame) -> pl.Expr:
        cfg: AnnotationsConfig = self.config
        if cfg.judge_keep_label is not None:
            if "judge_label" not in df.columns:
                raise ConfigError("annotations: unlabelled: judge needs a judge_label column (run `judge` with "
                                  "on_fail: flag before this stage)")
            return (pl.col("judge_label") == cfg.judge_keep_label).fill_null(False)
        if "judge_score" not in df.columns:
            raise ConfigError("annotations: unlabelled: judge needs a judge_score column (run `judge` with "
                              "on_fail: flag before this stage)")
        return (pl.col("judge_score") >= cfg.judge_min_score).fill_null(False)

    def _judge_text(self) -> pl.Expr:
        cfg: AnnotationsConfig = self.config
        if cfg.judge_keep_label is not None:
            return pl.lit(f"label != {cfg.judge_keep_label!r}: ") + pl.col("judge_label").cast(pl.String).fill_null("none")
        return (pl.lit(f"score < {cfg.judge_min_score:g}: ")
                + pl.col("judge_score").cast(pl.String).fill_null("none"))
