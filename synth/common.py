"""What every synthesis stage shares: prompt templates with ids, a backend call that never crashes a run,
robust parsing of model text, and building generated rows with lineage (and rejects with the raw text).

Design (as in distilabel): a stage builds chat messages from a template and parses the text that comes
back; the backend (synth/llm.py) only turns messages into text. A generated row's lineage entry holds its
source row ids, the backend's `describe()`, the sampling parameters, the template id and sha, and any judge
scores. A malformed generation becomes a rejected row whose `raw` column keeps the model's text.

Not here: the backends themselves (llm.py, backends/), on-disk response caching (cache.py) and any
stage-specific rule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.stage import ConfigError, Stage, StageConfig, StageContext, StageResult
from dsforge.synth.llm import BackendConfig, Generation, Messages, SamplingParams

log = logging.getLogger("dsforge")
PROMPTS_DIR = Path(__file__).parent / "prompts"


# ---------------------------------------------------------------- prompt templates


@dataclass(frozen=True)
class PromptTemplate:
    """A Jinja prompt file. `id` is the file stem for shipped templates, the path for user files."""

    id: str
    text: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]

    def render(self, **values: Any) -> str:
        return _compile(self.text).render(**values).strip()

    def lineage(self) -> dict[str, str]:
        return {"id": self.id, "sha256": self.sha}


@lru_cache(maxsize=128)
def _compile(text: str):
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
    return env.from_string(text)


def shipped_templates() -> dict[str, Path]:
    return {p.stem: p for p in sorted(PROMPTS_DIR.glob("*.jinja"))}


def load_template(spec: str, base_dir: Path | None = None) -> PromptTemplate:
    """A shipped template by id (e.g. "self_instruct_v1") or a user's .jinja/.txt file."""
    shipped = shipped_templates()
    if spec in shipped:
        return PromptTemplate(spec, shipped[spec].read_text(encoding="utf-8"))
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_file():
        return PromptTemplate(str(spec), path.read_text(encoding="utf-8"))
    raise ConfigError(
        f"prompt template {spec!r} not found: give a shipped id ({', '.join(shipped)}) or a .jinja file path"
    )


# ---------------------------------------------------------------- configs and the stage base


class SynthConfig(StageConfig):
    """Fields every model-using synthesis stage has: which model answers and how it samples."""

    model: BackendConfig = Field(default_factory=BackendConfig, description="backend config (see docs/backends.md)")
    sampling: SamplingParams = Field(default_factory=SamplingParams, description="temperature, max_tokens, n, seed, ...")


def is_error(g: Generation) -> bool:
    return g.finish_reason == "error" or g.finish_reason.startswith("error")


def error_text(g: Generation) -> str:
    return getattr(g, "error", None) or g.finish_reason


