"""A persistent response cache in front of any backend: a re-run or a resumed run pays for nothing twice.

One SQLite file (`$DSFORGE_CACHE/llm/responses.sqlite`, or `BackendConfig.cache_dir`), WAL mode so several
processes (Prefect tasks) can share it. The key is a sha256 of (backend, model identity, messages, sampling
params without `n`, completion index); the seed is in the params, and completion i uses seed + i, so asking
for n=4 after n=2 reuses the first two. Each answer is stored the moment it arrives (backends call
`on_done`), so a crash mid-batch keeps what was already paid for. Failed rows (finish_reason "error")
are never stored. Cache hits are counted in `backend.usage.cache_hits`.

Left out: eviction and size limits (delete the file to reset), sharing across machines.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from dsforge.pipelines.llm.embedded import cache_dir
from dsforge.pipelines.llm.backends.base import BaseBackend, OnDone, Request
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.generation import Generation, Messages

SCHEMA_VERSION = 1


def default_cache_dir() -> Path:
    return cache_dir() / "llm"


def cache_key(identity: dict[str, Any], messages: Messages, params: SamplingParams, index: int) -> str:
    p = params.model_dump(mode="json", exclude={"n"})
    blob = json.dumps({"v": SCHEMA_VERSION, "id": identity, "messages": messages, "params": p, "index": index},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """key → Generation, in SQLite. Thread-safe; safe to share between processes."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder else default_cache_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "responses.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                         "created REAL NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, Generation]:
        found: dict[str, Generation] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = self._db.execute(f"SELECT key, value FROM responses WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk).fetchall()
                for k, v in rows:
                    d = json.loads(v)
                    d["cached"] = True
                    found[k] = Generation(**d)
        return found

    def put(self, key: str, g: Generation) -> None:
        if g.finish_reason == "error":
            return
        value = json.dumps({**g.as_dict(), "cached": False}, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (key, value, time.time()))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedBackend(BaseBackend):
    """Wraps a backend: answers known requests from the cache, sends only the rest, stores each answer."""

    def __init__(self, inner: BaseBackend, cache: ResponseCache):
        self.inner = inner
        self.cache = cache
        self.config = inner.config
        self.name = inner.name
        self.model_id = inner.model_id
        self.usage = inner.usage  # one counter: fresh calls and cache hits side by side
        self._identity = inner.cache_identity()

    @property
    def requests_per_call(self) -> int | None:
        return self.inner.requests_per_call

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def cache_identity(self) -> dict[str, Any]:
        return self._identity

    def run_requests(self, requests: list[Request], params: SamplingParams,
                     on_done: OnDone | None = None) -> list[Generation]:
        keys = [cache_key(self._identity, r.messages, params, r.index) for r in requests]
        known = self.cache.get_many(list(dict.fromkeys(keys)))
        results: list[Generation | None] = [known.get(k) for k in keys]
        hits = sum(g is not None for g in results)
        self.usage.cache_hits += hits
        if on_done is not None:
            for pos, g in enumerate(results):
                if g is not None:
                    on_done(pos, g)
        missing = [pos for pos, g in enumerate(results) if g is None]
        if missing:
            def store(sub_pos: int, g: Generation) -> None:
                pos = missing[sub_pos]
                self.cache.put(keys[pos], g)
                results[pos] = g
                if on_done is not None:
                    on_done(pos, g)

            fresh = self.inner.run_requests([requests[p] for p in missing], params, store)
            for sub_pos, g in enumerate(fresh):  # backends that do not call on_done
                if results[missing[sub_pos]] is None:
                    store(sub_pos, g)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        self.inner.close()
        self.cache.close()
