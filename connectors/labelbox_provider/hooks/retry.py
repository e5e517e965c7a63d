"""The retry decision (a small pure predicate) and the bounded retry loops, on tenacity.

Retried: connection errors and timeouts, HTTP 5xx, HTTP 429 (sleeping what ``Retry-After``
says, capped) and failed/expired/truncated downloads (the caller asks the API for a fresh URL).
Never retried: bad key, authorization, invalid request, not found, plan limits, failed exports.
The total time spent retrying one operation is bounded by ``RetryPolicy.max_retry_seconds``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar

from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_base

from labelbox_provider.exceptions import (
    LabelboxDownloadError,
    LabelboxRateLimitError,
    LabelboxRetryBudgetExceeded,
    LabelboxServerError,
    LabelboxTransportError,
)
from labelbox_provider.hooks.redact import redact

log = logging.getLogger(__name__)
T = TypeVar("T")

# The exception types a retry can fix; everything else is raised at once.
RETRYABLE: tuple[type[BaseException], ...] = (
    LabelboxTransportError,  # connection refused/reset, read/connect timeout
    LabelboxServerError,  # HTTP 5xx, transient INTERNAL_SERVER_ERROR
    LabelboxRateLimitError,  # HTTP 429
    LabelboxDownloadError,  # signed URL expired/failed, short or long body
)


def is_retryable(exc: BaseException) -> bool:
    """The retry predicate: ``True`` only for errors that waiting (or a fresh URL) can fix."""
    return isinstance(exc, RETRYABLE)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), else ``None``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry; every field comes from the connection extras."""

    max_retry_seconds: float = 300.0  # total time budget for retries of one operation
    backoff_initial: float = 1.0  # first backoff ceiling in seconds (full jitter below it)
    backoff_max: float = 30.0  # largest backoff ceiling
    max_retry_after: float = 60.0  # cap on a server's Retry-After
    jitter: bool = True  # full jitter; False gives deterministic delays (tests)

    def delay(self, exc: BaseException, attempt: int) -> float:
        """Seconds to sleep before retry number ``attempt`` (1-based) after ``exc``."""
        if isinstance(exc, LabelboxRateLimitError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return random.uniform(0, ceiling) if self.jitter else ceiling


class RetryState(wait_base):
    """One operation's retry rules as tenacity arguments: predicate, wait, budget, logging.

    It is the tenacity ``wait``: the server's ``Retry-After`` (capped), else the policy's
    jittered backoff, drawn once per attempt so that the budget check and the sleep agree.
    The budget is a deadline: a retry whose sleep would end past it is not attempted, and
    :class:`LabelboxRetryBudgetExceeded` is raised with the last error as its cause.
    """

    def __init__(self, policy: RetryPolicy, what: str, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.what = what
        self.clock = clock
        self.deadline = clock() + policy.max_retry_seconds
        self._drawn: tuple[int, float] = (0, 0.0)  # (attempt number, its delay)

    def __call__(self, retry_state: RetryCallState) -> float:
        """Seconds to sleep after the failed attempt ``retry_state.attempt_number``."""
        attempt = retry_state.attempt_number
        if self._drawn[0] != attempt:
            self._drawn = (attempt, self.policy.delay(_error(retry_state), attempt))
        return self._drawn[1]

    def out_of_budget(self, retry_state: RetryCallState) -> bool:
        """Tenacity ``stop``: the next sleep would end past the deadline."""
        return self.clock() + self(retry_state) > self.deadline

    def give_up(self, retry_state: RetryCallState) -> NoReturn:
        """Tenacity ``retry_error_callback``: raise the budget error, chained to the last one."""
        exc = _error(retry_state)
        raise LabelboxRetryBudgetExceeded(
            f"{self.what}: gave up after {retry_state.attempt_number} attempt(s) within the "
            f"{self.policy.max_retry_seconds:g}s retry budget; last error: {redact(exc)}"
        ) from exc

    def log_retry(self, retry_state: RetryCallState) -> None:
        """Tenacity ``before_sleep``: one warning per retry."""
        exc = _error(retry_state)
        log.warning(
            "%s failed (%s: %s); retry %d in %.1fs",
            self.what,
            type(exc).__name__,
            redact(exc),
            retry_state.attempt_number,
            self(retry_state),
        )

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``Retrying`` / ``AsyncRetrying`` for this operation."""
        return {
            "retry": retry_if_exception(is_retryable),
            "wait": self,
            "stop": self.out_of_budget,
            "before_sleep": self.log_retry,
            "retry_error_callback": self.give_up,
        }


def _error(retry_state: RetryCallState) -> BaseException:
    """The exception of the attempt that just failed (tenacity only retries failures here)."""
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    assert exc is not None
    return exc


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    what: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fn`` until it succeeds, a final error occurs, or the retry budget is spent."""
    retrying = Retrying(sleep=sleep, **RetryState(policy, what, clock).arguments())
    return retrying(fn)


async def acall_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    what: str,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Async twin of :func:`call_with_retry`; same predicate, same delays."""

    async def attempt() -> T:  # a coroutine function, whatever ``fn`` is (e.g. a lambda)
        return await fn()

    retrying = AsyncRetrying(**RetryState(policy, what, clock).arguments())
    return await retrying(attempt)
