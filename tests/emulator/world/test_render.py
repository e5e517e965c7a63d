"""v1 and v2 renders: every media type, same ids and answers in both formats, era key sets.

The small extractors below read records the way a consumer would (no emulator code reused), so
agreement with ``ground_truth`` proves both renders carry the same content.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from labelbox_provider.emulator.world import ALL_MEDIA_TYPES, ExportFilter, V2Params, World

pytestmark = pytest.mark.unit

ALL = V2Params(*([True] * 7), include_interpolated_frames=False)
V1_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
V2_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def _flatten(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def v1_answers(items: list[Any], parent: str | None) -> set[tuple]:
    out: set[tuple] = set()
    for c in _flatten(items):
        answer = c["answer"] if "answer" in c else c["answers"]
        if isinstance(answer, str):
            out.add((parent, c["featureId"], answer))
            continue
        for a in answer if isinstance(answer, list) else [answer]:
            out.add((parent, c["featureId"], a["featureId"]))
            out |= v1_answers(a.get("classifications", []), a["featureId"])
    return out


def v2_answers(items: list[dict[str, Any]], parent: str | None) -> set[tuple]:
    out: set[tuple] = set()
    for c in items:
        for key, value in c.items():
            kind = key.removeprefix("conversational_")
            if kind == "text_answer":
                out.add((parent, c["feature_id"], value["content"]))
            elif kind in ("radio_answer", "checklist_answers"):
                for a in value if isinstance(value, list) else [value]:
                    out.add((parent, c["feature_id"], a["feature_id"]))
                    out |= v2_answers(a["classifications"], a["feature_id"])
    return out


def v1_content(w: World, rec: dict[str, Any]) -> tuple[set, set]:
    label = rec["Label"]
    objects: set = set()
    answers = v1_answers(label.get("classifications", []), None)
    for o in label.get("objects", []):
        objects.add(o["featureId"])
        answers |= v1_answers(o.get("classifications", []), o["featureId"])
    if "frames" in label:
        assert label["frames"] == "{base_url}/v1/frames/" + rec["ID"]
        for line in w.v1_frames(rec["ID"]) or []:
            answers |= v1_answers(line["classifications"], None)
            for o in line["objects"]:
                if o["keyframe"]:
                    objects.add((line["frameNumber"], o["featureId"]))
                    answers |= v1_answers(o["classifications"], o["featureId"])
    return objects, answers


def _v2_frames(frames: dict[str, Any], objects: set, answers: set) -> None:
    for number, frame in frames.items():
        answers |= v2_answers(frame["classifications"], None)
        for fid, o in frame["objects"].items():
            assert fid == o["feature_id"]
            objects.add((int(number), fid))
            answers |= v2_answers(o["classifications"], fid)


def v2_content(label: dict[str, Any]) -> tuple[set, set]:
    ann = label["annotations"]
    objects: set = set()
    answers = v2_answers(ann["classifications"], None)
    for o in ann.get("objects", []):
        objects.add(o["feature_id"])
        answers |= v2_answers(o["classifications"], o["feature_id"])
    if "frames" in ann:
        _v2_frames(ann["frames"], objects, answers)
    for group in ann.get("groups", {}).values():
        _v2_frames(group["frames"], objects, answers)
    return objects, answers


def _norm(truth_objects: list[Any]) -> set:
    return {tuple(o) if isinstance(o, list) else o for o in truth_objects}


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=11, labels_per_project=12)


@pytest.mark.parametrize("media", ALL_MEDIA_TYPES)
def test_v1_and_v2_agree_with_ground_truth(world: World, media: str) -> None:
    pid = next(p.id for p in world.projects() if p.media_type == media)
    truth = {t["label_id"]: t for t in world.ground_truth(pid)}
    v1 = {r["ID"]: r for r in world.iter_v1(pid, ExportFilter())}
    v2 = {
        lab["id"]: (row, lab)
        for row in world.iter_v2(pid, ExportFilter(), ALL)
        for lab in row["projects"][pid]["labels"]
    }
    assert set(truth) == set(v1) == set(v2)
    non_empty = 0
    for lid, t in truth.items():
        objects, answers = v1_content(world, v1[lid])
        objects2, answers2 = v2_content(v2[lid][1])
        assert objects == objects2 == _norm(t["object_feature_ids"])
        assert answers == answers2 == {tuple(a) for a in t["answers"]}
        non_empty += bool(answers)
        assert v1[lid]["DataRow ID"] == v2[lid][0]["data_row"]["id"] == t["data_row_id"]
        assert sorted(r["id"] for r in v1[lid]["Reviews"]) == t["review_ids"]
        reviews2 = v2[lid][1]["label_details"]["reviews"]
        assert sorted(r["id"] for r in reviews2) == t["review_ids"]
        assert v1[lid]["Skipped"] == v2[lid][1]["performance_details"]["skipped"] == t["skipped"]
    assert non_empty > 0
    json.dumps(list(v1.values()))  # plain JSON types only


def test_nesting_reaches_depth_three_and_quirk_occurs(world: World) -> None:
    pid = next(p.id for p in world.projects() if p.media_type == "IMAGE")
    text = json.dumps(list(world.iter_v1(pid, ExportFilter())))
    assert '"classifications": [[{' in text  # checklist extra-list quirk

    def depth(items: list[Any]) -> int:
        best = 0
        for c in _flatten(items):
            answer = c.get("answer", c.get("answers"))
            for a in answer if isinstance(answer, list) else [answer]:
                if isinstance(a, dict):
                    best = max(best, depth(a.get("classifications", [])))
        return 1 + best if items else 0

    deepest = max(
        depth(r["Label"].get("classifications", [])) for r in world.iter_v1(pid, ExportFilter())
    )
    assert deepest >= 3


@pytest.mark.parametrize("era", ["2020", "2021", "2022", "2023"])
def test_v1_era_key_sets(era: str) -> None:
    w = World(seed=2, projects=[{"media_type": "IMAGE", "labels": 20}], v1_era=era)
    pid = w.projects()[0].id
    recs = list(w.iter_v1(pid, ExportFilter()))
    keys = set(recs[0])
    assert all(set(r) == keys for r in recs)
    base = {
        "ID", "DataRow ID", "Labeled Data", "Label", "Created By", "Project Name", "Created At",
        "Updated At", "Seconds to Label", "External ID", "Agreement", "Benchmark Agreement",
        "Benchmark ID", "Dataset Name", "Reviews", "View Label",
    }  # fmt: skip
    extra = {
        "2020": set(),
        "2021": {
            "DataRow Metadata",
            "Media Attributes",
            "Has Open Issues",
            "Skipped",
            "Data Split",
        },
    }
    extra["2022"] = extra["2021"] | {"Global Key"}
    extra["2023"] = extra["2022"] | {
        "Seconds to Review",
        "Seconds to Create",
        "DataRow Workflow Info",
    }
    assert keys == base | extra[era]
    for r in recs:
        assert V1_TS.match(r["Created At"]) and r["Created At"].endswith(".000Z")
        assert V1_TS.match(r["Updated At"])
        if r["Label"]:
            assert ("relationships" in r["Label"]) == (era != "2020")
    assert any(r["Label"] == {} for r in recs) or all(not r.get("Skipped", False) for r in recs)


def test_skipped_label_shapes() -> None:
    w = World(seed=5, projects=[{"media_type": "IMAGE", "labels": 200}])
    pid = w.projects()[0].id
    skipped = [r for r in w.iter_v1(pid, ExportFilter()) if r["Skipped"]]
    assert skipped and all(r["Label"] == {} for r in skipped)
    ids = {r["ID"] for r in skipped}
    for row in w.iter_v2(pid, ExportFilter(), ALL):
        for lab in row["projects"][pid]["labels"]:
            if lab["id"] in ids:
                assert lab["performance_details"]["skipped"] is True
                assert lab["annotations"] == {
                    "objects": [],
                    "classifications": [],
                    "relationships": [],
                }


def test_v2_timestamps_params_and_workflow_history_order(world: World) -> None:
    pid = next(p.id for p in world.projects() if p.media_type == "IMAGE")
    bare = next(iter(world.iter_v2(pid, ExportFilter(), V2Params())))
    assert set(bare) == {"data_row", "media_attributes", "projects"}
    assert set(bare["projects"][pid]["labels"][0]) == {"label_kind", "version", "id", "annotations"}
    for row in world.iter_v2(pid, ExportFilter(), ALL):
        details = row["projects"][pid]["project_details"]
        history = [s["created_at"] for s in details["workflow_history"]]
        assert history == sorted(history, reverse=True) and all(V2_TS.match(h) for h in history)
        assert V2_TS.match(row["data_row"]["details"]["last_activity_at"])


def test_video_interpolated_frames_and_frames_lines(world: World) -> None:
    pid = next(p.id for p in world.projects() if p.media_type == "VIDEO")
    with_interp = V2Params(include_interpolated_frames=True)
    keys_only = {
        lab["id"]: lab["annotations"]
        for row in world.iter_v2(pid, ExportFilter(), V2Params())
        for lab in row["projects"][pid]["labels"]
    }
    full = {
        lab["id"]: lab["annotations"]
        for row in world.iter_v2(pid, ExportFilter(), with_interp)
        for lab in row["projects"][pid]["labels"]
    }
    truth = {t["label_id"]: t for t in world.ground_truth(pid)}
    for lid, ann in full.items():
        frames = {(int(n), fid) for n, f in ann["frames"].items() for fid in f["objects"]}
        key = {(int(n), fid) for n, f in keys_only[lid]["frames"].items() for fid in f["objects"]}
        t = truth[lid]
        assert key == _norm(t["object_feature_ids"])
        assert frames == key | _norm(t["interpolated_frame_pairs"])
        object_ids = {fid for _, fid in key}
        classification_ids = {c["feature_id"] for c in ann["classifications"]}
        for fid, segs in ann["segments"].items():
            assert all(s <= e for s, e in segs)
            assert fid in ann["key_frame_feature_map"] or fid in classification_ids
        keymap = ann["key_frame_feature_map"]
        assert set(keymap) >= object_ids
        # every frame written is in the map: true on keyframes, false on interpolated ones
        assert {(int(n), fid) for fid, m in keymap.items() for n in m} == frames
        assert {(int(n), fid) for fid, m in keymap.items() for n, k in m.items() if k} == key
        lines = world.v1_frames(lid) or []
        v1_pairs = {(ln["frameNumber"], o["featureId"]) for ln in lines for o in ln["objects"]}
        assert v1_pairs == frames
    assert world.v1_frames("cnotalabel") is None


def test_media_specific_v2_shapes(world: World) -> None:
    def first_label(media: str) -> dict[str, Any]:
        pid = next(p.id for p in world.projects() if p.media_type == media)
        for row in world.iter_v2(pid, ExportFilter(), ALL):
            for lab in row["projects"][pid]["labels"]:
                if not lab["performance_details"]["skipped"]:
                    return row | {"label": lab}
        raise AssertionError(media)

    assert set(first_label("AUDIO")["label"]["annotations"]) == {
        "classifications",
        "segments",
        "timestamp",
    }
    dicom = first_label("DICOM")["label"]["annotations"]
    assert set(dicom["groups"]) == {"Axial", "Sagittal", "Coronal"}
    conv = first_label("CONVERSATIONAL")
    assert conv["media_attributes"]["message_count"] == 4
    assert first_label("VIDEO")["label"]["label_kind"] == "Video"
    pdf_objects = first_label("PDF")["label"]["annotations"]["objects"]
    assert {o["annotation_kind"] for o in pdf_objects} <= {
        "DocumentBoundingBox",
        "DocumentEntityToken",
    }


def test_media_specific_v1_shapes(world: World) -> None:
    def objects(media: str) -> list[dict[str, Any]]:
        pid = next(p.id for p in world.projects() if p.media_type == media)
        return [
            o for r in world.iter_v1(pid, ExportFilter()) for o in r["Label"].get("objects", [])
        ]

    geo = objects("GEOSPATIAL_TILE")
    assert geo and {o["type"] for o in geo} <= {"point", "polyline", "polygon", "rectangle"}
    assert all("coordinates" in o["geometry"] for o in geo)
    conv = objects("CONVERSATIONAL")
    assert conv and all("messageId" in o["data"]["location"] for o in conv)
    pdf = objects("PDF")
    boxes = [o for o in pdf if "bbox" in o]
    assert boxes and all(o["unit"] == "POINTS" and o["page"] >= 0 for o in boxes)
    text = objects("TEXT")
    assert text and all(o["format"] == "text.location" and o["version"] == 1 for o in text)
    image = objects("IMAGE")
    assert {"bbox", "polygon", "line", "point"} <= {k for o in image for k in o}
    assert all(o["instanceURI"].startswith("{base_url}/masks/feature/") for o in image)


def test_interpolated_video_boxes_lie_between_keyframes(world: World) -> None:
    pid = next(p.id for p in world.projects() if p.media_type == "VIDEO")
    checked = 0
    for rec in world.iter_v1(pid, ExportFilter()):
        tracks: dict[str, list[tuple[int, bool, dict]]] = {}
        for line in world.v1_frames(rec["ID"]) or []:
            for o in line["objects"]:
                if "bbox" in o:
                    tracks.setdefault(o["featureId"], []).append(
                        (line["frameNumber"], o["keyframe"], o["bbox"])
                    )
        for track in tracks.values():
            for k, (_, key, box) in enumerate(track):
                if key:
                    continue
                before = next(b for _, kf, b in reversed(track[:k]) if kf)
                after = next(b for _, kf, b in track[k + 1 :] if kf)
                for side in ("top", "left", "height", "width"):
                    lo, hi = sorted((before[side], after[side]))
                    assert lo <= box[side] <= hi
                checked += 1
    assert checked > 0
