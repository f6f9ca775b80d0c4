"""The one way to write a stage that asks a model: `LLMStage.ask(ctx, items, template=...)`.

In the spirit of distilabel's Task, a stage says only how an item becomes messages (`format_input`) and
how a reply becomes a value (`parse_output`, raising `Unusable(reason, detail)` for text it cannot use).
`ask` does the rest, the same way for every stage:

- loads the prompt file (prompt.py: versioned, StrictUndefined) and renders it per item;
- sends all conversations at once with `n` completions each (seam.generate_rows: progress, cache);
- turns a failed call into `llm_error`, a reply cut at max_tokens into `truncated` (when asked), and an
  `Unusable` into its reason, each with the model's raw text, ready for `reject_output`;
- stops cleanly at the model's `budget_usd`: items not asked any more get `budget_reached` (answers so
  far are cached, so a re-run with a higher budget pays only for the rest);
- gives lineage with the backend's `describe()`, the sampling parameters and the template id + sha256;
- counts usage for the stage stats (`take_usage`) and closes the backends it opened (`close`).

    class Shout(LLMStage):
        def format_input(self, row, template):
            return user(template.render(text=row["instruction"]))

        def parse_output(self, text, row):
            if not text.strip():
                raise Unusable("empty", "the model wrote nothing")
            return text.upper()

    With `output_column = "shout"` and a `template` in its config, that is the whole stage: the default
    `process` asks once per row and writes each usable value to that column (rows with an unusable reply
    are rejected with its reason). A stage with several outputs per row, or several calls, writes its own
    `process` around `self.ask(ctx, rows, template=...)` (asked.answers[i].outputs[j].value / .problem).

A prompt id is looked up first in a prompts/ folder beside the stage's module (`prompt_dirs`: a plugin
package ships its prompts as package data there), then among the shipped prompts (prompt.py); a recipe
may also give a .jinja file path.

Not here: the backends (seam.py, backends/), prompt files (prompt.py), text parsers (parse.py).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal, TypeVar

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.core.generated import reject_row
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult
from dsforge.pipelines.llm import seam
from dsforge.pipelines.llm.config import BackendConfig, SamplingParams, TransformersConfig
from dsforge.pipelines.llm.fanout import GenerationFan, generate_slice
from dsforge.pipelines.llm.prompt import PROMPTS_DIR, PromptTemplate, load_template
from dsforge.pipelines.llm.seam import BudgetExceeded, Generation, Messages


class LLMConfig(StageConfig):
    """Fields every model-using stage has: which model answers and how it samples."""

    model: BackendConfig = Field(default_factory=TransformersConfig, description="backend config (see docs/backends.md)")
    sampling: SamplingParams = Field(default_factory=SamplingParams, description="temperature, max_tokens, n, seed, ...")


class Unusable(Exception):
    """Raised by a `parse_output`: the reply cannot be used. Becomes a reject `<stage>:<reason>` with the raw text."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass
class Output:
    """One completion for one item: `value` is what parse_output returned; `problem` (reason, detail) when unusable."""

    generation: Generation
    value: Any = None
    problem: tuple[str, str] | None = None

    @property
    def text(self) -> str:
        return self.generation.text

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def raw(self) -> str:
        """The model's text, or the error when the call failed (what a reject keeps in `raw`)."""
        if is_error(self.generation):
            return self.generation.text or error_text(self.generation)
        return self.generation.text


@dataclass
class Answer:
    """All completions for one item, in order."""

    item: Any
    outputs: list[Output]

    @property
    def first(self) -> Output:
        return self.outputs[0]

    @property
    def usable(self) -> list[Output]:
        return [o for o in self.outputs if o.ok]


@dataclass
class Asked:
    """What `ask` returns: one Answer per item (in order) and the lineage info of the call."""

    answers: list[Answer]
    template: PromptTemplate | None
    lineage: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.answers)

    def __len__(self) -> int:
        return len(self.answers)


def user(content: str, system: str | None = None) -> Messages:
    """A one-turn conversation (with an optional system message)."""
    msgs = [{"role": "system", "content": system}] if system else []
    return msgs + [{"role": "user", "content": content}]


