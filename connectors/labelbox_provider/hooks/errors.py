"""Pure mapping of one HTTP answer (GraphQL endpoint or file GET) to data or a typed exception.

Shared by the sync (requests) and async (httpx) transports, so both behave the same.
Follows spec section 5.1/5.2, except that 429 and transient 5xx become retryable errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from labelbox_provider.exceptions import (
    LabelboxAuthenticationError,
    LabelboxAuthorizationError,
    LabelboxDownloadError,
    LabelboxError,
    LabelboxInvalidRequestError,
    LabelboxNotFoundError,
    LabelboxOperationNotAllowedError,
    LabelboxPlanLimitError,
    LabelboxRateLimitError,
    LabelboxServerError,
)
from labelbox_provider.hooks.redact import redact
from labelbox_provider.hooks.retry import parse_retry_after

MAX_MESSAGE = 500  # longest server text copied into an exception message

# GraphQL ``extensions.code`` -> exception class (codes from spec 5.2).
CODE_TO_ERROR: dict[str, type[LabelboxError]] = {
    "AUTHENTICATION_ERROR": LabelboxAuthenticationError,  # bad or missing key
    "AUTHORIZATION_ERROR": LabelboxAuthorizationError,  # key lacks the permission
    "GRAPHQL_VALIDATION_FAILED": LabelboxInvalidRequestError,  # query does not fit the schema
    "GRAPHQL_PARSE_FAILED": LabelboxInvalidRequestError,  # query text does not parse
    "RESOURCE_NOT_FOUND": LabelboxNotFoundError,  # unknown project / task
    "RESOURCE_CONFLICT": LabelboxInvalidRequestError,  # conflicting state
    "MALFORMED_REQUEST": LabelboxInvalidRequestError,  # e.g. export unsupported for the editor
    "OPERATION_NOT_ALLOWED": LabelboxOperationNotAllowedError,  # refused operation
}
# ``INTERNAL_SERVER_ERROR`` carries an HTTP-like status in ``extensions.exception.status``.
INTERNAL_STATUS_TO_ERROR: dict[int, type[LabelboxError]] = {
    400: LabelboxInvalidRequestError,  # bad input
    422: LabelboxInvalidRequestError,  # unprocessable entity
    426: LabelboxPlanLimitError,  # LBU / plan limit ("upgrade to continue")
    429: LabelboxRateLimitError,  # rate limited inside GraphQL
}
# Plain HTTP statuses (a body without GraphQL ``errors``).
HTTP_STATUS_TO_ERROR: dict[int, type[LabelboxError]] = {
    400: LabelboxInvalidRequestError,  # bad request
    401: LabelboxAuthenticationError,  # bad key
    403: LabelboxAuthorizationError,  # forbidden
    404: LabelboxNotFoundError,  # wrong endpoint path
    426: LabelboxPlanLimitError,  # upgrade required
}


def _short(text: object) -> str:
    return redact(text)[:MAX_MESSAGE]


def _graphql_error(error: Mapping[str, Any]) -> LabelboxError:
    ext = error.get("extensions") or {}
    code = str(ext.get("code") or "")
    message = _short(error.get("message") or code or "unknown GraphQL error")
    if code == "MALFORMED_REQUEST" and ext.get("errors"):
        message = f"{message}: {_short(ext['errors'])}"
    if code in CODE_TO_ERROR:
        return CODE_TO_ERROR[code](message)
    if code == "INTERNAL_SERVER_ERROR":
        exc_info = ext.get("exception") or {}
        status = exc_info.get("status") if isinstance(exc_info, Mapping) else None
        if isinstance(status, int) and status in INTERNAL_STATUS_TO_ERROR:
            return INTERNAL_STATUS_TO_ERROR[status](message)
        return LabelboxServerError(f"internal server error (status {status}): {message}")
    return LabelboxError(f"GraphQL error {code or '(no code)'}: {message}")


def _rate_limited(message: str, retry_after: str | None) -> LabelboxRateLimitError:
    err = LabelboxRateLimitError(message)
    err.retry_after = parse_retry_after(retry_after)
    return err


def _http_error(status: int, reason: str, body: Any, retry_after: str | None) -> LabelboxError:
    text = body.get("message") if isinstance(body, Mapping) else None
    message = _short(text or body or reason or "")
    label = f"HTTP {status}" + (f" {reason}" if reason else "")
    if status == 429:
        return _rate_limited(f"{label}: {message}", retry_after)
    if status >= 500:
        return LabelboxServerError(f"{label}: {message}")
    if isinstance(text, str) and text.startswith("You have exceeded"):
        return LabelboxPlanLimitError(f"{label}: {message}")
    return HTTP_STATUS_TO_ERROR.get(status, LabelboxError)(f"{label}: {message}")


def file_error(status: int, reason: str, retry_after: str | None, signed: bool) -> LabelboxError:
    """Map a failed file GET: signed URLs that fail are expired/invalid (fresh URL helps)."""
    label = f"HTTP {status} {reason}".strip()
    if status == 429:
        return _rate_limited(f"download rate limited: {label}", retry_after)
    if status >= 500:
        return LabelboxServerError(f"download failed: {label}")
    if signed:
        return LabelboxDownloadError(f"download URL rejected ({label}): expired or invalid")
    return HTTP_STATUS_TO_ERROR.get(status, LabelboxError)(f"file request failed: {label}")


def parse_graphql_response(
    status: int, reason: str, headers: Mapping[str, str], content: bytes
) -> dict[str, Any]:
    """Return the ``data`` object of a GraphQL answer or raise the matching typed exception."""
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = content[:MAX_MESSAGE].decode("utf-8", "replace")
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if errors and isinstance(errors, list):
        first = errors[0] if isinstance(errors[0], Mapping) else {"message": str(errors[0])}
        err = _graphql_error(first)
        if isinstance(err, LabelboxRateLimitError):
            err.retry_after = parse_retry_after(headers.get("retry-after"))
        raise err
    if status >= 300 or not isinstance(body, Mapping) or "data" not in body:
        raise _http_error(status, reason, body, headers.get("retry-after"))
    data = body.get("data")
    if not isinstance(data, dict):
        raise LabelboxServerError("GraphQL answer without a data object")
    return data
