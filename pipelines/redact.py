"""Secrets out of everything dsforge writes or logs: credentials in URLs (`https://user:KEY@host/v1`,
`?api-key=KEY`) become `***`.

`redact_url` is what BackendConfig's serialisation uses, so recipe.yaml, stats.json, step fingerprints and
the dataset card (all made from `model_dump`) never hold a key; the running backend keeps the real URL.
`RedactingFilter` does the same to log lines (the CLI installs it, so `-v` request logs are safe).

Not here: API keys in environment variables (never written anywhere; see pipelines/llm/backends/openai_compat.py).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query parameters that hold credentials (matched case-insensitively).
_NAMES = (r"api[-_]?key|key|token|access[-_]?token|auth|authorization|secret|password|passwd|pwd|sig|signature|"
          r"x[-_]api[-_]key|code")
SECRET_PARAMS = re.compile(rf"^({_NAMES})$", re.IGNORECASE)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s?#]+)@")
_QUERY_SECRET = re.compile(rf"(?P<name>[?&](?:{_NAMES})=)(?P<value>[^&#\s\"']+)", re.IGNORECASE)


def redact_url(url: str | None) -> str | None:
    """The URL with its user:password and secret-looking query values replaced by ***."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if SECRET_PARAMS.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Every URL credential inside free text (a log line, an error message) replaced by ***."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['name']}{MASK}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts URL credentials in each record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
