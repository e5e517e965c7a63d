"""HTTP transports: GraphQL calls (sync with requests, async with httpx) and file GETs.

Both GraphQL transports build the request with :func:`build_request`, map the answer with
:func:`parse_graphql_response` and retry with the same policy: the async one is a thin variant.
The API key goes to the GraphQL endpoint and the frames endpoint only, never to signed URLs.
"""

from __future__ import annotations

import asyncio
import functools
import json
import platform
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests

from labelbox_provider import __version__
from labelbox_provider.exceptions import LabelboxTransportError
from labelbox_provider.hooks.errors import file_error, parse_graphql_response
from labelbox_provider.hooks.redact import install_log_filters, redact, redact_url
from labelbox_provider.hooks.retry import RetryPolicy, acall_with_retry, call_with_retry

if TYPE_CHECKING:
    import ssl

    import httpx

    from labelbox_provider.hooks.settings import HookSettings

USER_AGENT = f"airflow-provider-labelbox-export/{__version__}"  # sent as X-User-Agent
GraphQLVariables = Mapping[str, Any] | None


def auth_headers(settings: HookSettings) -> dict[str, str]:
    """Headers of every authenticated call (GraphQL, frames): the spec's section 1 set."""
    return {
        "Authorization": f"Bearer {settings.api_key}",
        "Accept": "application/json",
        "X-User-Agent": USER_AGENT,
        "X-Python-Version": platform.python_version(),
    }


def build_request(settings: HookSettings, query: str, variables: GraphQLVariables) -> bytes:
    """The JSON body of one GraphQL call, ``{"query": ..., "variables": ...}``."""
    payload = {"query": query, "variables": dict(variables) if variables is not None else None}
    return json.dumps(payload).encode("utf-8")


class SyncTransport:
    """GraphQL and file GETs over one ``requests.Session`` per thread."""

    def __init__(self, settings: HookSettings) -> None:
        self.settings = settings
        self._local = threading.local()
        install_log_filters()

    def __repr__(self) -> str:
        return f"SyncTransport(endpoint={self.settings.endpoint_redacted!r})"

    @property
    def session(self) -> requests.Session:
        """This thread's session (sessions are not shared across threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.verify = self.settings.verify_ssl
            self._local.session = session
        return session

    @property
    def _timeouts(self) -> tuple[float, float]:
        return (self.settings.connect_timeout, self.settings.timeout)

    def _post_once(self, body: bytes) -> dict[str, Any]:
        headers = {**auth_headers(self.settings), "Content-Type": "application/json"}
        try:
            resp = self.session.post(
                self.settings.endpoint, data=body, headers=headers, timeout=self._timeouts
            )
        except requests.RequestException as exc:
            raise LabelboxTransportError(f"{type(exc).__name__}: {redact(exc)}") from None
        return parse_graphql_response(resp.status_code, resp.reason, resp.headers, resp.content)

    def graphql(
        self,
        query: str,
        variables: GraphQLVariables,
        *,
        what: str,
        policy: RetryPolicy | None = None,
    ) -> dict[str, Any]:
        """Run one GraphQL operation with retries; return its ``data``."""
        body = build_request(self.settings, query, variables)
        policy = policy or self.settings.retry_policy
        return call_with_retry(lambda: self._post_once(body), policy, what)

    def get_stream(
        self, url: str, *, signed: bool, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        """GET ``url`` streamed; signed URLs get no API key.  Raise typed errors on failure."""
        sent = {**(headers or {})}
        if not signed:
            sent.update(auth_headers(self.settings))
        try:
            resp = self.session.get(url, headers=sent, stream=True, timeout=self._timeouts)
        except requests.RequestException as exc:
            raise LabelboxTransportError(f"GET {redact_url(url)}: {redact(exc)}") from None
        if resp.status_code >= 300:
            resp.close()
            raise file_error(resp.status_code, resp.reason, resp.headers.get("retry-after"), signed)
        return resp

    def close(self) -> None:
        """Close this thread's session."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None


@functools.cache
def tls_context(verify: bool) -> ssl.SSLContext:
    """httpx's TLS context for ``verify`` (its default CA bundle), built once per process.

    Building one loads the CA bundle: tens of ms on a quiet core, 250-350 ms on a busy one. The
    triggerer runs every trigger on one event loop, so building it per poll (httpx does, for
    each client) blocked all triggers; :meth:`AsyncTransport.graphql` builds it off the loop.
    """
    import httpx

    return httpx.create_ssl_context(verify=verify)


class AsyncTransport:
    """The async GraphQL path for the triggerer: same request, same parsing, same retries."""

    def __init__(
        self, settings: HookSettings, http_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.http_transport = http_transport  # httpx's own transport (a mock one in tests)
        install_log_filters()

    def __repr__(self) -> str:
        return f"AsyncTransport(endpoint={self.settings.endpoint_redacted!r})"

    async def _post_once(self, client: httpx.AsyncClient, body: bytes) -> dict[str, Any]:
        import httpx

        headers = {**auth_headers(self.settings), "Content-Type": "application/json"}
        try:
            resp = await client.post(self.settings.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise LabelboxTransportError(f"{type(exc).__name__}: {redact(exc)}") from None
        return parse_graphql_response(
            resp.status_code, resp.reason_phrase, resp.headers, resp.content
        )

    async def graphql(
        self, query: str, variables: GraphQLVariables, *, what: str
    ) -> dict[str, Any]:
        """Async :meth:`SyncTransport.graphql`."""
        import httpx

        body = build_request(self.settings, query, variables)
        timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        verify: ssl.SSLContext | bool = self.settings.verify_ssl
        if self.http_transport is None:  # httpx builds its transport: give it the TLS context
            verify = await asyncio.to_thread(tls_context, self.settings.verify_ssl)
        async with httpx.AsyncClient(
            timeout=timeout, verify=verify, transport=self.http_transport
        ) as client:
            return await acall_with_retry(
                lambda: self._post_once(client, body), self.settings.retry_policy, what
            )
