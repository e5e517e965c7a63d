"""The export v2 shapes Labelbox's SDK tests recorded from the real server, one named test each.

The records are written here (own ids and values) in the shapes listed, with their sources, in
docs/export-shapes.md. Each goes through the whole flattener (``flatten_file``, fast paths on
and off: the same rows) and must keep every label, object and answer, with no reject.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.flatten import flatten_file
from labelbox_provider.transforms import TABLES, Lineage

pytestmark = pytest.mark.unit

PROJECT = "cproject0000000000000001"
LINEAGE = Lineage(PROJECT, "b-1", datetime(2026, 1, 1, tzinfo=UTC), None, None, "v2")
CONVERSATIONAL = "application/vnd.labelbox.conversational"


def _record(annotations: dict[str, Any], **fields: Any) -> dict[str, Any]:
    label = {
        "label_kind": fields.pop("label_kind", "Default"),
        "version": "1.0.0",
        "id": "clabel00000000000000001",
        "label_details": {"created_by": "rater@example.com"},
        "annotations": annotations,
    }
    return {
        "data_row": {"id": "cdatarow0000000000000001", "row_data": fields.pop("row_data", "u")},
        "media_attributes": fields.pop("media_attributes", {}),
        "projects": {PROJECT: {"name": "p", "labels": [label]}},
        **fields,
    }


def _flatten(record: dict[str, Any], tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table; the fast path and the row functions must agree."""
    src = tmp_path / "export.ndjson"
    src.write_text(json.dumps(record) + "\n")
    out: dict[bool, dict[str, list[dict[str, Any]]]] = {}
    for fast in (True, False):
        folder = tmp_path / f"out-{fast}"
        counts = flatten_file(src, folder, LINEAGE, fast=fast)
        assert counts["rejects"] == 0 and counts.stats == {"unknown_annotation_kinds": 0}
        out[fast] = {
            t: pq.read_table(folder / t / "part-00000.parquet").to_pylist()
            for t in TABLES
            if t != "tombstones"
        }
    assert out[True] == out[False]
    return out[True]


def _question(fid: str, **answer: Any) -> dict[str, Any]:
    return {"feature_id": fid, "feature_schema_id": f"s{fid}", "name": fid, "value": fid, **answer}


def _option(fid: str) -> dict[str, Any]:
    return {"feature_id": fid, "feature_schema_id": f"s{fid}", "name": fid, "value": fid}


def test_text_relationship_kind_reaches_relationships(tmp_path: Path) -> None:
    entity = {"feature_id": "e1", "name": "person", "annotation_kind": "TextEntity"}
    objects = [
        {**entity, "location": {"start": 0, "end": 4, "token": "Anna"}},
        {**entity, "feature_id": "e2", "location": {"start": 10, "end": 14, "token": "Bert"}},
    ]
    relationship = {
        "feature_id": "r1",
        "feature_schema_id": "srel",
        "name": "relation",
        "annotation_kind": "TextUnidirectionalRelationship",
        "relationship": {"source": "e1", "target": "e2", "type": "unidirectional"},
    }
    annotations = {"objects": objects, "classifications": [], "relationships": [relationship]}
    rows = _flatten(_record(annotations), tmp_path)
    (rel,) = rows["relationships"]
    assert (rel["feature_id"], rel["schema_id"], rel["annotation_kind"]) == (
        "r1",
        "srel",
        "TextUnidirectionalRelationship",
    )
    assert (rel["source_feature_id"], rel["target_feature_id"], rel["relationship_type"]) == (
        "e1",
        "e2",
        "unidirectional",
    )
    assert [o["text_token"] for o in rows["objects"]] == ["Anna", "Bert"]


def test_video_frame_ranged_classification_is_top_level_with_segments(tmp_path: Path) -> None:
    box = {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0}
    car = {"feature_id": "o1", "name": "car", "annotation_kind": "VideoBoundingBox"}
    frames = {
        str(n): {"objects": {"o1": {**car, "classifications": [], "bounding_box": box}}}
        for n in (13, 14, 15)
    }
    for frame in frames.values():
        frame["classifications"] = []
    annotations = {
        "frames": frames,
        "segments": {"o1": [[13, 15]], "c1": [[7, 13], [18, 19]]},
        "key_frame_feature_map": {"o1": {"13": True, "14": False, "15": True}},
        "classifications": [_question("c1", checklist_answers=[_option("a1"), _option("a2")])],
    }
    rows = _flatten(_record(annotations, label_kind="Video"), tmp_path)
    keyframes = [(o["frame_number"], o["keyframe"]) for o in rows["objects"]]
    assert keyframes == [(13, True), (14, False), (15, True)]
    answers = rows["classifications"]
    assert [a["answer_feature_id"] for a in answers] == ["a1", "a2"]
    assert all(a["frame_number"] is None and a["segments"] == [[7, 13], [18, 19]] for a in answers)


