"""Hook settings: the GraphQL endpoint, the API key and the tuning knobs, validated once.

Sources, later wins: defaults < connection extras < keyword arguments of the hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.hooks.redact import redact_url, register_secret
from labelbox_provider.hooks.retry import RetryPolicy

DEFAULT_ENDPOINT = "https://api.labelbox.com/graphql"  # the public API
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}  # hosts reached over plain http by default


@dataclass(frozen=True)
class HookSettings:
    """Everything the transport needs; ``api_key`` is hidden from ``repr``."""

    endpoint: str = DEFAULT_ENDPOINT  # full GraphQL URL
    api_key: str = field(default="", repr=False)  # connection password
    timeout: float = 60.0  # read timeout of one HTTP request, seconds
    connect_timeout: float = 10.0  # TCP/TLS connect timeout, seconds
    max_retry_seconds: float = 300.0  # total retry budget of one operation, seconds
    backoff_initial: float = 1.0  # first exponential backoff ceiling, seconds
    backoff_max: float = 30.0  # largest backoff ceiling, seconds
    max_retry_after: float = 60.0  # cap on a server's Retry-After, seconds
    poll_interval: float = 2.0  # seconds between export status polls
    export_timeout: float = 7200.0  # default deadline of an export, seconds
    frames_workers: int = 4  # concurrent video frames downloads
    download_chunk_bytes: int = 1 << 16  # read size when streaming to disk (bytes kept on a break)
    verify_ssl: bool = True  # verify TLS certificates
    jitter: bool = True  # randomise backoff (full jitter)

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy these settings describe."""
        return RetryPolicy(
            max_retry_seconds=self.max_retry_seconds,
            backoff_initial=self.backoff_initial,
            backoff_max=self.backoff_max,
            max_retry_after=self.max_retry_after,
            jitter=self.jitter,
        )

    @property
    def endpoint_redacted(self) -> str:
        """The endpoint as it may appear in logs."""
        return redact_url(self.endpoint)


TUNABLE = {f.name: f.type for f in fields(HookSettings) if f.name not in ("endpoint", "api_key")}


def _coerce(name: str, value: Any) -> Any:
    """Turn an extra (often a string in URI-form connections) into the field's type."""
    kind = TUNABLE[name]
    try:
        if kind == "bool":
            if isinstance(value, str):
                if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.strip().lower() in ("true", "1", "yes")
            return bool(value)
        number = int(value) if kind == "int" else float(value)
    except (TypeError, ValueError):
        raise LabelboxConfigError(f"extra {name}={value!r} must be a {kind}") from None
    if number < 0 or (number == 0 and name not in ("max_retry_seconds",)):
        raise LabelboxConfigError(f"extra {name}={value!r} must be positive")
    return number


def resolve_endpoint(host: str | None, port: int | None = None, schema: str | None = None) -> str:
    """Build the GraphQL URL from a connection's host (a base URL, a full URL, or a bare host).

    >>> resolve_endpoint("https://api.labelbox.com")
    'https://api.labelbox.com/graphql'
    >>> resolve_endpoint("http://127.0.0.1:8080/graphql")
    'http://127.0.0.1:8080/graphql'
    >>> resolve_endpoint("127.0.0.1", 8080, "graphql")
    'http://127.0.0.1:8080/graphql'
    """
    text = (host or "").strip()
    if not text:
        return DEFAULT_ENDPOINT
    if "://" not in text:
        bare = text.split("/")[0].split(":")[0]
        scheme = "http" if bare in _LOOPBACK else "https"
        netloc = f"{text}:{port}" if port and ":" not in text else text
        text = f"{scheme}://{netloc}/{(schema or '').strip('/')}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LabelboxConfigError(f"connection host {redact_url(text)!r} is not an http(s) URL")
    path = parts.path.rstrip("/")
    if not path.endswith(("/graphql", "/_gql")):
        path = f"{path}/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def build_settings(
    *,
    host: str | None,
    api_key: str | None,
    extras: Mapping[str, Any],
    overrides: Mapping[str, Any],
    port: int | None = None,
    schema: str | None = None,
) -> HookSettings:
    """Validate a connection plus keyword overrides into :class:`HookSettings`."""
    if not api_key:
        raise LabelboxConfigError(
            "the Labelbox connection has no API key: put it in the connection's password field"
        )
    tuning: dict[str, Any] = {}
    for source in (extras, overrides):
        for name, value in source.items():
            if name in ("endpoint", "host"):
                continue
            if name not in TUNABLE:
                known = ", ".join(sorted(TUNABLE))
                raise LabelboxConfigError(f"unknown Labelbox setting {name!r}; known: {known}")
            tuning[name] = _coerce(name, value)
    endpoint_source = overrides.get("endpoint") or extras.get("endpoint") or host
    endpoint = resolve_endpoint(endpoint_source, port, schema)
    register_secret(api_key)
    return replace(HookSettings(), endpoint=endpoint, api_key=api_key, **tuning)
