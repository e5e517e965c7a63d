"""The typed fast paths (v1 and v2) are an optimisation, never a second mapping: with them and
without them, every table comes out identical, in content and in order.

Compared here on every real fixture, on the project's own fixtures, on emulator exports of every
media type (v1: every key-set era; v2: every detail parameter), and on records mutated at random
(a key removed, nulled, retyped, an unknown key added...) so that the fast paths' refusals,
fallbacks and rejects are exercised too. Tests also check that the fast path is actually taken
where it should be, so the comparison means something.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labelbox_provider.emulator.world import (
    ALL_MEDIA_TYPES,
    V1_ERAS,
    ExportFilter,
    V2Params,
    World,
)
from labelbox_provider.io import flatten as flatten_module
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.transforms import TABLES, Lineage, fast_v1, fast_v2

from ._transform_helpers import OWN_FILES, REAL_FILES

pytestmark = pytest.mark.unit

LINEAGE = Lineage("", "b-fast", datetime(2026, 1, 1, tzinfo=UTC), None, None)
FAST_FIXTURES = {  # every record of these fits the fast path
    "v1_highly_nested_image.json",
    "v1_image_bbox_project_export_2020.json",
    "v1_image_export.json",
    "v1_pdf_export.json",
    "v2_image_bbox_minimal.ndjson",
    "v2_image_masks_full_details.ndjson",
}


class FastCounter:
    """Counts the records the fast path took (and kept) during flatten_file."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken = 0
        for cls in (fast_v1.FastV1, fast_v2.FastV2):
            monkeypatch.setattr(cls, "add", self._counting(cls.add))

    def _counting(self, original: Any) -> Any:
        def counting(fast: Any, *args: Any) -> None:
            original(fast, *args)  # raises when the record goes to the row function
            self.taken += 1

        return counting


def tables(folder: Path) -> dict[str, Any]:
    return {t: pq.read_table(folder / t) for t in TABLES}


