"""The Arrow schemas of every table, pinned in one place, a description on every column.

Row functions (:mod:`.v1`, :mod:`.v2`) emit dicts keyed by the *row* columns below; the sink
adds the lineage columns, which are constant for one flattened file (data-row and label
columns are defined in :mod:`.columns`). Each column's text (its
meaning, then its source field: "v1 <key> / v2 <path>") is stored as the field's ``doc``
metadata; ``docs/tables.md`` is rendered from it by :mod:`.docs`.
"""

from __future__ import annotations

import pyarrow as pa

from .columns import (
    BOOL,
    ENTITY_FIELDS,
    F64,
    I64,
    LINEAGE_COLUMNS,
    LINEAGE_FIELDS,
    POINTS,
    SEGMENTS,
    STR,
    TS,
)
from .columns import column as _f

__all__ = ["KEYS", "LINEAGE_COLUMNS", "LINEAGE_FIELDS", "ROW_TYPES", "SCHEMAS", "TABLES"]

_ROW_FIELDS: dict[str, list[pa.Field]] = {
    **ENTITY_FIELDS,
    "objects": [
        _f("project_id", STR, "as labels.project_id", nullable=False),
        _f("label_id", STR, "the label holding the object", nullable=False),
        _f("data_row_id", STR, "the label's data row", nullable=False),
        _f("feature_id", STR, "the annotation instance id; v1 featureId / v2 feature_id"),
        _f(
            "schema_id",
            STR,
            "the ontology tool it was drawn with; v1 schemaId / v2 feature_schema_id",
        ),
        _f("name", STR, "tool name; v1 title / v2 name"),
        _f("value", STR, "tool value (snake-case name); v1 value / v2 value"),
        _f("color", STR, "tool colour (#rrggbb); v1 color"),
        _f(
            "kind",
            STR,
            "normalised kind: bbox, polygon, polyline, point, mask, text_entity, "
            "conversational_entity, document_entity, cuboid; from the geometry field present",
        ),
        _f(
            "annotation_kind",
            STR,
            "kind as exported (ImageBoundingBox, VideoBoundingBox, ...); v2 annotation_kind",
        ),
        _f(
            "frame_number",
            I64,
            "video/DICOM frame, from 1; v1 frames line frameNumber / v2 frames{} key; null "
            "otherwise",
        ),
        _f(
            "keyframe",
            BOOL,
            "drawn on this frame (false: interpolated); v1 keyframe / v2 "
            "key_frame_feature_map (frames not in it: false)",
        ),
        _f("group_name", STR, "DICOM plane (v2 groups key: Axial, Sagittal, Coronal)"),
        _f(
            "segments",
            SEGMENTS,
            "frame ranges where the object exists, inclusive [start, end]; v2 segments{feature_id}",
        ),
        _f(
            "bbox_top",
            F64,
            "box top edge (pixels, PDF points, or degrees of latitude for geo); v1 bbox.top "
            "/ v2 bounding_box.top",
        ),
        _f("bbox_left", F64, "box left edge; v1 bbox.left / v2 bounding_box.left"),
        _f("bbox_height", F64, "box height; v1 bbox.height / v2 bounding_box.height"),
        _f("bbox_width", F64, "box width; v1 bbox.width / v2 bounding_box.width"),
        _f(
            "points",
            POINTS,
            "polygon (without the repeated closing vertex) or polyline vertices; v1 "
            "polygon/line / v2 polygon/line; geo: [lng, lat] as x, y",
        ),
        _f("point_x", F64, "point x (geo: longitude); v1 point.x / v2 point.x"),
        _f("point_y", F64, "point y (geo: latitude); v1 point.y / v2 point.y"),
        _f(
            "mask_url",
            STR,
            "segmentation mask location (needs the API key); v1 instanceURI of a mask / v2 "
            "mask.url or composite_mask.url",
        ),
        _f(
            "mask_color_rgb",
            pa.list_(I64),
            "colour of this instance in the composite mask; v2 composite_mask.color_rgb",
        ),
        _f(
            "instance_uri",
            STR,
            "per-object raster rendering (present on every v1 image object); v1 instanceURI",
        ),
        _f(
            "text_start",
            I64,
            "span start offset in the text; v1 data.location.start / v2 location.start",
        ),
        _f("text_end", I64, "span end offset; v1 data.location.end / v2 location.end"),
        _f("text_token", STR, "v2 location.token / document groups' text (the spanned text)"),
        _f("message_id", STR, "conversational message (v1 location.messageId / v2)"),
        _f("page_number", I64, "document page, 1-based (v1 page + 1 / v2 page_number)"),
        _f("page_unit", STR, 'unit of document coordinates ("POINTS"); v1 unit'),
        _f("page_width", F64, "page width; v2 page_dimensions.width"),
        _f("page_height", F64, "page height; v2 page_dimensions.height"),
        _f(
            "token_groups_json",
            STR,
            "document entity token groups [{id, page_number, tokens}] as JSON; v1 "
            "textSelections / v2 location.groups",
        ),
        _f("geo_type", STR, "v1 tiled imagery type (point, polyline, polygon, rectangle)"),
        _f("geo_coordinates_json", STR, "v1 geometry.coordinates, as JSON (lng/lat)"),
        _f("cuboid_json", STR, "cuboid geometry, as JSON; cuboid"),
        _f("extra_json", STR, "any object field not mapped above, as JSON (nothing lost)"),
    ],
    "classifications": [
        _f("project_id", STR, "as labels.project_id", nullable=False),
        _f("label_id", STR, "the label holding the answer", nullable=False),
        _f("data_row_id", STR, "the label's data row", nullable=False),
        _f("feature_id", STR, "question instance id (v1 featureId / v2 feature_id)"),
        _f("schema_id", STR, "question ontology id (v1 schemaId / v2 feature_schema_id)"),
        _f("name", STR, "question name (v1 title / v2 name)"),
        _f("value", STR, "question value (v1 value / v2 value)"),
        _f("kind", STR, "radio, checklist, dropdown, text"),
        _f("answer_position", I64, "index of the answer among the question's answers"),
        _f("answer_feature_id", STR, "selected option instance id"),
        _f("answer_schema_id", STR, "selected option ontology id"),
        _f("answer_name", STR, "selected option (v1 title / v2 name)"),
        _f("answer_value", STR, "selected option value"),
        _f("text_answer", STR, "free text (v1 answer string / v2 text_answer.content)"),
        _f("answer_keyframe", BOOL, "v1 video radio answer keyframe"),
        _f("parent_object_feature_id", STR, "the object it belongs to; null = global"),
        _f("parent_feature_id", STR, "enclosing question (nested tree); null = top level"),
        _f("parent_answer_feature_id", STR, "enclosing answer (nested tree)"),
        _f("depth", I64, "0 = top level (global or directly on an object), +1 per nesting"),
        _f("frame_number", I64, "video/DICOM frame, else null"),
        _f("group_name", STR, "DICOM plane"),
        _f("segments", SEGMENTS, "v2 segments{feature_id} (video/audio)"),
        _f("message_id", STR, "conversational message (v1 messageId / v2 message_id)"),
        _f("scope", STR, 'v1 scope ("global")'),
        _f("extra_json", STR, "any question/answer field not mapped above, as JSON"),
    ],
    "relationships": [
        _f("project_id", STR, "as labels.project_id", nullable=False),
        _f("label_id", STR, "the label holding the relationship", nullable=False),
        _f("data_row_id", STR, "the label's data row", nullable=False),
        _f("feature_id", STR, "relationship instance id; v1 featureId / v2 feature_id"),
        _f("schema_id", STR, "relationship tool; v1 schemaId / v2 feature_schema_id"),
        _f("name", STR, "relationship tool name; v1 title / v2 name"),
        _f(
            "source_feature_id",
            STR,
            "feature id of the source object; v1 data.source (or startFeatureId) / v2 "
            "relationship.source",
        ),
        _f(
            "target_feature_id",
            STR,
            "feature id of the target object; v1 data.target (or endFeatureId) / v2 "
            "relationship.target",
        ),
        _f(
            "relationship_type",
            STR,
            "unidirectional or bidirectional; v1 relationshipType (or format) / v2 "
            "relationship.type",
        ),
        _f("relationship_label", STR, "verb of a text relationship; v1 data.label"),
        _f("annotation_kind", STR, "kind as exported; v2 annotation_kind"),
        _f("extra_json", STR, "any field not mapped above, as JSON"),
    ],
    "reviews": [
        _f("project_id", STR, "as labels.project_id", nullable=False),
        _f("label_id", STR, "the reviewed label", nullable=False),
        _f("data_row_id", STR, "the label's data row", nullable=False),
        _f("review_id", STR, "review id; v1 Reviews[].id / v2 label_details.reviews[].id"),
        _f(
            "score",
            F64,
            "+1 approve / -1 reject; v1 score / v2 score or review_action (Approve/Reject)",
        ),
        _f(
            "created_at",
            TS,
            "when the review was made; v1 createdAt / v2 created_at or reviewed_at",
        ),
        _f("created_by", STR, "reviewer; v1 createdBy / v2 created_by or reviewer"),
        _f("review_label_id", STR, "label id as written inside the review; v1 labelId"),
        _f("extra_json", STR, "any review field not mapped above, as JSON"),
    ],
    "workflow_history": [
        _f("project_id", STR, "as labels.project_id", nullable=False),
        _f("data_row_id", STR, "workflow history belongs to the data row", nullable=False),
        _f("label_id", STR, "null: v1 repeats the data row's history on each label record"),
        _f("position", I64, "index in the exported list (0 = newest)", nullable=False),
        _f("action", STR, "what happened: Move, Approve, Reject, ...; v1 action / v2 action"),
        _f("actor_id", STR, "user id of the actor; v1 actorId"),
        _f("created_by", STR, "e-mail of the actor; v2 created_by"),
        _f("created_at", TS, "when; v1 createdAt / v2 created_at"),
        _f("previous_task_id", STR, "task left; v1 previousTaskId / v2 previous_task_id"),
        _f(
            "previous_task_name",
            STR,
            "name of the task left; v1 previousTaskName / v2 previous_task_name",
        ),
        _f("next_task_id", STR, "task entered; v1 nextTaskId / v2 next_task_id"),
        _f("next_task_name", STR, "name of the task entered; v1 nextTaskName / v2 next_task_name"),
        _f("extra_json", STR, "any field not mapped above, as JSON"),
    ],
    "rejects": [
        _f("project_id", STR, "the project being mirrored", nullable=False),
        _f("position", I64, "0-based index of the record in the export file", nullable=False),
        _f("label_id", STR, "label id found in the record, if any"),
        _f("data_row_id", STR, "data row id found in the record, if any"),
        _f("error", STR, "why the record could not be flattened", nullable=False),
        _f("raw", pa.large_string(), "the record exactly as exported", nullable=False),
    ],
    "tombstones": [
        _f("project_id", STR, "the project being mirrored", nullable=False),
        _f("label_id", STR, "the label the source no longer has", nullable=False),
        _f("data_row_id", STR, "its data row", nullable=False),
        _f("detected_at", TS, "when the reconcile run saw it missing", nullable=False),
        _f(
            "reason",
            STR,
            'why it is considered deleted (e.g. "absent from reconcile")',
            nullable=False,
        ),
    ],
}

