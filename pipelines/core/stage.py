'''The stage interface: a named unit with a validated config and a function from records to (kept, rejected).

A stage subclasses `Stage`, sets `name`, a pydantic `Config` (unknown keys are an error), its `mode` and
implements `process(df, ctx)`, returning a `StageResult`. That is the whole contract. The example of
docs/architecture.md ("The stage interface") is the example plugin's stage, whole and tested, in
tests/plugin_example/dsforge_plugin_example/keyword_drop.py; its outline:

    class KeywordDrop(Stage[KeywordDropConfig]):     # KeywordDropConfig(StageConfig): words, field: TextField
        """Drop rows that mention any of a list of words."""
        name = "keyword-drop"
        Config = KeywordDropConfig
        mode = "rows"                                # rows are independent: slices go to parallel workers
        def process(self, df, ctx):  # -> StageResult(kept=..., rejected=self.reject(rows, "keyword", "why"))

Stages are plain Python: they know nothing of Prefect, of run directories, of workers or of other stages.
The runner (runner.py) hands them a table and writes what they return. How it may split the work is
declared by the class in `mode` (one of MODES; a class without one is refused when a recipe names it):

    rows    rows are independent: each slice of at most `batch_size` rows goes to any worker process or
            Ray actor. One stage instance lives on per worker, so a model loaded lazily on `self` is
            loaded once per worker, not once per slice; `close()` frees it.
    keyed   the stage needs the whole table to decide (dedup, conflicts) but not the whole rows: it
            overrides `shard_keys` (small per-row facts, per part, in workers), `decide` (once, over
            the keys only) and optionally `apply` (per part, in workers). `process` is the same three
            steps on one table, so both paths give the same rows. A keyed stage whose `decide` only ever
            compares rows with equal values of one keys column (a text hash) names it `partition_key`:
            the runner then hash-partitions the keys and runs `decide` once per partition, in the
            workers, so no process holds every row's keys (rows whose key is null go anywhere).
    summary a stage that only looks at rows (`changes_rows = False`: inspect) overrides `summarize` (per
            part, in workers: counters and small tables, never the rows) and `combine` (once, over
            the summaries of all parts in input order: the stage's figures). Its input parts are
            linked as its kept parts; no process holds the whole table.
    table   the whole table in one process (generators that grow a pool from seeds); a model stage's
            generate calls still run on the model workers (`fans_out`, llm/fanout.py).
    ingest  no input table: `plan_chunks`, `read_chunk` per chunk in workers, `finish_chunks` (ingest.py).

A configured instance may still ask for the whole table (`distributable()` False, e.g. minhash-dedup
without bands): its step then runs as `table`.

The contract the runner enforces for every stage: each input row comes out exactly once, kept or
rejected (disjoint ids). A stage that creates rows sets `creates_rows`; each row it creates must
carry a lineage entry of the stage naming its sources. A stage that never changes rows (inspect,
save) sets `changes_rows = False` and the runner links its input shards instead of rewriting them.

Not here: the list of stages (registry.py) and how recipes name them (recipe.py).
'''

from __future__ import annotations

import inspect
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from dsforge.pipelines.core import records
from dsforge.pipelines.core.errors import DsforgeError
from dsforge.pipelines.core.readers import resolve_path

log = logging.getLogger("dsforge")


