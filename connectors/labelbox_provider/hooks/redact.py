"""Secret redaction: API keys and signed-URL query strings never reach logs or exceptions.

Signed download URLs (GCS ``Signature=``, ``X-Goog-Signature=``, ``token=``) carry their secret in
the query string, so every URL that leaves the hook is cut at ``?``.  The API key is replaced
wherever it appears.  Third-party HTTP loggers (urllib3 at DEBUG, httpx at INFO) print full URLs;
:func:`install_log_filters` puts a redacting filter on them.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"
QUERY_REDACTED = "?<redacted>"

# A URL or bare path followed by a query string with at least one "key=value": keep the part
# before "?", drop the rest (urllib3 logs the path and query apart from scheme and host).
_URL_QUERY = re.compile(
    r"""(?P<base>(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://)?[^\s?#"'<>]*)\?(?!<redacted>)[^\s"'<>]*=[^\s"'<>]*"""
)
# Signature-like parameters anywhere (belt and braces for text that is not a URL).
_SIGNATURE = re.compile(
    r"(?i)\b(signature|x-goog-signature|x-amz-signature|googleaccessid|token|sig)=[^&\s\"'<>]+"
)
# A bearer token in a header dump or message.
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Loggers of the HTTP libraries we use; they log request lines with full URLs.
_HTTP_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "httpx", "httpcore")
# Shortest key we register for plain-text replacement (shorter strings cause false positives).
_MIN_SECRET_LEN = 6

_secrets: set[str] = set()
_lock = threading.Lock()
_filtered: set[str] = set()  # loggers that already carry our filter


def register_secret(secret: str | None) -> None:
    """Remember a secret (the API key) so every later :func:`redact` call masks it."""
    if secret and len(secret) >= _MIN_SECRET_LEN:
        with _lock:
            _secrets.add(secret)


def redact_url(url: str | None) -> str:
    """Return ``url`` without user info and with its query string replaced by a marker.

    >>> redact_url("https://storage.example/f.json?Expires=1&Signature=abc")
    'https://storage.example/f.json?<redacted>'
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return clean + (QUERY_REDACTED if parts.query else "")


def redact(text: object) -> str:
    """Mask registered secrets, bearer tokens and URL query strings in any text.

    >>> redact("GET https://x.test/a?sig=s3cr3t failed")
    'GET https://x.test/a?<redacted> failed'
    """
    out = _URL_QUERY.sub(lambda m: m.group("base") + QUERY_REDACTED, str(text))
    out = _SIGNATURE.sub(lambda m: m.group(1) + "=" + REDACTED, out)
    out = _BEARER.sub(lambda m: m.group(1) + REDACTED, out)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        out = out.replace(secret, REDACTED)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the fully formatted message in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template only
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


def install_log_filters() -> None:
    """Attach one :class:`RedactingFilter` to the HTTP libraries' loggers (idempotent)."""
    with _lock:
        todo = [name for name in _HTTP_LOGGERS if name not in _filtered]
        _filtered.update(todo)
    for name in todo:
        logging.getLogger(name).addFilter(RedactingFilter())
