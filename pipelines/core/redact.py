"""Secrets out of everything dsforge writes or logs: one URL scrubber, used for every URL and every text.

`redact_url` keeps only what identifies an endpoint: scheme, host, port and the path, with user-info
dropped (`***@`), every query value replaced by `***` (names kept: `?subscription-key=***`) and long
opaque path segments (`/sk-live-4f9a8c.../v1`, a hex or base64 token, a UUID) replaced by `***`.
`redact_text` does the same to every URL inside free text (a log line, a server's error echoing the URL),
to `name=value` query fragments outside a URL and credential-named pairs anywhere (`api-key=…`,
`"client_secret": "…"`, `token: …`), and replaces any literal secret it is given (the API key,
the values masked in the configured URL) wherever it appears.

Used by: BackendConfig's serialisation (recipe.yaml, stats.json, fingerprints, the card), the openai
backend's lineage and error texts (rejects' detail, rejected.parquet), and `RedactingFilter` on every log
record (the CLI installs it, so `-v` request logs are safe). `looks_like_secret` is how `api_key_env`
refuses a key typed where a variable name belongs.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, urlsplit, urlunsplit

MASK = "***"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
_QUERY_PAIR = re.compile(r"(?P<name>[?&;][A-Za-z0-9_.\-\[\]]+=)(?P<value>[^&#\s\"'<>]+)")
_CREDENTIAL = re.compile(r"(?P<name>(?<![\w-])(?:[\w-]*(?:api[-_]?key|token|secret|password|passwd|signature|"
                         r"subscription[-_]?key)|key|sig|auth|code)[\"']?\s*[=:]\s*[\"']?)(?P<value>[^&#\s\"'<>,;)]{4,})",
                         re.IGNORECASE)
_PIECES = re.compile(r"[-_.~:+]")
_KEY_PREFIXES = ("sk-", "sk_", "pk_", "rk_", "hf_", "ghp_", "gho_", "github_pat_", "xox", "AKIA", "ASIA", "AIza",
                 "glpat-", "eyJ")


def looks_like_secret(text: str) -> bool:
    """A token rather than a word: a known key prefix, or a piece (between -, _, ., ~) of 12+ characters
    mixing letters and digits, or of 32+ characters."""
    if not text:
        return False
    if text.startswith(_KEY_PREFIXES) and len(text) >= 12:
        return True
    for piece in _PIECES.split(text):
        has_digit = any(c.isdigit() for c in piece)
        has_alpha = any(c.isalpha() for c in piece)
        if len(piece) >= 32 or (len(piece) >= 12 and has_digit and has_alpha) or (len(piece) >= 16 and has_digit):
            return True
    return False


def redact_url(url: str | None) -> str | None:
    """Scheme, host, port and path of `url`, with user-info, every query value and opaque path segments
    masked (the fragment is dropped)."""
    if not url:
        return url
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _mask_pairs(MASK if looks_like_secret(url) else url)
    netloc = (f"{MASK}@" if "@" in parts.netloc else "") + (f"[{host}]" if ":" in host else host)
    if port:
        netloc += f":{port}"
    path = "/".join(MASK if looks_like_secret(seg) else seg for seg in parts.path.split("/"))
    query = "&".join(f"{quote(pair.split('=', 1)[0], safe='-_.[]')}={MASK}" if "=" in pair else
                     (MASK if looks_like_secret(pair) else pair)
                     for pair in parts.query.replace(";", "&").split("&") if pair)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def url_secrets(url: str | None) -> list[str]:
    """The parts of `url` that redact_url masks (user-info, query values, opaque segments), so that a
    text quoting them in another form (a server's echo) can be scrubbed too."""
    if not url:
        return []
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return [url]
    found = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        found += [userinfo, userinfo.split(":", 1)[-1]]
    found += [seg for seg in parts.path.split("/") if looks_like_secret(seg)]
    for pair in parts.query.replace(";", "&").split("&"):
        value = pair.split("=", 1)[1] if "=" in pair else pair
        if value:
            found.append(value)
            found.append(_unquote(value))
    return sorted({s for s in found if len(s) >= 6}, key=len, reverse=True)  # short values: URL form only


def _unquote(value: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(value)


def _mask_pairs(text: str) -> str:
    """`?name=value` fragments, and `api-key=value`, `token: value`, ... anywhere, with the value masked."""
    text = _QUERY_PAIR.sub(lambda m: f"{m['name']}{MASK}", text)
    return _CREDENTIAL.sub(lambda m: m["name"] + (m["value"] if m["value"] == MASK else MASK), text)


def redact_text(text: str | None, secrets: list[str] | tuple[str, ...] = ()) -> str | None:
    """`text` with every URL in it passed through redact_url, `?name=value` fragments masked, and each
    of `secrets` (keys, masked URL parts) replaced by *** wherever it appears."""
    if not text:
        return text
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL.sub(lambda m: redact_url(m.group(0)) or "", text)
    return _mask_pairs(text)


_TOKEN = re.compile(r"[A-Za-z0-9_\-.~+/=]{12,}")


def mask_tokens(text: str) -> str:
    """`text` (e.g. the repr of a config value in an error) with URLs scrubbed and every secret-looking
    token replaced by ***."""
    text = redact_text(text) or ""
    return _TOKEN.sub(lambda m: MASK if looks_like_secret(m.group(0)) else m.group(0), text)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs URL secrets in each record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
