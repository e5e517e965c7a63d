"""Every field of the seed's JSON export parameters has a column (docs/field-mapping.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labelbox_provider.transforms import SCHEMAS, TABLES

from ._transform_helpers import rows_v1, v1_record

pytestmark = pytest.mark.unit

MAPPING = Path(__file__).resolve().parents[2] / "docs" / "field-mapping.md"

# export field -> (table, column that must hold its value) for a record carrying every field
FIELD_COLUMNS: dict[str, tuple[str, str]] = {
    "ID": ("labels", "label_id"),
    "DataRow ID": ("labels", "data_row_id"),
    "Labeled Data": ("labels", "row_data_url"),
    "Label.objects": ("objects", "feature_id"),
    "Label.classifications": ("classifications", "answer_name"),
    "Label.frames": ("labels", "frames_url"),
    "Label.frameNumber": ("objects", "frame_number"),
    "Created At": ("labels", "created_at"),
    "Updated At": ("labels", "updated_at"),
    "Seconds to Label": ("labels", "seconds_to_label"),
    "External ID": ("labels", "external_id"),
    "Agreement": ("labels", "agreement"),
    "Benchmark Agreement": ("labels", "benchmark_agreement"),
    "Benchmark ID": ("labels", "benchmark_id"),
    "Dataset Name": ("labels", "dataset_name"),
    "Reviews.id": ("reviews", "review_id"),
    "Reviews.score": ("reviews", "score"),
    "Reviews.labelId": ("reviews", "review_label_id"),
    "Reviews.createdAt": ("reviews", "created_at"),
    "Reviews.createdBy": ("reviews", "created_by"),
    "View Label": ("labels", "view_label_url"),
    "Has Open Issues": ("labels", "has_open_issues"),
    "Skipped": ("labels", "skipped"),
    "DataRow Workflow Info.taskName": ("labels", "workflow_task_name"),
    "Workflow History.actorId": ("workflow_history", "actor_id"),
    "Workflow History.action": ("workflow_history", "action"),
    "Workflow History.createdAt": ("workflow_history", "created_at"),
    "Workflow History.previousTaskId": ("workflow_history", "previous_task_id"),
    "Workflow History.previousTaskName": ("workflow_history", "previous_task_name"),
    "Workflow History.nextTaskId": ("workflow_history", "next_task_id"),
    "Workflow History.nextTaskName": ("workflow_history", "next_task_name"),
}


def mapping_references() -> list[tuple[str, str | None]]:
    """(table, column or None) for every target named in the mapping table of the docs."""
    text = MAPPING.read_text(encoding="utf-8")
    section = "| export field |" + text.split("| export field |", 1)[1].split("\n\n", 1)[0]
    refs: list[tuple[str, str | None]] = []
    for line in section.splitlines():
        if not line.startswith("|") or "---" in line or "export field" in line:
            continue
        target = line.strip("|").split("|")[1]
        dotted = re.findall(r"\b([a-z_]+)\.([a-z_]+)\b", target)
        refs += dotted or [
            (w, None) for w in re.findall(r"\b([a-z_]{5,})\b", target) if w in TABLES
        ]
    return refs


def test_every_mapping_target_is_a_column() -> None:
    refs = mapping_references()
    assert len(refs) >= 20  # the table was found and read
    for table, column in refs:
        assert table in SCHEMAS, f"field-mapping.md names table {table!r}, which does not exist"
        if column is not None:
            assert column in SCHEMAS[table].names, f"field-mapping.md names {table}.{column}"


def test_every_export_field_is_in_the_mapping_document() -> None:
    text = MAPPING.read_text(encoding="utf-8")
    for field in FIELD_COLUMNS:
        for part in field.split("."):
            assert part in text, f"{field}: not in docs/field-mapping.md"


@pytest.mark.parametrize("field", list(FIELD_COLUMNS))
def test_every_export_field_lands_in_its_column(field: str, tmp_path: Path) -> None:
    table, column = FIELD_COLUMNS[field]
    assert column in SCHEMAS[table].names
    rows = rows_v1(full_record(tmp_path), frames_dir=tmp_path)
    values = [row.get(column) for row in rows[table]]
    assert any(v is not None for v in values), f"{field} -> {table}.{column} is empty"


def full_record(frames_dir: Path) -> dict[str, object]:
    """A v1 video record with every field of the export parameters table set."""
    (frames_dir / "lab1.ndjson").write_text(
        '{"frameNumber": 3, "objects": [{"featureId": "o", "point": {"x": 1, "y": 1}}],'
        ' "classifications": [{"featureId": "q", "answer": {"title": "yes"}}]}\n'
    )
    return v1_record(
        {
            "objects": [
                {"featureId": "o0", "bbox": {"top": 0, "left": 0, "height": 1, "width": 1}}
            ],
            "classifications": [{"featureId": "q0", "answer": {"title": "no"}}],
            "relationships": [],
            "frames": "https://api.labelbox.com/v1/frames/lab1",
        },
        **{
            "Benchmark ID": "bm1",
            "Has Open Issues": 1,
            "Reviews": [
                {
                    "id": "r",
                    "score": 1,
                    "labelId": "lab1",
                    "createdBy": "u@x",
                    "createdAt": "2021-11-11T19:21:13.000Z",
                }
            ],
            "DataRow Workflow Info": {
                "taskName": "Done",
                "Workflow History": [
                    {
                        "actorId": "u",
                        "action": "Move",
                        "createdAt": "2023-07-25T13:00:51.963Z",
                        "previousTaskId": "t0",
                        "previousTaskName": "Label",
                        "nextTaskId": "t1",
                        "nextTaskName": "Review",
                    }
                ],
            },
        },
    )


def test_docs_tables_md_is_current() -> None:
    from labelbox_provider.transforms.docs import tables_markdown

    path = Path(__file__).resolve().parents[2] / "docs" / "tables.md"
    expected = tables_markdown()
    assert path.read_text(encoding="utf-8") == expected, (
        "docs/tables.md is stale: python -m labelbox_provider.transforms.docs > docs/tables.md"
    )
    for table, schema in SCHEMAS.items():
        for name in schema.names:
            assert f"| `{name}` |" in expected, f"{table}.{name} missing from the reference"
