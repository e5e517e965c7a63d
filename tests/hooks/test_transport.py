"""The async GraphQL transport over httpx's mock transport: same parsing, same retries."""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import threading

import httpx
import pytest
from labelbox_provider import exceptions as ex
from labelbox_provider.hooks.settings import build_settings
from labelbox_provider.hooks.transport import AsyncTransport

pytestmark = pytest.mark.unit

KEY = "async-test-key-000111"


def _transport(
    answers: list[httpx.Response | Exception], seen: list[httpx.Request]
) -> AsyncTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    settings = build_settings(
        host="https://api.test",
        api_key=KEY,
        extras={"backoff_initial": 0.01, "backoff_max": 0.02, "max_retry_seconds": 2},
        overrides={},
    )
    return AsyncTransport(settings, httpx.MockTransport(handler))


def test_async_retries_429_and_resets_then_returns_data() -> None:
    seen: list[httpx.Request] = []
    answers: list[httpx.Response | Exception] = [
        httpx.Response(429, headers={"Retry-After": "0.01"}, json={"message": "slow"}),
        httpx.ConnectError("connection reset"),
        httpx.Response(200, json={"data": {"user": {"id": "u1"}}}),
    ]
    transport = _transport(answers, seen)
    data = asyncio.run(transport.graphql("query GetUserPyApi{user{id}}", {}, what="user"))
    assert data == {"user": {"id": "u1"}}
    assert len(seen) == 3
    assert seen[0].url == "https://api.test/graphql"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(seen[0].content) == {"query": "query GetUserPyApi{user{id}}", "variables": {}}


def test_async_final_error_is_raised_at_once() -> None:
    seen: list[httpx.Request] = []
    body = {
        "errors": [{"message": "Invalid API key", "extensions": {"code": "AUTHENTICATION_ERROR"}}]
    }
    transport = _transport([httpx.Response(200, json=body)], seen)
    with pytest.raises(ex.LabelboxAuthenticationError, match="Invalid API key"):
        asyncio.run(transport.graphql("query GetUserPyApi{user{id}}", {}, what="user"))
    assert len(seen) == 1
    assert KEY not in repr(transport)


def test_async_calls_share_one_tls_context_built_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each call's client gets the process's one TLS context (not a new CA-bundle load on the
    triggerer's event loop per poll), built in a worker thread."""
    from labelbox_provider.hooks import transport as tr

    built_in: list[str] = []
    real_context = tr.tls_context.__wrapped__

    @functools.cache
    def recording_context(verify: bool) -> ssl.SSLContext:
        built_in.append(threading.current_thread().name)
        return real_context(verify)

    seen: list[object] = []
    real_client = httpx.AsyncClient

    def client(**kwargs: object) -> httpx.AsyncClient:
        seen.append(kwargs["verify"])
        answer = httpx.Response(200, json={"data": {"user": {"id": "u1"}}})
        return real_client(**{**kwargs, "transport": httpx.MockTransport(lambda r: answer)})

    monkeypatch.setattr(tr, "tls_context", recording_context)
    monkeypatch.setattr(httpx, "AsyncClient", client)
    settings = build_settings(host="https://api.test", api_key=KEY, extras={}, overrides={})
    transport = AsyncTransport(settings)  # no transport given: httpx would build one

    async def three_polls() -> None:
        for _ in range(3):
            assert await transport.graphql("query Q{user{id}}", {}, what="user") == {
                "user": {"id": "u1"}
            }

    asyncio.run(three_polls())
    assert len(seen) == 3 and all(isinstance(v, ssl.SSLContext) for v in seen)
    assert seen[0] is seen[1] is seen[2]  # one context for every call
    assert len(built_in) == 1 and built_in[0] != "MainThread"  # built once, not on the loop
    assert seen[0].verify_mode == ssl.CERT_REQUIRED  # verify_ssl=True still verifies
