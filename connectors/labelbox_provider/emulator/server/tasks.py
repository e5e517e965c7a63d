"""Export v2 tasks: status records, stream headers and chunks by offset or line (spec 4.5-4.6).

Offsets and line numbers are absolute and inclusive at both ends; a chunk is at most
``chunk_size`` bytes and need not end on a line boundary. Its ``file`` is a signed URL serving
exactly the bytes ``[start, end]`` of the stream.
"""

from __future__ import annotations

from typing import Any

from labelbox_provider.emulator.server.errors import GraphQLError
from labelbox_provider.emulator.server.exports import ExportJob, Spool
from labelbox_provider.emulator.server.graphql_parser import Selection
from labelbox_provider.emulator.server.state import ServerState

__all__ = ["resolve_task", "stream_url", "task_record"]

# Task.status values by job status.
_STATUS = {"in_progress": "IN_PROGRESS", "complete": "COMPLETE", "failed": "FAILED"}


def stream_url(
    state: ServerState, job: ExportJob, stream: str, span: tuple[int, int] | None
) -> str:
    """A signed URL of a whole stream, or of the inclusive byte span of it."""
    extra = {} if span is None else {"start": str(span[0]), "end": str(span[1])}
    path = f"/exports/v2/{job.id}/{stream.lower()}.ndjson"
    return state.base_url + state.signer.sign(path, extra)


def task_record(state: ServerState, job: ExportJob) -> dict[str, Any]:
    """The Task object of `createdTasks` (counts as one status poll)."""
    status = _STATUS[job.poll(state.settings.ready_wait_seconds)]
    created = job.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    done = status == "COMPLETE"
    has_errors = done and job.errors is not None and job.errors.lines > 0
    return {
        "id": job.id,
        "name": job.name or "",
        "type": "export-data-rows",
        "status": status,
        "completionPercentage": 100.0 if status != "IN_PROGRESS" else 0.0,
        "createdAt": created,
        "updatedAt": created,
        "metadata": None,
        "result": stream_url(state, job, "RESULT", None) if done else None,
        "errors": stream_url(state, job, "ERRORS", None) if has_errors else None,
    }


def _ready_stream(job: ExportJob, sel: Selection) -> Spool | None:
    stream_type = str(sel.args.get("streamType") or "RESULT")
    spool = job.stream(stream_type)
    if spool is None:
        raise GraphQLError.internal(f"Unknown stream type {stream_type}", status=400)
    if job.status() != "complete" or spool.lines == 0:
        return None
    return spool


def _chunk(state: ServerState, job: ExportJob, sel: Selection, start: int) -> dict[str, Any]:
    spool = _ready_stream(job, sel)
    if spool is None:
        return {}
    if not 0 <= start < spool.size:
        raise GraphQLError.internal(
            f"offset {start} is out of range [0, {spool.size - 1}]", status=400
        )
    end = min(start + state.settings.chunk_size, spool.size) - 1
    stream = str(sel.args.get("streamType") or "RESULT")
    return {
        "offsets": {"start": start, "end": end},
        "lines": {"start": spool.line_of(start), "end": spool.line_of(end)},
        "file": stream_url(state, job, stream, (start, end)),
    }


def _as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise GraphQLError.internal(f"{name} must be an unsigned integer", status=400) from exc


def _field(state: ServerState, job: ExportJob, child: Selection) -> Any:
    if child.name == "exportMetadataHeader":
        spool = _ready_stream(job, child)
        return None if spool is None else {"totalSize": spool.size, "totalLines": spool.lines}
    if child.name == "exportFileFromOffset":
        return _chunk(state, job, child, _as_int(child.args.get("offset"), "offset")) or None
    if child.name == "exportFileFromLine":
        line = _as_int(child.args.get("line"), "line")
        spool = _ready_stream(job, child)
        if spool is None:
            return None
        if not 0 <= line < spool.lines:
            raise GraphQLError.internal(f"line {line} is out of range", status=400)
        return _chunk(state, job, child, spool.offset_of_line(line)) or None
    return task_record(state, job).get(child.name)


def resolve_task(state: ServerState, job: ExportJob, sel: Selection) -> dict[str, Any]:
    """The `task(where: {id})` object with the fields the query selected."""
    return {child.name: _field(state, job, child) for child in sel.children}