TABLES: tuple[str, ...] = tuple(_ROW_FIELDS)

ROW_TYPES: dict[str, pa.StructType] = {t: pa.struct(fields) for t, fields in _ROW_FIELDS.items()}
"""The struct type of the rows a transform emits for each table (no lineage columns)."""

SCHEMAS: dict[str, pa.Schema] = {
    t: pa.schema([*fields, *LINEAGE_FIELDS]) for t, fields in _ROW_FIELDS.items()
}
"""The full schema of each table: row columns then lineage columns."""

KEYS: dict[str, tuple[str, ...]] = {
    "data_rows": ("data_row_id",),
    "labels": ("label_id", "data_row_id"),
    "objects": ("label_id", "data_row_id", "feature_id", "frame_number"),
    "classifications": (
        "label_id",
        "data_row_id",
        "parent_object_feature_id",
        "feature_id",
        "frame_number",
        "answer_position",
    ),
    "relationships": (
        "label_id",
        "data_row_id",
        "feature_id",
        "source_feature_id",
        "target_feature_id",
    ),
    "reviews": ("label_id", "data_row_id", "review_id"),
    "workflow_history": ("data_row_id", "label_id", "position"),
    "rejects": ("batch_id", "position"),
    "tombstones": ("label_id", "data_row_id"),
}
"""Natural key of each table (lineage excluded); the current view keeps the latest per key."""
