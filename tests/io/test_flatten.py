"""flatten_file end to end on files: tables written, rejects, conservation of counts, lineage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.transforms import SCHEMAS, TABLES, Lineage

from tests.transforms._transform_helpers import OWN_FILES, REAL_FILES, count_answers

pytestmark = pytest.mark.unit

LINEAGE = Lineage(
    project_id="proj1",
    batch_id="b-0001",
    extracted_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    window_start=datetime(2024, 4, 30, tzinfo=UTC),
    window_end=datetime(2024, 5, 1, tzinfo=UTC),
)


def read(out: Path, table: str) -> list[dict[str, Any]]:
    return pq.read_table(out / table / "part-00000.parquet").to_pylist()  # type: ignore[no-any-return]


def load_raw(path: Path) -> list[Any]:
    """The export's records, read with the standard library (independent of the flattener)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ndjson":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def v1_expected(records: list[Any]) -> dict[str, int]:
    objects = answers = reviews = 0
    for r in records:
        label = r["Label"]
        frames = label if isinstance(label, list) else [label]
        for frame in frames:
            for obj in frame.get("objects", []):
                objects += 1
                answers += count_answers(obj.get("classifications"))
            answers += count_answers(frame.get("classifications"))
        reviews += len(r["Reviews"])
    return {
        "labels": len(records),
        "objects": objects,
        "classifications": answers,
        "reviews": reviews,
    }


def v2_expected(records: list[Any], project_id: str) -> dict[str, int]:
    labels = objects = answers = reviews = steps = 0
    for r in records:
        project = r["projects"][project_id]
        steps += len(project.get("project_details", {}).get("workflow_history", []))
        for label in project["labels"]:
            labels += 1
            ann = label["annotations"]
            objects += len(ann["objects"])
            answers += count_answers(ann["classifications"])
            answers += sum(count_answers(o.get("classifications")) for o in ann["objects"])
            reviews += len(label.get("label_details", {}).get("reviews", []))
    return {
        "data_rows": len(records),
        "labels": labels,
        "objects": objects,
        "classifications": answers,
        "reviews": reviews,
        "workflow_history": steps,
    }


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_files_conserve_counts(name: str, real_fixtures: Path, tmp_path: Path) -> None:
    src = real_fixtures / name
    records = load_raw(src)
    if name.startswith("v1"):
        lineage, expected = LINEAGE, v1_expected(records)
    else:
        project_id = next(iter(records[0]["projects"]))
        lineage = Lineage(project_id, "b", LINEAGE.extracted_at, None, None)
        expected = v2_expected(records, project_id)
    counts = flatten_file(src, tmp_path, lineage)
    assert counts["rejects"] == 0
    assert {k: counts[k] for k in expected} == expected
    for table in TABLES:
        assert pq.read_schema(tmp_path / table / "part-00000.parquet") == SCHEMAS[table]
        assert (
            pq.ParquetFile(tmp_path / table / "part-00000.parquet").metadata.num_rows
            == (counts[table])
        )


@pytest.mark.parametrize("name", sorted(OWN_FILES))
def test_own_fixtures_give_the_hand_counted_rows(
    name: str, own_fixtures: Path, tmp_path: Path
) -> None:
    lineage = Lineage("", "b", LINEAGE.extracted_at, None, None)  # project from each record
    frames = own_fixtures / "frames"
    counts = flatten_file(own_fixtures / name, tmp_path, lineage, frames_dir=frames)
    assert counts == dict.fromkeys(TABLES, 0) | OWN_FILES[name]
    for table in TABLES:
        assert pq.read_schema(tmp_path / table / "part-00000.parquet") == SCHEMAS[table]
    if name.startswith("v1") and "video" not in name:  # independent count of the raw records
        expected = v1_expected(load_raw(own_fixtures / name))
        assert {k: counts[k] for k in expected} == expected


