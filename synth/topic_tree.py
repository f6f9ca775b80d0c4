"""topic-tree: UltraChat-style coverage (Ding et al. 2023): topics -> subtopics -> instructions (-> responses).

Coverage is something you steer: the tree's shape says how much data each area gets. Counts are set for the
whole tree (`subtopics`, `instructions`) and overridden per node by name (`overrides: {"Cooking":
{subtopics: 6}}`), so "more data on topic X" is one line. Topics come from `topics`, a YAML/text file
(`topics_file`, e.g. `data:topics/general.yaml`), the input rows (their prompt or text), or are generated
from `root`. Every row's metadata names its path (topic, subtopic); lineage has the template of each level.

Input rows that served as topics are not passed on: each is rejected as `topic-tree:used_as_topic`
(nothing vanishes), and the rows grown from it name it in their lineage `sources`. When topics come
from `topics`/`topics_file`/`root`, the input rows pass through unchanged. A node whose list cannot be
parsed becomes a rejected row holding the raw text. Not here: UltraChat's multi-turn expansion (use the
`dialogue` stage on this stage's output).
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl
import yaml
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.core.generated import input_rows, new_row, rejects_frame, rows_frame
from dsforge.pipelines.llm.parse import numbered_list
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Unusable, user
from dsforge.pipelines.core.row_text import prompt_of
from dsforge.pipelines.core.stage import ConfigError, StageConfig, StageContext, StageResult
from dsforge.synth.respond import answer_instructions


class NodeCounts(StageConfig):
    subtopics: int | None = Field(None, ge=0)
    instructions: int | None = Field(None, ge=0)


class TopicTreeConfig(LLMConfig):
    topics: list[str] = Field(default_factory=list, description="top-level topics (else topics_file, input rows, root)")
    topics_file: str | None = Field(None, description="YAML list (or one topic per line), e.g. data:topics/general.yaml")
    root: str | None = Field(None, description="generate `num_topics` topics of this area when none are given")
    num_topics: int = Field(5, ge=1)
    subtopics: int = Field(3, ge=0, description="subtopics per topic (0: ask for instructions on the topic itself)")
    instructions: int = Field(2, ge=1, description="instructions per leaf")
    overrides: dict[str, NodeCounts] = Field(default_factory=dict, description="per-topic or per-subtopic counts")
    respond: bool = Field(True, description="also generate a response for each instruction")
    topic_template: str = "topic_list_v1"
    subtopic_template: str = "subtopic_list_v1"
    question_template: str = "topic_questions_v1"
    respond_template: str = "respond_v1"
    source: str = "topic-tree"


def _list(text: str, item: Any, min_words: int = 1) -> list[str]:
    items = [q for q in numbered_list(text) if len(q.split()) >= min_words]
    if not items:
        raise Unusable("malformed_list", "no list could be parsed")
    return items


class TopicTree(LLMStage[TopicTreeConfig]):
    """Grow instructions over a topic tree with per-node counts (UltraChat)."""

    name = "topic-tree"
    mode = "table"
    creates_rows = True
    Config = TopicTreeConfig

    def _count(self, node: str, key: str, default: int) -> int:
        o = self.config.overrides.get(node)
        value = getattr(o, key) if o is not None else None
        return default if value is None else value

    def _topics(self, df: pl.DataFrame, ctx: StageContext, rejected: list) -> list[str]:
        cfg = self.config
        if cfg.topics:
            return list(cfg.topics)
        if cfg.topics_file:
            path = ctx.resolve(cfg.topics_file)
            if not path.exists():
                raise ConfigError(f"topic-tree: topics_file {path} does not exist")
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data = data.get("topics", [])
            if not isinstance(data, list) or not all(isinstance(t, str) for t in data):
                raise ConfigError(f"topic-tree: {path} must hold a YAML list of topic strings (or `topics: [...]`)")
            return data
        from_rows = [(prompt_of(r).strip(), r["id"]) for r in input_rows(df) if prompt_of(r).strip()]
        if from_rows:
            self._topic_rows = {t: i for t, i in reversed(from_rows)}  # first row of each topic text
            return [t for t, _ in from_rows]
        if not cfg.root:
            raise ConfigError("topic-tree: give `topics`, `topics_file`, `root`, or input rows naming topics")
        o = self.ask(ctx, [cfg.num_topics], template=cfg.topic_template, parse_output=_list,
                     format_input=lambda n, t: user(t.render(n=n, root=cfg.root))).answers[0].first
        if not o.ok:
            rejected.append(self.reject_output({"id": f"{cfg.source}:root", "source": cfg.source, "kind": "document",
                                                "text": cfg.root}, o, f"root {cfg.root!r}"))
        return (o.value or [])[: cfg.num_topics]

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        rejected: list[dict[str, Any]] = []
        self._topic_rows: dict[str, str] = {}
        topics = self._topics(df, ctx, rejected)

        # level 1: topic -> subtopics
        leaves: list[tuple[str, str]] = []  # (topic, subtopic)
        asks = [(t, self._count(t, "subtopics", cfg.subtopics)) for t in topics]
        subtopics = self.ask(ctx, [a for a in asks if a[1] > 0], template=cfg.subtopic_template, desc="subtopics",
                             format_input=lambda a, t: user(t.render(topic=a[0], n=a[1], path=cfg.root or "")),
                             parse_output=_list)
        answers = iter(subtopics)
        for i, (topic, n) in enumerate(asks):
            if n == 0:
                leaves.append((topic, topic))
                continue
            o = next(answers).first
            if not o.ok:
                rejected.append(self.reject_output({"id": f"{cfg.source}:t{i}", "source": cfg.source,
                                                    "kind": "document", "text": topic}, o, f"topic {topic!r}"))
                continue
            leaves.extend((topic, s) for s in o.value[:n])

        # level 2: leaf -> instructions
        rows: list[dict[str, Any]] = []
        asks2 = [(t, s, self._count(s, "instructions", self._count(t, "instructions", cfg.instructions)))
                 for t, s in leaves]
        asks2 = [a for a in asks2 if a[2] > 0]
        questions = self.ask(ctx, asks2, template=cfg.question_template, desc="instructions",
                             format_input=lambda a, t: user(t.render(topic=a[0], subtopic=a[1], n=a[2])),
                             parse_output=lambda text, a: _list(text, a, min_words=3))
        base_info = {k: v for k, v in questions.lineage.items() if k != "template"}
        templates = [load_template(cfg.subtopic_template, ctx.base_dir).lineage(), questions.template.lineage()]
        for li, ((topic, sub, n), answer) in enumerate(zip(asks2, questions)):
            o = answer.first
            meta = {"topic": topic, "subtopic": sub}
            if not o.ok:
                rejected.append(self.reject_output({"id": f"{cfg.source}:l{li}", "source": cfg.source,
                                                    "kind": "document", "text": f"{topic} / {sub}"}, o,
                                                   f"leaf {topic!r} / {sub!r}"))
                continue
            for qi, q in enumerate(o.value[:n]):
                source_ids = [self._topic_rows[topic]] if topic in self._topic_rows else []
                info = {**base_info, "sources": source_ids, "path": [topic, sub],
                        "templates": templates, "finish_reason": o.generation.finish_reason}
                rows.append(new_row(id=f"{cfg.source}:l{li}.{qi}", source=cfg.source, kind="instruction",
                                    stage=self.name, info=info, metadata=meta, instruction=re.sub(r"\s+", " ", q),
                                    input=""))
        if cfg.respond and rows:
            rows = answer_instructions(self, ctx, rows, rejected, cfg.respond_template)
        per_topic: dict[str, int] = {}
        for r in rows:
            t = json.loads(r["metadata"])["topic"]
            per_topic[t] = per_topic.get(t, 0) + 1
        used = df.filter(pl.col("id").is_in(list(self._topic_rows.values()))) if self._topic_rows else df.head(0)
        rest = df.filter(~pl.col("id").is_in(used["id"].implode()))
        if self._topic_rows:  # rows that were topics but gave none (empty prompt, duplicate text) are consumed too
            used, rest = df, df.head(0)
        stats = {"topics": len(topics), "leaves": len(leaves), "instructions": len(rows), "per_topic": per_topic,
                 "input_rows_used_as_topics": used.height}
        kept = records.concat([rest, rows_frame(rows)])
        consumed = self.reject(used, "used_as_topic", "an input row used as a topic of the tree")
        return StageResult(kept=kept, rejected=records.concat([rejects_frame(rejected), consumed], rejected=True),
                           stats={**stats, **self.take_usage()})
