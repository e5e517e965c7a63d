"""Export v2: one data-row record -> rows of every table (spec section 4.7).

Only ``projects[<project id>]`` is read: labels of other projects are not this mirror's. A
data row with several labels gives several label rows. Video labels carry ``frames`` keyed by
frame number with objects keyed by feature id, plus ``segments`` and
``key_frame_feature_map``; DICOM labels nest the same under ``groups`` per plane.
"""

from __future__ import annotations

from typing import Any

from labelbox_provider.exceptions import TransformError

from .common import (
    RecordContext,
    Row,
    Rows,
    as_dict,
    as_list,
    extra_json,
    flag,
    integer,
    new_rows,
    num,
    text,
    to_json,
    ts,
)
from .v2_annotations import annotation_rows

_RECORD_KNOWN = frozenset(
    {"data_row", "media_attributes", "attachments", "metadata_fields", "embeddings", "projects"}
    | {"media_type"}
)
_DATA_ROW_KNOWN = frozenset({"id", "global_key", "external_id", "row_data", "details"})
_DETAILS_KNOWN = frozenset(
    {"dataset_id", "dataset_name", "created_at", "updated_at", "last_activity_at", "created_by"}
)
_PROJECT_KNOWN = frozenset({"name", "labels", "project_details"})
_PD_KNOWN = frozenset(
    {"ontology_id", "task_name", "batch_id", "batch_name", "workflow_status", "priority"}
    | {"consensus_expected_label_count", "workflow_history"}
)
_LABEL_KNOWN = frozenset(
    {"label_kind", "version", "id", "label_details", "performance_details", "annotations"}
)
_LD_KNOWN = frozenset({"created_at", "updated_at", "created_by", "content_last_updated_at"})
_LD_KNOWN = _LD_KNOWN | {"reviews"}
_PERF_KNOWN = frozenset({"seconds_to_create", "seconds_to_review", "skipped"})
_ANN_KNOWN = frozenset(
    {"objects", "classifications", "relationships", "frames", "segments", "key_frame_feature_map"}
    | {"groups"}
)
_REVIEW_KNOWN = frozenset(
    {"id", "score", "created_at", "created_by", "label_id", "review_action", "reviewed_at"}
    | {"reviewer"}
)
_REVIEW_SCORES = {"Approve": 1.0, "Reject": -1.0}  # v2 review_action -> v1-style score
_STEP_KNOWN = frozenset(
    {"action", "created_at", "created_by", "previous_task_id", "previous_task_name"}
    | {"next_task_id", "next_task_name"}
)


def v2_record_rows(record: dict[str, Any], ctx: RecordContext) -> Rows:
    """Flatten one v2 data-row record into rows, per table (lineage columns excluded).

    >>> rows = v2_record_rows({"data_row": {"id": "D"}, "projects": {"P": {"labels": [
    ...     {"id": "L", "annotations": {"objects": [], "classifications": [
    ...      {"feature_id": "q", "name": "ok", "text_answer": {"content": "fine"}}],
    ...      "relationships": []}}]}}}, RecordContext(project_id="P"))
    >>> {t: len(r) for t, r in rows.items() if r}
    {'data_rows': 1, 'labels': 1, 'classifications': 1}
    >>> rows["classifications"][0]["text_answer"]
    'fine'
    """
    data_row = as_dict(record.get("data_row"), "data_row")
    data_row_id = text(data_row.get("id"), "data_row.id")
    if not data_row_id:
        raise TransformError("record has no 'data_row.id'")
    project_id, project = _project(record, ctx)
    details = as_dict(project.get("project_details"), "project_details")
    labels = as_list(project.get("labels"), "labels")
    rows = new_rows()
    rows["data_rows"] = [_data_row(record, project_id, project, len(labels))]
    shared = _label_shared(record, data_row, project, details)
    for label in labels:
        _label(rows, as_dict(label, "label"), project_id, data_row_id, shared)
    for position, step in enumerate(as_list(details.get("workflow_history"), "workflow_history")):
        rows["workflow_history"].append(workflow_step_row(step, project_id, data_row_id, position))
    return rows


