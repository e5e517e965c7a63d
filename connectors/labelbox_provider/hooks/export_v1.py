"""Export v1 (``exportLabels``): the exact request text and the parsed status (spec section 2).

Filters are spliced into the query text, byte for byte as SDK 3.78.1 does (spec 2.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labelbox_provider.exceptions import LabelboxNotFoundError, LabelboxServerError
from labelbox_provider.hooks.dates import DateBound, DateInput, parse_range
from labelbox_provider.hooks.redact import redact_url

_V1_TEMPLATE = (
    "mutation GetLabelExportUrlPyApi($projectId: ID!)\n"
    "            {exportLabels(data:{projectId: $projectId%s}) "
    "{downloadUrl createdAt shouldPoll} }\n        "
)


@dataclass(frozen=True)
class V1Filters:
    """Validated v1 filters: label creation window and last-activity window."""

    created: tuple[DateBound | None, DateBound | None] | None = None  # start/end kwargs
    activity: tuple[DateBound | None, DateBound | None] | None = None  # last_activity_*


@dataclass(frozen=True)
class ExportV1Status:
    """One ``exportLabels`` answer.  The signed URL is private: it never shows in ``repr``."""

    project_id: str  # the exported project
    should_poll: bool  # server still generating the file
    created_at: str | None  # creation time of the served export file (ISO string)
    download_url: str | None = field(default=None, repr=False)  # signed URL, secret
    download_url_redacted: str = ""  # the URL without its query string, safe to log

    @property
    def ready(self) -> bool:
        """True when the file can be downloaded (the SDK 3.25.3+ condition)."""
        return not self.should_poll and self.download_url is not None


def validate_v1_filters(
    start: DateInput = None,
    end: DateInput = None,
    last_activity_start: DateInput = None,
    last_activity_end: DateInput = None,
) -> V1Filters:
    """Validate the four v1 bounds before any request (raises ``LabelboxConfigError``)."""
    created = parse_range("start/end (label created)", start, end)
    activity = parse_range("last_activity_start/end", last_activity_start, last_activity_end)
    return V1Filters(
        created=None if created == (None, None) else created,
        activity=None if activity == (None, None) else activity,
    )


def _range_text(bounds: tuple[DateBound | None, DateBound | None]) -> str:
    parts = [f'{key}: "{b.wire}"' for key, b in zip(("start", "end"), bounds, strict=True) if b]
    return "{" + ",".join(parts) + "}"


def v1_query(filters: V1Filters) -> str:
    """The ``exportLabels`` mutation text with the filters spliced in (spec 2.2)."""
    pieces = []
    if filters.created:
        pieces.append(f"labelCreatedAt: {_range_text(filters.created)}")
    if filters.activity:
        pieces.append(f"lastActivityAt: {_range_text(filters.activity)}")
    splice = ", filters: {" + ",".join(pieces) + " }" if pieces else ""
    return _V1_TEMPLATE % splice


def parse_v1_answer(project_id: str, data: Mapping[str, Any]) -> ExportV1Status:
    """Turn the ``data`` of the mutation into an :class:`ExportV1Status`."""
    if "exportLabels" not in data:
        raise LabelboxServerError("exportLabels answer without an exportLabels field")
    res = data["exportLabels"]
    if res is None:
        raise LabelboxNotFoundError(f"project {project_id!r} not found (exportLabels is null)")
    url = res.get("downloadUrl") or None
    return ExportV1Status(
        project_id=project_id,
        should_poll=bool(res.get("shouldPoll")),
        created_at=res.get("createdAt"),
        download_url=url,
        download_url_redacted=redact_url(url),
    )
