"""Inspection: "look at your data" as one command and one stage.

    dsforge inspect data.jsonl --by annotator     -> inspect-data/{stats.json, report.html}
    - stage: inspect                              (in a recipe; kept = input, unchanged)
      id: inspect-before

stats.py computes the figures (a JSON-ready dict), verbs.py the (verb, object) pairs, annotators.py agreement,
compare.py the before/after view from a run directory, report.py the HTML and text summaries, stage.py the
stage and the command body, pipelines/apps/inspect_cli.py its arguments. Only flows/ publishes the Prefect artifact (flows/artifacts.py).
Names below load lazily so `dsforge --help` does not import polars, numpy or matplotlib.
"""

from __future__ import annotations

__all__ = ["Inspect", "InspectConfig", "inspect_path", "inspect_table"]


def __getattr__(name: str):
    if name in __all__:
        from dsforge.pipelines.stages.inspect import stage

        return getattr(stage, name)
    raise AttributeError(name)