def test_bad_records_go_to_rejects_and_the_rest_proceeds(tmp_path: Path) -> None:
    good = {
        "ID": "l1",
        "DataRow ID": "d1",
        "Label": {"objects": [{"featureId": "o", "point": {"x": 1, "y": 2}}]},
        "Reviews": [],
    }
    unknown_kind = {**good, "ID": "l2", "Label": {"objects": [{"featureId": "o", "blob": {}}]}}
    bad_time = {**good, "ID": "l3", "Created At": "yesterday"}
    lines = [
        json.dumps(good),
        json.dumps(unknown_kind),
        '{"ID": broken',
        "42",
        json.dumps(bad_time),
        json.dumps({**good, "ID": "l4"}),
    ]
    src = tmp_path / "export.json"
    src.write_text("[\n" + ",\n".join(lines) + "\n]")
    counts = flatten_file(src, tmp_path / "out", LINEAGE)
    assert counts["labels"] + counts["rejects"] == len(lines)
    assert [r["label_id"] for r in read(tmp_path / "out", "labels")] == ["l1", "l4"]
    rejects = read(tmp_path / "out", "rejects")
    assert [r["position"] for r in rejects] == [1, 2, 3, 4]
    assert "unknown annotation kind" in rejects[0]["error"]
    assert rejects[0]["label_id"] == "l2" and rejects[0]["data_row_id"] == "d1"
    assert rejects[1]["error"].startswith("invalid JSON")
    assert rejects[2]["error"] == "record is not a JSON object"
    assert "Created At" in rejects[3]["error"]
    assert json.loads(rejects[3]["raw"]) == bad_time
    assert {r["batch_id"] for r in rejects} == {"b-0001"}


def test_video_without_frames_file_is_rejected(tmp_path: Path) -> None:
    record = {
        "ID": "v1",
        "DataRow ID": "d",
        "Reviews": [],
        "Label": {"objects": [], "frames": "https://api.labelbox.com/v1/frames/v1"},
    }
    src = tmp_path / "export.json"
    src.write_text(json.dumps([record]))
    counts = flatten_file(src, tmp_path / "out", LINEAGE, frames_dir=tmp_path / "frames")
    assert (counts["labels"], counts["rejects"]) == (0, 1)
    assert read(tmp_path / "out", "rejects")[0]["error"] == "video frames not fetched"


def test_every_table_written_even_when_empty(tmp_path: Path) -> None:
    src = tmp_path / "empty.ndjson"
    src.write_bytes(b"")
    counts = flatten_file(src, tmp_path / "out", LINEAGE)
    assert counts == dict.fromkeys(TABLES, 0)
    for table in TABLES:
        assert pq.read_schema(tmp_path / "out" / table / "part-00000.parquet") == SCHEMAS[table]


def test_lineage_columns_on_every_row(own_fixtures: Path, tmp_path: Path) -> None:
    flatten_file(own_fixtures / "v1_image.json", tmp_path, LINEAGE)
    for table in ("data_rows", "labels", "objects", "classifications"):
        for row in read(tmp_path, table):
            assert row["batch_id"] == "b-0001"
            assert row["extracted_at"] == LINEAGE.extracted_at
            assert (row["window_start"], row["window_end"]) == (
                LINEAGE.window_start,
                LINEAGE.window_end,
            )
            assert row["source_format"] == "v1"
            assert row["project_id"] == "proj1"


def test_many_rows_span_several_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labelbox_provider.io import parquet as sink

    monkeypatch.setattr(sink, "BATCH_BYTES", 500)
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 20)
    records = [
        {
            "ID": f"l{i}",
            "DataRow ID": f"d{i}",
            "Reviews": [],
            "Label": {
                "objects": [{"featureId": f"o{i}-{j}", "point": {"x": j, "y": i}} for j in range(3)]
            },
        }
        for i in range(50)
    ]
    src = tmp_path / "export.json"
    src.write_text(json.dumps(records))
    counts = flatten_file(src, tmp_path / "out", LINEAGE)
    assert (counts["labels"], counts["objects"]) == (50, 150)
    meta = pq.ParquetFile(tmp_path / "out" / "objects" / "part-00000.parquet").metadata
    assert meta.num_row_groups > 1
    objects = read(tmp_path / "out", "objects")
    assert [r["feature_id"] for r in objects] == [f"o{i}-{j}" for i in range(50) for j in range(3)]


