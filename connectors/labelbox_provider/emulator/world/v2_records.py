"""Assembly of one export v2 line (one data row) from row and label views (spec 4.7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labelbox_provider.emulator.world.timeline import TASKS, Step
from labelbox_provider.emulator.world.v2_annotations import render_annotations, ts_v2
from labelbox_provider.emulator.world.views import LabelView, ProjectCtx, RowView

if TYPE_CHECKING:
    from labelbox_provider.emulator.world.api import V2Params


def _review(view: LabelView, review: Any) -> dict[str, Any]:
    """A v2 review entry [inferred shape: id, reviewer, reviewed_at, review_action]."""
    return {
        "id": review.id,
        "reviewer": view.ctx.email(review.by),
        "reviewed_at": ts_v2(review.at),
        "review_action": "Approve" if review.score > 0 else "Reject",
    }


def render_label(view: LabelView, params: V2Params) -> dict[str, Any]:
    """One entry of ``projects.<id>.labels``."""
    st, i = view.st, view.i
    out: dict[str, Any] = {
        "label_kind": "Video" if view.ctx.media_type == "VIDEO" else "Default",
        "version": "1.0.0",
        "id": view.id,
    }
    if params.include_label_details:
        out["label_details"] = {
            "created_at": ts_v2(st.l_created[i]),
            "updated_at": ts_v2(st.l_updated[i]),
            "created_by": view.created_by,
            "content_last_updated_at": ts_v2(st.l_updated[i]),
            "reviews": [_review(view, r) for r in view.reviews()],
        }
    if params.include_performance_details:
        out["performance_details"] = {
            "seconds_to_create": round(view.seconds_to_label),
            "seconds_to_review": round(view.seconds_to_review),
            "skipped": bool(st.l_skipped[i]),
        }
    out["annotations"] = render_annotations(view, params.include_interpolated_frames)
    return out


def _step(ctx: ProjectCtx, step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": step.action,
        "created_at": ts_v2(step.at),
        "created_by": ctx.email(step.by),
    }
    if step.prev is not None:
        out["previous_task_name"] = TASKS[step.prev][0]
        out["previous_task_id"] = ctx.task_id(step.prev)
    if step.next is not None:
        out["next_task_name"] = TASKS[step.next][0]
        out["next_task_id"] = ctx.task_id(step.next)
    return out


def _metadata_value(value: Any) -> Any:
    """A metadata value as v2 writes it: an enum as its option, a datetime as ISO text."""
    if isinstance(value, tuple):
        return {"schema_id": value[0], "schema_name": value[1]}
    return ts_v2(value) if isinstance(value, int) else value


def _project_details(row: RowView) -> dict[str, Any]:
    ctx, task = row.ctx, row.st.d_task[row.d]
    batch_id, batch_name = row.batch
    return {
        "ontology_id": ctx.ontology.id,
        "task_name": TASKS[task][0],
        "batch_id": batch_id,
        "batch_name": batch_name,
        "workflow_status": TASKS[task][2],
        "priority": 5,
        "consensus_expected_label_count": max(1, len(row.st.labels_of(row.d))),
        "workflow_history": [_step(ctx, s) for s in row.steps()],
    }


def _data_row(row: RowView, params: V2Params) -> dict[str, Any]:
    st, d = row.st, row.d
    out: dict[str, Any] = {"id": row.id}
    if row.global_key is not None:
        out["global_key"] = row.global_key
    out["external_id"] = row.external_id
    out["row_data"] = row.v2_row_data
    if params.include_data_row_details:
        out["details"] = {
            "dataset_id": row.ctx.dataset_id,
            "dataset_name": row.ctx.dataset_name,
            "created_at": ts_v2(st.d_created[d] // 1000 * 1000),
            "updated_at": ts_v2(st.d_updated[d] // 1000 * 1000),
            "last_activity_at": ts_v2(st.d_activity[d]),
            "created_by": row.ctx.email(0),
        }
    return out


def render_row(row: RowView, labels: list[LabelView], params: V2Params) -> dict[str, Any]:
    """One v2 NDJSON line: the data row and its current labels in this project."""
    out: dict[str, Any] = {
        "data_row": _data_row(row, params),
        "media_attributes": row.media_attributes(),
    }
    if params.include_attachments:
        out["attachments"] = row.attachments()
    if params.include_metadata:
        out["metadata_fields"] = [
            {"schema_id": sid, "schema_name": name, "value": _metadata_value(value)}
            for sid, name, value in row.metadata()
        ]
    if params.include_embeddings:
        out["embeddings"] = []
    project: dict[str, Any] = {
        "name": row.ctx.name,
        "labels": [render_label(v, params) for v in labels],
    }
    if params.include_project_details:
        project["project_details"] = _project_details(row)
    out["projects"] = {row.ctx.id: project}
    return out