class StageConfig(BaseModel):
    """Base for stage configs: typed, validated, and strict about unknown keys (catches typos early)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


C = TypeVar("C", bound=StageConfig)


class ConfigError(DsforgeError, ValueError):
    """A recipe or command line names an unknown stage or gives it a bad parameter."""

    hint = "fix the recipe, then check it with: dsforge validate RECIPE (dsforge stages NAME lists a stage's parameters)"


@dataclass
class StageContext:
    """What a stage may know about where it runs. Passed explicitly; there is no global context.

    work_dir: a folder of this stage's own for caches and partial results (kept across resumed runs
    only through the runner's fingerprinting). base_dir: where relative paths in the config resolve.
    """

    work_dir: Path
    base_dir: Path = field(default_factory=Path.cwd)
    seed: int = 0
    strict: bool = False
    sample: int | None = None
    progress: bool | None = None  # None: show bars only on a terminal
    extras: dict[str, Any] = field(default_factory=dict)

    def resolve(self, path: str | Path) -> Path:
        """Resolve a user-given path: absolute, `data:NAME` (shipped data), or relative to base_dir."""
        return resolve_path(path, self.base_dir)


@dataclass
class StageResult:
    kept: pl.DataFrame
    rejected: pl.DataFrame | None = None
    stats: dict[str, Any] = field(default_factory=dict)  # stage-specific figures for stats.json


class Stage(Generic[C]):
    """Generic over its config: `class LengthFilter(Stage[LengthFilterConfig])` types `self.config`."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[StageConfig]] = StageConfig
    # Bump when the stage's behaviour changes, so resumed runs recompute it.
    version: ClassVar[str] = "1"
    # How the runner splits the work (module docstring): one of MODES. Every stage class declares it.
    mode: ClassVar[str] = ""
    # mode "rows": at most this many rows per task.
    batch_size: ClassVar[int | None] = None
    # Stages that add new rows (synthesis, up-sampling) say so; the runner checks their lineage.
    creates_rows: ClassVar[bool] = False
    # Stages that only look at rows (inspect, save) keep every row unchanged; their input is linked.
    changes_rows: ClassVar[bool] = True
    # Stages that load a model (LLM, embeddings, NER) run on long-lived workers / Ray actors.
    holds_model: ClassVar[bool] = False
    # Keyed stages: the keys column whose equal values are all `decide` compares (None: decide sees all keys).
    partition_key: ClassVar[str | None] = None
    # Stages that describe the run they are part of (save, publish: the dataset card) get a RunInfo
    # (run_info.py) in ctx.extras["run"]; the others never see the run directory.
    needs_run_info: ClassVar[bool] = False

    # mode "table": the model calls of the stage run on the step's workers (LLMStage, llm/fanout.py).
    fans_out: ClassVar[bool] = False

    @classmethod
    def execution(cls) -> str:
        """The declared `mode`, checked against what the class implements (a clear error if it does not fit)."""
        check_mode(cls)
        return cls.mode

    def distributable(self) -> bool:
        """Whether this configured instance can run its declared way (a config may force the whole table)."""
        return True

    # ---- keyed stages: shard_keys per shard, decide once, apply per shard
    def shard_keys(self, df: pl.DataFrame, ctx: StageContext) -> pl.DataFrame:
        """Per-row facts that `decide` needs (always with `id`), computed on one shard."""
        raise NotImplementedError

    def decide(self, keys: pl.LazyFrame, ctx: StageContext) -> "Verdicts":
        """From the keys of every shard (lazily, in input order: select only the columns you need), the
        verdict for each row that is not simply kept."""
        raise NotImplementedError

    def apply(self, df: pl.DataFrame, verdicts: "Verdicts", ctx: StageContext) -> StageResult:
        """Split one shard by the verdicts: rows with a `reason` are rejected, the rest kept; other verdict
        columns are added to the rows (filled from `Verdicts.defaults` for rows without a verdict)."""
        return apply_verdicts(self, df, verdicts)

    # ---- summary stages (changes_rows = False): summarize per shard, combine once
    def summarize(self, df: pl.DataFrame, ctx: StageContext) -> dict[str, Any]:
        """What `combine` needs of one shard: JSON values, counters, NumPy arrays and Polars DataFrames (written
        beside the step as Parquet; `combine` gets them back as LazyFrames). Never the rows themselves."""
        raise NotImplementedError

    def combine(self, summaries: list[dict[str, Any]], ctx: StageContext) -> dict[str, Any]:
        """The stage's figures (stats.json `stage_stats`) from the summaries of every shard, in input order."""
        raise NotImplementedError

    # ---- ingest stages: no input table; chunks of files read in workers
    def plan_chunks(self, ctx: StageContext, rows_per_chunk: int) -> list[Any]:
        """The pieces of work, each readable on its own in any worker (picklable)."""
        raise NotImplementedError

    def read_chunk(self, chunk: Any, ctx: StageContext) -> tuple[StageResult, int]:
        """One chunk's rows (in a worker) and how many rows it held."""
        raise NotImplementedError

    def finish_chunks(self, ctx: StageContext, chunks: list[Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
        """After every chunk is read, in the driver: fix what one chunk could not see; the step's figures."""
        raise NotImplementedError

    # ---- fans_out stages: their generate calls in a `table` step run on the step's workers
    def fan_out(self, run: Any) -> Any:
        """What the stage's driver-side instance gets as ctx.extras["fanout"] for one step (`run`:
        plan.StepRun); its `stats()` join the step's figures."""
        raise NotImplementedError

    def run_fanned(self, task: Any) -> dict[str, Any]:
        """One fanned-out task (worker.Task, phase "generate") on this worker's instance."""
        raise NotImplementedError

    def resources(self) -> dict[str, Any]:
        """What each worker of this stage needs on Ray (num_cpus, num_gpus, ...), from its config; a
        recipe's `resources:` on the step overrides it."""
        return {}

    def combine_stats(self, merged: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
        """The step's figures from its parts' stats (`merged`: numbers added up, else the last value); a
        row-wise stage whose figures are rates or lists recomputes them here from `parts`."""
        return merged

    def process_parts(self, paths: list[Path], ctx: StageContext) -> dict[str, Any] | None:
        """For stages with `changes_rows = False`: read the input parts yourself instead of getting the whole
        table in memory (save streams them to the dataset writer). Return the stage's figures, or None
        (the default) to get the table in `process`."""
        return None

    @classmethod
    def fingerprint_files(cls) -> list[Path]:
        """Files besides its source code that decide what the stage writes (an LLM stage's own prompt
        files); a plugin stage's step fingerprint covers them (fingerprint.py: code_hash)."""
        return []

    def close(self) -> None:
        """Free what the stage loaded (models, backends). Called by the runner when the step is done."""

    def __init__(self, config: C | dict[str, Any] | None = None):
        parsed = config if isinstance(config, StageConfig) else self.parse_config(config or {})
        self.config: C = cast(C, parsed)

    @classmethod
    def parse_config(cls, params: dict[str, Any]) -> StageConfig:
        try:
            return cls.Config(**params)
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(config)'}: {_explain(err, cls.Config.model_fields)}"
                for err in e.errors()
            )
            raise ConfigError(
                f"stage {cls.name!r}: {problems}. Run `dsforge stages {cls.name}` to see its parameters."
            ) from None

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        raise NotImplementedError

    def process_keyed(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        """The keyed protocol on one table: what `process` of a keyed stage is."""
        keys = self.shard_keys(df, ctx).with_columns(pl.lit(0, dtype=pl.Int32).alias("__part"),
                                                     pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"))
        v = self.decide(keys.lazy(), ctx)
        result = self.apply(df, v, ctx)
        result.stats = {**v.stats, **result.stats}
        return result

    def reject(self, df: pl.DataFrame, reason: str | pl.Expr, detail: str | pl.Expr = "") -> pl.DataFrame:
        """Rejected rows for this stage; reasons are prefixed with the stage name when given as text."""
        if isinstance(reason, str) and not reason.startswith(f"{self.name}:"):
            reason = f"{self.name}:{reason}"
        return records.rejects(df, self.name, reason, detail)

    @classmethod
    def summary(cls) -> str:
        """What the stage does, for `dsforge stages`: the first paragraph of the class docstring (of the module's,
        without its leading `name:`, when the class has none), on one line."""
        doc = inspect.getdoc(cls) if cls.__doc__ else inspect.getdoc(sys.modules.get(cls.__module__))
        first = " ".join((doc or "").strip().split("\n\n")[0].split()).removeprefix(f"{cls.name}:").strip()
        return first[:1].upper() + first[1:]

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Parameters with type, default and help text, for `dsforge stages`."""
        out = []
        for pname, f in cls.Config.model_fields.items():
            default = None if f.is_required() else f.get_default(call_default_factory=True)
            out.append(
                {
                    "name": pname,
                    "type": _type_name(f.annotation),
                    "default": default,
                    "required": f.is_required(),
                    "help": f.description or "",
                }
            )
        return out


MODES = ("rows", "keyed", "summary", "table", "ingest")
_NEEDS = {"keyed": ("shard_keys", "decide"), "summary": ("summarize", "combine"),
          "ingest": ("plan_chunks", "read_chunk", "finish_chunks")}


def check_mode(cls: type[Stage]) -> None:
    """Raise ConfigError naming the class when its `mode` is missing, unknown, or lacks what the mode calls."""
    where = f"stage {cls.name or cls.__name__!r} ({cls.__module__}:{cls.__qualname__})"
    fix = f"set the class attribute `mode` to one of {', '.join(MODES)} (docs/architecture.md, 'The stage interface')"
    if cls.mode not in MODES:
        raise ConfigError(f"{where} declares no execution mode (mode = {cls.mode!r}): {fix}",
                          hint="fix the stage class (or tell its package's authors): every stage says how the runner "
                               "may split its work")
    missing = [m for m in _NEEDS.get(cls.mode, ()) if getattr(cls, m) is getattr(Stage, m)]
    if missing:
        raise ConfigError(f"{where} has mode = {cls.mode!r} but does not implement {', '.join(missing)}")
    if cls.mode == "rows" and not (isinstance(cls.batch_size, int) and cls.batch_size >= 1):
        raise ConfigError(f"{where} has mode = 'rows' but no `batch_size` (the rows per task, a whole number >= 1)")
    if cls.mode != "rows" and cls.batch_size:
        raise ConfigError(f"{where} sets batch_size = {cls.batch_size} but mode = {cls.mode!r}: batch_size is read "
                          "only in mode 'rows'; remove it or declare mode = 'rows'")
    if cls.mode == "summary" and cls.changes_rows:
        raise ConfigError(f"{where} has mode = 'summary' but changes_rows = True: summary stages only look at rows")


@dataclass
class Verdicts:
    """What a keyed stage decided: `table` has `id`, `reason` (null: keep) and `detail`, plus any columns
    to add to rows; `defaults` fills those columns for rows without a verdict; `stats` goes to stats.json."""

    table: pl.DataFrame
    defaults: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def apply_verdicts(stage: Stage, df: pl.DataFrame, verdicts: Verdicts) -> StageResult:
    """Join verdicts to a shard by id; rows whose verdict has a reason are rejected with it."""
    defaults = verdicts.defaults
    v = verdicts.table.drop("__part", strict=False).rename({"reason": "__reason", "detail": "__detail"})
    extra = [c for c in v.columns if c not in ("id", "__reason", "__detail")]
    joined = df.join(v, on="id", how="left", maintain_order="left")
    if extra:
        joined = joined.with_columns(
            pl.col(c).fill_null(pl.lit(defaults[c])) if c in defaults else pl.col(c) for c in extra)
    bad = pl.col("__reason").is_not_null()
    kept = joined.filter(~bad).drop("__reason", "__detail")
    rejected = stage.reject(joined.filter(bad), pl.col("__reason"), pl.col("__detail").fill_null("")).drop(
        "__reason", "__detail")
    return StageResult(kept=kept, rejected=rejected)


def _explain(err: dict[str, Any], known: Any = ()) -> str:
    if err["type"] == "extra_forbidden":
        import difflib

        close = difflib.get_close_matches(str(err["loc"][-1]) if err["loc"] else "", list(known), n=2, cutoff=0.6)
        return "unknown parameter" + (f" (did you mean {' or '.join(close)}?)" if close else "")
    if err["type"] == "missing":
        return "required parameter is missing"
    from dsforge.pipelines.core.redact import mask_tokens  # a key typed in the wrong field is never echoed

    return f"{err['msg']} (got {mask_tokens(repr(err.get('input')))})"


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    return name if name and not getattr(annotation, "__args__", None) else str(annotation).replace("typing.", "")
