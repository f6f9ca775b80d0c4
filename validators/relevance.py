"""relevance: classify each row's topic against the task's topic list; drop off-topic rows.

Topics are short names with optional descriptions (`topics: ["python programming", "cooking: recipes,
ingredients"]` or a file with one per line). Methods:
- embedding: MiniLM cosine between the row's `field` text and each topic; the best topic wins, and a row
  whose best similarity is below `min_similarity` is off-topic. Fast, no LLM.
- judge: the LLM picks one topic from the numbered list or "none".
- both: the judge decides; rows it cannot be read for fall back to the embedding verdict.
Columns: topic (null when off-topic), topic_similarity, topic_method. Rejects: `relevance:off_topic`
(detail: best topic and score), `relevance:unparsable` only when no fallback applies.

Not here: hierarchical topic trees (the topic-tree synthesis stage builds those; pass its leaves here).
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.llm.embedded import embed
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, user
from dsforge.pipelines.core.row_text import text_of
from dsforge.pipelines.core.stage import ConfigError, StageContext, StageResult
from dsforge.validators.judge import SYSTEM_TEMPLATE


def parse_topic(text: str, topics: list[str]) -> int | None:
    """Index of the chosen topic, -1 for none, None when unreadable."""
    t = (text or "").strip()
    m = re.search(r"\b(\d{1,3})\b", t)
    if m and 0 <= int(m.group(1)) <= len(topics):
        return int(m.group(1)) - 1
    low = t.lower()
    if re.search(r"\bnone\b|\boff[- ]topic\b", low):
        return -1
    hits = [i for i, top in enumerate(topics) if top.split(":")[0].strip().lower() in low]
    return hits[0] if len(hits) == 1 else None


class RelevanceConfig(LLMConfig):
    topics: list[str] = Field([], description="the task's topics (name, or 'name: description')")
    topics_file: str | None = Field(None, description="file with one topic per line (instead of topics)")
    field: TextField = Field(ref("prompt"), description="text field classified (pipelines/core/fields.py)")
    method: Literal["embedding", "judge", "both"] = Field("embedding", description="how topics are assigned")
    min_similarity: float = Field(0.15, ge=-1, le=1, description="embedding: best-topic cosine below this is off-topic (descriptions help)")
    prompt_template: str = Field("relevance_topic_v1", description="prompt id or Jinja file (variables: topics, text)")
    on_fail: Literal["drop", "flag"] = "drop"
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=8))


class Relevance(LLMStage[RelevanceConfig]):
    """Assign each row one of the task's topics; reject off-topic rows."""

    name = "relevance"
    mode = "table"
    Config = RelevanceConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        topics = list(cfg.topics)
        if cfg.topics_file:
            topics += [ln.strip() for ln in ctx.resolve(cfg.topics_file).read_text().splitlines() if ln.strip()]
        if not topics:
            raise ConfigError("relevance: give `topics:` (a list) or `topics_file:`")
        rows = list(df.iter_rows(named=True))
        texts = [text_of(r, cfg.field) for r in rows]
        n = len(rows)
        best = np.full(n, -1)
        sim = np.full(n, np.nan)
        if cfg.method in ("embedding", "both") and n:
            s = embed(texts) @ embed(topics).T
            best, sim = s.argmax(axis=1), s.max(axis=1)
        emb_choice = [int(b) if not np.isnan(v) and v >= cfg.min_similarity else -1 for b, v in zip(best, sim)]
        choice: list[int | None] = list(emb_choice) if cfg.method == "embedding" else [None] * n
        method = [cfg.method if cfg.method == "embedding" else "judge"] * n
        if cfg.method in ("judge", "both") and n:
            system = load_template(SYSTEM_TEMPLATE, ctx.base_dir)
            asked = self.ask(ctx, texts, template=cfg.prompt_template,
                             format_input=lambda text, t: user(t.render(topics=topics, text=text), system.render()),
                             parse_output=lambda text, _: parse_topic(text, topics))
            lineage = {**asked.lineage, "system_template": system.lineage(), "topics": len(topics)}
            for i, answer in enumerate(asked):
                c = answer.first.value
                if c is None and cfg.method == "both":
                    c, method[i] = emb_choice[i], "embedding-fallback"
                choice[i] = c
        why = []
        for i, c in enumerate(choice):
            if c is None:
                why.append(("relevance:unparsable", "the judge's answer named no topic"))
            elif c < 0:
                near = f"nearest topic {topics[int(best[i])]!r} at {sim[i]:.3f}" if not np.isnan(sim[i]) else "judge said none"
                why.append(("relevance:off_topic", f"{near} (min_similarity {cfg.min_similarity})"))
            else:
                why.append(None)
        out = df.with_columns(
            pl.Series("topic", [topics[c] if c is not None and c >= 0 else None for c in choice], dtype=pl.String),
            pl.Series("topic_similarity", [None if np.isnan(v) else float(v) for v in sim], dtype=pl.Float64),
            pl.Series("topic_method", method, dtype=pl.String))
        if cfg.method != "embedding":
            out = records.append_lineage(out, self.name, lineage)
        keep = [w is None for w in why]
        counts: dict = {}
        for c in choice:
            if c is not None and c >= 0:
                counts[topics[c]] = counts.get(topics[c], 0) + 1
        stats = {"rows": n, "kept": sum(keep), "off_topic": sum(1 for w in why if w and w[0] == "relevance:off_topic"),
                 "per_topic": counts, **self.take_usage()}
        if cfg.on_fail == "flag":
            return StageResult(kept=out, stats=stats)
        mask = pl.Series(keep, dtype=pl.Boolean)
        rej = [w for w in why if w]
        return StageResult(kept=out.filter(mask), stats=stats, rejected=self.reject(
            out.filter(~mask), pl.Series([w[0] for w in rej], dtype=pl.String), pl.Series([w[1] for w in rej], dtype=pl.String)))