def _project(record: dict[str, Any], ctx: RecordContext) -> tuple[str, dict[str, Any]]:
    projects = as_dict(record.get("projects"), "projects")
    if ctx.project_id:
        return ctx.project_id, as_dict(projects.get(ctx.project_id), "projects entry")
    if len(projects) != 1:
        raise TransformError("no project id given and the record has not exactly one project")
    (project_id, project), *_ = projects.items()
    return project_id, as_dict(project, "projects entry")


def _data_row(
    record: dict[str, Any], project_id: str, project: dict[str, Any], label_count: int
) -> Row:
    data_row = as_dict(record.get("data_row"), "data_row")
    dr_details = as_dict(data_row.get("details"), "data_row.details")
    details = as_dict(project.get("project_details"), "project_details")
    attributes = as_dict(record.get("media_attributes"), "media_attributes")
    extras = _data_row_extras(record, data_row, project)
    return {
        "project_id": project_id,
        "data_row_id": data_row["id"],
        "global_key": text(data_row.get("global_key"), "data_row.global_key"),
        "external_id": text(data_row.get("external_id"), "data_row.external_id"),
        "row_data_url": text(data_row.get("row_data"), "data_row.row_data"),
        "dataset_id": text(dr_details.get("dataset_id"), "details.dataset_id"),
        "dataset_name": text(dr_details.get("dataset_name"), "details.dataset_name"),
        "media_type": text(record.get("media_type"), "media_type"),
        "mime_type": text(attributes.get("mime_type"), "media_attributes.mime_type"),
        "width": integer(attributes.get("width"), "media_attributes.width"),
        "height": integer(attributes.get("height"), "media_attributes.height"),
        "media_attributes_json": to_json(record.get("media_attributes")),
        "metadata_json": to_json(record.get("metadata_fields")),
        "attachments_json": to_json(record.get("attachments")),
        "embeddings_json": to_json(record.get("embeddings")),
        "created_at": ts(dr_details.get("created_at"), "details.created_at"),
        "updated_at": ts(dr_details.get("updated_at"), "details.updated_at"),
        "last_activity_at": ts(dr_details.get("last_activity_at"), "details.last_activity_at"),
        "created_by": text(dr_details.get("created_by"), "details.created_by"),
        "project_name": text(project.get("name"), "project.name"),
        "label_count": label_count,
        "workflow_task_name": text(details.get("task_name"), "task_name"),
        "workflow_status": text(details.get("workflow_status"), "workflow_status"),
        "task_batch_id": text(details.get("batch_id"), "project_details.batch_id"),
        "task_batch_name": text(details.get("batch_name"), "project_details.batch_name"),
        "priority": integer(details.get("priority"), "project_details.priority"),
        "consensus_expected_label_count": integer(
            details.get("consensus_expected_label_count"), "consensus_expected_label_count"
        ),
        "ontology_id": text(details.get("ontology_id"), "project_details.ontology_id"),
        "extra_json": to_json(extras) if extras else None,
    }


def _data_row_extras(
    record: dict[str, Any], data_row: dict[str, Any], project: dict[str, Any]
) -> dict[str, Any]:
    """Record, data-row, details and project fields not mapped to a column."""
    extras = {k: v for k, v in record.items() if k not in _RECORD_KNOWN}
    details = as_dict(project.get("project_details"), "project_details")
    for name, obj, known in (
        ("data_row", data_row, _DATA_ROW_KNOWN),
        ("details", as_dict(data_row.get("details"), "data_row.details"), _DETAILS_KNOWN),
        ("project", project, _PROJECT_KNOWN),
        ("project_details", details, _PD_KNOWN),
    ):
        if not known.issuperset(obj):
            extras[name] = {k: v for k, v in obj.items() if k not in known}
    return extras


