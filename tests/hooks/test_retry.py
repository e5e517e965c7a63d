"""The retry predicate (a table of cases), the delays, and the bounded retry loop."""

from __future__ import annotations

import asyncio
import json

import pytest
from labelbox_provider import exceptions as ex
from labelbox_provider.hooks.errors import parse_graphql_response
from labelbox_provider.hooks.retry import (
    RetryPolicy,
    acall_with_retry,
    call_with_retry,
    is_retryable,
    parse_retry_after,
)

pytestmark = pytest.mark.unit


def _gql_error(code: str, status: int | None = None, message: str = "boom") -> bytes:
    ext: dict[str, object] = {"code": code}
    if status is not None:
        ext["exception"] = {"status": status, "message": message}
    return json.dumps({"errors": [{"message": message, "extensions": ext}]}).encode()


# (HTTP status, body, expected exception, retried?)
CASES = [
    pytest.param(
        200,
        _gql_error("AUTHENTICATION_ERROR"),
        ex.LabelboxAuthenticationError,
        False,
        id="bad-key-graphql",
    ),
    pytest.param(
        401, b'{"message": "Unauthorized"}', ex.LabelboxAuthenticationError, False, id="bad-key-401"
    ),
    pytest.param(
        403, b'{"message": "Forbidden"}', ex.LabelboxAuthorizationError, False, id="forbidden-403"
    ),
    pytest.param(
        200,
        _gql_error("AUTHORIZATION_ERROR"),
        ex.LabelboxAuthorizationError,
        False,
        id="authorization",
    ),
    pytest.param(
        200,
        _gql_error("GRAPHQL_VALIDATION_FAILED"),
        ex.LabelboxInvalidRequestError,
        False,
        id="validation",
    ),
    pytest.param(
        200,
        _gql_error("GRAPHQL_PARSE_FAILED"),
        ex.LabelboxInvalidRequestError,
        False,
        id="parse-failed",
    ),
    pytest.param(
        200, _gql_error("MALFORMED_REQUEST"), ex.LabelboxInvalidRequestError, False, id="malformed"
    ),
    pytest.param(
        200, _gql_error("RESOURCE_NOT_FOUND"), ex.LabelboxNotFoundError, False, id="not-found"
    ),
    pytest.param(
        200,
        _gql_error("OPERATION_NOT_ALLOWED"),
        ex.LabelboxOperationNotAllowedError,
        False,
        id="not-allowed",
    ),
    pytest.param(
        200,
        _gql_error("INTERNAL_SERVER_ERROR", 426, "LBU limit exceeded, upgrade to continue"),
        ex.LabelboxPlanLimitError,
        False,
        id="lbu-426",
    ),
    pytest.param(
        200,
        _gql_error("INTERNAL_SERVER_ERROR", 422),
        ex.LabelboxInvalidRequestError,
        False,
        id="unprocessable-422",
    ),
    pytest.param(
        200,
        _gql_error("INTERNAL_SERVER_ERROR", 400),
        ex.LabelboxInvalidRequestError,
        False,
        id="bad-input-400",
    ),
    pytest.param(
        200,
        _gql_error("INTERNAL_SERVER_ERROR", 503),
        ex.LabelboxServerError,
        True,
        id="internal-503",
    ),
    pytest.param(
        200,
        _gql_error("INTERNAL_SERVER_ERROR"),
        ex.LabelboxServerError,
        True,
        id="internal-no-status",
    ),
    pytest.param(200, _gql_error("SOMETHING_NEW"), ex.LabelboxError, False, id="unknown-code"),
    pytest.param(429, b'{"message": "slow down"}', ex.LabelboxRateLimitError, True, id="http-429"),
    pytest.param(
        400,
        b'{"message": "You have exceeded your plan"}',
        ex.LabelboxPlanLimitError,
        False,
        id="api-limit-message",
    ),
    pytest.param(500, b"oops", ex.LabelboxServerError, True, id="http-500"),
    pytest.param(502, b"<html>bad gateway</html>", ex.LabelboxServerError, True, id="http-502"),
    pytest.param(
        503,
        b"upstream connect error or disconnect/reset before headers",
        ex.LabelboxServerError,
        True,
        id="envoy-reset",
    ),
    pytest.param(404, b"not here", ex.LabelboxNotFoundError, False, id="http-404"),
    pytest.param(200, b"not json", ex.LabelboxError, False, id="200-not-json"),
]


