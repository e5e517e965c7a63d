"""Render the table reference (``docs/tables.md``) from the pinned schemas.

The text of each column lives once, as ``doc`` metadata on its Arrow field in
:mod:`.tables`; this module turns it into Markdown so the reference cannot drift from the
code (a unit test compares the file with :func:`tables_markdown`).

    python -m labelbox_provider.transforms.docs > docs/tables.md
"""

from __future__ import annotations

import pyarrow as pa

from .tables import KEYS, LINEAGE_COLUMNS, SCHEMAS, TABLES

TABLE_INTROS: dict[str, str] = {
    "data_rows": "One row per data row (asset) in a batch. v1 repeats it on every label record "
    "of the data row; the current view keeps one per `data_row_id`.",
    "labels": "One row per label: every label-level field of the export.",
    "objects": "One row per annotation object, and per frame for video/DICOM. Geometry is typed "
    "by `kind`; the kind is decided by the geometry field present, the same in v1 and v2.",
    "classifications": "One row per selected answer (a checklist with 3 answers gives 3 rows; "
    "free text gives 1). Nested questions keep the tree: parent object, parent question, "
    "parent answer and depth.",
    "relationships": "One row per relationship between two objects of a label.",
    "reviews": "One row per review of a label.",
    "workflow_history": "One row per workflow step of a data row, newest first (`position` 0).",
    "rejects": "One row per export record that could not be flattened (invalid JSON, unknown "
    "annotation kind, a value of the wrong type, missing ids, video frames not fetched). "
    "The rest of the export proceeds; a record is written whole or not at all.",
    "tombstones": "One row per label the source no longer has, written by a reconcile run "
    "(this module only pins the schema).",
}


def _type_name(type_: pa.DataType) -> str:
    return str(type_).replace("timestamp[us, tz=UTC]", "timestamp (UTC, µs)")


def tables_markdown() -> str:
    """The whole reference: every column of every table, its type, meaning and source."""
    lines = [
        "# Table reference",
        "",
        "Generated from `labelbox_provider/transforms/tables.py` by",
        "`python -m labelbox_provider.transforms.docs`; do not edit by hand.",
        "",
        "Sources are written `v1 <key>` (export v1 JSON record) and `v2 <path>` (export v2",
        "NDJSON line; `projects{}` is the entry of the mirrored project). A column named in one",
        "format only is null in the other. Every table also carries the lineage columns",
        "listed at the end. Keys are the natural keys the current view deduplicates on",
        "(latest `extracted_at` wins).",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table}`", "", TABLE_INTROS[table], ""]
        lines += [f"Key: {', '.join(f'`{k}`' for k in KEYS[table])}", ""]
        lines += ["| column | type | null | meaning; source |", "|---|---|---|---|"]
        for field in SCHEMAS[table]:
            if field.name in LINEAGE_COLUMNS:
                continue
            lines.append(_row(field))
        lines.append("")
    lines += ["## Lineage columns (every table)", ""]
    lines += ["| column | type | null | meaning |", "|---|---|---|---|"]
    lines += [_row(SCHEMAS["labels"].field(name)) for name in LINEAGE_COLUMNS]
    return "\n".join(lines) + "\n"


def _row(field: pa.Field) -> str:
    doc = (field.metadata or {}).get(b"doc", b"").decode().replace("|", "\\|")
    null = "yes" if field.nullable else "no"
    return f"| `{field.name}` | {_type_name(field.type)} | {null} | {doc} |"


if __name__ == "__main__":
    print(tables_markdown(), end="")