def test_large_tables_roll_over_to_several_part_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labelbox_provider.io import parquet as sink

    monkeypatch.setattr(sink, "BATCH_BYTES", 400)
    monkeypatch.setattr(sink, "ROW_GROUP_ROWS", 4)
    monkeypatch.setattr(sink, "ROW_GROUPS_PER_FILE", 3)
    records = [
        {"ID": f"l{i}", "DataRow ID": f"d{i}", "Label": {"objects": [
            {"featureId": f"o{i}-{j}", "point": {"x": j, "y": i}} for j in range(2)]}}
        for i in range(40)
    ]  # fmt: skip
    src = tmp_path / "export.json"
    src.write_text(json.dumps(records))
    counts = flatten_file(src, tmp_path / "out", LINEAGE)
    parts = sorted(p.name for p in (tmp_path / "out" / "objects").iterdir())
    assert len(parts) > 1 and parts[0] == "part-00000.parquet"
    assert parts == [f"part-{k:05d}.parquet" for k in range(len(parts))]
    objects = pq.read_table(tmp_path / "out" / "objects").to_pylist()
    assert counts["objects"] == len(objects) == 80
    assert [r["feature_id"] for r in objects] == [f"o{i}-{j}" for i in range(40) for j in range(2)]
    assert sorted(p.name for p in (tmp_path / "out" / "rejects").iterdir()) == [
        "part-00000.parquet"
    ]


def test_v2_project_inferred_when_not_given(own_fixtures: Path, tmp_path: Path) -> None:
    lineage = Lineage("", "b", LINEAGE.extracted_at, None, None)
    counts = flatten_file(own_fixtures / "v2_image.ndjson", tmp_path, lineage)
    assert counts["labels"] == 3
    assert {r["project_id"] for r in read(tmp_path, "labels")} == {"lbx-project-v2-streets"}


def test_v1_project_inferred_from_view_label(own_fixtures: Path, tmp_path: Path) -> None:
    lineage = Lineage("", "b", LINEAGE.extracted_at, None, None)
    flatten_file(own_fixtures / "v1_text.json", tmp_path, lineage)
    assert read(tmp_path, "labels")[0]["project_id"] == "lbx-project-reviews"


def test_lineage_requires_aware_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Lineage("p", "b", datetime(2024, 1, 1), None, None)


def test_wrong_value_types_reject_the_whole_record(tmp_path: Path) -> None:
    good = {
        "ID": "l1",
        "DataRow ID": "d1",
        "Reviews": [{"id": "r1", "score": 1}],
        "Label": {"objects": [{"featureId": "o", "point": {"x": 1, "y": 2}}]},
    }
    bad_number = {
        **good,
        "ID": "l2",
        "Reviews": [{"id": "r2", "score": 1}],
        "Label": {"objects": [{"featureId": "o", "bbox": {"top": "high"}}]},
    }
    bad_points = {**good, "ID": "l3", "Label": {"objects": [{"featureId": "o", "line": [1, 2]}]}}
    src = tmp_path / "export.json"
    src.write_text(json.dumps([good, bad_number, bad_points, {**good, "ID": "l4"}]))
    counts = flatten_file(src, tmp_path / "out", LINEAGE)
    assert counts["labels"] + counts["rejects"] == 4
    assert [r["label_id"] for r in read(tmp_path / "out", "labels")] == ["l1", "l4"]
    assert [r["review_id"] for r in read(tmp_path / "out", "reviews")] == ["r1", "r1"]
    rejects = read(tmp_path / "out", "rejects")
    assert [(r["position"], r["label_id"], r["error"]) for r in rejects] == [
        (1, "l2", "wrong type for objects.bbox_top"),
        (2, "l3", "wrong type for objects.points"),
    ]
    assert json.loads(rejects[0]["raw"]) == bad_number


@pytest.mark.parametrize("fast", [True, False])
def test_an_unexpected_error_propagates_and_closes_files(
    own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    from labelbox_provider.io import flatten as flatten_module
    from labelbox_provider.transforms import fast_v1

    def boom(*args: Any) -> Any:
        raise RuntimeError("disk on fire")

    # The fast path hands a record it cannot do to the row function, which has the last word.
    monkeypatch.setattr(fast_v1.FastV1, "_label", boom)
    monkeypatch.setattr(flatten_module, "v1_record_rows", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        flatten_file(own_fixtures / "v1_pdf.json", tmp_path, LINEAGE, fast=fast)
