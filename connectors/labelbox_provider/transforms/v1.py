"""Export v1: one label record -> rows of every table (spec section 3).

Video labels come in three shapes: ``Label`` already holding the frame lines (a list, as in
the SDK's test asset), ``Label`` holding ``frames`` (a URL: the frames NDJSON is read from
``frames_dir/<label id>.ndjson``, saved there by the hook), or a frames file given directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from labelbox_provider.exceptions import TransformError

from .classifications import Parent, add_v1_classification_rows
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
from .objects import v1_object_row

_KNOWN = frozenset(
    {"ID", "DataRow ID", "DataRow Metadata", "Media Attributes", "Data Split", "Labeled Data"}
    | {"Label", "Created By", "Project Name", "Created At", "Updated At", "Seconds to Label"}
    | {"Seconds to Review", "Seconds to Create", "External ID", "Global Key", "Agreement"}
    | {"Is Benchmark", "Benchmark Agreement", "Benchmark ID", "Dataset Name", "Reviews"}
    | {"View Label", "Has Open Issues", "Skipped", "DataRow Workflow Info", "media_type"}
)
_LABEL_KNOWN = frozenset({"objects", "classifications", "relationships", "frames"})
_INFO_KNOWN = frozenset({"taskName", "Workflow History"})
_REVIEW_KNOWN = frozenset({"id", "score", "createdAt", "createdBy", "labelId"})
_RELATION_KNOWN = frozenset(  # mapped to columns; any other key is kept in extra_json
    {"featureId", "schemaId", "title", "data", "relationshipType", "format"}
)
_STEP_KNOWN = frozenset(
    {"actorId", "action", "createdAt", "previousTaskId", "previousTaskName", "nextTaskId"}
    | {"nextTaskName"}
)
_PROJECT_IN_URL = re.compile(r"[?&]project=([^&#]+)")


def v1_record_rows(record: dict[str, Any], ctx: RecordContext) -> Rows:
    """Flatten one v1 label record into rows, per table (lineage columns excluded).

    >>> rows = v1_record_rows({"ID": "L", "DataRow ID": "D", "Label": {"objects": [
    ...     {"featureId": "o", "title": "box", "bbox": {"top": 0, "left": 0, "height": 1,
    ...      "width": 1}}], "classifications": []}, "Reviews": [{"id": "r", "score": 1}]},
    ...     RecordContext(project_id="P"))
    >>> {t: len(r) for t, r in rows.items() if r}
    {'data_rows': 1, 'labels': 1, 'objects': 1, 'reviews': 1}
    >>> rows["labels"][0]["skipped"], rows["objects"][0]["kind"]
    (False, 'bbox')
    """
    label_id = text(record.get("ID"), "ID")
    data_row_id = text(record.get("DataRow ID"), "DataRow ID")
    if not label_id or not data_row_id:
        raise TransformError("record has no 'ID' or no 'DataRow ID'")
    project_id = ctx.project_id or project_from_url(record.get("View Label"))
    base = {"project_id": project_id, "label_id": label_id, "data_row_id": data_row_id}
    rows = new_rows()
    label = record.get("Label")
    frames_url = None
    if isinstance(label, list):  # frame lines already inlined
        _frames(rows, label, base)
        label = {}
    else:
        label = as_dict(label, "Label")
        frames_url = text(label.get("frames"), "Label.frames")
        _annotations(rows, label, base, None)
        if frames_url is not None:
            _frames(rows, _read_frames(ctx, label_id), base)
    rows["relationships"] = [
        relationship_row(r, base) for r in as_list(label.get("relationships"), "relationships")
    ]
    rows["reviews"] = [_review(r, base) for r in as_list(record.get("Reviews"), "Reviews")]
    info = as_dict(record.get("DataRow Workflow Info"), "DataRow Workflow Info")
    rows["workflow_history"] = list(
        workflow_rows(info.get("Workflow History"), project_id, data_row_id)
    )
    rows["labels"] = [_label_row(record, base, label, frames_url)]
    rows["data_rows"] = [_data_row(record, base)]
    return rows


def project_from_url(url: Any) -> str:
    match = _PROJECT_IN_URL.search(url) if isinstance(url, str) else None
    if match is None:
        raise TransformError("no project id given and none in 'View Label'")
    return match.group(1)


def _annotations(rows: Rows, label: dict[str, Any], base: Row, frame: int | None) -> None:
    objects, classifications = rows["objects"], rows["classifications"]
    for obj in as_list(label.get("objects"), "objects"):
        row = v1_object_row(obj, base)
        row["frame_number"] = frame
        objects.append(row)
        nested = obj.get("classifications")
        if nested:
            parent = Parent(base, row["feature_id"], None, None, 0, frame)
            add_v1_classification_rows(classifications, nested, parent)
    parent = Parent(base, None, None, None, 0, frame)
    add_v1_classification_rows(classifications, label.get("classifications"), parent)


def _frames(rows: Rows, frames: Any, base: Row) -> None:
    for item in frames:
        frame = as_dict(item, "frame")
        _annotations(rows, frame, base, integer(frame.get("frameNumber"), "frameNumber"))


def _read_frames(ctx: RecordContext, label_id: str) -> Iterator[Any]:
    path = ctx.frames_dir / f"{label_id}.ndjson" if ctx.frames_dir is not None else None
    if path is None or not path.is_file():
        raise TransformError("video frames not fetched")
    with path.open("rb") as fp:
        for number, line in enumerate(fp, start=1):
            if line.strip():
                try:
                    yield msgspec.json.decode(line)
                except msgspec.DecodeError:
                    raise TransformError(f"frames file line {number} is not JSON") from None


def relationship_row(rel: Any, base: Row) -> Row:
    rel = as_dict(rel, "relationship")
    data = as_dict(rel.get("data"), "relationship.data")
    extra = {k: v for k, v in data.items() if k not in ("source", "target", "label")}
    extra = {k: v for k, v in extra.items() if k not in ("startFeatureId", "endFeatureId")}
    rel_extra = extra_json(rel, _RELATION_KNOWN)
    return {
        **base,
        "feature_id": text(rel.get("featureId"), "relationship.featureId"),
        "schema_id": text(rel.get("schemaId"), "relationship.schemaId"),
        "name": text(rel.get("title"), "relationship.title"),
        "source_feature_id": text(data.get("source", data.get("startFeatureId")), "source"),
        "target_feature_id": text(data.get("target", data.get("endFeatureId")), "target"),
        "relationship_type": text(rel.get("relationshipType", rel.get("format")), "type"),
        "relationship_label": text(data.get("label"), "relationship.data.label"),
        "extra_json": to_json({"data": extra, "record": rel_extra}) if extra else rel_extra,
    }


def _review(review: Any, base: Row) -> Row:
    get = as_dict(review, "review").get
    return {
        **base,
        "review_id": get("id"),
        "score": get("score"),
        "created_at": ts(get("createdAt"), "review.createdAt"),
        "created_by": get("createdBy"),
        "review_label_id": get("labelId"),
        "extra_json": extra_json(review, _REVIEW_KNOWN),
    }


def workflow_rows(history: Any, project_id: str, data_row_id: str) -> Iterator[Row]:
    """Rows of a ``DataRow Workflow Info``'s ``Workflow History`` list (None: no rows)."""
    for position, item in enumerate(as_list(history, "Workflow History")):
        step = as_dict(item, "workflow step")
        yield {
            "project_id": project_id,
            "data_row_id": data_row_id,
            "position": position,
            "action": text(step.get("action"), "step.action"),
            "actor_id": text(step.get("actorId"), "step.actorId"),
            "created_at": ts(step.get("createdAt"), "step.createdAt"),
            "previous_task_id": text(step.get("previousTaskId"), "step.previousTaskId"),
            "previous_task_name": text(step.get("previousTaskName"), "step.previousTaskName"),
            "next_task_id": text(step.get("nextTaskId"), "step.nextTaskId"),
            "next_task_name": text(step.get("nextTaskName"), "step.nextTaskName"),
            "extra_json": extra_json(step, _STEP_KNOWN),
        }


