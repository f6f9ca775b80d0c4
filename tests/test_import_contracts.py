"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and cycles are caught: across layers and inside
a package, and (with grimp, which import-linter runs on) between any two dsforge modules at all.

CI runs this file like every other (`make test`), so a change that makes a lower layer import a higher
one (validators -> synth, pipelines -> dedup, the core -> flows, ...) or closes a circle inside a package
(llm/seam -> llm/backends/base -> llm/seam) fails the build with the import named. Imports inside functions
count: grimp reads them, so hiding a cycle in a function does not pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "synth", "dedup", "filters", "validators", "flows", "data")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_the_import_contracts_are_kept():
    out = lint()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
    assert "rooms and layers: apps > flows > filters | synth > validators | dedup > stages >" in out.stdout
    assert "no import cycles inside a package KEPT" in out.stdout


def copy_of_the_code(dest: Path) -> Path:
    """The Python files of every package, under dest/dsforge/ (what grimp reads)."""
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, dest / "dsforge" / pkg,
                        ignore=lambda d, names: [n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir()
                                                 or n == "__pycache__"])
    return dest


def broken(tmp_path: Path, additions: dict[str, str]) -> str:
    """lint-imports' report on a copy of the code with a line added to each file (paths under dsforge/); it
    must fail."""
    code = copy_of_the_code(tmp_path)
    for path, line in additions.items():
        f = code / "dsforge" / path
        f.write_text(f.read_text() + line)
    out = lint(pythonpath=code)
    assert out.returncode != 0, out.stdout
    return out.stdout


LATE = "\n\ndef _late():\n    "  # an import inside a function counts too (grimp reads those)
BREAKS = {
    "a cycle between packages": (
        {"validators/judge.py": "\nfrom dsforge.synth import paraphrase\n",
         "pipelines/stages/split.py": "\nfrom dsforge.dedup import minhash\n"},
        ["dsforge.validators.judge -> dsforge.synth.paraphrase", "dsforge.pipelines.stages.split -> dsforge.dedup.minhash"]),
    "a cycle inside a package, even inside a function": (
        {"pipelines/llm/backends/base.py": LATE + "from dsforge.pipelines.llm import seam\n",
         "pipelines/core/readers/mapping.py": "\nfrom dsforge.pipelines.core.readers import spec\n"},
        ["No cycles are allowed in dsforge.pipelines.llm.", "No cycles are allowed in dsforge.pipelines.core.readers."]),
    # the rooms of pipelines/: core < llm | neardup < stages < (filters, synth, ...) < flows < apps
    "a room importing a room above it or a sibling": (
        {"pipelines/core/worker.py": LATE + "from dsforge.pipelines.stages import ingest\n",
         "pipelines/core/runner.py": "\nfrom dsforge.pipelines.apps import cli\n",
         "pipelines/stages/split.py": "\nfrom dsforge.pipelines.apps.review import guard\n",
         "pipelines/llm/prompt.py": "\nfrom dsforge.pipelines.neardup import shingles\n"},
        ["dsforge.pipelines.core.worker -> dsforge.pipelines.stages.ingest",
         "dsforge.pipelines.core.runner -> dsforge.pipelines.apps.cli",
         "dsforge.pipelines.stages.split -> dsforge.pipelines.apps.review.guard",
         "dsforge.pipelines.llm.prompt -> dsforge.pipelines.neardup.shingles"]),
}


@pytest.mark.parametrize("case", BREAKS)
def test_a_forbidden_import_breaks_the_contracts_and_is_named(case, tmp_path):
    additions, named = BREAKS[case]
    report = broken(tmp_path, additions)
    for text in named:
        assert text in report, (text, report)


def module_cycles(pythonpath: Path) -> list[str]:
    """Every import A -> B between dsforge modules for which B also reaches A, as 'A -> B -> ... -> A'."""
    script = (
        "import grimp\n"
        "g = grimp.build_graph(*%r, cache_dir=None)\n"
        "for a in sorted(g.modules):\n"
        "    for b in sorted(g.find_modules_directly_imported_by(a)):\n"
        "        back = g.find_shortest_chain(importer=b, imported=a)\n"
        "        if back:\n"
        "            print(a, '->', ' -> '.join(back))\n" % ([f"dsforge.{p}" for p in PACKAGES],))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(pythonpath)}, cwd=pythonpath)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_no_module_of_dsforge_imports_itself_back(tmp_path):
    assert module_cycles(copy_of_the_code(tmp_path / "now")) == []
    code = copy_of_the_code(tmp_path / "cycle")
    stage = code / "dsforge" / "pipelines" / "core" / "stage.py"
    stage.write_text(stage.read_text() + "\n\ndef _late():\n    from dsforge.pipelines.core import registry  # noqa: the cycle\n")
    assert (
        "dsforge.pipelines.core.registry -> dsforge.pipelines.core.stage -> dsforge.pipelines.core.registry"
        in module_cycles(code))


def test_the_rooms_picture_of_the_architecture_doc_stays_true():
    """docs/architecture.md's picture lists the rooms in the order of the layers contract, and every function
    it names on one run's route exists where it says."""
    import importlib
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    doc = (ROOT / "docs" / "architecture.md").read_text()
    section = doc[doc.index("## Rooms and layers"):]
    picture = section[section.index("```") + 3:]
    picture = picture[:picture.index("```")]
    where = [picture.find(layer.split("|")[0].strip().removeprefix("dsforge.").replace(".", "/") + "/")
             for layer in layers]
    assert -1 not in where and where == sorted(where), list(zip(layers, where))
    for module, names in {"dsforge.flows.recipe_flow": ["loaded_recipe_flow", "recipe_flow"],
                          "dsforge.pipelines.core.runner": ["execute_step", "run_recipe", "plan_run"],
                          "dsforge.pipelines.core.plan": ["StepRun", "RunPlan"],
                          "dsforge.pipelines.core.step_modes": ["execute"],
                          "dsforge.pipelines.core.executors": ["Executor", "LocalExecutor", "RayExecutor"],
                          "dsforge.pipelines.core.worker": ["run_task", "check_contract"],
                          "dsforge.pipelines.core.recipe": ["load_recipe"]}.items():
        mod = importlib.import_module(module)
        for name in names:
            assert hasattr(mod, name), f"{module}.{name}"
            assert name in doc, name