def _label_shared(
    record: dict[str, Any], data_row: dict[str, Any], project: dict[str, Any], details: Row
) -> Row:
    """Label columns that come from the data row and project, the same for each label."""
    dr_details = as_dict(data_row.get("details"), "data_row.details")
    return {
        "project_name": project.get("name"),
        "row_data_url": data_row.get("row_data"),
        "external_id": data_row.get("external_id"),
        "global_key": data_row.get("global_key"),
        "dataset_name": dr_details.get("dataset_name"),
        "media_type": record.get("media_type"),
        "workflow_task_name": details.get("task_name"),
    }


def _label(
    rows: Rows, label: dict[str, Any], project_id: str, data_row_id: str, shared: Row
) -> None:
    label_id = text(label.get("id"), "label.id")
    if not label_id:
        raise TransformError("label has no 'id'")
    base = {"project_id": project_id, "label_id": label_id, "data_row_id": data_row_id}
    details = as_dict(label.get("label_details"), "label_details")
    perf = as_dict(label.get("performance_details"), "performance_details")
    annotations = as_dict(label.get("annotations"), "annotations")
    extras: dict[str, Any] = {k: v for k, v in label.items() if k not in _LABEL_KNOWN}
    for name, obj, known in (
        ("label_details", details, _LD_KNOWN),
        ("performance_details", perf, _PERF_KNOWN),
        ("annotations", annotations, _ANN_KNOWN),
    ):
        if not known.issuperset(obj):
            extras[name] = {k: v for k, v in obj.items() if k not in known}
    rows["labels"].append(
        {
            **base,
            **shared,
            "label_kind": text(label.get("label_kind"), "label_kind"),
            "label_version": text(label.get("version"), "version"),
            "created_at": ts(details.get("created_at"), "label_details.created_at"),
            "updated_at": ts(details.get("updated_at"), "label_details.updated_at"),
            "created_by": text(details.get("created_by"), "label_details.created_by"),
            "content_last_updated_at": ts(
                details.get("content_last_updated_at"), "label_details.content_last_updated_at"
            ),
            "seconds_to_create": num(perf.get("seconds_to_create"), "seconds_to_create"),
            "seconds_to_review": num(perf.get("seconds_to_review"), "seconds_to_review"),
            "skipped": flag(perf.get("skipped"), "performance_details.skipped"),
            "extra_json": to_json(extras) if extras else None,
        }
    )
    for review in as_list(details.get("reviews"), "label_details.reviews"):
        rows["reviews"].append(review_row(review, base))
    annotation_rows(rows, annotations, base)


def review_row(review: Any, base: Row) -> Row:
    review = as_dict(review, "review")
    return {
        **base,
        "review_id": text(review.get("id"), "review.id"),
        "score": _review_score(review),
        "created_at": ts(review.get("created_at", review.get("reviewed_at")), "review.created_at"),
        "created_by": text(review.get("created_by", review.get("reviewer")), "review.created_by"),
        "review_label_id": text(review.get("label_id"), "review.label_id"),
        "extra_json": extra_json(review, _REVIEW_KNOWN),
    }


def _review_score(review: dict[str, Any]) -> float | None:
    """``score`` if given, else +1/-1 from ``review_action`` (Approve/Reject)."""
    if "score" in review or "review_action" not in review:
        return num(review.get("score"), "review.score")
    action = text(review["review_action"], "review.review_action")
    if action not in _REVIEW_SCORES:
        raise TransformError("review.review_action: unknown action")
    return _REVIEW_SCORES[action]


def workflow_step_row(step: Any, project_id: str, data_row_id: str, position: int) -> Row:
    step = as_dict(step, "workflow step")
    return {
        "project_id": project_id,
        "data_row_id": data_row_id,
        "position": position,
        "action": text(step.get("action"), "step.action"),
        "created_by": text(step.get("created_by"), "step.created_by"),
        "created_at": ts(step.get("created_at"), "step.created_at"),
        "previous_task_id": text(step.get("previous_task_id"), "step.previous_task_id"),
        "previous_task_name": text(step.get("previous_task_name"), "step.previous_task_name"),
        "next_task_id": text(step.get("next_task_id"), "step.next_task_id"),
        "next_task_name": text(step.get("next_task_name"), "step.next_task_name"),
        "extra_json": extra_json(step, _STEP_KNOWN),
    }
