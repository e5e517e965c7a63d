"""Builders of small export records for the transform tests."""

from __future__ import annotations

from typing import Any

from labelbox_provider.transforms import RecordContext, v1_record_rows, v2_record_rows
from labelbox_provider.transforms.common import Rows
from labelbox_provider.transforms.tables import ROW_TYPES

PROJECT = "proj1"
# Every file of the real corpus (LABELBOX_REAL_FIXTURES, see tests/conftest.py), by name: the
# names are known without the corpus, so parametrised tests still collect (and skip) without it.
REAL_FILES = [
    "v1_highly_nested_image.json",
    "v1_image_bbox_project_export_2020.json",
    "v1_image_export.json",
    "v1_pdf_export.json",
    "v1_text_export.json",
    "v1_video_export_frames_inlined.json",
    "v2_image_bbox_minimal.ndjson",
    "v2_image_masks_full_details.ndjson",
]

# The project's own fixtures (tests/fixtures/exports; the own_fixtures fixture) and the rows each
# gives, counted by hand from the files (tables not named: 0 rows). v1 video frames files are in
# its frames/ folder.
OWN_FILES: dict[str, dict[str, int]] = {
    "v1_image.json": {
        "data_rows": 3,
        "labels": 3,
        "objects": 6,
        "classifications": 7,
        "relationships": 1,
        "reviews": 2,
    },
    "v1_video.json": {"data_rows": 1, "labels": 1, "objects": 4, "classifications": 1},
    "v1_text.json": {"data_rows": 1, "labels": 1, "objects": 2, "classifications": 2},
    "v1_pdf.json": {
        "data_rows": 1,
        "labels": 1,
        "objects": 3,
        "classifications": 1,
        "relationships": 1,
        "reviews": 1,
    },
    "v1_geospatial.json": {"data_rows": 2, "labels": 2, "objects": 6, "classifications": 1},
    "v2_image.ndjson": {
        "data_rows": 3,
        "labels": 3,
        "objects": 7,
        "classifications": 6,
        "relationships": 1,
        "reviews": 1,
        "workflow_history": 2,
    },
    "v2_video.ndjson": {"data_rows": 1, "labels": 1, "objects": 2, "classifications": 1},
    "v2_text.ndjson": {
        "data_rows": 1,
        "labels": 1,
        "objects": 2,
        "classifications": 1,
        "relationships": 1,
    },
}


def v1_record(label: Any, **fields: Any) -> dict[str, Any]:
    """A v1 record (2021 key set) around ``label``."""
    record = {
        "ID": "lab1",
        "DataRow ID": "dr1",
        "DataRow Metadata": [],
        "Media Attributes": {},
        "Labeled Data": "https://storage.example/asset.jpg",
        "Label": label,
        "Created By": "a@example.com",
        "Project Name": "p",
        "Created At": "2021-07-15T22:57:30.000Z",
        "Updated At": "2021-07-15T22:57:30.268Z",
        "Seconds to Label": 27.9,
        "External ID": "asset.jpg",
        "Agreement": -1,
        "Benchmark Agreement": -1,
        "Benchmark ID": None,
        "Dataset Name": "d",
        "Reviews": [],
        "View Label": f"https://editor.labelbox.com?project={PROJECT}&label=lab1",
        "Has Open Issues": 0,
        "Skipped": False,
        "Data Split": None,
    }
    record.update(fields)
    return record


def v2_record(
    annotations: dict[str, Any], *, label: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A v2 record with one label holding ``annotations``."""
    return {
        "data_row": {"id": "dr1", "external_id": "asset.jpg", "row_data": "https://x/asset.jpg"},
        "media_attributes": {"width": 10, "height": 20, "mime_type": "image/jpeg"},
        "projects": {
            PROJECT: {
                "name": "p",
                "labels": [
                    {
                        "label_kind": "Default",
                        "version": "1.0.0",
                        "id": "lab1",
                        "annotations": annotations,
                        **(label or {}),
                    }
                ],
            }
        },
    }


def rows_v1(record: dict[str, Any], **ctx: Any) -> Rows:
    """v1 rows, checked to fit the schemas."""
    return check_rows(v1_record_rows(record, RecordContext(project_id=PROJECT, **ctx)))


def rows_v2(record: dict[str, Any], **ctx: Any) -> Rows:
    """v2 rows, checked to fit the schemas."""
    return check_rows(v2_record_rows(record, RecordContext(project_id=PROJECT, **ctx)))


def check_rows(rows: Rows) -> Rows:
    """Every key of every row is a column of its table (nothing silently dropped by Arrow)."""
    for table, table_rows in rows.items():
        names = {f.name for f in ROW_TYPES[table]}
        for row in table_rows:
            unknown = set(row) - names
            assert not unknown, f"{table}: keys not in the schema: {unknown}"
    return rows


def count_answers(questions: Any) -> int:
    """Selected answers in a classification list, nested ones included (v1 and v2 keys)."""
    total = 0
    stack = list(questions or [])
    while stack:
        q = stack.pop()
        if isinstance(q, list):
            stack.extend(q)
            continue
        answers: list[Any] = []
        for key in ("answers", "checklist_answers", "conversational_checklist_answers"):
            answers += q.get(key) or []
        for key in ("radio_answer",):
            answers += [q[key]] if key in q else []
        if "answer" in q:
            answers += q["answer"] if isinstance(q["answer"], list) else [q["answer"]]
        total += len(answers) + ("text_answer" in q)
        for a in answers:
            if isinstance(a, dict):
                stack.extend(a.get("classifications") or [])
    return total
