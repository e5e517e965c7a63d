"""Resolvers of the GraphQL operations the Labelbox SDK uses for exports (spec sections 2, 4).

Dispatch is by root field (``exportLabels``, ``exportDataRowsInProject``, ``user``,
``project``, ``organization``, ``task``); the operation name only labels the request for faults
and the request log. Each resolver returns plain data that is then projected onto the
client's selection set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labelbox_provider.emulator.server.errors import GraphQLError, not_found
from labelbox_provider.emulator.server.filters import FilterError, v1_filter, v2_filter, v2_params
from labelbox_provider.emulator.server.graphql_parser import Operation, Selection, project
from labelbox_provider.emulator.server.state import ServerState
from labelbox_provider.emulator.server.tasks import resolve_task, task_record

__all__ = ["KNOWN_OPERATIONS", "execute"]

# Operation names of the SDK's export calls (spec section 8); others are served by root field.
KNOWN_OPERATIONS = (
    "GetLabelExportUrlPyApi",  # export v1 create/poll (mutation exportLabels)
    "exportDataRowsInProjectPyApi",  # export v2 task creation
    "CurrentUserPyApi",  # user timezone before date filters
    "GetUserPyApi",  # current user (task lookup)
    "GetUserCreatedTasksPyApi",  # task status polling
    "GetProjectPyApi",  # project lookup
    "GetOrganizationPyApi",  # organization (result URLs)
    "GetExportMetadataHeaderPyApi",  # stream size/lines
    "GetExportFileFromOffsetPyApi",  # stream chunk by byte offset
    "GetExportFileFromLinePyApi",  # stream chunk by line
)

Resolver = Callable[[ServerState, Selection, dict[str, Any]], Any]


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    return str(moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def _project_or_error(state: ServerState, project_id: Any, path: str) -> Any:
    info = state.projects.get(str(project_id)) if project_id else None
    if info is None:
        raise not_found("Project", project_id, path)
    return info


def _export_labels(state: ServerState, sel: Selection, log: dict[str, Any]) -> Any:
    data = sel.args.get("data") or {}
    info = _project_or_error(state, data.get("projectId"), sel.key)
    log["project_id"] = info.id
    try:
        flt = v1_filter(data.get("filters"))
    except FilterError as exc:
        raise GraphQLError.malformed(str(exc), info.id, sel.key) from exc
    job, created = state.v1_export(info.id, flt)
    log.update(export_id=job.id, created=created)
    status = job.poll(state.settings.ready_wait_seconds)
    if status == "in_progress":
        return {"downloadUrl": None, "createdAt": None, "shouldPoll": True}
    url = None
    if status == "complete":
        url = state.base_url + state.signer.sign(f"/exports/v1/{job.id}.json")
    return {"downloadUrl": url, "createdAt": _iso(job.created_at), "shouldPoll": False}


def _export_v2(state: ServerState, sel: Selection, log: dict[str, Any]) -> Any:
    data = sel.args.get("input") or {}
    filters = data.get("filters") or {}
    info = _project_or_error(state, filters.get("projectId"), sel.key)
    log["project_id"] = info.id
    try:
        flt = v2_filter(filters.get("searchQuery"))
        params = v2_params(data.get("params"))
    except FilterError as exc:
        raise GraphQLError.malformed(str(exc), info.id, sel.key) from exc
    job = state.v2_task(info.id, flt, params, data.get("taskName"))
    log.update(export_id=job.id, created=True, task_name=data.get("taskName"))
    return {"taskId": job.id, "isStreamable": True}


def _user(state: ServerState, sel: Selection, log: dict[str, Any]) -> Any:
    user = dict(state.world.user)
    for child in sel.children:
        if child.name == "createdTasks":
            task_id = (child.args.get("where") or {}).get("id")
            job = state.job(str(task_id)) if task_id else None
            log["export_id"] = task_id
            user["createdTasks"] = [] if job is None else [task_record(state, job)]
    return user


def _project(state: ServerState, sel: Selection, log: dict[str, Any]) -> Any:
    info = _project_or_error(state, (sel.args.get("where") or {}).get("id"), sel.key)
    log["project_id"] = info.id
    created = _iso(info.created_at)
    return {
        "id": info.id,
        "name": info.name,
        "description": info.description,
        "createdAt": created,
        "updatedAt": _iso(info.last_activity_time),
        "lastActivityTime": _iso(info.last_activity_time),
        "mediaType": info.media_type,
        "allowedMediaType": info.media_type,
        "queueMode": info.queue_mode,
        "editorTaskType": None,
        "uploadType": "Auto",
        "setupComplete": created,
        "modelSetupComplete": None,
        "autoAuditNumberOfLabels": 1,
        "autoAuditPercentage": 1,
        "isBenchmarkEnabled": False,
        "isConsensusEnabled": False,
        "dataRowCount": info.data_row_count,
        "ontologyId": info.ontology_id,
    }


def _organization(state: ServerState, sel: Selection, log: dict[str, Any]) -> Any:
    return dict(state.world.organization)


def _task(state: ServerState, sel: Selection, log: dict[str, Any]) -> Any:
    task_id = (sel.args.get("where") or {}).get("id")
    job = state.job(str(task_id)) if task_id else None
    log["export_id"] = task_id
    if job is None:
        raise not_found("Task", task_id, sel.key)
    log["project_id"] = job.project_id
    return resolve_task(state, job, sel)


_ROOTS: dict[str, Resolver] = {
    "exportLabels": _export_labels,  # export v1
    "exportDataRowsInProject": _export_v2,  # export v2 task
    "user": _user,  # current user, created tasks
    "project": _project,  # project by id
    "organization": _organization,  # the user's organization
    "task": _task,  # stream header / chunks
}


def execute(state: ServerState, op: Operation, log: dict[str, Any]) -> dict[str, Any]:
    """Run every root field of `op`; `log` collects project/export ids for the request log."""
    data: dict[str, Any] = {}
    for sel in op.fields:
        resolver = _ROOTS.get(sel.name)
        if resolver is None:
            raise GraphQLError.parse_failed(
                f'Cannot query field "{sel.name}" on type "{op.kind.capitalize()}".'
            )
        data[sel.key] = project(resolver(state, sel, log), sel.children)
    return data