class SynthStage(Stage):
    """Base of the model-using stages: opens the backend once, hands it all conversations at once, counts calls.

    Model-holding: the runner keeps one instance per worker process / Ray actor, so the backend (and its
    model) opened here is opened once per worker, and `close()` frees it at the end of the step.

    Tests (and embedding programs) may pass a ready backend as `ctx.extras["backend"]` (and a judge as
    `ctx.extras["judge_backend"]`); otherwise `open_backend(config.model)` builds one."""

    holds_model = True

    def __init__(self, config=None):
        super().__init__(config)
        self._backends: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}

    def backend(self, ctx: StageContext, key: str = "backend", config: BackendConfig | None = None):
        if key in ctx.extras:
            return ctx.extras[key]
        if key != "backend" and config is None:  # a judge / user model not configured: the main model
            return self.backend(ctx)
        if key not in self._backends:
            from dsforge.synth import llm

            opener = getattr(llm, "open_backend", None)
            if opener is None:
                raise ConfigError("no LLM backend available: dsforge.synth.llm.open_backend is missing")
            self._backends[key] = opener(config or self.config.model)
        return self._backends[key]

    def generate(self, ctx: StageContext, conversations: list[Messages], params: SamplingParams | None = None,
                 key: str = "backend", config: BackendConfig | None = None, desc: str = "") -> list[list[Generation]]:
        """Generations per conversation; a failing backend call yields `error` generations, not an exception.

        Pass all of a step's conversations at once: llm.generate_rows hands them to the backend in as few
        calls as it asks for (`requests_per_call`), so vLLM schedules all of them and the transformers
        backend sorts all of them by length. If every call fails (server down, bad model name) the first
        error is raised: a setup problem, not a data problem. A reached budget (llm.BudgetExceeded) stops
        the stage too."""
        from dsforge.synth.llm import generate_rows, usage_stats

        params = params or self.config.sampling
        if not conversations:
            return []
        backend = self.backend(ctx, key, config)
        before = usage_stats(backend)
        out = generate_rows(backend, conversations, params, progress=ctx.progress,
                            desc=f"{self.name} {desc}".strip(), errors="reject")
        for k, v in usage_stats(backend, since=before).items():
            self.usage[k] = self.usage.get(k, 0) + v
        return out

    def close(self) -> None:
        """Close the backends this stage opened (not those handed in through ctx.extras). The runner calls
        it once a worker is done with the stage; a later `process` opens them again."""
        backends, self._backends = self._backends, {}
        for b in backends.values():
            close = getattr(b, "close", None)
            if close is not None:
                close()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent to a worker process or Ray actor) without open engines: each worker opens its own."""
        state = dict(self.__dict__)
        state["_backends"] = {}
        return state

    def answer_instructions(self, ctx: StageContext, rows: list[dict[str, Any]], rejected: list[dict[str, Any]],
                            template_id: str, params: SamplingParams | None = None, desc: str = "responses"
                            ) -> list[dict[str, Any]]:
        """Fill `response` of each row by asking the model (one answer per row); rows the model leaves empty,
        or whose call failed, go to `rejected` with the raw text."""
        template = load_template(template_id, ctx.base_dir)
        params = (params or self.config.sampling).model_copy(update={"n": 1})
        gens = self.generate(ctx, [user(template.render(instruction=r["instruction"], input=r.get("input") or ""))
                                   for r in rows], params, desc=desc)
        out = []
        for row, outs in zip(rows, gens):
            g = outs[0]
            text = g.text.strip()
            if is_error(g) or not text:
                rejected.append(reject_row(row, self.name, "llm_error" if is_error(g) else "empty_response",
                                           f"{row['id']}: no response ({error_text(g)})", g.text))
                continue
            row["response"] = text
            add_to_lineage(row, respond_template=template.lineage())
            out.append(row)
        return out

    def resources(self) -> dict[str, Any]:
        """A vLLM engine wants its GPUs on the Ray actor that holds it (tensor_parallel_size of them)."""
        model = getattr(self.config, "model", None)
        if getattr(model, "backend", None) == "vllm":
            return {"num_gpus": model.engine_args.get("tensor_parallel_size", 1), "gpus_if_any": 1}
        return {}

    def account_sources(self, df: pl.DataFrame, result: StageResult) -> StageResult:
        """Input rows that this generating stage neither kept nor rejected were used up as sources of new
        rows: reject them as `<stage>:used_as_source` (the new rows name them in lineage), so none vanishes."""
        seen = pl.concat([result.kept["id"], result.rejected["id"] if result.rejected is not None else result.kept["id"].head(0)])
        used = df.filter(~pl.col("id").is_in(seen.implode()))
        if used.height:
            gone = self.reject(used, "used_as_source", "an input row this stage turned into new rows (see their lineage)")
            result.rejected = records.concat([result.rejected, gone] if result.rejected is not None else [gone], rejected=True)
        return result

    def take_usage(self) -> dict[str, Any]:
        """LLM usage since the last call (per runner batch, so the runner's sums give the stage total)."""
        usage, self.usage = self.usage, {}
        return usage

    def lineage_base(self, ctx: StageContext, template: PromptTemplate | None = None,
                     params: SamplingParams | None = None, key: str = "backend",
                     config: BackendConfig | None = None) -> dict[str, Any]:
        backend = self.backend(ctx, key, config)
        info: dict[str, Any] = {
            "backend": backend.describe(),
            "sampling": (params or self.config.sampling).model_dump(mode="json", exclude_none=True),
        }
        if template is not None:
            info["template"] = template.lineage()
        return info


# ---------------------------------------------------------------- rows


def user(content: str, system: str | None = None) -> Messages:
    msgs = [{"role": "system", "content": system}] if system else []
    return msgs + [{"role": "user", "content": content}]


def lineage_list(parent: list[dict[str, str]] | None, stage: str, info: dict[str, Any]) -> list[dict[str, str]]:
    """A row's lineage: its parent's entries (if derived from one row) plus this stage's entry."""
    entry = {"stage": stage, "info": json.dumps(info, sort_keys=True, ensure_ascii=False, default=str)}
    return [*(parent or []), entry]


def new_row(*, id: str, source: str, kind: str, stage: str, info: dict[str, Any],
            parent_lineage: list[dict[str, str]] | None = None, metadata: dict[str, Any] | None = None,
            **fields: Any) -> dict[str, Any]:
    row = {"id": id, "source": source, "kind": kind, **fields}
    row["metadata"] = json.dumps(metadata or {}, ensure_ascii=False, sort_keys=True, default=str)
    row["lineage"] = lineage_list(parent_lineage, stage, info)
    return row


def reject_row(row: dict[str, Any], stage: str, reason: str, detail: str, raw: str | None = None) -> dict[str, Any]:
    """A rejected generated row: whatever was parsed, plus stage, reason (`stage:problem`), detail and raw text."""
    if not reason.startswith(f"{stage}:"):
        reason = f"{stage}:{reason}"
    return {**row, "stage": stage, "reason": reason, "detail": detail, "raw": raw}


def rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return records.conform(records.from_rows(rows)) if rows else records.empty()


def rejects_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return records.empty_rejects()
    for r in rows:
        r.setdefault("raw", None)
        r.setdefault("id", "?")
    df = records.from_rows(rows)
    return records.conform(df.with_columns(pl.col(c).cast(pl.String) for c in ("stage", "reason", "detail", "raw")))


ONLY_SOURCES_HELP = "apply to rows of these sources only; other rows pass through unchanged (default: every row)"


def split_by_sources(df: pl.DataFrame, sources: list[str] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows a stage works on, rows it passes through untouched) for a stage's `only_sources`: one recipe
    can then carry seeds, documents and generated rows in one table and judge only the generated ones."""
    if not sources:
        return df, df.head(0)
    mine = pl.col("source").is_in(list(sources))
    return df.filter(mine), df.filter(~mine)


def pass_through(result: StageResult, passed: pl.DataFrame) -> StageResult:
    """`result` with the rows `split_by_sources` set aside added to its kept rows, unchanged."""
    if passed.height:
        result.kept = records.concat([result.kept, passed])
    return result


def input_rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    return list(df.iter_rows(named=True))


def row_meta(row: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(row.get("metadata") or "{}")
        return meta if isinstance(meta, dict) else {}
    except ValueError:
        return {}


def prompt_of(row: dict[str, Any]) -> str:
    """The user-facing prompt of an input row (instruction + input, first user turn, or the document text)."""
    if row.get("kind") == "conversation" and row.get("messages"):
        return next((m["content"] for m in row["messages"] if m["role"] == "user"), "")
    if row.get("instruction"):
        return row["instruction"] if not row.get("input") else f"{row['instruction']}\n\n{row['input']}"
    return row.get("text") or ""


def text_of(row: dict[str, Any], field: str) -> str:
    """A row's text by logical field, like records.field_text but for one dict."""
    if field == "prompt":
        return prompt_of(row)
    if field == "answer":
        if row.get("kind") == "preference":
            return row.get("chosen") or ""
        if row.get("kind") == "conversation":
            return "\n\n".join(m["content"] for m in row.get("messages") or [] if m["role"] == "assistant")
        return row.get("response") or ""
    if field in ("text", "instruction", "input", "response", "chosen", "rejected"):
        return row.get(field) or ""
    raise ConfigError(f"unknown text field {field!r}: use prompt, answer, text, instruction, input or response")


# ---------------------------------------------------------------- parsing model text

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n(.*?)(?:```|$)", re.S)
_NUMBERED = re.compile(r"^\s*(?:\d+\s*[.):]|[-*•])\s+(.+?)\s*$")
_SCORE = re.compile(r"score\s*[:=]?\s*\**\s*([1-9]\d*(?:\.\d+)?)", re.I)


def strip_text(text: str) -> str:
    return (text or "").strip().strip('"').strip()


def code_block(text: str, prefer: str = "python") -> str | None:
    """The first fenced code block (preferring one tagged `prefer`), or None."""
    tagged = re.search(rf"```{prefer}\s*\n(.*?)(?:```|$)", text or "", re.S | re.I)
    if tagged:
        return tagged.group(1).strip() or None
    m = _FENCE.search(text or "")
    return m.group(1).strip() or None if m else None


def numbered_list(text: str) -> list[str]:
    """Items of a numbered or bulleted list; falls back to non-empty lines when there are no markers."""
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    items = [m.group(1).strip().strip('"').strip() for ln in lines if (m := _NUMBERED.match(ln))]
    if not items and len(lines) >= 2:  # an unmarked list: several short lines (one line of prose is no list)
        items = [ln.strip().strip('"').strip() for ln in lines
                 if 1 <= len(ln.split()) <= 20 and not ln.rstrip().endswith(":")]
    seen, out = set(), []
    for it in items:
        key = it.lower()
        if it and key not in seen:
            seen.add(key)
            out.append(it)
    return out


def parse_score(text: str, low: int = 1, high: int = 5) -> int | None:
    """The last "Score: N" in the text (N within [low, high]); else a lone digit on the last line; else None."""
    found = [float(m.group(1)) for m in _SCORE.finditer(text or "")]
    found = [f for f in found if low <= f <= high]
    if found:
        return int(round(found[-1]))
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    if lines:
        m = re.fullmatch(r"\D*?([1-9])\D*", lines[-1].strip())
        if m and low <= int(m.group(1)) <= high:
            return int(m.group(1))
    return None


def extract_json(text: str) -> Any | None:
    """The first JSON object or array in the text (inside a code fence or not), or None."""
    candidates = [m.group(1) for m in _FENCE.finditer(text or "")] + [text or ""]
    dec = json.JSONDecoder()
    for cand in candidates:
        for i, ch in enumerate(cand):
            if ch in "[{":
                try:
                    return dec.raw_decode(cand[i:])[0]
                except ValueError:
                    continue
    return None


def first_paragraph(text: str, prefixes: Iterable[str] = ()) -> str:
    """The first non-empty paragraph with a leading label such as "Instruction:" removed."""
    t = (text or "").strip()
    for p in prefixes:
        t = re.sub(rf"^\s*{re.escape(p)}\s*", "", t, flags=re.I)
    para = re.split(r"\n\s*\n", t, maxsplit=1)[0]
    return strip_text(para)


# ---------------------------------------------------------------- similarity


class RougeL:
    """ROUGE-L F1 against a growing pool, with the pool tokenized once (as Alpaca's generator does)."""

    def __init__(self, texts: Iterable[str] = ()):
        from rouge_score import rouge_scorer

        self._scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        self.texts: list[str] = []
        self._tokens: list[list[str]] = []
        for t in texts:
            self.add(t)

    def tokens(self, text: str) -> list[str]:
        return self._scorer._tokenizer.tokenize(text)

    def add(self, text: str) -> None:
        self.texts.append(text)
        self._tokens.append(self.tokens(text))

    def most_similar(self, text: str) -> tuple[float, str | None]:
        from rouge_score.rouge_scorer import _score_lcs

        toks = self.tokens(text)
        best, best_text = 0.0, None
        for other, other_toks in zip(self.texts, self._tokens):
            f = _score_lcs(toks, other_toks).fmeasure
            if f > best:
                best, best_text = f, other
        return best, best_text


def rouge_l(a: str, b: str) -> float:
    return RougeL([b]).most_similar(a)[0]


def add_to_lineage(row: dict[str, Any], **info: Any) -> None:
    """Add keys to the info of a generated row's last lineage entry (e.g. the template of a second step)."""
    entry = json.loads(row["lineage"][-1]["info"])
    entry.update(info)
    row["lineage"][-1] = {**row["lineage"][-1], "info": json.dumps(entry, sort_keys=True, ensure_ascii=False,
                                                                   default=str)}
