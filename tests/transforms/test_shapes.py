"""Every annotation shape of spec sections 3 and 4.7, one named case each, v1 and v2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from labelbox_provider.exceptions import TransformError

from ._transform_helpers import rows_v1, rows_v2, v1_record, v2_record

pytestmark = pytest.mark.unit

V1_OBJECT_CASES = [
    pytest.param(
        {"bbox": {"top": 1333, "left": 965, "height": 186, "width": 594}},
        {"kind": "bbox", "bbox_top": 1333.0, "bbox_left": 965.0, "bbox_width": 594.0},
        id="v1-bbox",
    ),
    pytest.param(
        {"polygon": [{"x": 1.5, "y": 2}, {"x": 3, "y": 4}, {"x": 5, "y": 1}]},
        {"kind": "polygon", "points": [{"x": 1.5, "y": 2.0}, {"x": 3, "y": 4}, {"x": 5, "y": 1}]},
        id="v1-polygon",
    ),
    pytest.param(
        {"line": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]},
        {"kind": "polyline", "points": [{"x": 1.0, "y": 2.0}, {"x": 3.0, "y": 4.0}]},
        id="v1-polyline",
    ),
    pytest.param(
        {"point": {"x": 660.353, "y": 140.867}},
        {"kind": "point", "point_x": 660.353, "point_y": 140.867},
        id="v1-point",
    ),
    pytest.param(
        {"instanceURI": "https://api.labelbox.com/masks/feature/f1?token=t"},
        {"kind": "mask", "mask_url": "https://api.labelbox.com/masks/feature/f1?token=t"},
        id="v1-mask-instanceURI",
    ),
    pytest.param(
        {"data": {"location": {"start": 25, "end": 44}}, "format": "text.location", "version": 1},
        {"kind": "text_entity", "text_start": 25, "text_end": 44},
        id="v1-text-entity",
    ),
    pytest.param(
        {"data": {"location": {"start": 0, "end": 8, "messageId": "2"}}},
        {"kind": "conversational_entity", "message_id": "2", "text_end": 8},
        id="v1-conversational-entity",
    ),
    pytest.param(
        {"bbox": {"top": 1, "left": 2, "height": 3, "width": 4}, "page": 0, "unit": "POINTS"},
        {"kind": "bbox", "page_number": 1, "page_unit": "POINTS"},
        id="v1-document-bbox-page",
    ),
    pytest.param(
        {"textSelections": [{"groupId": "g", "tokenIds": ["t1", "t2"], "page": 2}]},
        {
            "kind": "document_entity",
            "token_groups_json": '[{"id":"g","page_number":3,"tokens":["t1","t2"]}]',
        },
        id="v1-document-token-groups",
    ),
    pytest.param(
        {"type": "point", "geometry": {"coordinates": [-122.4, 37.7]}},
        {"kind": "point", "point_x": -122.4, "point_y": 37.7, "geo_type": "point"},
        id="v1-geo-point",
    ),
    pytest.param(
        {"type": "polygon", "geometry": {"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
        {"kind": "polygon", "points": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}]},
        id="v1-geo-polygon-closed-ring-opened",
    ),
    pytest.param(
        {"type": "polyline", "geometry": {"coordinates": [[0, 0], [2, 1]]}},
        {"kind": "polyline", "points": [{"x": 0, "y": 0}, {"x": 2, "y": 1}]},
        id="v1-geo-polyline",
    ),
    pytest.param(
        {"type": "rectangle", "geometry": {"coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1]]]}},
        {"kind": "bbox", "bbox_top": 1.0, "bbox_left": 0.0, "bbox_height": 1.0, "bbox_width": 2},
        id="v1-geo-rectangle",
    ),
    pytest.param(
        {"cuboid": {"position": [1, 2, 3]}},
        {"kind": "cuboid", "cuboid_json": '{"position":[1,2,3]}'},
        id="v1-cuboid",
    ),
]


@pytest.mark.parametrize(("geometry", "expected"), V1_OBJECT_CASES)
def test_v1_object_shapes(geometry: dict[str, Any], expected: dict[str, Any]) -> None:
    obj = {"featureId": "f1", "schemaId": "s1", "title": "Tool", "value": "tool", **geometry}
    rows = rows_v1(v1_record({"objects": [obj], "classifications": []}))
    (row,) = rows["objects"]
    assert {k: row.get(k) for k in expected} == expected
    assert (row["feature_id"], row["schema_id"], row["name"], row["value"]) == (
        "f1",
        "s1",
        "Tool",
        "tool",
    )


V2_OBJECT_CASES = [
    pytest.param(
        {
            "annotation_kind": "ImageBoundingBox",
            "bounding_box": {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0},
        },
        {"kind": "bbox", "bbox_height": 3.0, "annotation_kind": "ImageBoundingBox"},
        id="v2-bbox",
    ),
    pytest.param(
        {
            "annotation_kind": "ImagePolygon",
            "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}, {"x": 0, "y": 0}],
        },
        {"kind": "polygon", "points": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}]},
        id="v2-polygon-closed",
    ),
    pytest.param(
        {"annotation_kind": "ImagePolyline", "line": [{"x": 0, "y": 0}, {"x": 1, "y": 2}]},
        {"kind": "polyline", "points": [{"x": 0, "y": 0}, {"x": 1, "y": 2}]},
        id="v2-polyline",
    ),
    pytest.param(
        {"annotation_kind": "ImagePoint", "point": {"x": 3, "y": 4}},
        {"kind": "point", "point_x": 3.0, "point_y": 4.0},
        id="v2-point",
    ),
    pytest.param(
        {"annotation_kind": "ImageSegmentationMask", "mask": {"url": "https://m/mask"}},
        {"kind": "mask", "mask_url": "https://m/mask", "mask_color_rgb": None},
        id="v2-mask",
    ),
    pytest.param(
        {
            "annotation_kind": "ImageSegmentationMask",
            "composite_mask": {"url": "https://m/c", "color_rgb": [1, 2, 3]},
        },
        {"kind": "mask", "mask_url": "https://m/c", "mask_color_rgb": [1, 2, 3]},
        id="v2-composite-mask",
    ),
    pytest.param(
        {"annotation_kind": "TextEntity", "location": {"start": 112, "end": 128, "token": "rs"}},
        {"kind": "text_entity", "text_start": 112, "text_end": 128, "text_token": "rs"},
        id="v2-text-entity",
    ),
    pytest.param(
        {
            "annotation_kind": "ConversationalTextEntity",
            "conversational_location": {"message_id": "0", "location": {"start": 0, "end": 8}},
        },
        {"kind": "conversational_entity", "message_id": "0", "text_start": 0, "text_end": 8},
        id="v2-conversational-entity",
    ),
    pytest.param(
        {
            "annotation_kind": "DocumentBoundingBox",
            "page_number": 1,
            "bounding_box": {"top": 1, "left": 1, "height": 1, "width": 1},
            "page_dimensions": {"height": 792.0, "width": 612.0},
        },
        {"kind": "bbox", "page_number": 1, "page_height": 792.0, "page_width": 612.0},
        id="v2-document-bbox",
    ),
    pytest.param(
        {
            "annotation_kind": "DocumentEntityToken",
            "location": {
                "groups": [{"id": "g", "page_number": 3, "tokens": ["t1"], "text": "hello"}]
            },
        },
        {
            "kind": "document_entity",
            "text_token": "hello",
            "token_groups_json": '[{"id":"g","page_number":3,"tokens":["t1"]}]',
        },
        id="v2-document-token-groups",
    ),
]


@pytest.mark.parametrize(("geometry", "expected"), V2_OBJECT_CASES)
def test_v2_object_shapes(geometry: dict[str, Any], expected: dict[str, Any]) -> None:
    obj = {"feature_id": "f1", "feature_schema_id": "s1", "name": "Tool", **geometry}
    rows = rows_v2(v2_record({"objects": [obj], "classifications": [], "relationships": []}))
    (row,) = rows["objects"]
    assert {k: row.get(k) for k in expected} == expected
    assert (row["feature_id"], row["schema_id"], row["name"]) == ("f1", "s1", "Tool")


def test_v1_unknown_kind_keeps_the_object_whole() -> None:
    bad = {"featureId": "f", "title": "x", "hologram": {"z": 1}}
    rows = rows_v1(v1_record({"objects": [bad]}))
    (row,) = rows["objects"]
    assert (row["feature_id"], row["kind"]) == ("f", "unknown")
    assert msgspec.json.decode(row["extra_json"]) == bad
    assert len(rows["labels"]) == 1


def test_v1_malformed_geo_object_raises() -> None:
    with pytest.raises(TransformError):
        rows_v1(v1_record({"objects": [{"featureId": "f", "type": "circle", "geometry": {}}]}))


def test_v2_unknown_annotation_kind_keeps_label_and_known_annotations() -> None:
    obj = {"feature_id": "f", "annotation_kind": "ImageHologram", "hologram": {"z": 1}}
    box = {"feature_id": "b", "annotation_kind": "ImageBoundingBox", "bounding_box": {"top": 1}}
    question = {"feature_id": "q", "name": "ok", "text_answer": {"content": "fine"}}
    rows = rows_v2(v2_record({"objects": [obj, box], "classifications": [question]}))
    assert len(rows["data_rows"]) == 1 and len(rows["labels"]) == 1
    unknown, known = rows["objects"]
    assert (unknown["kind"], unknown["annotation_kind"]) == ("unknown", "ImageHologram")
    assert msgspec.json.decode(unknown["extra_json"]) == obj
    assert (known["kind"], known["bbox_top"]) == ("bbox", 1)
    assert [r["text_answer"] for r in rows["classifications"]] == ["fine"]


def _answers(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["feature_id"], r["kind"], r.get("answer_name"), r.get("text_answer"), r["depth"])
        for r in rows
    ]


V1_CLASSIFICATION_CASES = [
    pytest.param(
        {"featureId": "q", "title": "Q", "answer": {"featureId": "a", "title": "yes"}},
        [("q", "radio", "yes", None, 0)],
        id="v1-radio",
    ),
    pytest.param(
        {"featureId": "q", "title": "Q", "answers": [{"title": "a"}, {"title": "b"}]},
        [("q", "checklist", "a", None, 0), ("q", "checklist", "b", None, 0)],
        id="v1-checklist",
    ),
    pytest.param(
        {"featureId": "q", "title": "Q", "answer": [{"featureId": "a", "title": "only"}]},
        [("q", "dropdown", "only", None, 0)],
        id="v1-dropdown-list-answer",
    ),
    pytest.param(
        {"featureId": "q", "title": "Q", "answer": "hmmm"},
        [("q", "text", None, "hmmm", 0)],
        id="v1-free-text",
    ),
    pytest.param(
        {"featureId": "q", "title": "Q", "messageId": "3", "answer": {"title": "ok"}},
        [("q", "radio", "ok", None, 0)],
        id="v1-conversational-radio",
    ),
    pytest.param(
        {
            "featureId": "q1",
            "answer": {
                "featureId": "a1",
                "title": "A1",
                "classifications": [
                    {
                        "featureId": "q2",
                        "answer": {
                            "featureId": "a2",
                            "title": "A2",
                            "classifications": [{"featureId": "q3", "answers": [{"title": "A3"}]}],
                        },
                    }
                ],
            },
        },
        [
            ("q1", "radio", "A1", None, 0),
            ("q2", "radio", "A2", None, 1),
            ("q3", "checklist", "A3", None, 2),
        ],
        id="v1-nested-depth-3",
    ),
]


@pytest.mark.parametrize(("question", "expected"), V1_CLASSIFICATION_CASES)
def test_v1_classification_shapes(question: dict[str, Any], expected: list[Any]) -> None:
    rows = rows_v1(v1_record({"objects": [], "classifications": [question]}))
    assert _answers(rows["classifications"]) == expected
    assert all(r["parent_object_feature_id"] is None for r in rows["classifications"])


def test_v1_nested_tree_keeps_parents() -> None:
    question = V1_CLASSIFICATION_CASES[-1].values[0]
    obj = {"featureId": "o1", "point": {"x": 1, "y": 1}, "classifications": [question]}
    rows = rows_v1(v1_record({"objects": [obj]}))["classifications"]
    parents = [(r["parent_feature_id"], r["parent_answer_feature_id"]) for r in rows]
    assert parents == [(None, None), ("q1", "a1"), ("q2", "a2")]
    assert {r["parent_object_feature_id"] for r in rows} == {"o1"}


def test_v1_checklist_extra_list_quirk() -> None:
    nested = [
        [
            {"featureId": "q", "answers": [{"title": "wet"}, {"title": "dry"}]},
            {"featureId": "r", "answer": {"title": "x"}},
        ]
    ]
    obj = {"featureId": "o", "point": {"x": 0, "y": 0}, "classifications": nested}
    rows = rows_v1(v1_record({"objects": [obj]}))["classifications"]
    assert [(r["feature_id"], r["answer_name"]) for r in rows] == [
        ("q", "wet"),
        ("q", "dry"),
        ("r", "x"),
    ]


def test_v1_classification_without_answer_raises() -> None:
    with pytest.raises(TransformError, match="neither"):
        rows_v1(v1_record({"classifications": [{"featureId": "q", "title": "Q"}]}))


V2_CLASSIFICATION_CASES = [
    pytest.param(
        {
            "feature_id": "q",
            "name": "Q",
            "radio_answer": {"feature_id": "a", "name": "yes", "classifications": []},
        },
        [("q", "radio", "yes", None, 0)],
        id="v2-radio",
    ),
    pytest.param(
        {"feature_id": "q", "checklist_answers": [{"name": "a"}, {"name": "b"}]},
        [("q", "checklist", "a", None, 0), ("q", "checklist", "b", None, 0)],
        id="v2-checklist",
    ),
    pytest.param(
        {"feature_id": "q", "text_answer": {"content": "free form"}},
        [("q", "text", None, "free form", 0)],
        id="v2-text",
    ),
    pytest.param(
        {
            "feature_id": "q",
            "message_id": "1",
            "conversational_checklist_answers": [
                {"name": "a", "message_id": "1"},
                {"name": "b", "message_id": "2"},
            ],
        },
        [("q", "checklist", "a", None, 0), ("q", "checklist", "b", None, 0)],
        id="v2-conversational-checklist",
    ),
    pytest.param(
        {"feature_id": "q", "conversational_text_answer": {"content": "hi", "message_id": "4"}},
        [("q", "text", None, "hi", 0)],
        id="v2-conversational-text",
    ),
    pytest.param(
        {
            "feature_id": "q1",
            "radio_answer": {
                "feature_id": "a1",
                "name": "A1",
                "classifications": [
                    {
                        "feature_id": "q2",
                        "checklist_answers": [
                            {
                                "feature_id": "a2",
                                "name": "A2",
                                "classifications": [
                                    {"feature_id": "q3", "text_answer": {"content": "deep"}}
                                ],
                            }
                        ],
                    }
                ],
            },
        },
        [
            ("q1", "radio", "A1", None, 0),
            ("q2", "checklist", "A2", None, 1),
            ("q3", "text", None, "deep", 2),
        ],
        id="v2-nested-depth-3",
    ),
]


@pytest.mark.parametrize(("question", "expected"), V2_CLASSIFICATION_CASES)
def test_v2_classification_shapes(question: dict[str, Any], expected: list[Any]) -> None:
    rows = rows_v2(v2_record({"objects": [], "classifications": [question]}))
    assert _answers(rows["classifications"]) == expected


def test_v2_conversational_message_ids() -> None:
    question = V2_CLASSIFICATION_CASES[3].values[0]
    rows = rows_v2(v2_record({"classifications": [question]}))["classifications"]
    assert [r["message_id"] for r in rows] == ["1", "2"]


def test_v1_video_frames_inlined_keyframes() -> None:
    frames = [
        {
            "frameNumber": 1,
            "classifications": [{"featureId": "g", "answer": {"title": "day"}}],
            "objects": [
                {
                    "featureId": "o",
                    "keyframe": True,
                    "bbox": {"top": 0, "left": 0, "height": 1, "width": 1},
                }
            ],
        },
        {
            "frameNumber": 2,
            "classifications": [],
            "objects": [
                {
                    "featureId": "o",
                    "keyframe": False,
                    "bbox": {"top": 1, "left": 0, "height": 1, "width": 1},
                }
            ],
        },
    ]
    rows = rows_v1(v1_record(frames))
    assert [(r["frame_number"], r["keyframe"]) for r in rows["objects"]] == [(1, True), (2, False)]
    assert [r["frame_number"] for r in rows["classifications"]] == [1]


def test_v1_video_frames_from_frames_dir(tmp_path: Path) -> None:
    line = '{"frameNumber": 5, "classifications": [], "objects": [{"featureId": "o", "point": {"x": 1, "y": 2}}]}\n'  # noqa: E501
    (tmp_path / "lab1.ndjson").write_text(line + "\n" + line.replace("5", "6", 1))
    label = {
        "objects": [],
        "classifications": [],
        "relationships": [],
        "frames": "https://api.labelbox.com/v1/frames/lab1",
    }
    rows = rows_v1(v1_record(label), frames_dir=tmp_path)
    assert [r["frame_number"] for r in rows["objects"]] == [5, 6]
    assert rows["labels"][0]["frames_url"] == "https://api.labelbox.com/v1/frames/lab1"


def test_v1_video_frames_missing_is_an_error(tmp_path: Path) -> None:
    label = {"objects": [], "frames": "https://api.labelbox.com/v1/frames/lab1"}
    with pytest.raises(TransformError, match="video frames not fetched"):
        rows_v1(v1_record(label), frames_dir=tmp_path)


def test_v2_video_frames_keyframes_and_segments() -> None:
    box = {"top": 1.0, "left": 1.0, "height": 1.0, "width": 1.0}
    obj = {
        "feature_id": "o",
        "name": "bbox",
        "annotation_kind": "VideoBoundingBox",
        "bounding_box": box,
        "classifications": [
            {
                "feature_id": "n",
                "name": "nested",
                "radio_answer": {"feature_id": "a", "name": "r1", "classifications": []},
            }
        ],
    }
    annotations = {
        "frames": {
            "13": {"objects": {"o": obj}, "classifications": []},
            "14": {"objects": {"o": {**obj, "classifications": []}}, "classifications": []},
        },
        "segments": {"o": [[13, 14]]},
        "key_frame_feature_map": {"o": {"13": True}},
        "classifications": [],
    }
    rows = rows_v2(v2_record(annotations, label={"label_kind": "Video"}))
    objects = rows["objects"]
    assert [(r["frame_number"], r["keyframe"]) for r in objects] == [(13, True), (14, False)]
    assert objects[0]["segments"] == [[13, 14]]
    (nested,) = rows["classifications"]
    assert (nested["frame_number"], nested["parent_object_feature_id"]) == (13, "o")


def test_v2_audio_classifications() -> None:
    annotations = {
        "classifications": [{"feature_id": "q", "text_answer": {"content": "x"}}],
        "segments": {},
        "timestamp": {"q": [[0, 10]]},
    }
    rows = rows_v2(v2_record(annotations))
    assert _answers(rows["classifications"]) == [("q", "text", None, "x", 0)]
    (label,) = rows["labels"]
    assert msgspec.json.decode(label["timestamp_json"]) == {"q": [[0, 10]]}  # kept whole
    assert label["extra_json"] is None  # in its own column, not extra


def test_v2_audio_empty_timestamp_is_null() -> None:
    annotations = {"classifications": [], "segments": {}, "timestamp": {}}
    (label,) = rows_v2(v2_record(annotations))["labels"]
    assert (label["timestamp_json"], label["extra_json"]) == (None, None)


def test_v2_dicom_groups() -> None:
    line = {
        "feature_id": "o",
        "annotation_kind": "DICOMPolyline",
        "line": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
    }
    group = {
        "name": "Axial",
        "frames": {"3": {"objects": {"o": line}, "classifications": []}},
        "segments": {"o": [[3, 3]]},
        "key_frame_feature_map": {"o": {"3": True}},
    }
    rows = rows_v2(v2_record({"groups": {"Axial": group, "Sagittal": {"frames": {}}}}))
    (obj,) = rows["objects"]
    assert (obj["group_name"], obj["frame_number"], obj["keyframe"]) == ("Axial", 3, True)
    assert obj["segments"] == [[3, 3]]


def test_v2_dicom_plane_keyed_maps() -> None:
    line = {"feature_id": "o", "line": [{"x": 0, "y": 0}]}
    annotations = {
        "groups": {"Axial": {"frames": {"3": {"objects": {"o": line}}}}},
        "segments": {"Axial": {"o": [[3, 4]]}},
        "key_frame_feature_map": {"o": {"Axial": {"3": True}}},
    }
    (obj,) = rows_v2(v2_record(annotations))["objects"]
    assert (obj["keyframe"], obj["segments"]) == (True, [[3, 4]])


def test_v1_skipped_label_2020_key_set() -> None:
    record = v1_record({})
    for key in ("DataRow Metadata", "Media Attributes", "Has Open Issues", "Skipped", "Data Split"):
        del record[key]
    rows = rows_v1(record)
    (label,) = rows["labels"]
    assert label["skipped"] is True
    assert label["has_open_issues"] is None and label["extra_json"] is None
    assert rows["objects"] == [] and rows["classifications"] == []


def test_v1_relationships_and_reviews() -> None:
    label = {
        "objects": [],
        "relationships": [
            {
                "featureId": "r",
                "schemaId": "s",
                "data": {"source": "o1", "target": "o2", "label": "verb"},
                "relationshipType": "bidirectional",
                "version": 1,
            }
        ],
    }
    review = {
        "score": 1,
        "id": "rv",
        "createdAt": "2021-11-11T19:21:13.000Z",
        "createdBy": "e@x",
        "labelId": "lab1",
    }
    rows = rows_v1(v1_record(label, Reviews=[review]))
    (rel,) = rows["relationships"]
    assert (rel["source_feature_id"], rel["target_feature_id"], rel["relationship_type"]) == (
        "o1",
        "o2",
        "bidirectional",
    )
    assert rel["relationship_label"] == "verb"
    (rv,) = rows["reviews"]
    assert (rv["review_id"], rv["score"], rv["created_at"].isoformat()) == (
        "rv",
        1.0,
        "2021-11-11T19:21:13+00:00",
    )


def test_v1_workflow_history() -> None:
    info = {
        "taskName": "Done",
        "Workflow History": [
            {
                "actorId": "u1",
                "action": "Approve",
                "createdAt": "2023-07-25T13:00:51.963Z",
                "previousTaskId": "t1",
                "previousTaskName": "Review",
            },
            {
                "actorId": "u1",
                "action": "Move",
                "createdAt": "2023-07-24T13:00:51.963Z",
                "nextTaskId": "t1",
                "nextTaskName": "Review",
            },
        ],
    }
    rows = rows_v1(v1_record({}, **{"DataRow Workflow Info": info}))
    steps = rows["workflow_history"]
    assert [(s["position"], s["action"], s["next_task_name"]) for s in steps] == [
        (0, "Approve", None),
        (1, "Move", "Review"),
    ]
    assert rows["labels"][0]["workflow_task_name"] == "Done"


def test_v2_reviews_with_review_action() -> None:
    review = {
        "id": "r1",
        "reviewer": "e@x",
        "reviewed_at": "2026-01-01T05:36:19.110+00:00",
        "review_action": "Reject",
    }
    rows = rows_v2(v2_record({}, label={"label_details": {"reviews": [review]}}))
    (rv,) = rows["reviews"]
    assert (rv["review_id"], rv["score"], rv["created_by"]) == ("r1", -1.0, "e@x")


def test_v2_other_projects_ignored() -> None:
    record = v2_record({"objects": []})
    record["projects"]["other"] = {"labels": [{"id": "x", "annotations": {}}]}
    rows = rows_v2(record)
    assert [r["label_id"] for r in rows["labels"]] == ["lab1"]


def test_unknown_fields_are_kept_in_extra_json() -> None:
    obj = {"featureId": "o", "point": {"x": 0, "y": 0}, "newField": 7}
    rows = rows_v1(v1_record({"objects": [obj]}, **{"Brand New Key": "v"}))
    assert rows["objects"][0]["extra_json"] == '{"newField":7}'
    assert rows["labels"][0]["extra_json"] == '{"Brand New Key":"v"}'
