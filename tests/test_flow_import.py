"""Importing the Prefect flow module changes nothing in the process's environment; running it sets up its logs."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_flow_module_sets_no_environment_variable():
    script = ("import json, os\nbefore = dict(os.environ)\nimport dsforge.flows.recipe_flow as f\n"
              "print(json.dumps(sorted(k for k in os.environ if 'PREFECT' in k and os.environ[k] != before.get(k))))\n"
              "import logging\nf._send_dsforge_logs_to_prefect()\n"
              "print(json.dumps([type(h).__name__ for h in logging.getLogger('dsforge').handlers]))\n")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("PREFECT_LOGGING_EXTRA")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    changed, handlers = (json.loads(line) for line in out.stdout.splitlines()[-2:])
    assert changed == []
    assert "APILogHandler" in handlers  # the flow sends dsforge's records to Prefect, as the env variable did
