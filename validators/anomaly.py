"""anomaly: flag (or drop) rows whose embedding or length is far from the rest of the set.

Two detectors, both on the whole table:
- embedding: MiniLM embeddings of a text field; `centroid` scores each row by its cosine distance to
  the mean embedding, `isolation-forest` (scikit-learn) by how easily random splits isolate it.
- length: log character length.
Scores become robust z-scores (median and MAD, so the outliers do not hide themselves by inflating
the spread); a row is anomalous when |z| passes `z_threshold`, or, for the isolation forest, when it
falls in the `contamination` share with the lowest scores.

Columns: anomaly (bool), anomaly_score (the largest z), anomaly_reason. With `action: drop` anomalous
rows are rejected as `anomaly:embedding_outlier` / `anomaly:length_outlier`.

Not here: per-cluster or per-source baselines (run the stage on a filtered table instead).
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines.llm.embedded import MissingModelError, embed
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

log = logging.getLogger("dsforge")


def robust_z(x: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 * MAD); falls back to the standard deviation when MAD is 0."""
    med = np.median(x)
    mad = 1.4826 * np.median(np.abs(x - med))
    scale = mad if mad > 1e-12 else (x.std() if x.std() > 1e-12 else 1.0)
    return (x - med) / scale


class AnomalyConfig(StageConfig):
    field: TextField = Field(ref("conversation"), description="text field to embed and measure (pipelines/core/fields.py)")
    method: Literal["centroid", "isolation-forest"] = Field("centroid", description="embedding outlier detector")
    features: list[Literal["embedding", "length"]] = Field(["embedding", "length"], description="what to check")
    z_threshold: float = Field(3.5, gt=0, description="robust z-score beyond which a row is anomalous")
    contamination: float = Field(0.02, gt=0, lt=0.5, description="isolation-forest: share of rows flagged")
    action: Literal["flag", "drop"] = Field("flag", description="keep rows with anomaly=true, or reject them")
    min_rows: int = Field(20, ge=3, description="below this many rows, statistics mean nothing: flag nothing")


class Anomaly(Stage[AnomalyConfig]):
    """Flag rows whose MiniLM embedding or length is an outlier for the set."""

    name = "anomaly"
    mode = "table"
    Config = AnomalyConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        n = df.height
        texts = [t or "" for t in df.select(cfg.field.expr().alias("_t"))["_t"].to_list()]
        z_emb = np.zeros(n)
        z_len = np.zeros(n)
        emb_flag = np.zeros(n, dtype=bool)
        stats: dict = {"rows": n, "method": cfg.method}
        if n >= cfg.min_rows:
            if "length" in cfg.features:
                z_len = robust_z(np.log1p(np.array([len(t) for t in texts], dtype=float)))
            if "embedding" in cfg.features:
                try:
                    vecs = embed(texts, max_seq_length=128)
                except MissingModelError as e:
                    log.warning("anomaly: %s; checking lengths only", e)
                    stats["warning"] = str(e)
                    vecs = None
                if vecs is not None:
                    if cfg.method == "centroid":
                        centre = vecs.mean(axis=0)
                        centre /= np.linalg.norm(centre) or 1.0
                        z_emb = robust_z(1.0 - vecs @ centre)
                        emb_flag = z_emb > cfg.z_threshold
                    else:
                        from sklearn.ensemble import IsolationForest

                        forest = IsolationForest(n_estimators=200, contamination=cfg.contamination,
                                                 random_state=ctx.seed).fit(vecs)
                        z_emb = robust_z(-forest.score_samples(vecs))
                        emb_flag = forest.predict(vecs) == -1
        else:
            stats["skipped"] = f"only {n} rows (min_rows={cfg.min_rows})"
        len_flag = np.abs(z_len) > cfg.z_threshold
        flag = emb_flag | len_flag
        reasons, details = [], []
        for i in range(n):
            if emb_flag[i]:
                reasons.append("anomaly:embedding_outlier")
                details.append(f"{cfg.method} z={z_emb[i]:.2f} (threshold {cfg.z_threshold}) on {cfg.field}")
            elif len_flag[i]:
                reasons.append("anomaly:length_outlier")
                details.append(f"length {len(texts[i])} chars, z={z_len[i]:.2f} (threshold {cfg.z_threshold})")
            else:
                reasons.append(None)
                details.append(None)
        out = df.with_columns(
            pl.Series("anomaly", flag, dtype=pl.Boolean),
            pl.Series("anomaly_score", np.maximum(z_emb, np.abs(z_len)), dtype=pl.Float64),
            pl.Series("anomaly_reason", reasons, dtype=pl.String),
        )
        stats.update(flagged=int(flag.sum()), embedding_outliers=int(emb_flag.sum()), length_outliers=int((len_flag & ~emb_flag).sum()))
        if cfg.action == "flag":
            return StageResult(kept=out, stats=stats)
        mask = pl.Series(flag)
        return StageResult(kept=out.filter(~mask),
                           rejected=self.reject(out.filter(mask), pl.col("anomaly_reason"),
                                                pl.Series([d for d in details if d is not None], dtype=pl.String)),
                           stats=stats)
