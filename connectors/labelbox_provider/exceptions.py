"""Every error the provider raises, one line each, under one base: ``LabelboxProviderError``.

Messages carry the server's own words (redacted: no API key, no signed-URL query string).
``is_retryable`` in :mod:`labelbox_provider.hooks.retry` decides which API errors are retried.
The builtin second bases (``ValueError``, ``RuntimeError``, ``TimeoutError``) say what kind of
failure each one is to code that does not know this module.
"""

from __future__ import annotations


class LabelboxProviderError(Exception):
    """Base class of every error this provider raises."""


class LabelboxError(LabelboxProviderError):
    """Anything that went wrong talking to Labelbox, or an invalid argument for it."""


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


class WindowError(LabelboxConfigError):
    """A window or planning argument is invalid (naive datetime, empty window, bad span)."""


class ExportFormatError(LabelboxProviderError, ValueError):
    """The bytes are not one of the three export layouts."""


class TruncatedExportError(ExportFormatError):
    """An export file ends before its end (a v1 array without its closing ``]``)."""


class FlattenProcessError(LabelboxProviderError, RuntimeError):
    """The second process of a two-process flatten failed; no part file of the call is kept."""


class TransformError(LabelboxProviderError, ValueError):
    """A record cannot be flattened; the message says why (it never quotes field values)."""


class WktError(TransformError):
    """A legacy geometry string that starts like WKT but does not parse."""


class BatchCommitError(LabelboxProviderError, RuntimeError):
    """A batch could not be committed; nothing of it became visible to readers."""


class CountMismatchError(BatchCommitError):
    """The Parquet files do not hold the row counts the transforms reported."""


class ConditionalWriteConflict(BatchCommitError):
    """A compare-and-swap write lost: the object changed (or appeared) since it was read."""


class LostClaimError(BatchCommitError):
    """Another writer committed a newer attempt of the same batch; this attempt was dropped."""


class ReconcileError(LabelboxProviderError, RuntimeError):
    """The reconcile export could not be read completely; no tombstone was written."""


class WarehouseLoadError(LabelboxProviderError, RuntimeError):
    """A batch could not be loaded; the warehouse was left as it was."""


class DeltaTableError(LabelboxProviderError, RuntimeError):
    """A Delta current table could not be updated; the committed batch stands (the next
    commit or ``labelbox-export delta rebuild`` brings the table up to date)."""


class CliError(LabelboxProviderError):
    """A user error on the command line: printed as ``error: <message>`` with exit status 2."""
