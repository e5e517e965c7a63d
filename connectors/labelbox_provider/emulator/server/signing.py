"""Signed, expiring download URLs (the emulator's stand-in for signed GCS URLs).

A URL carries ``Expires=<epoch seconds>`` and ``Signature=<HMAC>`` over the path, the expiry
and any extra query parameters, so a download needs no API key (like the real export files)
but cannot be forged or extended. Expiry is measured in real seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlencode

__all__ = ["UrlSigner", "redact_url"]

SIGNED_KEYS = ("Expires", "Signature")  # query keys that make up the signature


class UrlSigner:
    """Signs and checks download URLs with a per-server secret."""

    def __init__(self, ttl_seconds: float = 3600.0, secret: bytes | None = None) -> None:
        self.ttl_seconds = ttl_seconds
        self._secret = secret or secrets.token_bytes(32)

    def _mac(self, path: str, expires: str, extra: Mapping[str, str]) -> str:
        payload = "\n".join([path, expires, *(f"{k}={extra[k]}" for k in sorted(extra))])
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(
        self, path: str, extra: Mapping[str, str] | None = None, ttl: float | None = None
    ) -> str:
        """``path?<extra>&Expires=...&Signature=...`` valid for ``ttl`` (default) seconds."""
        extra = dict(extra or {})
        expires = str(int(time.time() + (self.ttl_seconds if ttl is None else ttl)))
        query = {**extra, "Expires": expires, "Signature": self._mac(path, expires, extra)}
        return f"{path}?{urlencode(query)}"

    def check(self, path: str, query: Mapping[str, str]) -> Literal["ok", "expired", "bad"]:
        """Whether a presented URL is valid, expired, or not signed by this server."""
        expires, signature = query.get("Expires", ""), query.get("Signature", "")
        extra = {k: v for k, v in query.items() if k not in SIGNED_KEYS}
        if not expires.isdigit() or not hmac.compare_digest(
            signature, self._mac(path, expires, extra)
        ):
            return "bad"
        return "expired" if int(expires) < time.time() else "ok"


def redact_url(url: str) -> str:
    """The URL without its query string (signatures must never reach a log).

    >>> redact_url("http://h/exports/v1/x.json?Expires=1&Signature=abc")
    'http://h/exports/v1/x.json?<redacted>'
    """
    base, sep, _ = url.partition("?")
    return f"{base}?<redacted>" if sep else base
