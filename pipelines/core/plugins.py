"""Stages and backends from other installed packages, found through package entry points.

A package adds stages under the entry-point group `dsforge.stages` and LLM backends under `dsforge.backends`
(its pyproject.toml: `[project.entry-points."dsforge.stages"] keyword-drop = "my_pkg.stages:KeywordDrop"`),
so a team extends dsforge by `pip install`, without editing it. The registry (registry.py) and the backend
seam (llm/seam.py) look here beside their built-in tables; a built-in name always wins. A recipe may also
name a class directly: `stage: my_pkg.stages:KeywordDrop` (`load_object`).

An entry point that fails to import is an error naming its package, so a broken plugin is never mistaken
for a typo in the recipe. Not here: what a stage or a backend must implement (stage.py, llm/backends/base.py).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import Any

from dsforge.pipelines.core.stage import ConfigError

STAGE_GROUP = "dsforge.stages"
BACKEND_GROUP = "dsforge.backends"
log = logging.getLogger("dsforge")


@dataclass(frozen=True)
class Plugin:
    """One entry point: `name = "module:attr"` declared by the distribution `package` at `version`."""

    name: str
    target: str
    package: str
    version: str

    @property
    def origin(self) -> str:
        return f"{self.package} {self.version}"

    def load(self) -> Any:
        """The object the entry point names; an import failure names the package and the entry point."""
        try:
            return load_object(self.target)
        except ConfigError as e:
            raise ConfigError(f"plugin {self.name!r} of package {self.origin} ({self.target}) cannot be loaded: "
                              f"{e}. Reinstall or fix that package, or uninstall it.") from None


@lru_cache(maxsize=None)
def plugins(group: str, builtin: frozenset[str] = frozenset()) -> dict[str, Plugin]:
    """The entry points of `group` of every installed distribution, by name, leaving out the `builtin` names
    (dsforge's own win; the first distribution of a name wins). Each clash is logged once.

    Cached per process; `refresh()` forgets it (after installing a package into a running process)."""
    found: dict[str, Plugin] = {}
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        package = dist.metadata["Name"] if dist is not None else "?"
        version = dist.version if dist is not None else "?"
        plugin = Plugin(ep.name, ep.value, package, version)
        if ep.name in builtin:
            log.warning("%s %r of package %s is ignored: dsforge has one of that name", group, ep.name, plugin.origin)
        elif ep.name in found and found[ep.name].target != plugin.target:
            log.warning("%s %r is declared by %s and by %s; using %s's", group, ep.name, found[ep.name].origin,
                        plugin.origin, found[ep.name].origin)
        else:
            found.setdefault(ep.name, plugin)
    return found


def refresh() -> None:
    plugins.cache_clear()
    distribution_of.cache_clear()


def load_object(target: str) -> Any:
    """`package.module:Name` (or `module:Outer.Inner`) imported; a clear ConfigError when it is not there."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{target!r}: expected module:Name, e.g. my_pkg.stages:KeywordDrop")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # any failure inside the plugin's module, not only ImportError
        raise ConfigError(f"cannot import {module_name}: {type(e).__name__}: {e}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"module {module_name} has no {attr!r}") from None
    return obj


@lru_cache(maxsize=256)
def distribution_of(module_name: str) -> tuple[str, str] | None:
    """(distribution name, version) that installed the top-level package of `module_name`, if any."""
    top = module_name.split(".")[0]
    names = metadata.packages_distributions().get(top) or []
    for name in names:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None