@pytest.mark.parametrize(("status", "body", "kind", "retried"), CASES)
def test_answer_maps_to_typed_error_and_retry_decision(
    status: int, body: bytes, kind: type[Exception], retried: bool
) -> None:
    with pytest.raises(kind) as info:
        parse_graphql_response(status, "Reason", {}, body)
    assert type(info.value) is kind  # the exact class, not only a subclass
    assert is_retryable(info.value) is retried


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (ex.LabelboxTransportError("reset"), True),
        (ex.LabelboxDownloadError("expired"), True),
        (ex.LabelboxExportFailedError("failed"), False),
        (ex.LabelboxExportTimeoutError("late"), False),
        (ex.LabelboxConfigError("bad"), False),
        (ex.LabelboxRetryBudgetExceeded("done"), False),
        (ValueError("x"), False),
        (KeyboardInterrupt(), False),
    ],
)
def test_predicate_on_exceptions(exc: BaseException, retried: bool) -> None:
    assert is_retryable(exc) is retried


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=90.0) == pytest.approx(10.0)


def test_429_carries_retry_after_and_it_is_capped() -> None:
    with pytest.raises(ex.LabelboxRateLimitError) as info:
        parse_graphql_response(429, "Too Many", {"retry-after": "500"}, b"{}")
    assert info.value.retry_after == 500.0
    policy = RetryPolicy(max_retry_after=42.0)
    assert policy.delay(info.value, 1) == 42.0
    assert RetryPolicy().delay(info.value, 1) == 60.0


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=5.0, jitter=False)
    err = ex.LabelboxServerError("x")
    assert [policy.delay(err, n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    jittered = RetryPolicy(backoff_initial=1.0, backoff_max=5.0)
    assert all(0 <= jittered.delay(err, 3) <= 4.0 for _ in range(50))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_loop_retries_then_succeeds() -> None:
    clock = FakeClock()
    errors = [ex.LabelboxServerError("a"), ex.LabelboxTransportError("b")]

    def flaky() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    policy = RetryPolicy(jitter=False)
    assert call_with_retry(flaky, policy, "op", sleep=clock.sleep, clock=clock) == "ok"
    assert clock.sleeps == [1.0, 2.0]


def test_loop_raises_final_errors_at_once() -> None:
    clock = FakeClock()
    calls = []

    def bad_key() -> None:
        calls.append(1)
        raise ex.LabelboxAuthenticationError("Invalid API key")

    with pytest.raises(ex.LabelboxAuthenticationError):
        call_with_retry(bad_key, RetryPolicy(), "op", sleep=clock.sleep, clock=clock)
    assert calls == [1]
    assert clock.sleeps == []


def test_total_retry_time_is_bounded() -> None:
    clock = FakeClock()

    def always_500() -> None:
        raise ex.LabelboxServerError("HTTP 500")

    policy = RetryPolicy(max_retry_seconds=20.0, backoff_initial=1.0, backoff_max=4.0, jitter=False)
    with pytest.raises(ex.LabelboxRetryBudgetExceeded, match="20s retry budget") as info:
        call_with_retry(always_500, policy, "op", sleep=clock.sleep, clock=clock)
    assert sum(clock.sleeps) <= 20.0
    assert clock.sleeps == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert isinstance(info.value.__cause__, ex.LabelboxServerError)


def test_zero_budget_means_no_retry() -> None:
    clock = FakeClock()

    def fail() -> None:
        raise ex.LabelboxServerError("x")

    with pytest.raises(ex.LabelboxRetryBudgetExceeded):
        call_with_retry(
            fail, RetryPolicy(max_retry_seconds=0), "op", sleep=clock.sleep, clock=clock
        )
    assert clock.sleeps == []


def test_async_loop_uses_the_same_predicate() -> None:
    calls: list[int] = []

    async def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            err = ex.LabelboxRateLimitError("429")
            err.retry_after = 0.0
            raise err
        return len(calls)

    async def final() -> None:
        raise ex.LabelboxNotFoundError("nope")

    assert asyncio.run(acall_with_retry(flaky, RetryPolicy(), "op")) == 3
    with pytest.raises(ex.LabelboxNotFoundError):
        asyncio.run(acall_with_retry(final, RetryPolicy(), "op"))
