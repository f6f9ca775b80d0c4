"""Recipes: YAML files listing inputs, stages with their params, and output options.

    name: alpaca-sft
    inputs:
      - {path: "data:alpaca_libre_v1.jsonl", mapping: alpaca, source: alpaca-libre}
    stages:
      - stage: exact-dedup
        fields: [prompt]
      - {stage: length-filter, field: response, min_chars: 1}
      - {stage: chat-format, template: smollm2}
      - stage: save

`stage:` is a name from `dsforge stages` (built-in or from an installed plugin package) or a class as
`my_pkg.my_mod:MyStage`. Every key of a stage entry other than `stage`, `id`, `retries` and `resources` is a parameter of that
stage. `id` names a step when one stage is used twice (e.g. inspect before and after cleaning); `retries`
asks the orchestrator to retry a flaky step (an LLM endpoint, say); `resources` is what each worker of
the step needs on Ray (`{num_gpus: 1}` for a vLLM engine, `{num_cpus: 2}`). Top-level `executor:`
(`{name: ray, address: HOST:PORT}`) and `workers: N` say where parts run; the command line overrides them. The runner adds the `ingest`
step for `inputs` in front. Loading validates everything (stage names, parameter names and types)
so that a typo is an error before any work starts, naming the file and step.

Shipped recipes live in pipelines/recipes/ and can be named without a path (`dsforge run alpaca-sft`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dsforge.pipelines.core.errors import UsageError
from dsforge.pipelines.core.executors import ExecutorSpec
from dsforge.pipelines.core.readers import DataError, InputSpec, resolve_path
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.stage import ConfigError, Stage

RECIPES_DIR = Path(__file__).parents[1] / "recipes"
TOP_LEVEL_KEYS = {"name", "description", "inputs", "stages", "seed", "output", "executor", "workers",
                  "guideline"}  # guideline: annotation guideline (text or a file) shown by `dsforge review`
MAX_NAME = 100  # a recipe's name + the time stamp name its run folder (file names stop at 255 bytes)
OUTPUT_KEYS = {"dir"}  # output.dir: where run folders go (default runs/, or --out)


@dataclass
class Step:
    id: str
    stage: Stage
    retries: int = 0  # how often the orchestrator retries this step after an exception
    resources: dict[str, Any] = field(default_factory=dict)  # per worker/actor on Ray: num_cpus, num_gpus, ...
    ref: str = ""  # how the recipe named the stage (a registry name or `module:Class`); "" = by its name

    @property
    def name(self) -> str:
        return self.stage.name


@dataclass
class Recipe:
    name: str
    steps: list[Step]
    description: str = ""
    seed: int = 0
    path: Path | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    output: dict[str, Any] = field(default_factory=dict)
    executor: ExecutorSpec = field(default_factory=ExecutorSpec)  # where parts run; the command line may override


def shipped_recipes() -> dict[str, Path]:
    return {p.stem: p for p in sorted(RECIPES_DIR.glob("*.yaml"))}


def find_recipe(name_or_path: str | Path) -> Path:
    p = Path(name_or_path).expanduser()
    if p.exists():
        return p
    shipped = shipped_recipes()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise ConfigError(
        f"recipe {str(name_or_path)!r} not found: give a YAML file or a shipped recipe name ({', '.join(shipped)})"
    )


def load_recipe(name_or_path: str | Path, inputs: list[str] | None = None) -> Recipe:
    """Load and validate a recipe; `inputs` (paths) replace the recipe's inputs, keeping its first mapping."""
    path = find_recipe(name_or_path)
    if not path.is_file():
        raise ConfigError(f"{path}: is a folder, not a recipe file" if path.is_dir() else f"{path}: not a regular file",
                          hint="give a recipe YAML file or a shipped recipe name (dsforge recipes lists them)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it ({e})") from None
    return build_recipe(load_yaml(text, str(path)), path=path, inputs=inputs)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (plain YAML lets the last one win silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} is given twice (first {seen[key]})", key_node.start_mark)
                seen[key] = f"at line {key_node.start_mark.line + 1}"
            except TypeError:  # an unhashable key: the base class says so
                break
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, where: str, hint: str | None = None) -> Any:
    """YAML of a recipe or a --param value: safe (no !!python tags), no duplicate keys, bounded nesting;
    any problem is a ConfigError naming `where`."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as e:
        problem = " ".join(str(e).split())  # one line
        raise ConfigError(f"{where}: not valid YAML: {problem}", hint=hint) from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to be a recipe", hint=hint) from None


def build_recipe(data: Any, path: Path | None = None, inputs: list[str] | None = None,
                 base_dir: Path | None = None) -> Recipe:
    where = str(path) if path else "recipe"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with inputs: and stages:")
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(TOP_LEVEL_KEYS)}")
    raw_inputs = data.get("inputs") or []
    if not isinstance(raw_inputs, list):
        raise ConfigError(f"{where}: inputs: expected a list, e.g. `inputs: [{{path: raw.jsonl}}]`; "
                          f"got {type(raw_inputs).__name__} {raw_inputs!r}"[:300])
    raw_stages = data.get("stages") or []
    if not isinstance(raw_stages, list):
        raise ConfigError(f"{where}: stages: expected a list of `- stage: NAME` entries; "
                          f"got {type(raw_stages).__name__}"[:300])
    recipe_name = str(data.get("name") or (path.stem if path else "recipe"))
    if len(recipe_name) > MAX_NAME:
        raise ConfigError(f"{where}: name: {len(recipe_name)} characters ({recipe_name[:20]}...); at most {MAX_NAME}, "
                          "because it names the run folder")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", recipe_name):
        raise ConfigError(f"{where}: name: {recipe_name!r} names the run folder; use letters, digits, '.', '_' and '-' "
                          "(no '/' or leading '.')")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{where}: seed: expected a whole number, got {repr(seed)[:60]}")
    if not 0 <= seed < 2**63:
        raise ConfigError(f"{where}: seed: expected a whole number from 0 to 2**63-1, got {repr(seed)[:60]}")
    output = data.get("output") or {}
    if not isinstance(output, dict) or set(output) - OUTPUT_KEYS:
        bad = sorted(set(output) - OUTPUT_KEYS) if isinstance(output, dict) else output
        raise ConfigError(f"{where}: output: unknown keys {bad}; allowed: {sorted(OUTPUT_KEYS)}")
    if inputs:
        template = dict(raw_inputs[0]) if raw_inputs and isinstance(raw_inputs[0], dict) else {}
        template.pop("path", None)
        template.pop("source", None)
        template.pop("limit", None)
        raw_inputs = [{**template, "path": os.path.abspath(Path(p).expanduser())} for p in inputs]
    if not raw_inputs:
        raise ConfigError(f"{where}: no inputs (add `inputs:` or pass --input)")
    try:
        input_specs = [InputSpec(**i) if isinstance(i, dict) else InputSpec(path=str(i)) for i in raw_inputs]
    except Exception as e:
        raise ConfigError(f"{where}: inputs: {e}") from None

    base = base_dir or (path.parent if path else Path.cwd())
    input_specs = [part for spec in input_specs for part in step_parts(spec, base)]
    errors: list[str] = []  # every problem below is collected, so `dsforge validate` reports them all at once
    hints: list[str] = []  # the hint of a stage that could not be loaded (shown when it is the only problem)
    for spec in input_specs:
        try:
            resolved = resolve_path(spec.path, base)
        except DataError as e:
            errors.append(f"{where}: inputs: {e}")
            continue
        if resolved.is_symlink() and not resolved.exists():
            errors.append(f"{where}: inputs: {spec.path}: a symbolic link that leads nowhere (a loop, or its "
                          "target is missing)")
            continue
        if not resolved.exists():
            looked = resolve_path(spec.path, base) if Path(spec.path).is_absolute() or spec.path.startswith("data:") \
                else f"{base} and {Path.cwd()}"
            errors.append(f"{where}: input not found: {spec.path} (looked in {looked})")
    steps = [Step("ingest", stage_class("ingest")({"inputs": input_specs}))]
    seen = {"ingest"}
    for n, entry in enumerate(raw_stages, 1):
        if isinstance(entry, str):
            entry = {"stage": entry}
        if not isinstance(entry, dict) or "stage" not in entry:
            errors.append(f"{where}: stages[{n}]: expected a mapping with a `stage:` key, got {entry!r}")
            continue
        params = dict(entry)
        name = str(params.pop("stage"))
        if name == "ingest":
            errors.append(f"{where}: stages[{n}]: ingest is added by the runner from `inputs:`; "
                          "do not list it under stages")
            continue
        try:
            cls = stage_class(name)
        except ConfigError as e:
            errors.append(f"{where}: stages[{n}] ({name}): {e}")
            hints.append(e.hint)
            continue
        step_id = str(params.pop("id", cls.name if ":" in name else name))
        retries = params.pop("retries", 0)
        if not isinstance(retries, int) or retries < 0:
            errors.append(f"{where}: stages[{n}]: retries must be a whole number >= 0, got {retries!r}")
        resources = params.pop("resources", {}) or {}
        if not isinstance(resources, dict) or not all(isinstance(v, (int, float)) for v in resources.values()):
            errors.append(f"{where}: stages[{n}]: resources must map names to numbers, e.g. {{num_gpus: 1}}, "
                          f"got {resources!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", step_id):
            errors.append(f"{where}: stages[{n}]: id {step_id!r} may only use letters, digits, '.', '_' and '-'")
        if step_id in seen:
            errors.append(f"{where}: stages[{n}]: step id {step_id!r} is used twice; give one an `id:`")
        seen.add(step_id)
        try:
            steps.append(Step(step_id, cls(params), retries, resources, ref=name))
        except ConfigError as e:
            errors.append(f"{where}: stages[{n}] ({name}): {e}")
    if len(errors) == 1:
        raise ConfigError(errors[0], hint=hints[0] if len(hints) == 1 else None)  # a stage class's own advice
    if errors:
        raise ConfigError(f"{len(errors)} problems:\n" + "\n".join(f"  - {e}" for e in errors))
    return Recipe(
        name=recipe_name,
        description=str(data.get("description") or ""),
        steps=steps,
        seed=seed,
        path=path,
        base_dir=base,
        output=dict(output),
        executor=_executor(data, where),
    )


def step_parts(spec: InputSpec, base: Path) -> list[InputSpec]:
    """A step folder of an earlier run (or its kept/ folder) as input: its Parquet parts, in order."""
    try:
        p = resolve_path(spec.path, base)
    except DataError:
        return [spec]
    folder = p / "kept" if (p / "kept").is_dir() and (p / "stats.json").exists() else p
    files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    if not files:
        return [spec]
    return [spec.model_copy(update={"path": str(f), "format": "parquet", "mapping": "records"}) for f in files]


def _executor(data: dict[str, Any], where: str) -> ExecutorSpec:
    """The recipe's `executor:` ({name, address, workers} or a bare name) and top-level `workers:`."""
    ex = data.get("executor") or {}
    ex = {"name": ex} if isinstance(ex, str) else ex
    if isinstance(ex, dict) and data.get("workers") is not None:
        ex = {**ex, "workers": data["workers"]}
    try:
        return ExecutorSpec.of(ex)
    except UsageError as e:
        raise ConfigError(f"{where}: {e}") from None