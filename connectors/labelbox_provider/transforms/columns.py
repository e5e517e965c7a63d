"""Column definitions shared by the schemas: types, the ``column`` helper, lineage columns, and
the data-row and label columns (the annotation tables are in :mod:`.schemas`)."""

from __future__ import annotations

import pyarrow as pa

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

ENTITY_FIELDS: dict[str, list[pa.Field]] = {
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
}