def _label_row(
    record: dict[str, Any], base: Row, label: dict[str, Any], frames_url: str | None
) -> Row:
    skipped = record.get("Skipped")
    info = as_dict(record.get("DataRow Workflow Info"), "DataRow Workflow Info")
    extras = (
        {} if _KNOWN.issuperset(record) else {k: v for k, v in record.items() if k not in _KNOWN}
    )
    if not _LABEL_KNOWN.issuperset(label):
        extras["Label"] = {k: v for k, v in label.items() if k not in _LABEL_KNOWN}
    if not _INFO_KNOWN.issuperset(info):
        extras["DataRow Workflow Info"] = {
            k: v for k, v in info.items() if k not in ("taskName", "Workflow History")
        }
    return {
        **base,
        "project_name": text(record.get("Project Name"), "Project Name"),
        "row_data_url": text(record.get("Labeled Data"), "Labeled Data"),
        "external_id": text(record.get("External ID"), "External ID"),
        "global_key": text(record.get("Global Key"), "Global Key"),
        "dataset_name": text(record.get("Dataset Name"), "Dataset Name"),
        "media_type": _media_type(record),
        "created_at": ts(record.get("Created At"), "Created At"),
        "updated_at": ts(record.get("Updated At"), "Updated At"),
        "created_by": text(record.get("Created By"), "Created By"),
        "seconds_to_label": num(record.get("Seconds to Label"), "Seconds to Label"),
        "seconds_to_create": num(record.get("Seconds to Create"), "Seconds to Create"),
        "seconds_to_review": num(record.get("Seconds to Review"), "Seconds to Review"),
        "agreement": num(record.get("Agreement"), "Agreement"),
        "benchmark_agreement": num(record.get("Benchmark Agreement"), "Benchmark Agreement"),
        "benchmark_id": text(record.get("Benchmark ID"), "Benchmark ID"),
        "is_benchmark": flag(record.get("Is Benchmark"), "Is Benchmark"),
        "view_label_url": text(record.get("View Label"), "View Label"),
        "has_open_issues": integer(record.get("Has Open Issues"), "Has Open Issues"),
        "skipped": flag(skipped, "Skipped") if skipped is not None else record.get("Label") == {},
        "workflow_task_name": text(info.get("taskName"), "taskName"),
        "data_split": text(record.get("Data Split"), "Data Split"),
        "frames_url": frames_url,
        "extra_json": to_json(extras) if extras else None,
    }


