"""Start Prefect's temporary local server with patience, once more if it is slow, and say when it did not.

Why: on a loaded machine the temporary server can take longer than Prefect's 20 s default to answer its
health check, and `dsforge run` then died with "Timed out while attempting to connect to ephemeral Prefect
API server" (issue 27: twice, 75 s each) although the same steps run fine without Prefect. `ensure_server`
gives it `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (default here 90 s) and one retry; the CLI runs
the recipe without Prefect, with one message, when both tries fail.
Not here: a configured server (PREFECT_API_URL set): it is used as it is and never started or stopped here.
"""

from __future__ import annotations

import logging
import os

STARTUP_TIMEOUT_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_STARTUP_TIMEOUT = "90"

log = logging.getLogger("dsforge")


def ensure_server(tries: int = 2) -> str | None:
    """None when Prefect has an API to talk to (configured, or the temporary server is up), else why not."""
    os.environ.setdefault(STARTUP_TIMEOUT_ENV, DEFAULT_STARTUP_TIMEOUT)
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE

    if PREFECT_API_URL.value() or not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
        return None  # a configured server, or no temporary one wanted: Prefect reports its own errors
    from prefect.server.api.server import SubprocessASGIServer

    error = None
    for attempt in range(1, tries + 1):
        server = SubprocessASGIServer()
        try:
            server.start(timeout=float(os.environ[STARTUP_TIMEOUT_ENV]))
            return None
        except RuntimeError as e:  # Prefect raises RuntimeError for a server that does not answer in time
            error = str(e).split(" stdout:")[0]
            log.warning("Prefect's temporary server did not start (try %d of %d): %s", attempt, tries, error)
            server.stop()
    return error
