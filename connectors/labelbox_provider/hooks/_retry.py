"""The retry decision (a small pure predicate) and the bounded retry loops built on it.

Retried: connection errors and timeouts, HTTP 5xx, HTTP 429 (sleeping what ``Retry-After``
says, capped) and failed/expired/truncated downloads (the caller asks the API for a fresh URL).
Never retried: bad key, authorization, invalid request, not found, plan limits, failed exports.
The total time spent retrying one operation is bounded by ``RetryPolicy.max_retry_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from labelbox_provider.exceptions import (
    LabelboxDownloadError,
    LabelboxRateLimitError,
    LabelboxRetryBudgetExceeded,
    LabelboxServerError,
    LabelboxTransportError,
)
from labelbox_provider.hooks._redact import redact

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


class RetryState:
    """One operation's retry bookkeeping: attempts so far and the deadline of its budget."""

    def __init__(self, policy: RetryPolicy, what: str, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.what = what
        self.clock = clock
        self.deadline = clock() + policy.max_retry_seconds
        self.attempt = 0

    def next_delay(self, exc: BaseException) -> float:
        """Return the sleep before the next try, or raise if ``exc`` is final or time is up."""
        if not is_retryable(exc):
            raise exc
        self.attempt += 1
        wait = self.policy.delay(exc, self.attempt)
        if self.clock() + wait > self.deadline:
            raise LabelboxRetryBudgetExceeded(
                f"{self.what}: gave up after {self.attempt} attempt(s) within the "
                f"{self.policy.max_retry_seconds:g}s retry budget; last error: {redact(exc)}"
            ) from exc
        log.warning(
            "%s failed (%s: %s); retry %d in %.1fs",
            self.what,
            type(exc).__name__,
            redact(exc),
            self.attempt,
            wait,
        )
        return wait


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    what: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fn`` until it succeeds, a final error occurs, or the retry budget is spent."""
    state = RetryState(policy, what, clock)
    while True:
        try:
            return fn()
        except Exception as exc:
            sleep(state.next_delay(exc))


async def acall_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    what: str,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Async twin of :func:`call_with_retry`; same predicate, same delays."""
    state = RetryState(policy, what, clock)
    while True:
        try:
            return await fn()
        except Exception as exc:
            await asyncio.sleep(state.next_delay(exc))
