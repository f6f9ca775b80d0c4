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


def test_a_deliberate_cycle_breaks_the_contracts(tmp_path):
    code = copy_of_the_code(tmp_path)
    judge = code / "dsforge" / "validators" / "judge.py"
    judge.write_text(judge.read_text() + "\nfrom dsforge.synth import paraphrase  # noqa: the cycle\n")
    split = code / "dsforge" / "pipelines" / "stages" / "split.py"
    split.write_text(split.read_text() + "\nfrom dsforge.dedup import minhash  # noqa: the cycle\n")
    out = lint(pythonpath=code)
    assert out.returncode != 0, out.stdout
    assert "dsforge.validators.judge -> dsforge.synth.paraphrase" in out.stdout
    assert "dsforge.pipelines.stages.split -> dsforge.dedup.minhash" in out.stdout


def test_a_cycle_inside_a_package_breaks_the_contracts_even_inside_a_function(tmp_path):
    code = copy_of_the_code(tmp_path)
    base = code / "dsforge" / "pipelines" / "llm" / "backends" / "base.py"
    base.write_text(base.read_text() + "\n\ndef _late():\n    from dsforge.pipelines.llm import seam  # noqa: the cycle\n")
    mapping = code / "dsforge" / "pipelines" / "core" / "readers" / "mapping.py"
    mapping.write_text(mapping.read_text() + "\nfrom dsforge.pipelines.core.readers import spec  # noqa: the cycle\n")
    out = lint(pythonpath=code)
    assert out.returncode != 0, out.stdout
    assert "No cycles are allowed in dsforge.pipelines.llm." in out.stdout
    assert "No cycles are allowed in dsforge.pipelines.core.readers." in out.stdout


def test_each_room_of_pipelines_imports_only_the_rooms_below_it(tmp_path):
    """core < llm | neardup < stages < (filters, synth, ...) < flows < apps: the core reaching a stage or an app,
    a stage reaching an app, or llm reaching neardup is named, even from inside a function."""
    code = copy_of_the_code(tmp_path)
    pipelines = code / "dsforge" / "pipelines"
    for path, line in [
        ("core/worker.py", "\n\ndef _late():\n    from dsforge.pipelines.stages import ingest  # noqa: core -> stages\n"),
        ("core/runner.py", "\nfrom dsforge.pipelines.apps import cli  # noqa: core -> apps\n"),
        ("stages/split.py", "\nfrom dsforge.pipelines.apps.review import guard  # noqa: stages -> apps\n"),
        ("llm/prompt.py", "\nfrom dsforge.pipelines.neardup import shingles  # noqa: siblings\n"),
    ]:
        f = pipelines / path
        f.write_text(f.read_text() + line)
    out = lint(pythonpath=code)
    assert out.returncode != 0, out.stdout
    for broken in ("dsforge.pipelines.core.worker -> dsforge.pipelines.stages.ingest",
                   "dsforge.pipelines.core.runner -> dsforge.pipelines.apps.cli",
                   "dsforge.pipelines.stages.split -> dsforge.pipelines.apps.review.guard",
                   "dsforge.pipelines.llm.prompt -> dsforge.pipelines.neardup.shingles"):
        assert broken in out.stdout, (broken, out.stdout)


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