def test_conversational_row_keeps_the_inline_conversation(tmp_path: Path) -> None:
    conversation = {
        "type": CONVERSATIONAL,
        "version": 1,
        "messages": [{"messageId": "message-0", "content": "hi", "canLabel": True}],
    }
    attributes = {
        "asset_type": "conversational",
        "mime_type": CONVERSATIONAL,
        "labelable_ids": ["message-0"],
        "message_count": 1,
    }
    entity = {
        "feature_id": "o1",
        "name": "intent",
        "annotation_kind": "ConversationalTextEntity",
        "conversational_location": {"message_id": "message-0", "location": {"start": 0, "end": 2}},
    }
    scoped = _question("c1", message_id="message-0", conversational_text_answer={"content": "x"})
    annotations = {"objects": [entity], "classifications": [scoped], "relationships": []}
    record = _record(annotations, row_data=json.dumps(conversation), media_attributes=attributes)
    rows = _flatten(record, tmp_path)
    (data_row,) = rows["data_rows"]
    assert data_row["row_data_url"] is None
    assert json.loads(data_row["row_data_json"]) == conversation
    assert rows["labels"][0]["row_data_url"] is None
    assert [o["message_id"] for o in rows["objects"]] == ["message-0"]
    assert [(c["message_id"], c["text_answer"]) for c in rows["classifications"]] == [
        ("message-0", "x")
    ]


def test_audio_timestamp_is_kept_whole(tmp_path: Path) -> None:
    timestamp = {"c2": {"feature_id": "c2", "ranges": [[1000, 2500]]}}  # layout unknown
    annotations = {
        "classifications": [_question("c1", text_answer={"content": "speech"})],
        "segments": {},
        "timestamp": timestamp,
    }
    rows = _flatten(_record(annotations), tmp_path)
    (label,) = rows["labels"]
    assert json.loads(label["timestamp_json"]) == timestamp
    assert [c["text_answer"] for c in rows["classifications"]] == ["speech"]


def test_dicom_three_planes_and_a_mask(tmp_path: Path) -> None:
    line = {
        "feature_id": "o1",
        "name": "vessel",
        "annotation_kind": "DICOMPolyline",
        "classifications": [],
        "line": [{"x": 1.0, "y": 2.0}, {"x": 3.0, "y": 4.0}],
    }
    mask = {
        "feature_id": "o2",
        "name": "lesion",
        "annotation_kind": "DICOMSegmentationMask",  # kind not recorded: a guess
        "classifications": [],
        "mask": {"url": "https://api.example/mask/o2"},
    }
    groups = {
        "Axial": {"name": "Axial", "classifications": [], "frames": {}},
        "Sagittal": {
            "name": "Sagittal",
            "classifications": [],
            "frames": {"2": {"objects": {"o1": line}, "classifications": []}},
        },
        "Coronal": {
            "name": "Coronal",
            "classifications": [],
            "frames": {"5": {"objects": {"o2": mask}, "classifications": []}},
        },
    }
    annotations = {
        "groups": groups,
        "segments": {"Axial": {}, "Sagittal": {"o1": [[2, 2]]}, "Coronal": {"o2": [[5, 5]]}},
        "key_frame_feature_map": {
            "o1": {"Axial": {}, "Sagittal": {"2": True}, "Coronal": {}},
            "o2": {"Axial": {}, "Sagittal": {}, "Coronal": {"5": True}},
        },
        "classifications": [],
    }
    rows = _flatten(_record(annotations), tmp_path)
    got = [
        (o["feature_id"], o["group_name"], o["frame_number"], o["keyframe"], o["kind"])
        for o in rows["objects"]
    ]
    assert got == [("o1", "Sagittal", 2, True, "polyline"), ("o2", "Coronal", 5, True, "mask")]
    assert rows["objects"][1]["mask_url"] == "https://api.example/mask/o2"


def test_pdf_page_numbers_are_kept_one_based(tmp_path: Path) -> None:
    box = {
        "feature_id": "o1",
        "name": "figure",
        "annotation_kind": "DocumentBoundingBox",
        "page_number": 1,
        "bounding_box": {"top": 1.0, "left": 1.0, "height": 2.0, "width": 2.0},
        "page_dimensions": {"height": 792.0, "width": 612.0},
    }
    tokens = {
        "feature_id": "o2",
        "name": "phrase",
        "annotation_kind": "DocumentEntityToken",
        "location": {"groups": [{"id": "g", "page_number": 3, "tokens": ["t"], "text": "w"}]},
    }
    annotations = {"objects": [box, tokens], "classifications": [], "relationships": []}
    rows = _flatten(_record(annotations), tmp_path)
    assert [o["page_number"] for o in rows["objects"]] == [1, None]
    assert json.loads(rows["objects"][1]["token_groups_json"])[0]["page_number"] == 3


