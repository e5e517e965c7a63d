"""The emulator serves the export v2 shapes Labelbox's SDK recorded (docs/export-shapes.md).

One named test per shape, on the records the world renders: relationship kinds, video
frame-ranged classifications and keyframe maps, the conversational data row, audio, DICOM
planes, PDF pages, LLM creation projects and chat evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from labelbox_provider.emulator.world import (
    ALL_MEDIA_TYPES,
    LLM_MEDIA_TYPES,
    ExportFilter,
    V2Params,
    World,
)

pytestmark = pytest.mark.unit

CONVERSATIONAL = "application/vnd.labelbox.conversational"


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=5, media_types=[*ALL_MEDIA_TYPES, *LLM_MEDIA_TYPES], labels_per_project=12)


def _records(world: World, media: str, **params: bool) -> list[dict[str, Any]]:
    pid = next(p.id for p in world.projects() if p.media_type == media)
    return list(world.iter_v2(pid, ExportFilter(), V2Params(**params)))


def _labels(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for record in records:
        for project in record["projects"].values():
            yield from project["labels"]


def test_relationships_are_named_as_the_api_names_them(world: World) -> None:
    seen = {}
    for media in ("IMAGE", "TEXT", "CONVERSATIONAL"):
        for label in _labels(_records(world, media)):
            for rel in label["annotations"]["relationships"]:
                kind = rel["annotation_kind"]
                direction = rel["relationship"]["type"]
                assert kind.endswith(f"{direction.capitalize()}Relationship")
                assert rel["feature_id"] and rel["feature_schema_id"] and rel["name"]
                objects = {o["feature_id"] for o in label["annotations"]["objects"]}
                assert {rel["relationship"]["source"], rel["relationship"]["target"]} <= objects
                seen[media] = kind
    assert seen["TEXT"].startswith("Text") and seen["CONVERSATIONAL"].startswith("Text")
    assert seen["IMAGE"].startswith("Image")


def test_video_frame_classifications_are_top_level_with_segments(world: World) -> None:
    ranged = 0
    for label in _labels(_records(world, "VIDEO", include_interpolated_frames=True)):
        ann = label["annotations"]
        assert set(ann) == {"frames", "segments", "key_frame_feature_map", "classifications"}
        assert all(frame["classifications"] == [] for frame in ann["frames"].values())
        top = {c["feature_id"] for c in ann["classifications"]}
        for fid, ranges in ann["segments"].items():
            if fid in top:  # a frame-ranged classification: no keyframe map of its own
                ranged += 1
                assert fid not in ann["key_frame_feature_map"] and ranges
        for fid, keymap in ann["key_frame_feature_map"].items():
            for frame, is_key in keymap.items():
                assert fid in ann["frames"][frame]["objects"]
                assert is_key in (True, False)
    assert ranged > 0


def test_video_keyframe_map_has_false_entries_for_interpolated_frames(world: World) -> None:
    keymaps = [
        m
        for label in _labels(_records(world, "VIDEO", include_interpolated_frames=True))
        for m in label["annotations"]["key_frame_feature_map"].values()
    ]
    assert any(False in m.values() for m in keymaps) and any(True in m.values() for m in keymaps)
    without = [
        m
        for label in _labels(_records(world, "VIDEO"))
        for m in label["annotations"]["key_frame_feature_map"].values()
    ]
    assert all(all(m.values()) for m in without)  # no interpolated frames: keyframes only


def test_conversational_data_row_is_inline(world: World) -> None:
    records = _records(world, "CONVERSATIONAL")
    assert records
    for record in records:
        attributes = record["media_attributes"]
        assert attributes["mime_type"] == CONVERSATIONAL
        conversation = json.loads(record["data_row"]["row_data"])
        assert conversation["type"] == CONVERSATIONAL
        ids = [m["messageId"] for m in conversation["messages"]]
        assert ids == attributes["labelable_ids"] == [f"message-{n}" for n in range(len(ids))]
        for label in _labels([record]):
            for obj in label["annotations"]["objects"]:
                assert obj["conversational_location"]["message_id"] in ids
            scoped = [c for c in label["annotations"]["classifications"] if "message_id" in c]
            assert all(c["message_id"] in ids for c in scoped)


def test_audio_has_the_timestamp_block(world: World) -> None:
    labels = list(_labels(_records(world, "AUDIO")))
    assert labels
    for label in labels:
        assert set(label["annotations"]) == {"classifications", "segments", "timestamp"}


def test_dicom_has_all_three_planes_and_masks(world: World) -> None:
    planes_used, kinds = set(), set()
    for label in _labels(_records(world, "DICOM")):
        ann = label["annotations"]
        assert list(ann["groups"]) == ["Axial", "Sagittal", "Coronal"]
        assert set(ann["segments"]) == {"Axial", "Sagittal", "Coronal"}
        for plane, group in ann["groups"].items():
            assert group["name"] == plane
            for frame in group["frames"].values():
                for fid, obj in frame["objects"].items():
                    planes_used.add(plane)
                    kinds.add(obj["annotation_kind"])
                    if obj["annotation_kind"] == "DICOMSegmentationMask":  # a guessed kind
                        assert obj["mask"]["url"].endswith(f"/masks/feature/{fid}")
                    assert fid in ann["segments"][plane]
                    assert set(ann["key_frame_feature_map"][fid]) == set(ann["groups"])
    assert len(planes_used) >= 2  # objects land on more than one plane
    assert kinds == {"DICOMPolyline", "DICOMSegmentationMask"}


def test_pdf_pages_count_from_one_in_v2_and_zero_in_v1(world: World) -> None:
    pid = next(p.id for p in world.projects() if p.media_type == "PDF")
    v2_pages = {
        o["feature_id"]: o["page_number"]
        for label in _labels(_records(world, "PDF"))
        for o in label["annotations"]["objects"]
        if "page_number" in o
    }
    v1_pages = {
        o["featureId"]: o["page"]
        for record in world.iter_v1(pid, ExportFilter())
        for o in record["Label"].get("objects", [])
        if "page" in o
    }
    assert v2_pages and min(v2_pages.values()) >= 1
    assert {fid: page + 1 for fid, page in v1_pages.items()} == v2_pages


@pytest.mark.parametrize(
    ("media", "texts"),
    [
        ("LLM_PROMPT_CREATION", {"prompt-text"}),
        ("LLM_PROMPT_RESPONSE_CREATION", {"prompt-text", "response-text"}),
        ("LLM_RESPONSE_CREATION", {"response-text"}),
    ],
)
def test_llm_creation_projects_are_classifications_only(
    world: World, media: str, texts: set[str]
) -> None:
    labels = list(_labels(_records(world, media)))
    assert labels
    for label in labels:
        ann = label["annotations"]
        assert (ann["objects"], ann["relationships"]) == ([], [])
        names = {c["name"] for c in ann["classifications"] if "text_answer" in c}
        assert texts <= names


_EVALUATION_KEYS = {"feature_id", "feature_schema_id", "name", "annotation_kind"}
_EVALUATION_KEYS |= {"classifications"}


def test_chat_evaluation_objects_have_the_recorded_shape(world: World) -> None:
    records = _records(world, "MODEL_CHAT_EVALUATION")
    kinds = set()
    for record in records:
        chat = json.loads(record["data_row"]["row_data"])
        assert chat["version"] == 2 and chat["rootMessageIds"] == ["message-0"]
        responses = set(chat["messages"]["message-0"]["childMessageIds"])
        configs = {
            chat["actors"][chat["messages"][m]["actorId"]]["metadata"]["modelConfigName"]: m
            for m in responses
        }
        for label in _labels([record]):
            for obj in label["annotations"]["objects"]:
                kinds.add(obj["annotation_kind"])
                (key,) = set(obj) - _EVALUATION_KEYS  # no "value": exact key set
                messages = _messages(obj[key])
                assert obj[key]["parent_message_id"] == "message-0"
                assert all(configs[m["model_config_name"]] == m["message_id"] for m in messages)
                if key == "ranked_messages":
                    assert [m["order"] for m in messages] == list(range(1, len(messages) + 1))
            for c in label["annotations"]["classifications"]:
                assert c.get("message_id") in (None, "message-0")
    assert kinds == {"MessageSingleSelection", "MessageMultiSelection", "MessageRanking"}


def _messages(block: dict[str, Any]) -> list[dict[str, Any]]:
    if "messages" in block:
        return list(block["messages"])
    if "ranked_messages" in block:
        return list(block["ranked_messages"])
    return [block]
