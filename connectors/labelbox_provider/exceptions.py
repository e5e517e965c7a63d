"""Every error the provider raises about Labelbox, one line each.

Messages carry the server's own words (redacted: no API key, no signed-URL query string).
``retry.is_retryable`` in :mod:`labelbox_provider.hooks._retry` decides which ones are retried.
"""

from __future__ import annotations


class LabelboxError(Exception):
    """Base class: anything that went wrong talking to Labelbox."""


class LabelboxConfigError(LabelboxError, ValueError):
    """The connection or an argument is invalid; fix it before any request is sent."""


class LabelboxAuthenticationError(LabelboxError):
    """The API key is missing, wrong or revoked (never retried)."""


class LabelboxAuthorizationError(LabelboxError):
    """The key is valid but not allowed to do this (never retried)."""


class LabelboxInvalidRequestError(LabelboxError):
    """The server rejected the request as invalid: query, filters or arguments (never retried)."""


class LabelboxNotFoundError(LabelboxError):
    """The project, task or resource does not exist (never retried)."""


class LabelboxPlanLimitError(LabelboxError):
    """A plan or usage limit was hit (e.g. LBU limit, 426); upgrading helps, retrying does not."""


class LabelboxOperationNotAllowedError(LabelboxError):
    """The server refuses the operation (e.g. export unsupported for this project)."""


class LabelboxRateLimitError(LabelboxError):
    """HTTP 429: too many requests (retried after ``Retry-After``, capped)."""

    retry_after: float | None = None  # seconds the server asked us to wait, if it said


class LabelboxServerError(LabelboxError):
    """HTTP 5xx or a transient internal server error (retried)."""


class LabelboxTransportError(LabelboxError):
    """Connection refused/reset or timed out before a full answer (retried)."""


class LabelboxDownloadError(LabelboxError):
    """A download URL failed, expired or served the wrong number of bytes (retried, fresh URL)."""


class LabelboxRetryBudgetExceeded(LabelboxError):
    """Retries stopped because the total retry time budget ran out; the cause is chained."""


class LabelboxExportFailedError(LabelboxError):
    """The export task finished with status FAILED."""


class LabelboxExportTimeoutError(LabelboxError, TimeoutError):
    """The export was not ready before the deadline (an error, never a silent ``None``)."""