@pytest.mark.parametrize(
    "questions",
    [
        pytest.param(["prompt-text"], id="prompt-creation"),
        pytest.param(["prompt-text", "response-text"], id="prompt-response-creation"),
        pytest.param(["response-text"], id="response-creation"),
    ],
)
def test_llm_creation_projects_are_free_text_classifications(
    questions: list[str], tmp_path: Path
) -> None:
    texts = [_question(q, text_answer={"content": f"the {q}"}) for q in questions]
    rating = _question("quality", radio_answer={**_option("good"), "classifications": []})
    annotations = {"objects": [], "classifications": [*texts, rating], "relationships": []}
    rows = _flatten(_record(annotations), tmp_path)
    got = [(c["name"], c["text_answer"] or c["answer_name"]) for c in rows["classifications"]]
    assert got == [*((q, f"the {q}") for q in questions), ("quality", "good")]


def _evaluation(fid: str, kind: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
    head = {"feature_id": fid, "feature_schema_id": f"s{fid}", "name": fid}
    return {**head, "annotation_kind": kind, "classifications": [], key: value}


def test_chat_evaluation_selections_and_rankings(tmp_path: Path) -> None:
    single = _evaluation(
        "o1",
        "MessageSingleSelection",
        "selected_message",
        {"message_id": "m2", "model_config_name": "cfg-a", "parent_message_id": "m1"},
    )
    multi = _evaluation(
        "o2",
        "MessageMultiSelection",
        "selected_messages",
        {
            "messages": [
                {"message_id": "m2", "model_config_name": "cfg-a"},
                {"message_id": "m3", "model_config_name": "cfg-b"},
            ],
            "parent_message_id": "m1",
        },
    )
    ranking = _evaluation(
        "o3",
        "MessageRanking",
        "ranked_messages",
        {
            "ranked_messages": [
                {"message_id": "m3", "model_config_name": "cfg-b", "order": 1},
                {"message_id": "m2", "model_config_name": "cfg-a", "order": 2},
            ],
            "parent_message_id": "m1",
        },
    )
    scoped = _question(
        "c1", message_id="m1", conversational_radio_answer={**_option("a"), "classifications": []}
    )
    annotations = {
        "objects": [single, multi, ranking],
        "classifications": [scoped],
        "relationships": [],
    }
    rows = _flatten(_record(annotations), tmp_path)
    kinds = [o["kind"] for o in rows["objects"]]
    assert kinds == ["message_selection", "message_selection", "message_ranking"]
    got = [
        (r["feature_id"], r["message_id"], r["model_config_name"], r["selected"], r["rank"])
        for r in rows["message_evaluations"]
    ]
    assert got == [
        ("o1", "m2", "cfg-a", True, None),
        ("o2", "m2", "cfg-a", True, None),
        ("o2", "m3", "cfg-b", True, None),
        ("o3", "m3", "cfg-b", None, 1),
        ("o3", "m2", "cfg-a", None, 2),
    ]
    evaluation = rows["message_evaluations"][0]
    assert (evaluation["parent_message_id"], evaluation["rated_by"]) == ("m1", "rater@example.com")
    assert evaluation["annotation_kind"] == "MessageSingleSelection"
    assert [(c["message_id"], c["answer_name"]) for c in rows["classifications"]] == [("m1", "a")]


def test_data_row_without_a_project_keeps_its_row(tmp_path: Path) -> None:
    record = {"data_row": {"id": "cdatarow0000000000000009", "row_data": "u"}, "projects": {}}
    rows = _flatten(record, tmp_path)
    (data_row,) = rows["data_rows"]
    assert (data_row["data_row_id"], data_row["project_id"]) == (
        "cdatarow0000000000000009",
        PROJECT,
    )
    assert (data_row["label_count"], data_row["project_name"]) == (0, None)
    assert rows["labels"] == []
    cli = Lineage("", "b-1", LINEAGE.extracted_at, None, None, "v2")  # no project given
    src = tmp_path / "one.ndjson"
    src.write_text(json.dumps(record) + "\n")
    counts = flatten_file(src, tmp_path / "cli", cli)
    assert (counts["data_rows"], counts["rejects"]) == (1, 0)
    (row,) = pq.read_table(tmp_path / "cli" / "data_rows" / "part-00000.parquet").to_pylist()
    assert row["project_id"] == ""
