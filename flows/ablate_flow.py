"""`dsforge ablate RUN_DIR` as a Prefect flow: one task per run of the ablation, and its table as an artifact.

The work is the `ablate` stage's (validators/ablate/), looked up by name so this module stays a thin wrapper;
without Prefect (`--no-prefect`) the CLI calls the same method directly.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings

from dsforge.flows.artifacts import publish_ablation_artifact
from dsforge.pipelines.core.registry import stage_class


def _flow_run_name() -> str:
    from prefect.runtime import flow_run

    return f"ablate-{Path(str(flow_run.parameters.get('run_dir', 'run'))).name}"


@flow(name="dsforge-ablate", flow_run_name=_flow_run_name)
def ablate_flow(run_dir: str, params: dict, progress: bool | None = None) -> dict:
    """Train one small model per variant of a finished run and compare them on the same held-out rows."""
    figures = stage_class("ablate")(params).on_run_dir(Path(run_dir), progress=progress)
    get_run_logger().info("ablation: %d variants trained, %d reused; %s", figures["trained"], figures["reused"],
                          Path(run_dir) / "ablate" / "results.md")
    publish_ablation_artifact(Path(run_dir).name, figures)
    return figures


def run_ablate_flow(**params) -> dict:
    """`ablate_flow(**params)` with no telemetry calls from Prefect's temporary server (as recipe_flow.run_recipe_flow)."""
    with temporary_settings(updates={PREFECT_SERVER_ANALYTICS_ENABLED: False}):
        return ablate_flow(**params)