def flatten_both(src: Path, out: Path, lineage: Lineage = LINEAGE, **kw: Any) -> dict[str, Any]:
    """Flatten ``src`` with and without the fast path; assert identical output."""
    fast = flatten_file(src, out / "fast", lineage, **kw)
    slow = flatten_file(src, out / "slow", lineage, fast=False, **kw)
    assert fast == slow
    fast_tables, slow_tables = tables(out / "fast"), tables(out / "slow")
    for table in TABLES:
        assert fast_tables[table].schema == slow_tables[table].schema
        assert fast_tables[table].to_pylist() == slow_tables[table].to_pylist(), table
    return fast


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_fixtures_same_rows_both_paths(
    name: str, real_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = FastCounter(monkeypatch)
    counts = flatten_both(real_fixtures / name, tmp_path)
    if name in FAST_FIXTURES:  # records: one per label (v1), one per data row (v2)
        assert counter.taken == counts["data_rows"] > 0
    else:  # text entities (unmapped keys) and inlined video frames: the row function's
        assert counter.taken == 0


OWN_FAST = {  # records of the own fixtures that take the fast path (the others: none)
    "v1_image.json": 3,
    "v1_pdf.json": 1,
    "v1_geospatial.json": 1,  # the pixel record; GeoJSON goes to the row function
    "v2_image.ndjson": 3,
}


@pytest.mark.parametrize("name", sorted(OWN_FILES))
def test_own_fixtures_same_rows_both_paths(
    name: str, own_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = FastCounter(monkeypatch)
    counts = flatten_both(own_fixtures / name, tmp_path, frames_dir=own_fixtures / "frames")
    assert counts["rejects"] == 0
    assert counter.taken == OWN_FAST.get(name, 0)  # text entities, video: the row function's


@pytest.mark.parametrize("era", V1_ERAS)
@pytest.mark.parametrize("media_type", ALL_MEDIA_TYPES)
def test_emulator_exports_same_rows_both_paths(
    era: str, media_type: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(seed=5, labels_per_project=6, v1_era=era)
    (project,) = [p for p in world.projects() if p.media_type == media_type]
    records = list(world.iter_v1(project.id, ExportFilter()))
    src = tmp_path / "v1.json"
    src.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]")
    frames = tmp_path / "frames"
    frames.mkdir()
    for record in records:
        lines = world.v1_frames(record["ID"])
        if lines is not None:
            text = "".join(json.dumps(line) + "\n" for line in lines)
            (frames / f"{record['ID']}.ndjson").write_text(text)
    counter = FastCounter(monkeypatch)
    lineage = Lineage(project.id, "b", LINEAGE.extracted_at, None, None)
    counts = flatten_both(src, tmp_path / "out", lineage, frames_dir=frames)
    assert counts["labels"] == len(records) > 0
    if media_type == "IMAGE":  # the common shape: every record takes the fast path
        assert counter.taken == len(records)


@pytest.mark.parametrize("media_type", ALL_MEDIA_TYPES)
def test_emulator_v2_exports_same_rows_both_paths(
    media_type: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(seed=7, labels_per_project=6)
    (project,) = [p for p in world.projects() if p.media_type == media_type]
    params = V2Params(*[True] * 8)
    records = list(world.iter_v2(project.id, ExportFilter(), params))
    src = tmp_path / "v2.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    counter = FastCounter(monkeypatch)
    lineage = Lineage(project.id, "b", LINEAGE.extracted_at, None, None)
    counts = flatten_both(src, tmp_path / "out", lineage)
    assert counts["data_rows"] == len(records) > 0
    if media_type == "IMAGE":  # the common shape: every record takes the fast path
        assert counter.taken == len(records)


def _base_record() -> dict[str, Any]:
    obj = {"featureId": "o", "schemaId": "s", "title": "car", "value": "car", "color": "#fff"}
    answer = {"featureId": "a", "schemaId": "as", "title": "yes", "value": "yes"}
    deep = {**answer, "featureId": "deep", "answer": "txt"}
    nested = {
        **answer,
        "featureId": "nq",
        "answer": {**answer, "featureId": "na", "classifications": [deep]},
    }
    return {
        "ID": "lab1",
        "DataRow ID": "dr1",
        "DataRow Metadata": [{"schemaId": "m", "value": "v"}],
        "Media Attributes": {"mimeType": "image/jpeg", "width": 40, "height": 30},
        "Labeled Data": "https://storage.example/a.jpg",
        "Label": {
            "objects": [
                {**obj, "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}},
                {
                    **obj,
                    "featureId": "p",
                    "polygon": [{"x": 1, "y": 1}, {"x": 2, "y": 1}, {"x": 1, "y": 1}],
                },
                {**obj, "featureId": "l", "line": [{"x": 0.5, "y": 1}, {"x": 2, "y": 3}]},
                {**obj, "featureId": "q", "point": {"x": 7, "y": 8}, "keyframe": True},
                {**obj, "featureId": "m", "instanceURI": "https://api.example/mask"},
                {
                    **obj,
                    "featureId": "d",
                    "bbox": {"top": 0, "left": 0, "height": 1, "width": 1},
                    "page": 0,
                    "unit": "POINTS",
                },
                {**obj, "featureId": "n", "point": {"x": 1, "y": 2}, "classifications": [nested]},
            ],
            "classifications": [
                {**answer, "featureId": "r", "answer": answer, "scope": "global"},
                {**answer, "featureId": "c", "answers": [answer, {**answer, "featureId": "b"}]},
                {**answer, "featureId": "dd", "answer": [answer]},
                {**answer, "featureId": "t", "answer": "free text", "messageId": "m1"},
                [{**answer, "featureId": "quirk", "answers": [answer]}],
            ],
            "relationships": [
                {"featureId": "rel", "title": "r", "data": {"source": "o", "target": "p"}}
            ],
        },
        "Created By": "a@example.com",
        "Project Name": "p",
        "Created At": "2021-07-15T22:57:30.000Z",
        "Updated At": "2021-07-15T22:57:30.268+02:00",
        "Seconds to Label": 27.9,
        "Seconds to Review": 3,
        "External ID": "a.jpg",
        "Global Key": "gk",
        "Agreement": -1,
        "Is Benchmark": 0,
        "Benchmark Agreement": -1,
        "Benchmark ID": None,
        "Dataset Name": "d",
        "Reviews": [
            {"id": "rv", "score": 1, "createdAt": "2021-11-11T19:21:13.000Z", "labelId": "lab1"}
        ],
        "View Label": "https://editor.labelbox.com?project=proj1&label=lab1",
        "Has Open Issues": 0,
        "Skipped": False,
        "Data Split": "train",
        "DataRow Workflow Info": {
            "taskName": "Done",
            "Workflow History": [{"action": "Approve", "createdAt": "2023-01-01T00:00:00Z"}],
        },
        "media_type": "IMAGE",
    }


def test_base_record_takes_the_fast_path_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "export.json"
    src.write_text(json.dumps([_base_record(), {**_base_record(), "ID": "lab2"}]))
    counter = FastCounter(monkeypatch)
    counts = flatten_both(src, tmp_path / "out")
    assert counter.taken == 2
    assert counts["objects"] == 14 and counts["relationships"] == 2
    assert counts["classifications"] == 2 * 8 and counts["workflow_history"] == 2


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    out = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


MUTATIONS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
REPLACEMENTS = [None, "", "x", 0, 1, -1, 2.5, 2**64, True, False, [], [1], {}, {"x": 1}]


def _mutate(record: dict[str, Any], path: tuple[Any, ...], action: str, new: Any) -> None:
    new = copy.deepcopy(new)  # never share a value between records or places
    parent = record
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = new
    elif isinstance(parent[last], dict):  # "extra": an unknown key on the object at path
        parent[last]["zz_unknown"] = new
    else:
        parent[last] = [parent[last]]  # wrapped in a list


def _mutated(record: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """A copy of ``record`` (no shared parts) with up to two random mutations from ``data``."""
    record = json.loads(json.dumps(record))
    for _ in range(data.draw(st.integers(0, 2))):
        path = data.draw(st.sampled_from(_paths(record)))
        action = data.draw(st.sampled_from(["delete", "replace", "extra"]))
        if isinstance(path[-1], int) and action == "delete":
            action = "replace"
        _mutate(record, path, action, data.draw(st.sampled_from(REPLACEMENTS)))
    return record


@MUTATIONS
@given(data=st.data())
def test_mutated_records_same_rows_both_paths(data: st.DataObject, tmp_path_factory: Any) -> None:
    records = []
    for i in range(3):
        record = _base_record()
        record["ID"] = f"lab{i}"
        records.append(_mutated(record, data))
    out = tmp_path_factory.mktemp("mutated")
    src = out / "export.json"
    src.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]")
    counts = flatten_both(src, out)
    assert counts["labels"] + counts["rejects"] == len(records)


def test_a_value_only_arrow_refuses_rejects_that_record_amid_fast_ones(tmp_path: Path) -> None:
    bad = _base_record()
    bad["ID"] = "lab2"
    bad["Label"]["objects"][0]["bbox"]["top"] = "1"  # a string: the row function passes it on
    src = tmp_path / "export.json"
    src.write_text(json.dumps([_base_record(), bad, {**_base_record(), "ID": "lab3"}]))
    counts = flatten_both(src, tmp_path / "out")
    assert (counts["labels"], counts["rejects"], counts["objects"]) == (2, 1, 14)
    out = tmp_path / "out" / "fast"
    rejects = pq.read_table(out / "rejects").to_pylist()
    assert [(r["position"], r["error"]) for r in rejects] == [
        (1, "wrong type for objects.bbox_top")
    ]
    objects = pq.read_table(out / "objects").to_pylist()
    assert [r["label_id"] for r in objects] == ["lab1"] * 7 + ["lab3"] * 7


def test_shapes_merge_in_record_order_and_drop_records_whole() -> None:
    from labelbox_provider.transforms.buffers import RecordKeys, TableRows

    keys = RecordKeys()
    rows = TableRows("reviews", keys)
    fast = rows.shape(["review_id", "score"], keyed=True)  # tuples start with the key index
    k0 = keys.add(0, ("p", "l0", "d0"))
    fast.append((k0, "r0", 1.0))
    dict_row = {"project_id": "p", "label_id": "l1", "data_row_id": "d1", "review_id": "r1"}
    rows.add_dicts([dict_row], 1)
    k2 = keys.add(2, ("p", "l2", "d2"))
    fast.append((k2, "r2", "not a number"))
    fast.append((k2, "r2b", 2.0))
    with pytest.raises(pa.ArrowException):
        rows.to_batch(pa.default_memory_pool())
    assert rows.bad_positions() == {2: "score"}
    rows.drop({2})
    k3 = keys.add(3, ("p", "l3", "d3"))
    fast.append((k3, "r3", -1))
    fast.append((keys.add(4, ("p", "l4", "d4")), "r4", 4))
    rows.pop_record(4)  # a record given up half way
    keys.pop_record(4)
    batch = rows.to_batch(pa.default_memory_pool())
    assert batch is not None
    got = [(r["label_id"], r["review_id"], r["score"]) for r in batch.to_pylist()]
    assert got == [("l0", "r0", 1.0), ("l1", "r1", None), ("l3", "r3", -1.0)]


def test_typed_decoder_gives_up_when_most_records_do_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flatten_module._TypedDecoder, "PROBE", 4)
    decoder = flatten_module._TypedDecoder(fast_v1.V1Record)
    misfit = json.dumps({**_base_record(), "New Key": 1}).encode()
    fitting = json.dumps(_base_record()).encode()
    values = [decoder.decode(misfit) for _ in range(3)]
    assert isinstance(decoder.decode(fitting), fast_v1.V1Record)  # the 4th fits: still 1 of 4
    assert all(isinstance(v, dict) for v in values)
    assert not decoder.enabled
    assert isinstance(decoder.decode(fitting), dict)  # no longer tried
    keep = flatten_module._TypedDecoder(fast_v1.V1Record)
    assert isinstance(keep.decode(fitting), fast_v1.V1Record)
    assert keep.enabled


def test_unmapped_keys_are_kept_in_extra_json(tmp_path: Path) -> None:
    record = _base_record()
    objects = record["Label"]["objects"]
    objects[0]["bbox"]["rotation"] = 15
    objects[1]["polygon"][1]["z"] = 3.5
    objects[3]["point"]["z"] = 1
    questions = record["Label"]["classifications"]
    questions[0]["keyframe"] = True
    questions[0]["answer"]["position"] = 2
    record["Label"]["relationships"][0]["value"] = "next_to"
    src = tmp_path / "export.json"
    src.write_text(json.dumps([record]))
    counts = flatten_both(src, tmp_path / "out")  # such records take the row functions
    assert counts["rejects"] == 0
    out = tmp_path / "out" / "fast"
    extra = {r["feature_id"]: r["extra_json"] for r in pq.read_table(out / "objects").to_pylist()}
    assert json.loads(extra["o"]) == {"bbox": {"rotation": 15}}
    assert json.loads(extra["p"]) == {"polygon": [{}, {"z": 3.5}]}  # closing vertex dropped
    assert json.loads(extra["q"]) == {"point": {"z": 1}}
    radio = next(
        r for r in pq.read_table(out / "classifications").to_pylist() if r["feature_id"] == "r"
    )
    assert json.loads(radio["extra_json"]) == {
        "answer": {"position": 2},
        "question": {"keyframe": True},
    }
    (relationship,) = pq.read_table(out / "relationships").to_pylist()
    assert json.loads(relationship["extra_json"]) == {"value": "next_to"}


def _base_v2_record() -> dict[str, Any]:
    feature = {"feature_id": "f", "feature_schema_id": "s", "name": "car", "value": "car"}
    answer = {"feature_id": "a", "feature_schema_id": "as", "name": "yes", "value": "yes"}
    kind = {"annotation_kind": "ImageBoundingBox"}
    deep = {**answer, "feature_id": "deep", "text_answer": {"content": "txt"}}
    nested = {**answer, "feature_id": "nq", "radio_answer": {**answer, "classifications": [deep]}}
    label = {
        "label_kind": "Default",
        "version": "1.0.0",
        "id": "lab1",
        "label_details": {
            "created_at": "2023-07-24T13:16:59.000+00:00",
            "updated_at": "2023-10-02T07:17:01.000+00:00",
            "created_by": "a@example.com",
            "reviews": [
                {"id": "rv", "review_action": "Approve", "created_at": "2023-01-01T00:00:00Z"}
            ],
        },
        "performance_details": {
            "seconds_to_create": 47,
            "seconds_to_review": 6.5,
            "skipped": False,
        },
        "annotations": {
            "objects": [
                {**feature, **kind, "bounding_box": {"top": 1, "left": 2, "height": 3, "width": 4}},
                {
                    **feature,
                    **kind,
                    "feature_id": "p",
                    "polygon": [{"x": 1, "y": 1}, {"x": 2, "y": 1}, {"x": 1, "y": 1}],
                },
                {
                    **feature,
                    **kind,
                    "feature_id": "l",
                    "line": [{"x": 0.5, "y": 1}, {"x": 2, "y": 3}],
                },
                {
                    **feature,
                    **kind,
                    "feature_id": "q",
                    "point": {"x": 7, "y": 8},
                    "classifications": [nested],
                },
                {**feature, **kind, "feature_id": "m", "mask": {"url": "https://api.example/mask"}},
            ],
            "classifications": [
                {**answer, "feature_id": "r", "radio_answer": answer},
                {
                    **answer,
                    "feature_id": "c",
                    "checklist_answers": [answer, {**answer, "feature_id": "b"}],
                },
                {**answer, "feature_id": "t", "text_answer": {"content": "free text"}},
            ],
            "relationships": [
                {
                    "feature_id": "rel",
                    "name": "r",
                    "relationship": {"source": "f", "target": "p", "type": "unidirectional"},
                }
            ],
        },
    }
    return {
        "data_row": {
            "id": "dr1",
            "global_key": "gk",
            "external_id": "a.jpg",
            "row_data": "https://storage.example/a.jpg",
            "details": {
                "dataset_id": "ds",
                "dataset_name": "d",
                "created_at": "2023-05-16T11:50:48.000+00:00",
            },
        },
        "media_attributes": {"height": 30, "width": 40, "mime_type": "image/jpeg"},
        "attachments": [],
        "metadata_fields": [{"schema_id": "m", "value": "v"}],
        "media_type": "IMAGE",
        "projects": {
            "proj1": {
                "name": "p",
                "labels": [label, {**copy.deepcopy(label), "id": "lab2"}],
                "project_details": {
                    "task_name": "Done",
                    "workflow_status": "DONE",
                    "priority": 5,
                    "workflow_history": [
                        {"action": "Approve", "created_at": "2023-01-01T00:00:00Z"}
                    ],
                },
            }
        },
    }


def test_base_v2_record_takes_the_fast_path_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = _base_v2_record()
    second["data_row"]["id"] = "dr2"
    src = tmp_path / "export.ndjson"
    src.write_text(json.dumps(_base_v2_record()) + "\n" + json.dumps(second) + "\n")
    counter = FastCounter(monkeypatch)
    lineage = Lineage("proj1", "b", LINEAGE.extracted_at, None, None)
    counts = flatten_both(src, tmp_path / "out", lineage)
    assert counter.taken == 2
    assert (counts["labels"], counts["objects"], counts["reviews"]) == (4, 20, 4)
    assert counts["classifications"] == 4 * 6 and counts["workflow_history"] == 2


@MUTATIONS
@given(data=st.data())
def test_mutated_v2_records_same_rows_both_paths(
    data: st.DataObject, tmp_path_factory: Any
) -> None:
    records = []
    for i in range(2):
        record = _base_v2_record()
        record["data_row"]["id"] = f"dr{i}"
        records.append(_mutated(record, data))
    out = tmp_path_factory.mktemp("mutated_v2")
    src = out / "export.ndjson"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    counts = flatten_both(src, out, Lineage("proj1", "b", LINEAGE.extracted_at, None, None))
    assert counts["data_rows"] + counts["rejects"] == len(records)
