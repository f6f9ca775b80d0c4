"""The import layers of pyproject.toml ([tool.importlinter]) hold, and a cycle across them is caught.

CI runs this file like every other (`make test`), so a change that makes a lower layer import a higher
one (validators -> synth, pipelines -> dedup, the core -> flows, ...) fails the build with the import named.
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
    assert "0 broken" in out.stdout and "layers: flows > filters | synth > validators | dedup" in out.stdout


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
    split = code / "dsforge" / "pipelines" / "split.py"
    split.write_text(split.read_text() + "\nfrom dsforge.dedup import minhash  # noqa: the cycle\n")
    out = lint(pythonpath=code)
    assert out.returncode != 0, out.stdout
    assert "dsforge.validators.judge -> dsforge.synth.paraphrase" in out.stdout
    assert "dsforge.pipelines.split -> dsforge.dedup.minhash" in out.stdout
