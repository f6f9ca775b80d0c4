"""Packaging: our folders install under `dsforge.` and never shadow the PyPI packages of the same names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("pipelines", "synth", "dedup", "filters", "validators", "flows")


def test_namespaced_imports_and_no_bare_name_shadowing(tmp_path):
    # Run from an unrelated folder, as a user would: the repo root must not be on sys.path.
    code = f"""
import importlib, importlib.util, json
out = {{}}
for name in {OURS!r}:
    mod = importlib.import_module("dsforge." + name)
    bare = importlib.util.find_spec(name)
    out[name] = [mod.__file__, bare.origin if bare else None]
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    found = json.loads(res.stdout)
    for name, (ours, bare) in found.items():
        assert Path(ours).resolve().is_relative_to(ROOT / name), (name, ours)
        # A bare import must never find our folder (it would shadow e.g. the PyPI `validators` package).
        assert bare is None or not Path(bare).resolve().is_relative_to(ROOT), (name, bare)


def test_console_script_and_shipped_files_are_installed():
    from importlib import metadata, resources

    eps = [e for e in metadata.entry_points(group="console_scripts") if e.name == "dsforge"]
    assert eps and eps[0].value == "dsforge.pipelines.apps.cli:main"
    assert resources.files("dsforge.data").joinpath("alpaca_libre_v1.jsonl").is_file()
    assert resources.files("dsforge.pipelines").joinpath("recipes/alpaca-sft.yaml").is_file()
    assert resources.files("dsforge.pipelines.stages").joinpath("templates/smollm2.jinja").is_file()
    requires = metadata.requires("dsforge")
    assert "torch==2.13.0" in requires
    assert any(r.startswith("vllm") and "extra" in r for r in requires)  # heavy GPU engine stays optional


def test_every_subpackage_on_disk_is_listed_in_pyproject():
    """setuptools' package-dir mapping needs each subpackage listed; a forgotten one is missing from wheels."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        "dsforge." + ".".join(p.parent.relative_to(ROOT).parts)
        for top in (*OURS, "data")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk == listed, f"only on disk: {sorted(on_disk - listed)}; only in pyproject: {sorted(listed - on_disk)}"


def test_every_shipped_template_matches_package_data():
    """Files the code reads at run time (report templates, chat templates, prompts, recipes) must match a
    package-data glob, or an installed wheel lacks them (checked by building one while adding the globs)."""
    import glob
    import tomllib

    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {"dsforge.pipelines.stages.inspect": "pipelines/stages/inspect/templates",
               "dsforge.pipelines.stages": "pipelines/stages/templates", "dsforge.pipelines": "pipelines/recipes",
               "dsforge.pipelines.apps.review": "pipelines/apps/review/static", "dsforge.synth": "synth/prompts"}
    for package, folder in shipped.items():
        root = ROOT / package.removeprefix("dsforge.").replace(".", "/")
        matched = {Path(m) for g in package_data.get(package, []) for m in glob.glob(str(root / g))}
        for f in (ROOT / folder).rglob("*"):
            if f.is_file() and f.suffix != ".py":
                assert f in matched, f"{f.relative_to(ROOT)} matches no {package} package-data glob"