def is_error(g: Generation) -> bool:
    return g.finish_reason == "error" or g.finish_reason.startswith("error")


def error_text(g: Generation) -> str:
    return getattr(g, "error", None) or g.finish_reason


LC = TypeVar("LC", bound=LLMConfig)


class LLMStage(Stage[LC]):
    """Base of every stage that asks a model (synthesis, judges, LLM classifiers).

    Model-holding: the runner keeps one instance per worker process / Ray actor, so a backend (and its
    model) opened here is opened once per worker, and `close()` frees it at the end of the step.
    Tests (and embedding programs) may pass a ready backend as `ctx.extras["backend"]` (and a second
    model, e.g. a judge, as `ctx.extras["judge_backend"]`); otherwise `open_backend(config.model)` builds one."""

    holds_model = True
    # Run whole-table (pool-growing) stages in the driver with their generate calls on the model workers.
    fans_out = True
    Config = LLMConfig
    # One-output tasks: the column the default `process` writes each row's parsed value to, and its type.
    output_column: ClassVar[str | None] = None
    output_dtype: ClassVar[Any] = pl.String

    def __init__(self, config=None):
        super().__init__(config)
        self._backends: dict[str, Any] = {}
        self._budget_note: str | None = None
        self.usage: dict[str, Any] = {}

    # ------------------------------------------------------------ what a stage writes

    def format_input(self, item: Any, template: PromptTemplate) -> Messages:
        """The conversation for one item (the stage's main call; other calls pass their own to `ask`)."""
        raise NotImplementedError(f"{type(self).__name__} must define format_input or pass one to ask()")

    def parse_output(self, text: str, item: Any) -> Any:
        """The value read from one reply; raise Unusable(reason, detail) when it cannot be used."""
        return text

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        """The default for a one-output task: one completion per row from the config's `template`, its parsed
        value in `output_column`; rows whose reply is unusable are rejected with its reason and raw text."""
        if not self.output_column:
            raise NotImplementedError(f"{type(self).__name__}: set `output_column` to use the default process, "
                                      "or write process()")
        asked = self.ask(ctx, list(df.iter_rows(named=True)), template=getattr(self.config, "template", None),
                         n=1)
        outs = [answer.first for answer in asked]
        df = df.with_columns(pl.Series(self.output_column, [o.value for o in outs], dtype=self.output_dtype,
                                       strict=False))
        kept, rejected = self.split_usable(records.append_lineage(df, self.name, asked.lineage), outs)
        return StageResult(kept=kept, rejected=rejected, stats=self.take_usage())

    def fan_out(self, run: Any) -> GenerationFan:
        """In a `table` step: this instance's generate calls go to the step's model workers."""
        return GenerationFan(run)

    def run_fanned(self, task: Any) -> dict[str, Any]:
        return generate_slice(self, task)

    @classmethod
    def prompt_dirs(cls) -> tuple[Path, ...]:
        """Folders searched first for a prompt id: prompts/ beside the module of this class and of its bases."""
        dirs = []
        for klass in cls.__mro__:
            try:
                folder = Path(inspect.getfile(klass)).parent / "prompts"
            except (TypeError, OSError):
                continue
            if folder.is_dir() and folder not in dirs and folder.resolve() != PROMPTS_DIR.resolve():
                dirs.append(folder)
        return tuple(dirs)

    @classmethod
    def fingerprint_files(cls) -> list[Path]:
        """The stage's own prompt files: a plugin's step fingerprint changes when one does."""
        return [p for d in cls.prompt_dirs() for p in sorted(d.iterdir()) if p.suffix in (".jinja", ".txt")]

    # ------------------------------------------------------------ what the base does

    def ask(self, ctx: StageContext, items: list[Any], *, template: str | PromptTemplate | None,
            format_input: Callable[[Any, PromptTemplate], Messages] | None = None,
            parse_output: Callable[[str, Any], Any] | None = None, params: SamplingParams | None = None,
            n: int | None = None, truncated: Literal["keep", "reject"] = "keep", key: str = "backend",
            model: BackendConfig | None = None, desc: str = "") -> Asked:
        """Ask the model about every item at once; see the module docstring for what is handled here.

        `template` is a shipped prompt id or a file (None only for a call that sends a conversation as it
        is, such as dialogue's assistant turns); it is passed to `format_input` and named in lineage."""
        tmpl = load_template(template, ctx.base_dir, self.prompt_dirs()) if isinstance(template, str) else template
        fmt = format_input or self.format_input
        parse = parse_output or self.parse_output
        params = params or self.config.sampling
        if n is not None:
            params = params.model_copy(update={"n": n})
        if not items:  # nothing to ask: no backend is opened (lineage is only read for rows made from answers)
            return Asked([], tmpl, {})
        convs = [fmt(item, tmpl) for item in items]
        gens = self.generate(ctx, convs, params, key, model, desc)
        answers = []
        for item, outs in zip(items, gens):
            read = []
            for g in outs:
                out = Output(g)
                if is_error(g):
                    out.problem = ("budget_reached" if g.finish_reason == "error:budget" else "llm_error", error_text(g))
                elif truncated == "reject" and g.finish_reason == "length":
                    out.problem = ("truncated", "the reply hit max_tokens")
                else:
                    try:
                        out.value = parse(g.text, item)
                    except Unusable as e:
                        out.problem = (e.reason, e.detail)
                read.append(out)
            answers.append(Answer(item, read))
        return Asked(answers, tmpl, self.lineage_base(ctx, tmpl, params, key, model))

    def reject_output(self, row: dict[str, Any], out: Output, where: str, raw: str | None = None) -> dict[str, Any]:
        """The reject row for an unusable output: reason `<stage>:<problem>`, detail `where: why`, the raw text."""
        reason, detail = out.problem or ("unusable", "")
        return reject_row(row, self.name, reason, f"{where}: {detail}", out.raw if raw is None else raw)

    def split_usable(self, df: pl.DataFrame, outputs: list[Output]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """For a stage with one output per row of df: (rows whose output is usable, the others rejected as
        `<stage>:<problem>` with the detail and the model's text in `raw`)."""
        ok = pl.Series([o.ok for o in outputs], dtype=pl.Boolean)
        bad = [o for o in outputs if not o.ok]
        rejected = self.reject(df.filter(~ok), pl.Series([f"{self.name}:{o.problem[0]}" for o in bad], dtype=pl.String),
                               pl.Series([o.problem[1] for o in bad], dtype=pl.String))
        return df.filter(ok), rejected.with_columns(pl.Series("raw", [o.raw for o in bad], dtype=pl.String))

    def backend(self, ctx: StageContext, key: str = "backend", config: BackendConfig | None = None):
        if key in ctx.extras:
            return ctx.extras[key]
        if key != "backend" and config is None:  # a judge / user model not configured: the main model
            return self.backend(ctx)
        if (fan := ctx.extras.get("fanout")) is not None:  # generation runs on the step's model workers
            if f"fanout:{key}" not in self._backends:
                self._backends[f"fanout:{key}"] = fan.backend(key, config, config or self.config.model)
            return self._backends[f"fanout:{key}"]
        if key not in self._backends:
            config = config or self.config.model
            if config.backend == "vllm-server" and not config.log_dir:  # its server's log: in the step's folder
                config = config.model_copy(update={"log_dir": str(ctx.work_dir)})
            self._backends[key] = seam.open_backend(config)
        return self._backends[key]

    def generate(self, ctx: StageContext, conversations: list[Messages], params: SamplingParams | None = None,
                 key: str = "backend", config: BackendConfig | None = None, desc: str = "") -> list[list[Generation]]:
        """Generations per conversation; a failing backend call yields `error` generations, not an exception.

        All of a step's conversations go at once: seam.generate_rows hands them to the backend in as few
        calls as it asks for (`requests_per_call`), so vLLM schedules all of them and the transformers
        backend sorts all of them by length. If every call fails (server down, bad model name) the first
        error is raised: a setup problem, not a data problem. Once the budget is reached, the rest (and
        every later call of this stage instance) get `error:budget` generations instead."""
        params = params or self.config.sampling
        if not conversations:
            return []
        backend = self.backend(ctx, key, config)
        if self._budget_note is not None:
            return [self._budget_gens(backend, params)] * len(conversations)
        before = seam.usage_stats(backend)
        try:
            out = seam.generate_rows(backend, conversations, params, progress=ctx.progress,
                                desc=f"{self.name} {desc}".strip(), errors="reject")
        except BudgetExceeded as e:
            self._budget_note = str(e)
            out = list(e.partial) + [self._budget_gens(backend, params)] * (len(conversations) - len(e.partial))
        for k, v in seam.usage_stats(backend, since=before).items():
            self.usage[k] = self.usage.get(k, 0) + v
        return out

    def _budget_gens(self, backend, params: SamplingParams) -> list[Generation]:
        g = Generation("", "error:budget", 0, 0, getattr(backend, "model_id", "?"), error=self._budget_note)
        return [g] * params.n

    def close(self) -> None:
        """Close the backends this stage opened (not those handed in through ctx.extras). The runner calls
        it once a worker is done with the stage; a later `process` opens them again."""
        backends, self._backends = self._backends, {}
        self._budget_note = None
        for b in backends.values():
            b.close()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent to a worker process or Ray actor) without open engines: each worker opens its own."""
        state = dict(self.__dict__)
        state["_backends"] = {}
        return state

    def resources(self) -> dict[str, Any]:
        """A vLLM engine wants its GPUs on the Ray actor that holds it (tensor_parallel_size of them)."""
        model = getattr(self.config, "model", None)
        if getattr(model, "backend", None) == "vllm":
            return {"num_gpus": model.engine_args.get("tensor_parallel_size", 1), "gpus_if_any": 1}
        if getattr(model, "backend", None) == "vllm-server":  # the server it starts runs where the actor is
            args = list(model.serve_args)
            tp = args[args.index("--tensor-parallel-size") + 1] if "--tensor-parallel-size" in args[:-1] else 1
            return {"num_gpus": int(tp), "gpus_if_any": 1}
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
        if self._budget_note is not None:
            usage["budget_reached"] = self._budget_note
        return usage

    def lineage_base(self, ctx: StageContext, template: PromptTemplate | None = None,
                     params: SamplingParams | None = None, key: str = "backend",
                     config: BackendConfig | None = None) -> dict[str, Any]:
        """Lineage info of a call: the backend's describe() (never secrets), the sampling and the template."""
        backend = self.backend(ctx, key, config)
        info: dict[str, Any] = {
            "backend": backend.describe(),
            "sampling": (params or self.config.sampling).model_dump(mode="json", exclude_none=True),
        }
        if template is not None:
            info["template"] = template.lineage()
        return info


ONLY_SOURCES_HELP = "apply to rows of these sources only; other rows pass through unchanged (default: every row)"


def split_by_sources(df: pl.DataFrame, sources: list[str] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows a stage works on, rows it passes through untouched) for a stage's `only_sources`: one recipe
    can then carry seeds, documents and generated rows in one table and judge only the generated ones."""
    if not sources:
        return df, df.head(0)
    mine = pl.col("source").is_in(list(sources))
    return df.filter(mine), df.filter(~mine)


def on_sources(df: pl.DataFrame, sources: list[str] | None, work: Callable[[pl.DataFrame], StageResult],
               empty_stats: dict[str, Any]) -> StageResult:
    """`work` on the rows of `sources` only (all rows without sources); the others pass through unchanged.
    No rows in scope: `work` is not called, so no model is loaded."""
    mine, passed = split_by_sources(df, sources)
    if mine.height == 0:
        return StageResult(kept=passed, stats=empty_stats)
    return pass_through(work(mine), passed)


def pass_through(result: StageResult, passed: pl.DataFrame) -> StageResult:
    """`result` with the rows `split_by_sources` set aside added to its kept rows, unchanged."""
    if passed.height:
        result.kept = records.concat([result.kept, passed])
    return result
