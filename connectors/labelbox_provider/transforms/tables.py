"""Every table, declared once: its columns (name, Arrow type, nullability, and a text giving
the column's meaning, then its source field: "v1 <key> / v2 <path>"), its key, and the
schemas derived from them.

Row functions (:mod:`.v1`, :mod:`.v2`) emit dicts keyed by the *row* columns; the typed fast
paths derive their tuple layouts from the same columns (:mod:`.typed`); the Parquet writer adds
the lineage columns, which are constant for one flattened file. The text is stored as the
field's ``doc`` metadata, so that the files describe themselves; ``docs/tables.md`` is
rendered from it by :mod:`.docs`.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "KEYS",
    "LINEAGE_COLUMNS",
    "LINEAGE_FIELDS",
    "ROW_COLUMNS",
    "ROW_TYPES",
    "SCHEMAS",
    "TABLES",
    "column",
]

TS = pa.timestamp("us", tz="UTC")  # every timestamp: microseconds, UTC
STR = pa.string()
I64 = pa.int64()
F64 = pa.float64()
BOOL = pa.bool_()
POINTS = pa.list_(pa.struct([("x", F64), ("y", F64)]))  # polygon / polyline vertices
SEGMENTS = pa.list_(pa.list_(I64))  # inclusive [start, end] frame ranges


def column(name: str, type_: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    """A column with its documentation (meaning and source field), kept as field metadata so
    that the Parquet files describe themselves and ``docs/tables.md`` is generated from it."""
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    column(
        "batch_id",
        STR,
        "the batch this row was written by (deterministic per window)",
        nullable=False,
    ),
    column(
        "extracted_at",
        TS,
        'when the export was taken: "latest wins" orders by this',
        nullable=False,
    ),
    column("window_start", TS, "half-open window [start, end) the export covered; null = open"),
    column("window_end", TS, "end of that window; null = open"),
    column("source_format", STR, '"v1" (legacy JSON) or "v2" (streamable NDJSON)', nullable=False),
)
LINEAGE_COLUMNS: tuple[str, ...] = tuple(f.name for f in LINEAGE_FIELDS)

_ROW_FIELDS: dict[str, list[pa.Field]] = {  # every table's row columns, in order
    "data_rows": [
        column(
            "project_id",
            STR,
            "the mirrored project; Lineage.project_id (v1) / the projects{} key (v2)",
            nullable=False,
        ),
        column(
            "data_row_id",
            STR,
            'the asset (data row) id; v1 "DataRow ID" / v2 data_row.id',
            nullable=False,
        ),
        column(
            "global_key",
            STR,
            'the customer-chosen unique key of the asset; v1 "Global Key" / v2 data_row.global_key',
        ),
        column(
            "external_id",
            STR,
            'the customer-chosen (non-unique) asset name; v1 "External ID" / v2 '
            "data_row.external_id",
        ),
        column(
            "row_data_url",
            STR,
            'the asset: a signed URL, or inline content for text; v1 "Labeled Data" / v2 '
            "data_row.row_data",
        ),
        column("dataset_id", STR, "dataset holding the asset; v2 data_row.details.dataset_id"),
        column(
            "dataset_name",
            STR,
            'name of that dataset; v1 "Dataset Name" / v2 data_row.details.dataset_name',
        ),
        column(
            "media_type",
            STR,
            'asset type when the export states it; v1 "media_type" / v2 media_type',
        ),
        column(
            "mime_type",
            STR,
            "asset MIME type; v1 Media Attributes.mimeType / v2 media_attributes.mime_type",
        ),
        column("width", I64, "asset width in pixels; media attributes width"),
        column("height", I64, "asset height in pixels; media attributes height"),
        column(
            "media_attributes_json",
            STR,
            'all media attributes, as JSON; v1 "Media Attributes" / v2 media_attributes',
        ),
        column(
            "metadata_json",
            STR,
            'metadata fields, as JSON; v1 "DataRow Metadata" / v2 metadata_fields',
        ),
        column("attachments_json", STR, "attachments (name, type, value), as JSON; v2 attachments"),
        column("embeddings_json", STR, "embeddings, as JSON; v2 embeddings"),
        column("data_split", STR, 'train/valid/test split; v1 "Data Split"'),
        column("created_at", TS, "when the data row was created; v2 data_row.details.created_at"),
        column(
            "updated_at", TS, "when the data row was last updated; v2 data_row.details.updated_at"
        ),
        column(
            "last_activity_at",
            TS,
            "last activity on the data row (what the incremental filter uses); v2 "
            "data_row.details.last_activity_at",
        ),
        column(
            "created_by", STR, "who created the data row (e-mail); v2 data_row.details.created_by"
        ),
        column("project_name", STR, 'project name; v1 "Project Name" / v2 projects{}.name'),
        column(
            "label_count",
            I64,
            "labels of this project on the data row in this export; v2 len(projects{}.labels), "
            "v1 null",
        ),
        column(
            "workflow_task_name",
            STR,
            'workflow task the data row sits in; v1 "DataRow Workflow Info".taskName / v2 '
            "project_details.task_name",
        ),
        column(
            "workflow_status",
            STR,
            "workflow status (TO_LABEL, IN_REVIEW, IN_REWORK, DONE); v2 "
            "project_details.workflow_status",
        ),
        column(
            "task_batch_id",
            STR,
            "Labelbox batch the data row was queued in (not our batch_id); v2 "
            "project_details.batch_id",
        ),
        column(
            "task_batch_name", STR, "name of that Labelbox batch; v2 project_details.batch_name"
        ),
        column("priority", I64, "queue priority; v2 project_details.priority"),
        column(
            "consensus_expected_label_count",
            I64,
            "labels expected under consensus; v2 project_details.consensus_expected_label_count",
        ),
        column("ontology_id", STR, "ontology of the project; v2 project_details.ontology_id"),
        column("extra_json", STR, "any data-row field not mapped above, as JSON (nothing lost)"),
    ],
    "labels": [
        column("project_id", STR, "the mirrored project (as data_rows.project_id)", nullable=False),
        column(
            "label_id", STR, 'the label id; v1 "ID" / v2 projects{}.labels[].id', nullable=False
        ),
        column(
            "data_row_id",
            STR,
            'the labelled data row; v1 "DataRow ID" / v2 data_row.id',
            nullable=False,
        ),
        column("project_name", STR, 'project name; v1 "Project Name" / v2 projects{}.name'),
        column(
            "row_data_url",
            STR,
            'the asset (URL or inline content); v1 "Labeled Data" / v2 data_row.row_data',
        ),
        column("external_id", STR, 'asset name; v1 "External ID" / v2 data_row.external_id'),
        column("global_key", STR, 'asset unique key; v1 "Global Key" / v2 data_row.global_key'),
        column(
            "dataset_name",
            STR,
            'dataset name; v1 "Dataset Name" / v2 data_row.details.dataset_name',
        ),
        column("media_type", STR, "asset type when stated (as data_rows.media_type)"),
        column("label_kind", STR, 'kind of label ("Default", "Video"); v2 label_kind'),
        column("label_version", STR, "label format version; v2 version"),
        column(
            "created_at",
            TS,
            'when the label was created; v1 "Created At" / v2 label_details.created_at',
        ),
        column(
            "updated_at",
            TS,
            'when the label was last updated; v1 "Updated At" / v2 label_details.updated_at',
        ),
        column(
            "created_by", STR, 'labeller (e-mail); v1 "Created By" / v2 label_details.created_by'
        ),
        column(
            "content_last_updated_at",
            TS,
            "last change of the annotations themselves; v2 label_details.content_last_updated_at",
        ),
        column("seconds_to_label", F64, 'labelling time in seconds; v1 "Seconds to Label"'),
        column(
            "seconds_to_create",
            F64,
            'time to create the label, seconds; v1 "Seconds to Create" / v2 '
            "performance_details.seconds_to_create (whole seconds)",
        ),
        column(
            "seconds_to_review",
            F64,
            'time spent reviewing, seconds; v1 "Seconds to Review" / v2 '
            "performance_details.seconds_to_review",
        ),
        column("agreement", F64, 'consensus agreement score, -1 = no consensus; v1 "Agreement"'),
        column(
            "benchmark_agreement",
            F64,
            'agreement with the benchmark, -1 = none; v1 "Benchmark Agreement"',
        ),
        column("benchmark_id", STR, 'benchmark label compared against; v1 "Benchmark ID"'),
        column("is_benchmark", BOOL, 'the label is a benchmark; v1 "Is Benchmark" (0/1)'),
        column("view_label_url", STR, 'link to the label in the editor; v1 "View Label"'),
        column(
            "has_open_issues",
            I64,
            'open issues on the label (number, kept as exported); v1 "Has Open Issues"',
        ),
        column(
            "skipped",
            BOOL,
            'the labeller skipped the asset; v1 "Skipped" (2020 exports: "Label" == {}) / v2 '
            "performance_details.skipped",
        ),
        column(
            "workflow_task_name",
            STR,
            'workflow task of the data row; v1 "DataRow Workflow Info".taskName / v2 '
            "project_details.task_name",
        ),
        column("data_split", STR, 'train/valid/test split; v1 "Data Split"'),
        column(
            "frames_url",
            STR,
            "where the video frames NDJSON lives (fetched by the hook); v1 Label.frames",
        ),
        column("extra_json", STR, "any label field not mapped above, as JSON (nothing lost)"),
    ],
    "objects": [
        column("project_id", STR, "as labels.project_id", nullable=False),
        column("label_id", STR, "the label holding the object", nullable=False),
        column("data_row_id", STR, "the label's data row", nullable=False),
        column("feature_id", STR, "the annotation instance id; v1 featureId / v2 feature_id"),
        column(
            "schema_id",
            STR,
            "the ontology tool it was drawn with; v1 schemaId / v2 feature_schema_id",
        ),
        column("name", STR, "tool name; v1 title / v2 name"),
        column("value", STR, "tool value (snake-case name); v1 value / v2 value"),
        column("color", STR, "tool colour (#rrggbb); v1 color"),
        column(
            "kind",
            STR,
            "normalised kind: bbox, polygon, polyline, point, mask, text_entity, "
            "conversational_entity, document_entity, cuboid; from the geometry field present",
        ),
        column(
            "annotation_kind",
            STR,
            "kind as exported (ImageBoundingBox, VideoBoundingBox, ...); v2 annotation_kind",
        ),
        column(
            "frame_number",
            I64,
            "video/DICOM frame, from 1; v1 frames line frameNumber / v2 frames{} key; null "
            "otherwise",
        ),
        column(
            "keyframe",
            BOOL,
            "drawn on this frame (false: interpolated); v1 keyframe / v2 "
            "key_frame_feature_map (frames not in it: false)",
        ),
        column("group_name", STR, "DICOM plane (v2 groups key: Axial, Sagittal, Coronal)"),
        column(
            "segments",
            SEGMENTS,
            "frame ranges where the object exists, inclusive [start, end]; v2 segments{feature_id}",
        ),
        column(
            "bbox_top",
            F64,
            "box top edge (pixels, PDF points, or degrees of latitude for geo); v1 bbox.top "
            "/ v2 bounding_box.top",
        ),
        column("bbox_left", F64, "box left edge; v1 bbox.left / v2 bounding_box.left"),
        column("bbox_height", F64, "box height; v1 bbox.height / v2 bounding_box.height"),
        column("bbox_width", F64, "box width; v1 bbox.width / v2 bounding_box.width"),
        column(
            "points",
            POINTS,
            "polygon (without the repeated closing vertex) or polyline vertices; v1 "
            "polygon/line / v2 polygon/line; geo: [lng, lat] as x, y",
        ),
        column("point_x", F64, "point x (geo: longitude); v1 point.x / v2 point.x"),
        column("point_y", F64, "point y (geo: latitude); v1 point.y / v2 point.y"),
        column(
            "mask_url",
            STR,
            "segmentation mask location (needs the API key); v1 instanceURI of a mask / v2 "
            "mask.url or composite_mask.url",
        ),
        column(
            "mask_color_rgb",
            pa.list_(I64),
            "colour of this instance in the composite mask; v2 composite_mask.color_rgb",
        ),
        column(
            "instance_uri",
            STR,
            "per-object raster rendering (present on every v1 image object); v1 instanceURI",
        ),
        column(
            "text_start",
            I64,
            "span start offset in the text; v1 data.location.start / v2 location.start",
        ),
        column("text_end", I64, "span end offset; v1 data.location.end / v2 location.end"),
        column("text_token", STR, "v2 location.token / document groups' text (the spanned text)"),
        column("message_id", STR, "conversational message (v1 location.messageId / v2)"),
        column("page_number", I64, "document page, 1-based (v1 page + 1 / v2 page_number)"),
        column("page_unit", STR, 'unit of document coordinates ("POINTS"); v1 unit'),
        column("page_width", F64, "page width; v2 page_dimensions.width"),
        column("page_height", F64, "page height; v2 page_dimensions.height"),
        column(
            "token_groups_json",
            STR,
            "document entity token groups [{id, page_number, tokens}] as JSON; v1 "
            "textSelections / v2 location.groups",
        ),
        column("geo_type", STR, "v1 tiled imagery type (point, polyline, polygon, rectangle)"),
        column("geo_coordinates_json", STR, "v1 geometry.coordinates, as JSON (lng/lat)"),
        column("cuboid_json", STR, "cuboid geometry, as JSON; cuboid"),
        column("extra_json", STR, "any object field not mapped above, as JSON (nothing lost)"),
    ],
    "classifications": [
        column("project_id", STR, "as labels.project_id", nullable=False),
        column("label_id", STR, "the label holding the answer", nullable=False),
        column("data_row_id", STR, "the label's data row", nullable=False),
        column("feature_id", STR, "question instance id (v1 featureId / v2 feature_id)"),
        column("schema_id", STR, "question ontology id (v1 schemaId / v2 feature_schema_id)"),
        column("name", STR, "question name (v1 title / v2 name)"),
        column("value", STR, "question value (v1 value / v2 value)"),
        column("kind", STR, "radio, checklist, dropdown, text"),
        column("answer_position", I64, "index of the answer among the question's answers"),
        column("answer_feature_id", STR, "selected option instance id"),
        column("answer_schema_id", STR, "selected option ontology id"),
        column("answer_name", STR, "selected option (v1 title / v2 name)"),
        column("answer_value", STR, "selected option value"),
        column("text_answer", STR, "free text (v1 answer string / v2 text_answer.content)"),
        column("answer_keyframe", BOOL, "v1 video radio answer keyframe"),
        column("parent_object_feature_id", STR, "the object it belongs to; null = global"),
        column("parent_feature_id", STR, "enclosing question (nested tree); null = top level"),
        column("parent_answer_feature_id", STR, "enclosing answer (nested tree)"),
        column("depth", I64, "0 = top level (global or directly on an object), +1 per nesting"),
        column("frame_number", I64, "video/DICOM frame, else null"),
        column("group_name", STR, "DICOM plane"),
        column("segments", SEGMENTS, "v2 segments{feature_id} (video/audio)"),
        column("message_id", STR, "conversational message (v1 messageId / v2 message_id)"),
        column("scope", STR, 'v1 scope ("global")'),
        column("extra_json", STR, "any question/answer field not mapped above, as JSON"),
    ],
    "relationships": [
        column("project_id", STR, "as labels.project_id", nullable=False),
        column("label_id", STR, "the label holding the relationship", nullable=False),
        column("data_row_id", STR, "the label's data row", nullable=False),
        column("feature_id", STR, "relationship instance id; v1 featureId / v2 feature_id"),
        column("schema_id", STR, "relationship tool; v1 schemaId / v2 feature_schema_id"),
        column("name", STR, "relationship tool name; v1 title / v2 name"),
        column(
            "source_feature_id",
            STR,
            "feature id of the source object; v1 data.source (or startFeatureId) / v2 "
            "relationship.source",
        ),
        column(
            "target_feature_id",
            STR,
            "feature id of the target object; v1 data.target (or endFeatureId) / v2 "
            "relationship.target",
        ),
        column(
            "relationship_type",
            STR,
            "unidirectional or bidirectional; v1 relationshipType (or format) / v2 "
            "relationship.type",
        ),
        column("relationship_label", STR, "verb of a text relationship; v1 data.label"),
        column("annotation_kind", STR, "kind as exported; v2 annotation_kind"),
        column("extra_json", STR, "any field not mapped above, as JSON"),
    ],
    "reviews": [
        column("project_id", STR, "as labels.project_id", nullable=False),
        column("label_id", STR, "the reviewed label", nullable=False),
        column("data_row_id", STR, "the label's data row", nullable=False),
        column("review_id", STR, "review id; v1 Reviews[].id / v2 label_details.reviews[].id"),
        column(
            "score",
            F64,
            "+1 approve / -1 reject; v1 score / v2 score or review_action (Approve/Reject)",
        ),
        column(
            "created_at",
            TS,
            "when the review was made; v1 createdAt / v2 created_at or reviewed_at",
        ),
        column("created_by", STR, "reviewer; v1 createdBy / v2 created_by or reviewer"),
        column("review_label_id", STR, "label id as written inside the review; v1 labelId"),
        column("extra_json", STR, "any review field not mapped above, as JSON"),
    ],
    "workflow_history": [
        column("project_id", STR, "as labels.project_id", nullable=False),
        column("data_row_id", STR, "workflow history belongs to the data row", nullable=False),
        column("label_id", STR, "null: v1 repeats the data row's history on each label record"),
        column("position", I64, "index in the exported list (0 = newest)", nullable=False),
        column("action", STR, "what happened: Move, Approve, Reject, ...; v1 action / v2 action"),
        column("actor_id", STR, "user id of the actor; v1 actorId"),
        column("created_by", STR, "e-mail of the actor; v2 created_by"),
        column("created_at", TS, "when; v1 createdAt / v2 created_at"),
        column("previous_task_id", STR, "task left; v1 previousTaskId / v2 previous_task_id"),
        column(
            "previous_task_name",
            STR,
            "name of the task left; v1 previousTaskName / v2 previous_task_name",
        ),
        column("next_task_id", STR, "task entered; v1 nextTaskId / v2 next_task_id"),
        column(
            "next_task_name", STR, "name of the task entered; v1 nextTaskName / v2 next_task_name"
        ),
        column("extra_json", STR, "any field not mapped above, as JSON"),
    ],
    "rejects": [
        column("project_id", STR, "the project being mirrored", nullable=False),
        column("position", I64, "0-based index of the record in the export file", nullable=False),
        column("label_id", STR, "label id found in the record, if any"),
        column("data_row_id", STR, "data row id found in the record, if any"),
        column("error", STR, "why the record could not be flattened", nullable=False),
        column("raw", pa.large_string(), "the record exactly as exported", nullable=False),
    ],
    "tombstones": [
        column("project_id", STR, "the project being mirrored", nullable=False),
        column("label_id", STR, "the label the source no longer has", nullable=False),
        column("data_row_id", STR, "its data row", nullable=False),
        column("detected_at", TS, "when the reconcile run saw it missing", nullable=False),
        column(
            "reason",
            STR,
            'why it is considered deleted (e.g. "absent from reconcile")',
            nullable=False,
        ),
    ],
}

TABLES: tuple[str, ...] = tuple(_ROW_FIELDS)

ROW_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(f.name for f in fields) for t, fields in _ROW_FIELDS.items()
}
"""The row columns of each table, in order (what the fast paths' tuple layouts follow)."""

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
