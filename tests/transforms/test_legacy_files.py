"""Legacy (2018-2019) v1 files and layouts through the flattener: each legacy layout, flattened
by the row function, lands in the same tables as a modern label. (Counts conserved with no
rejects on every real file, legacy ones included: tests/io/test_flatten.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from labelbox_provider.emulator.world import ExportFilter, V2Params, World
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.transforms import Lineage, RecordContext, v1_record_rows

from ._transform_helpers import LEGACY_FILES, legacy_counts

pytestmark = pytest.mark.unit

LINEAGE = Lineage("", "b", datetime(2024, 1, 1, tzinfo=UTC), None, None)
SQUARE = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 3}, {"x": 0, "y": 3}]


def test_the_legacy_corpus_is_not_vacuous(real_fixtures: Path, tmp_path: Path) -> None:
    totals = {"labels": 0, "objects": 0, "classifications": 0, "reviews": 0}
    for i, name in enumerate(LEGACY_FILES):
        counts = flatten_file(real_fixtures / name, tmp_path / str(i), LINEAGE)
        totals = {k: v + counts[k] for k, v in totals.items()}
    assert totals == {"labels": 824, "objects": 1754, "classifications": 1139, "reviews": 839}


def _flat(record: dict[str, Any], **ctx: Any) -> dict[str, list[dict[str, Any]]]:
    return v1_record_rows({"ID": "L1", "Project Name": "p", **record}, RecordContext(**ctx))


def test_2018_minimal_keys_keyed_by_label_id_and_project_name() -> None:
    rows = _flat({"Label": {"Car": "POLYGON ((0 0, 4 0, 4 3, 0 0))"}, "Seconds to Label": "5.2"})
    (label,) = rows["labels"]
    assert (label["data_row_id"], label["project_id"]) == ("L1", "p")
    assert label["updated_at"] is None and label["created_at"] is None
    assert label["seconds_to_label"] == 5.2 and label["skipped"] is False
    (obj,) = rows["objects"]
    assert (obj["kind"], obj["name"], obj["feature_id"]) == ("polygon", "Car", "legacy:L1:o0")
    assert [(p["x"], p["y"]) for p in obj["points"]] == [(0, 0), (4, 0), (4, 3)]


def test_skip_string_is_a_skipped_label_with_its_reviews() -> None:
    rows = _flat({"Label": "Skip", "Reviews": [{"id": "r", "score": -1}]})
    assert rows["labels"][0]["skipped"] is True
    assert [r["review_id"] for r in rows["reviews"]] == ["r"]
    assert rows["objects"] == []


@pytest.mark.parametrize(("legacy_era", "skipped"), [(True, False), (False, True)])
def test_empty_label_means_skip_only_outside_the_legacy_era(
    legacy_era: bool, skipped: bool
) -> None:
    record = {"DataRow ID": "D", "Label": {}, "View Label": "https://e?project=P"}
    rows = _flat(record, legacy_era=legacy_era)
    assert rows["labels"][0]["skipped"] is skipped


def test_class_keyed_geometry_objects_keep_colour_and_nestedcount_answers() -> None:
    label = {"Door / frame ": [{"geometry": SQUARE, "type": "double", "color": "#f00"}]}
    rows = _flat({"DataRow ID": "D", "Label": label, "View Label": "https://e?project=P"})
    (obj,) = rows["objects"]
    assert (obj["name"], obj["color"], len(obj["points"])) == ("Door / frame ", "#f00", 4)
    (answer,) = rows["classifications"]
    assert (answer["name"], answer["answer_name"]) == ("type", "double")
    assert answer["parent_object_feature_id"] == obj["feature_id"]


def test_point_lists_and_tool_keyed_layouts() -> None:
    rows = _flat({"Label": {"Car": [SQUARE, SQUARE[:1]]}})
    assert [o["kind"] for o in rows["objects"]] == ["polygon", "point"]
    rows = _flat({"Label": {"line": [{"geometry": SQUARE}], "type": "Rail"}})
    (obj,) = rows["objects"]
    assert (obj["kind"], obj["name"]) == ("polyline", "Rail")
    assert json.loads(obj["extra_json"]) == {"legacyTool": "line"}


def test_wkt_hole_and_unmapped_entry_are_kept_in_extra_json() -> None:
    wkt = "POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))"
    rows = _flat({"Label": {"Lake": wkt, "Odd": 42}})
    (obj,) = rows["objects"]
    assert json.loads(obj["extra_json"])["holes"] == [
        [{"x": 1, "y": 1}, {"x": 2, "y": 1}, {"x": 2, "y": 2}]
    ]
    extra = json.loads(rows["labels"][0]["extra_json"])
    assert extra["Label"] == {"legacyUnmapped": {"Odd": 42}}


@pytest.mark.parametrize(("value", "expected"), [(-1, None), (0.5, 0.5), (None, None)])
def test_agreement_minus_one_is_null(value: Any, expected: Any) -> None:
    rows = _flat({"DataRow ID": "D", "Label": {}, "Agreement": value}, project_id="P")
    assert rows["labels"][0]["agreement"] == expected


def test_the_emulator_serves_the_2019_layout_and_it_flattens_whole(tmp_path: Path) -> None:
    world = World(seed=19, labels_per_project=30, v1_era="2019")
    (project,) = [p for p in world.projects() if p.media_type == "IMAGE"]
    records = list(world.iter_v1(project.id, ExportFilter()))
    labels = [r["Label"] for r in records]
    assert "Skip" in labels and any(isinstance(x, dict) and x for x in labels)
    assert all(not {"objects", "classifications"} & set(x) for x in labels if x != "Skip")
    src = tmp_path / "v1.json"
    src.write_text(json.dumps(records))
    counts = flatten_file(
        src, tmp_path / "out", Lineage(project.id, "b", LINEAGE.extracted_at, None, None)
    )
    geometries = sum(legacy_counts(x)[0] for x in labels)
    assert (counts["rejects"], counts["labels"], counts["objects"]) == (0, len(records), geometries)
    skipped = pq.read_table(tmp_path / "out" / "labels").column("skipped").to_pylist()
    assert skipped.count(True) == labels.count("Skip")


def test_emulator_metadata_fields_carry_every_kind(tmp_path: Path) -> None:
    world = World(seed=3, labels_per_project=4)
    (project,) = [p for p in world.projects() if p.media_type == "IMAGE"]
    params = V2Params(*[True] * 8)
    src = tmp_path / "v2.ndjson"
    src.write_text(
        "".join(json.dumps(r) + "\n" for r in world.iter_v2(project.id, ExportFilter(), params))
    )
    flatten_file(src, tmp_path / "out", LINEAGE)
    rows = pq.read_table(tmp_path / "out" / "metadata").to_pylist()
    kinds = {r["kind"] for r in rows}
    assert {"string", "number", "datetime", "enum"} <= kinds
    assert all(r["value_number"] is not None for r in rows if r["kind"] == "number")
    assert all(r["value_datetime"] is not None for r in rows if r["kind"] == "datetime")
    assert all(r["value_enum"] and r["value_enum_id"] for r in rows if r["kind"] == "enum")
