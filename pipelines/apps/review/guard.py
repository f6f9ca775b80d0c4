"""What keeps the review page its own user's: the Host it was started on, same-origin writes, capped
bodies, and errors that say what was wrong instead of a 500.

- Host: a request whose Host header is not the address the server was started on (127.0.0.1:PORT or
  localhost:PORT) gets 421. This is what stops DNS rebinding: a page on attacker.test that re-points its
  name at 127.0.0.1 sends `Host: attacker.test`, so it reads nothing.
- Writes (POST/PUT/PATCH/DELETE): an Origin or Referer from another origin, `Sec-Fetch-Site: cross-site`, or a
  body that is not JSON gets 403/415; bodies over MAX_BODY bytes get 413 (read no further).
- Query and body validation errors become 400 with the field and the problem; any other exception a 500
  with one line and no traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_BODY = 64 * 1024  # bytes of one request body (a label with its note)
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
log = logging.getLogger(__name__)


def allowed_hosts(port: int | None) -> set[str]:
    """The Host values the page answers: the loopback names with the port it listens on (any port when
    None, for an app not bound yet, e.g. under a test client)."""
    if port is None:
        return {*LOOPBACK_NAMES, "[::1]"}
    return {f"{name}:{port}" for name in (*LOOPBACK_NAMES, "[::1]")}


def _host_ok(host: str, hosts: set[str]) -> bool:
    host = host.strip().lower()
    if host in hosts:
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in hosts  # the any-port form


def install(app: FastAPI, hosts: set[str]) -> None:
    """Add the Host/Origin/body-size middleware and the error handlers to `app`."""

    @app.middleware("http")
    async def same_site_only(request: Request, call_next):
        host = request.headers.get("host", "")
        if not _host_ok(host, hosts):
            return JSONResponse({"detail": "this review page answers only the address it was started on "
                                           "(http://127.0.0.1:PORT/); wrong Host header"}, status_code=421)
        if request.method in WRITES:
            problem = _cross_origin(request, host)
            if problem:
                return JSONResponse({"detail": problem}, status_code=403)
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                return JSONResponse({"detail": "writes take a JSON body (Content-Type: application/json)"},
                                    status_code=415)
            try:
                declared = int(request.headers.get("content-length") or 0)
            except ValueError:
                return JSONResponse({"detail": "bad Content-Length"}, status_code=400)
            if declared > MAX_BODY:
                return JSONResponse({"detail": f"body over {MAX_BODY} bytes"}, status_code=413)
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    return JSONResponse({"detail": f"body over {MAX_BODY} bytes"}, status_code=413)
            request._body = body  # starlette reads the cached body for the endpoint
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('body', 'query')) or 'request'}: "
                             f"{e.get('msg', 'invalid')}" for e in exc.errors())
        return JSONResponse({"detail": problems[:1000]}, status_code=400)

    @app.exception_handler(Exception)
    async def no_traceback(request: Request, exc: Exception):
        log.warning("review: %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the server log has no more"},
                            status_code=500)


def _cross_origin(request: Request, host: str) -> str | None:
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return "cross-site writes are refused"
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value is None:
            continue
        if value == "null":
            return f"{header} null is refused"
        rest = value.split("://", 1)[1] if "://" in value else ""
        if not value.startswith("http://") or rest.split("/", 1)[0].lower() != host.strip().lower():
            return f"writes from another origin ({header}) are refused"
    return None


def valid_text(name: str, value: Any, limit: int, *, required: bool = False) -> str | None:
    """`value` as text that can be stored: a string of at most `limit` characters and valid Unicode (a
    lone surrogate such as \\ud800 cannot be written to Parquet)."""
    if value is None or value == "":
        if required:
            raise ValueError(f"{name} is required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{name} is {len(value)} characters; at most {limit}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode (a lone surrogate such as \\ud800)") from None
    return value

