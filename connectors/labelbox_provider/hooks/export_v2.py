"""Export v2 (streamable): request texts and variables, and parsing of the answers (spec 4).

Query texts are the ones SDK 3.78.1 sends (operation names are how the server routes them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labelbox_provider.exceptions import (
    LabelboxConfigError,
    LabelboxNotFoundError,
    LabelboxServerError,
)
from labelbox_provider.hooks.dates import DateBound, parse_pair
from labelbox_provider.hooks.redact import redact_url

CREATE_QUERY = (
    "mutation exportDataRowsInProjectPyApi($input: ExportDataRowsInProjectInput!)"
    "{exportDataRowsInProject(input: $input){taskId isStreamable}}"
)
USER_QUERY = (
    "query GetUserPyApi{user{createdAt email intercomHash isExternalUser isViewer nickname "
    "name picture id updatedAt}}"
)
TASK_QUERY = (
    "query GetUserCreatedTasksPyApi($param_0: ID!, $param_1: ID!){user(where: {id: $param_1})"
    "{createdTasks(where: {id: $param_0} skip: 0 first: 100){completionPercentage createdAt "
    "errors metadata name result status type id updatedAt}}}"
)
PROJECT_QUERY = (
    "query GetProjectPyApi($param_0: ID!){project(where: {id: $param_0}){"
    "autoAuditNumberOfLabels autoAuditPercentage createdAt dataRowCount description "
    "editorTaskType isBenchmarkEnabled isConsensusEnabled lastActivityTime allowedMediaType "
    "modelSetupComplete name queueMode setupComplete id updatedAt uploadType}}"
)
HEADER_QUERY = (
    "query GetExportMetadataHeaderPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!){task(where: $where){exportMetadataHeader(streamType: $streamType)"
    "{totalSize totalLines}}}"
)
CHUNK_QUERY = (
    "query GetExportFileFromOffsetPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!, $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: "
    "$streamType, offset: $offset){offsets {start end} lines {start end} file}}}"
)

# Export params (snake_case, as the SDK takes them) -> input field of the mutation (spec 4.4).
PARAMS: dict[str, str] = {
    "attachments": "includeAttachments",  # data row attachments
    "embeddings": "includeEmbeddings",  # embeddings vectors
    "metadata_fields": "includeMetadata",  # data row metadata
    "data_row_details": "includeDataRowDetails",  # dataset, created/updated, last activity
    "project_details": "includeProjectDetails",  # workflow status/history, batch, priority
    "performance_details": "includePerformanceDetails",  # seconds to create/review, skipped
    "label_details": "includeLabelDetails",  # label created/updated/by, reviews
    "interpolated_frames": "includeInterpolatedFrames",  # video frames between keyframes
}
# Workflow status filter value -> searchQuery element (spec 4.3).
WORKFLOW: dict[str, dict[str, str]] = {
    "ToLabel": {"type": "task_queue_not_exist"},  # not yet in any task queue
    "InReview": {"type": "task_queue_status", "status": "InReview"},  # in a review step
    "InRework": {"type": "task_queue_status", "status": "InRework"},  # sent back to rework
    "Done": {"type": "task_queue_status", "status": "Done"},  # accepted
}
STREAM_TYPES = ("RESULT", "ERRORS")  # TaskStreamType values
MAX_IDS = 2000  # most data row ids / global keys one export accepts (spec 5.4)


@dataclass(frozen=True)
class ExportTaskStatus:
    """The state of one export task."""

    task_id: str  # the task id returned by the create mutation
    status: str  # "IN_PROGRESS" | "COMPLETE" | "FAILED"
    completion: float | None = None  # completionPercentage, 0-100
    errors: str | None = None  # the server's error text when FAILED
    name: str | None = None  # task name
    created_at: str | None = None  # task creation time (ISO string)

    @property
    def message(self) -> str:
        """A one-line human summary, e.g. for a trigger event."""
        pct = f" ({self.completion:g}%)" if self.completion is not None else ""
        tail = f": {self.errors}" if self.errors else ""
        return f"export task {self.task_id} {self.status}{pct}{tail}"

    @property
    def done(self) -> bool:
        """True once the task stopped running (COMPLETE or FAILED)."""
        return self.status != "IN_PROGRESS"


@dataclass(frozen=True)
class StreamHeader:
    """Size of one result/errors stream: bytes and lines of the NDJSON."""

    total_size: int  # bytes
    total_lines: int  # NDJSON lines (records)


@dataclass(frozen=True)
class Chunk:
    """One ``exportFileFromOffset`` answer; the signed URL is kept out of ``repr``."""

    start: int  # first byte (absolute, inclusive)
    end: int  # last byte (absolute, inclusive)
    line_start: int | None  # first line number in the chunk
    line_end: int | None  # last line number in the chunk
    url: str = field(repr=False)  # signed URL of the chunk bytes, secret
    url_redacted: str = ""  # safe to log

    @property
    def size(self) -> int:
        """Number of bytes the chunk must have (the range is inclusive)."""
        return self.end - self.start + 1


def _date_element(kind: str, bounds: tuple[DateBound | None, DateBound | None]) -> dict[str, Any]:
    lo, hi = bounds
    value: Any
    if lo and hi:
        operator, value = "BETWEEN", {"min": lo.wire, "max": hi.wire}
    elif lo:
        operator, value = "GREATER_THAN_OR_EQUAL", lo.wire
    else:
        assert hi is not None
        operator, value = "LESS_THAN_OR_EQUAL", hi.wire
    return {"type": kind, "value": {"operator": operator, "timezone": "UTC", "value": value}}


def _ids_element(kind: str, name: str, ids: Sequence[str]) -> dict[str, Any]:
    if isinstance(ids, str) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise LabelboxConfigError(f"{name} must be a non-empty list of non-empty strings")
    if len(ids) > MAX_IDS:
        raise LabelboxConfigError(f"{name} has {len(ids)} items; the API takes {MAX_IDS} at most")
    return {"ids": list(ids), "operator": "is", "type": kind}


def build_search_query(
    *,
    last_activity: object = None,
    label_created: object = None,
    data_row_ids: Sequence[str] | None = None,
    global_keys: Sequence[str] | None = None,
    workflow_status: str | None = None,
) -> list[dict[str, Any]]:
    """Validate the v2 filters and return the ``searchQuery.query`` list (spec 4.3)."""
    query: list[dict[str, Any]] = []
    for kind, name, pair in (
        ("data_row_last_activity_at", "last_activity", last_activity),
        ("labeled_at", "label_created", label_created),
    ):
        bounds = parse_pair(name, pair)
        if bounds:
            query.append(_date_element(kind, bounds))
    if data_row_ids is not None and global_keys is not None:
        raise LabelboxConfigError("pass data_row_ids or global_keys, not both")
    if data_row_ids is not None:
        query.append(_ids_element("data_row_id", "data_row_ids", data_row_ids))
    if global_keys is not None:
        query.append(_ids_element("global_key", "global_keys", global_keys))
    if workflow_status is not None:
        if workflow_status not in WORKFLOW:
            raise LabelboxConfigError(
                f"workflow_status={workflow_status!r}: use one of {', '.join(WORKFLOW)}"
            )
        query.append(dict(WORKFLOW[workflow_status]))
    return query


def build_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Map export params to the mutation's input (unknown keys are an error, not ignored)."""
    given = dict(params or {})
    override = given.pop("media_type_override", None)
    unknown = sorted(set(given) - set(PARAMS))
    if unknown:
        raise LabelboxConfigError(f"unknown export params {unknown}; known: {sorted(PARAMS)}")
    out: dict[str, Any] = {"mediaTypeOverride": override}
    out.update({wire: bool(given.get(key, False)) for key, wire in PARAMS.items()})
    return out