def _media_type(record: dict[str, Any]) -> str | None:
    return text(record.get("media_type"), "media_type")


def _data_row(record: dict[str, Any], base: Row) -> Row:
    attributes = as_dict(record.get("Media Attributes"), "Media Attributes")
    info = as_dict(record.get("DataRow Workflow Info"), "DataRow Workflow Info")
    metadata = record.get("DataRow Metadata")
    return {
        "project_id": base["project_id"],
        "data_row_id": base["data_row_id"],
        "global_key": text(record.get("Global Key"), "Global Key"),
        "external_id": text(record.get("External ID"), "External ID"),
        "row_data_url": text(record.get("Labeled Data"), "Labeled Data"),
        "dataset_name": text(record.get("Dataset Name"), "Dataset Name"),
        "media_type": _media_type(record),
        "mime_type": text(attributes.get("mimeType", attributes.get("mime_type")), "mimeType"),
        "width": integer(attributes.get("width"), "Media Attributes.width"),
        "height": integer(attributes.get("height"), "Media Attributes.height"),
        "media_attributes_json": to_json(record.get("Media Attributes")),
        "metadata_json": to_json(metadata),
        "data_split": text(record.get("Data Split"), "Data Split"),
        "project_name": text(record.get("Project Name"), "Project Name"),
        "workflow_task_name": text(info.get("taskName"), "taskName"),
    }
