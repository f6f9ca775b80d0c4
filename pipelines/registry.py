"""The list of stages: recipe name -> where its class lives.

Explicit on purpose (no self-registration): to add a stage, write its class and add one line here.
Classes are imported only when used, so `dsforge --help` stays fast and heavy dependencies (torch,
presidio, vLLM) load only for the stages that need them.
"""

from __future__ import annotations

import importlib

from dsforge.pipelines.stage import ConfigError, Stage

STAGES: dict[str, str] = {
    # spine
    "ingest": "dsforge.pipelines.ingest:Ingest",
    "exact-dedup": "dsforge.dedup.exact:ExactDedup",
    "length-filter": "dsforge.filters.length:LengthFilter",
    "chat-format": "dsforge.pipelines.formatting:ChatFormat",
    "save": "dsforge.pipelines.formatting:Save",
    # inspection (issue 3)
    # dedup (issue 4)
    # filters (issue 5)
    # synthesis (issue 7)
    # verification, formatting, publishing (issue 8)
}


def stage_class(name: str) -> type[Stage]:
    """The class of a stage by its recipe name; a clear error with close matches for a typo."""
    target = STAGES.get(name)
    if target is None:
        import difflib

        close = difflib.get_close_matches(name, STAGES, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown stage {name!r}.{hint} Run `dsforge stages` to list them.")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def all_stages() -> dict[str, type[Stage]]:
    return {name: stage_class(name) for name in STAGES}
