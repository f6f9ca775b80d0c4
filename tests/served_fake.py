"""A fake served model: an OpenAI-compatible chat-completions server on 127.0.0.1 whose replies are a pure
function of (messages, seed, temperature), shaped like what dsforge's synthesis prompts ask for.

Why: sharding and resume tests need a model that every worker process reaches the same way a real
`vllm serve` is reached (over HTTP, through the openai backend and its response cache), answers in
milliseconds, and gives the same text for the same request whoever sends it. It counts every request
by its content hash, so a test can tell how many were sent twice.

    srv = start()                      # a thread in this process; srv.url is the base_url
    model = {"backend": "openai", "model": "fake-1", "base_url": srv.url, "cache_dir": ...}
    srv.sent(), srv.resent()           # requests received; how many of them repeated an earlier one

Run alone (`python tests/served_fake.py --port 8123 --delay 0.2`) it serves until killed.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ("summarize explain compare list describe classify rewrite translate suggest outline evaluate "
         "river museum budget recipe planet poem contract garden engine election bridge protein melody "
         "winter market history ocean storage castle language festival climate village theory").split()


def digest(body: dict) -> str:
    key = {"messages": body["messages"], "seed": body.get("seed"), "temperature": body.get("temperature"),
           "max_tokens": body.get("max_tokens")}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _pick(h: str, k: int) -> list[str]:
    return [WORDS[int(h[i * 4:i * 4 + 4], 16) % len(WORDS)] for i in range(k)]


def reply(body: dict) -> str:
    """What the fake model writes: a task list for self-instruct, an instruction for back-translation, a
    score for curation and judging, and an answer for everything else."""
    h = digest(body)
    content = body["messages"][-1]["content"]
    n = int(h[:2], 16)
    if "new tasks, each different from the examples" in content:
        num = re.findall(r"(\d+)\. Instruction:\s*$", content)
        first = int(num[-1]) if num else 4
        w = _pick(h, 12)
        return (f" {w[0].capitalize()} the {w[5]} of the {w[6]} and the {w[7]} in two sentences.\n"
                f"{first}. Input:\n<noinput>\n{first}. Output:\nThe {w[5]} is here.\n###\n"
                f"{first + 1}. Instruction: {w[1].capitalize()} how a {w[8]} changes a {w[9]} near the {w[10]}.\n"
                f"{first + 1}. Input:\n<noinput>\n{first + 1}. Output:\nIt changes.\n")
    if content.startswith("Below is a response written by a person"):
        w = _pick(h, 3)
        return f"{w[0].capitalize()} what the text says about the {w[1]} and the {w[2]}."
    if "Score: <rating>" in content:
        return f"The answer is on topic.\nScore: {1 + n % 5}"
    if content.startswith("Rate the RESPONSE"):
        return json.dumps({"score": 1 + n % 5, "reason": "fake judge"})
    w = _pick(h, 6)
    return f"Here is an answer about the {w[0]} {w[1]}: the {w[2]} and the {w[3]} matter most."


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, delay: float = 0.0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.done: Counter[str] = Counter()  # requests answered (the reply was written)
        self.delay = delay

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def sent(self) -> int:
        return sum(self.hits.values())

    def resent(self) -> int:
        """Requests that repeat one already answered (answered before it arrived, so not a retry in flight)."""
        with self.lock:
            return sum(self.hits[k] - 1 for k in self.hits if self.hits[k] > 1)

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()
            self.done.clear()


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, *args):
        pass

    def do_GET(self):  # /v1/models and /health, as vllm serve answers them
        self._send({"object": "list", "data": [{"id": "fake-1", "object": "model"}]})

    def do_POST(self):
        srv = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = digest(body)
        with srv.lock:
            srv.hits[key] += 1
        if srv.delay:
            time.sleep(srv.delay)
        text = reply(body)
        words = text.split(" ")
        finish = "length" if len(words) > body.get("max_tokens", 10**9) else "stop"
        text = " ".join(words[:body.get("max_tokens", len(words))])
        prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
        self._send({"id": f"cmpl-{key[:8]}", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                              "total_tokens": prompt_tokens + len(text.split())}})
        with srv.lock:
            srv.done[key] += 1

    def _send(self, obj: dict) -> None:
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def start(port: int = 0, delay: float = 0.0) -> FakeServer:
    srv = FakeServer(port, delay)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--delay", type=float, default=0.0)
    a = ap.parse_args()
    FakeServer(a.port, a.delay).serve_forever()
