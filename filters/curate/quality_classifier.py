"""quality-classifier: the FineWeb-Edu recipe at small scale — an LLM judge scores a sample, a cheap classifier
learns the judge from embeddings, and every row is scored at embedding speed.

FineWeb-Edu (Penedo et al. 2024) had Llama-3-70B score 450k web pages for educational value, trained a
linear head on embeddings of those pages, ran it over 15T tokens and kept pages scoring at least 3. A judge
call per row is what makes judging a whole set expensive; the classifier makes it cheap. Here:

  1. a seeded sample of `sample_size` rows is scored by the `judge` stage (mode score, 1-5, its own
     `model:` and `rubric:`); replies without a score are left out of training;
  2. the judged rows are split: `held_out` of them are kept aside, the rest train a ridge regression on
     their all-MiniLM-L6-v2 embeddings (scikit-learn, `alpha`);
  3. every row gets a predicted score in `quality_score`; rows below `threshold` are rejected as
     `quality-classifier:below_threshold` with the predicted score in the detail;
  4. on the held-out rows the stats report agreement with the judge: keep/drop agreement against the
     majority-class baseline, Cohen's kappa, Pearson and Spearman correlation and mean absolute error.

Lineage of every row names the judge (backend, model, rubric, prompt) and the training sample (row count,
sha256 of the sorted training ids, the file `training_sample.parquet` in the step folder with ids and judge
scores). Sampled rows also keep the judge's `judge_score` and `judge_reason`.

Not here: the judge itself (validators/judge.py) and heavier classifiers (fine-tuned encoders).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.filters.curate.common import seeded_order
from dsforge.pipelines.core import records
from dsforge.pipelines.llm.embedded import embed
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult
from dsforge.validators.judge import Judge, JudgeConfig


class QualityClassifierConfig(StageConfig):
    judge: JudgeConfig = Field(default_factory=lambda: JudgeConfig(mode="score", rubric="educational value and usefulness "
                                                                   "for training an assistant"),
                               description="the judge stage's config (model, rubric, sampling, ...); mode must be score")
    sample_size: int = Field(500, ge=4, description="rows the judge scores (a seeded sample)")
    held_out: float = Field(0.2, gt=0, lt=1, description="share of judged rows kept out of training to measure agreement")
    field: TextField = Field(ref("conversation"), description="text field embedded (pipelines/core/fields.py)")
    threshold: float = Field(3.0, ge=1, le=5, description="keep rows whose predicted score is at least this")
    alpha: float = Field(1.0, gt=0, description="ridge regularisation strength")
    column: str = Field("quality_score", description="column receiving the predicted score")
    device: str = Field("cpu", description="torch device for the embedding model")
    embed_batch_size: int = Field(64, ge=1, description="rows per encoder batch")
    max_seq_length: int = Field(256, ge=8, le=512, description="word pieces embedded per row (longer text is cut)")
    seed: int | None = Field(None, description="default: the recipe seed")


class QualityClassifier(Stage[QualityClassifierConfig]):
    """Judge a sample, fit a ridge regression on MiniLM embeddings, score and filter every row."""

    name = "quality-classifier"
    mode = "table"
    Config = QualityClassifierConfig
    version = "1"
    batch_size = None  # trains on a sample of the whole table
    holds_model = True

    def __init__(self, config=None):
        super().__init__(config)
        self._judge = Judge(self.config.judge.model_copy(update={"on_fail": "flag"}))

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        if cfg.judge.mode != "score":
            raise ConfigError(f"quality-classifier: the judge must use mode score (got {cfg.judge.mode!r})")
        seed = ctx.seed if cfg.seed is None else cfg.seed
        order = seeded_order(df["id"].to_list(), seed)
        sample = df[order[: cfg.sample_size].tolist()]
        judged = self._judge.process(sample, ctx)
        scored = judged.kept.filter(pl.col("judge_score").is_not_null()).select("id", "judge_score", "judge_reason")
        if scored.height < 4:
            raise ConfigError(f"quality-classifier: the judge scored only {scored.height} of {sample.height} sampled "
                              "rows; check its model and prompt (see the judge's unparsable replies)")
        ids = scored["id"].to_list()
        split = seeded_order(ids, seed + 1)
        n_test = max(2, int(round(cfg.held_out * len(ids))))
        test_pos, train_pos = split[:n_test], split[n_test:]
        position = {i: p for p, i in enumerate(df["id"].to_list())}
        rows_train = np.array([position[ids[k]] for k in train_pos])
        rows_test = np.array([position[ids[k]] for k in test_pos])
        y = scored["judge_score"].to_numpy()

        texts = df.select(cfg.field.expr().fill_null("").alias("t"))["t"].to_list()
        emb = self._encode(texts)
        from sklearn.linear_model import Ridge

        reg = Ridge(alpha=cfg.alpha).fit(emb[rows_train], y[train_pos])
        pred = np.clip(reg.predict(emb), 1.0, 5.0)
        agreement = agreement_stats(y[test_pos], pred[rows_test], cfg.threshold)

        train_ids = sorted(ids[k] for k in train_pos)
        sample_file = ctx.work_dir / "training_sample.parquet"
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        scored.with_columns(pl.col("id").is_in(train_ids).alias("used_for_training")).write_parquet(sample_file)
        judge_info = {**self._judge.lineage_base(ctx), "mode": cfg.judge.mode, "rubric": cfg.judge.rubric,
                      "prompt_template": cfg.judge.prompt_template or "judge_score_v1"}
        info = {"judge": judge_info,
                "training_sample": {"rows": len(train_ids), "held_out": int(n_test), "file": sample_file.name,
                                    "ids_sha256": hashlib.sha256("\n".join(train_ids).encode()).hexdigest()[:16]},
                "classifier": f"ridge(alpha={cfg.alpha:g}) on all-MiniLM-L6-v2 embeddings of {cfg.field}",
                "threshold": cfg.threshold}
        out = (df.with_columns(pl.Series(cfg.column, np.round(pred, 4)))
               .join(scored, on="id", how="left", maintain_order="left"))
        out = records.append_lineage(out, self.name, info)
        keep = pl.col(cfg.column) >= cfg.threshold
        rejected = self.reject(out.filter(~keep), "below_threshold",
                               pl.format("predicted score {} < threshold {} (ridge on {} judged rows)",
                                         pl.col(cfg.column).round(2), pl.lit(cfg.threshold), pl.lit(len(train_ids))))
        stats = {"rows": df.height, "sampled": sample.height, "judged": scored.height, "train": len(train_ids),
                 "held_out": int(n_test), "kept": int(out.filter(keep).height), "threshold": cfg.threshold,
                 "agreement": agreement, "judge": judged.stats}
        return StageResult(kept=out.filter(keep), rejected=rejected, stats=stats)

    def _encode(self, texts: list[str]) -> np.ndarray:
        cfg = self.config
        return embed(texts, device=cfg.device, batch_size=cfg.embed_batch_size, max_seq_length=cfg.max_seq_length)


def agreement_stats(judge: np.ndarray, pred: np.ndarray, threshold: float) -> dict[str, Any]:
    """How well predicted scores agree with the judge on held-out rows (keep/drop at the threshold, and scores)."""
    a, b = judge >= threshold, pred >= threshold
    acc = float((a == b).mean())
    majority = float(max(a.mean(), 1 - a.mean()))
    p_agree = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    kappa = (acc - p_agree) / (1 - p_agree) if p_agree < 1 else 1.0
    out = {"rows": int(len(judge)), "keep_agreement": round(acc, 4), "majority_baseline": round(majority, 4),
           "cohen_kappa": round(float(kappa), 4), "mae": round(float(np.abs(judge - pred).mean()), 4)}
    if np.std(judge) > 0 and np.std(pred) > 0:
        from scipy.stats import spearmanr

        out["pearson"] = round(float(np.corrcoef(judge, pred)[0, 1]), 4)
        rho = spearmanr(judge, pred).statistic
        out["spearman"] = None if math.isnan(rho) else round(float(rho), 4)
    return out