def create_variables(
    project_id: str, task_name: str | None, search: list[dict[str, Any]], params: dict[str, Any]
) -> dict[str, Any]:
    """Variables of the create-task mutation (the SDK's recorded shape, streamable)."""
    return {
        "input": {
            "taskName": task_name,
            "isStreamableReady": True,
            "filters": {"projectId": project_id, "searchQuery": {"scope": None, "query": search}},
            "params": params,
            "streamable": True,
        }
    }


def parse_task(task_id: str, data: Mapping[str, Any]) -> ExportTaskStatus:
    """Parse ``GetUserCreatedTasksPyApi``; exactly one task must come back."""
    tasks = ((data.get("user") or {}).get("createdTasks")) or []
    if len(tasks) != 1:
        raise LabelboxNotFoundError(f"export task {task_id!r} not found")
    task = tasks[0]
    status = str(task.get("status") or "")
    if status not in ("IN_PROGRESS", "COMPLETE", "FAILED"):
        raise LabelboxServerError(f"export task {task_id!r} has unknown status {status!r}")
    pct = task.get("completionPercentage")
    errors = task.get("errors")
    return ExportTaskStatus(
        task_id=task_id,
        status=status,
        completion=float(pct) if pct is not None else None,
        errors=redact_url(errors) if isinstance(errors, str) and "://" in errors else errors,
        name=task.get("name"),
        created_at=task.get("createdAt"),
    )


def parse_header(data: Mapping[str, Any]) -> StreamHeader | None:
    """Parse ``exportMetadataHeader``; ``None`` means the task has no such stream."""
    header = (data.get("task") or {}).get("exportMetadataHeader")
    if header is None:
        return None
    size = header.get("totalSize", header.get("total_size"))
    lines = header.get("totalLines", header.get("total_lines"))
    return StreamHeader(total_size=int(size), total_lines=int(lines))


def parse_chunk(data: Mapping[str, Any], offset: int) -> Chunk:
    """Parse ``exportFileFromOffset`` and check that the chunk starts where it was asked."""
    raw = (data.get("task") or {}).get("exportFileFromOffset") or {}
    offsets, lines, url = raw.get("offsets") or {}, raw.get("lines") or {}, raw.get("file")
    if not url or offsets.get("start") is None or offsets.get("end") is None:
        raise LabelboxServerError(f"chunk at offset {offset} came back without file/offsets")
    chunk = Chunk(
        start=int(offsets["start"]),
        end=int(offsets["end"]),
        line_start=lines.get("start"),
        line_end=lines.get("end"),
        url=url,
        url_redacted=redact_url(url),
    )
    if chunk.start != offset or chunk.end < chunk.start:
        raise LabelboxServerError(
            f"chunk asked at offset {offset} covers bytes {chunk.start}-{chunk.end}"
        )
    return chunk
