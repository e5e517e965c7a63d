"""Turn the export filters the SDK sends into the world's `ExportFilter` and `V2Params`.

Export v1 splices its filters into the query text (spec 2.2); once the GraphQL reader has
parsed the arguments they look like ``{"labelCreatedAt": {"start": ..., "end": ...},
"lastActivityAt": {...}}``. Export v2 sends ``searchQuery.query`` elements (spec 4.3) and
``params`` (spec 4.4).

Date strings: ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm:ss`` or ISO 8601 with an offset. Both ends of a
range are inclusive; a date-only end means the end of that day. v1 reads naive values as UTC; v2
reads them as wall times in the request's ``timezone`` (an explicit offset always wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from labelbox_provider.emulator.world.api import ExportFilter, V2Params

__all__ = ["FilterError", "parse_date", "v1_filter", "v2_filter", "v2_params"]

MAX_IDS = 2000  # largest id list the API accepts in one filter (spec 5.4)

# v2 `searchQuery` date element type -> ExportFilter field it sets.
_DATE_TYPES = {
    "data_row_last_activity_at": "last_activity",  # filters.last_activity_at
    "labeled_at": "label_created",  # filters.label_created_at
}
# v2 `searchQuery` id element type -> ExportFilter field it sets.
_ID_TYPES = {
    "data_row_id": "data_row_ids",  # filters.data_row_ids
    "global_key": "global_keys",  # filters.global_keys
    "batch": "batch_ids",  # filters.batch_ids
}
# v2 `params` input key -> V2Params field.
_PARAMS = {
    "includeDataRowDetails": "include_data_row_details",  # params.data_row_details
    "includeLabelDetails": "include_label_details",  # params.label_details
    "includePerformanceDetails": "include_performance_details",  # params.performance_details
    "includeProjectDetails": "include_project_details",  # params.project_details
    "includeMetadata": "include_metadata",  # params.metadata_fields
    "includeAttachments": "include_attachments",  # params.attachments
    "includeEmbeddings": "include_embeddings",  # params.embeddings
    "includeInterpolatedFrames": "include_interpolated_frames",  # params.interpolated_frames
}
_WORKFLOW_STATUSES = ("InReview", "InRework", "Done")


class FilterError(ValueError):
    """A filter the API would reject (answered as MALFORMED_REQUEST)."""


def parse_date(value: str, *, end: bool, tz: tzinfo = UTC) -> datetime:
    """Parse one filter date to an aware UTC datetime.

    >>> parse_date("2021-01-02", end=True).isoformat()
    '2021-01-02T23:59:59.999999+00:00'
    >>> parse_date("2023-05-23T14:30:00+0530", end=False).isoformat()
    '2023-05-23T09:00:00+00:00'
    """
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").date()
            moment = datetime.combine(day, time.max if end else time.min)
        else:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise FilterError(f"Invalid date format: {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _range(node: Any, tz: tzinfo = UTC) -> tuple[datetime | None, datetime | None] | None:
    if node is None:
        return None
    if not isinstance(node, Mapping):
        raise FilterError(f"Expected an object with start/end, got {node!r}")
    start, stop = node.get("start"), node.get("end")
    return (
        parse_date(start, end=False, tz=tz) if start else None,
        parse_date(stop, end=True, tz=tz) if stop else None,
    )


def v1_filter(filters: Mapping[str, Any] | None) -> ExportFilter:
    """The `exportLabels(data: {filters: ...})` argument as an ExportFilter."""
    filters = filters or {}
    unknown = set(filters) - {"labelCreatedAt", "lastActivityAt"}
    if unknown:
        raise FilterError(f"Unknown export filter(s): {sorted(unknown)}")
    return ExportFilter(
        label_created=_range(filters.get("labelCreatedAt")),
        last_activity=_range(filters.get("lastActivityAt")),
    )


def _zone(name: Any) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FilterError(f"Unknown timezone: {name!r}") from exc


def _date_element(element: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    spec = element.get("value") or {}
    tz = _zone(spec.get("timezone"))
    operator, value = spec.get("operator"), spec.get("value")
    if operator == "BETWEEN" and isinstance(value, Mapping):
        window = _range({"start": value.get("min"), "end": value.get("max")}, tz)
        return window if window is not None else (None, None)
    if operator == "GREATER_THAN_OR_EQUAL" and value:
        return parse_date(value, end=False, tz=tz), None
    if operator == "LESS_THAN_OR_EQUAL" and value:
        return None, parse_date(value, end=True, tz=tz)
    raise FilterError(f"Unsupported date operator {operator!r} in {element.get('type')}")


def _ids(element: Mapping[str, Any]) -> frozenset[str]:
    ids = element.get("ids")
    if not isinstance(ids, list) or not ids:
        raise FilterError(f"{element.get('type')} filter expects a non-empty list of ids")
    if len(ids) > MAX_IDS:
        raise FilterError(f"{element.get('type')} filter supports at most {MAX_IDS} items")
    return frozenset(str(i) for i in ids)


def _apply(element: Mapping[str, Any], out: dict[str, Any]) -> None:
    kind = element.get("type")
    if kind in _DATE_TYPES:
        out[_DATE_TYPES[kind]] = _date_element(element)
    elif kind in _ID_TYPES:
        out[_ID_TYPES[kind]] = _ids(element)
    elif kind == "task_queue_not_exist":
        out["workflow_status"] = "ToLabel"
    elif kind == "task_queue_status":
        status = element.get("status")
        if status not in _WORKFLOW_STATUSES:
            raise FilterError(f"Unknown workflow status {status!r}")
        out["workflow_status"] = status
    else:
        raise FilterError(f"Unsupported search query element type {kind!r}")


def v2_filter(search_query: Mapping[str, Any] | None) -> ExportFilter:
    """The `filters.searchQuery` of `exportDataRowsInProject` as an ExportFilter."""
    elements = (search_query or {}).get("query") or []
    if not isinstance(elements, list):
        raise FilterError("searchQuery.query must be a list")
    out: dict[str, Any] = {}
    for element in elements:
        if not isinstance(element, Mapping):
            raise FilterError(f"searchQuery element must be an object, got {element!r}")
        _apply(element, out)
    if "data_row_ids" in out and "global_keys" in out:
        raise FilterError("data_rows and global_keys cannot both be present in export filters")
    return ExportFilter(**out)


def v2_params(params: Mapping[str, Any] | None) -> V2Params:
    """The `params` input of `exportDataRowsInProject` as V2Params (unknown keys ignored)."""
    params = params or {}
    return V2Params(**{field: bool(params.get(key)) for key, field in _PARAMS.items()})
