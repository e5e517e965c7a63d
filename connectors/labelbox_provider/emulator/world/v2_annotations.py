"""Export v2 records (spec section 4.7, one line per data row) rendered from views.

Shapes marked [inferred] in the spec or not covered by it (geospatial kinds, v2 review entries,
dropdown answers, attachments and metadata entries) are documented where they are built. Mask
URLs start with ``{base_url}``, which the emulator's server replaces with its own address.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from labelbox_provider.emulator.world.content import (
    DICOM_PLANES,
    Classification,
    LabelContent,
    Obj,
    Relationship,
)
from labelbox_provider.emulator.world.ids import digest
from labelbox_provider.emulator.world.ontology import (
    ANNOTATION_KINDS,
    RELATIONSHIP_TOOL,
    relationship_kind,
)
from labelbox_provider.emulator.world.views import BASE_URL, LabelView

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts_v2(ms: int) -> str:
    """``2023-07-24T13:16:59.000+00:00``."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}+00:00"


def _answer(ans_fid: str, opt: Any, nested: list[Classification]) -> dict[str, Any]:
    return {
        "feature_id": ans_fid,
        "feature_schema_id": opt.schema_id,
        "name": opt.name,
        "value": opt.value,
        "classifications": render_classifications(nested),
    }


def render_classification(cls: Classification) -> dict[str, Any]:
    """One classification in v2 shape (dropdowns come out as ``radio_answer`` [inferred])."""
    q = cls.question
    out: dict[str, Any] = {
        "feature_id": cls.feature_id,
        "feature_schema_id": q.schema_id,
        "name": q.name,
        "value": q.value,
    }
    prefix = ""
    if q.message_scoped:
        out["message_id"] = cls.message_id
        prefix = "conversational_"
    if cls.text is not None:
        out[prefix + "text_answer"] = {"content": cls.text}
    elif q.kind == "checklist":
        out[prefix + "checklist_answers"] = [
            _answer(a.feature_id, a.option, a.classifications) for a in cls.answers
        ]
    else:
        a = cls.answers[0]
        out[prefix + "radio_answer"] = _answer(a.feature_id, a.option, a.classifications)
    return out


def render_classifications(items: list[Classification]) -> list[dict[str, Any]]:
    """A list of v2 classifications."""
    return [render_classification(c) for c in items]


def _xy(points: list[tuple[float, float]]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in points]


def _box(g: dict[str, Any]) -> dict[str, float]:
    return {k: float(g[k]) for k in ("top", "left", "height", "width")}


def _geo(kind: str, coords: Any) -> dict[str, Any]:
    """Tiled imagery in v2 [inferred]: x = longitude, y = latitude."""
    if kind == "geo_point":
        return {"point": {"x": coords[0], "y": coords[1]}}
    if kind == "geo_line":
        return {"line": [{"x": p[0], "y": p[1]} for p in coords]}
    ring = coords[0]
    if kind == "geo_polygon":
        return {"polygon": [{"x": p[0], "y": p[1]} for p in ring]}
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    return {
        "bounding_box": {
            "top": max(lats),
            "left": min(lngs),
            "height": round(max(lats) - min(lats), 6),
            "width": round(max(lngs) - min(lngs), 6),
        }
    }


def _mask(obj: Obj, project_id: str) -> dict[str, Any]:
    """2023 exports give ``mask.url``; newer ones ``composite_mask`` (both shapes occur here)."""
    url = f"{BASE_URL}/api/v1/projects/{project_id}/annotations/{obj.feature_id}/mask"
    if digest(obj.feature_id) % 2:
        return {"composite_mask": {"url": url, "color_rgb": list(obj.geometry["color"])}}
    return {"mask": {"url": url}}


def _geometry(obj: Obj, project_id: str) -> dict[str, Any]:
    g, kind = obj.geometry, obj.tool.kind
    if kind.startswith("mmc_"):
        return _evaluation(kind, g)
    if kind in ("doc_bbox", "doc_entity"):
        return _document(kind, g)
    if kind == "bbox":
        return {"bounding_box": _box(g)}
    if kind == "polygon":
        pts = g["points"]
        return {"polygon": _xy([*pts, pts[0]])}
    if kind == "line":
        return {"line": _xy(g["points"])}
    if kind == "point":
        return {"point": {"x": g["x"], "y": g["y"]}}
    if kind == "mask":
        return _mask(obj, project_id)
    if kind == "entity":
        return {"location": {"start": g["start"], "end": g["end"], "token": g["token"]}}
    if kind == "conv_entity":
        loc = {"start": g["start"], "end": g["end"]}
        return {"conversational_location": {"message_id": g["message_id"], "location": loc}}
    return _geo(kind, g["coordinates"])


def _document(kind: str, g: dict[str, Any]) -> dict[str, Any]:
    """PDF geometry; ``page_number`` counts from 1, as the API gives it in v2."""
    if kind == "doc_bbox":
        dims = {"height": g["page_h"], "width": g["page_w"]}
        return {"page_number": g["page"], "bounding_box": _box(g), "page_dimensions": dims}
    group = {"id": g["group_id"], "page_number": g["page"], "tokens": list(g["tokens"])}
    return {"location": {"groups": [{**group, "text": g["text"]}]}}


def _evaluation(kind: str, g: dict[str, Any]) -> dict[str, Any]:
    """A chat evaluation's messages, in the shapes the SDK recorded (a ranking best first)."""
    parent, chosen = g["parent"], g["messages"]
    if kind == "mmc_single":
        ((message, config),) = chosen
        return {
            "selected_message": {
                "message_id": message,
                "model_config_name": config,
                "parent_message_id": parent,
            }
        }
    if kind == "mmc_multi":
        messages = [{"message_id": m, "model_config_name": c} for m, c in chosen]
        return {"selected_messages": {"messages": messages, "parent_message_id": parent}}
    ranked = [
        {"message_id": m, "model_config_name": c, "order": n}
        for n, (m, c) in enumerate(chosen, start=1)
    ]
    return {"ranked_messages": {"ranked_messages": ranked, "parent_message_id": parent}}


def _object_head(obj: Obj, nested: list[Classification]) -> dict[str, Any]:
    head = {
        "feature_id": obj.feature_id,
        "feature_schema_id": obj.tool.schema_id,
        "name": obj.tool.name,
        "value": obj.tool.value,
        "annotation_kind": ANNOTATION_KINDS[obj.tool.kind],
        "classifications": render_classifications(nested),
    }
    if obj.tool.kind.startswith("mmc_"):
        del head["value"]  # chat-evaluation objects have no value (SDK fixture, exact keys)
    return head


def render_object(obj: Obj, project_id: str) -> dict[str, Any]:
    """A non-frame object."""
    return {**_object_head(obj, obj.classifications), **_geometry(obj, project_id)}


def _frame_geometry(g: dict[str, Any], feature_id: str) -> dict[str, Any]:
    if "color" in g:  # DICOM mask [inferred shape: mask{url}, as image masks]
        return {"mask": {"url": f"{BASE_URL}/masks/feature/{feature_id}"}}
    if "points" in g:
        return {"line": _xy(g["points"])}
    if "x" in g:
        return {"point": {"x": g["x"], "y": g["y"]}}
    return {"bounding_box": _box(g)}


def _frames(objects: list[Obj], interpolated: bool) -> dict[str, Any]:
    """``frames``, ``segments`` and ``key_frame_feature_map`` of video-like objects. The map
    lists every frame written to ``frames``: ``true`` for keyframes, ``false`` for the
    interpolated ones (as the SDK's recorded video export shows)."""
    frames: dict[int, dict[str, Any]] = {}
    segments: dict[str, list[list[int]]] = {}
    keymap: dict[str, dict[str, bool]] = {}
    for obj in objects:
        segments[obj.feature_id] = [[s, e] for s, e in obj.segments]
        keymap[obj.feature_id] = {}
        for fg in obj.frames:
            if not (fg.keyframe or interpolated):
                continue
            keymap[obj.feature_id][str(fg.frame)] = fg.keyframe
            frame = frames.setdefault(fg.frame, {"objects": {}, "classifications": []})
            nested = obj.classifications if fg.keyframe else []
            frame["objects"][obj.feature_id] = {
                **_object_head(obj, nested),
                **_frame_geometry(fg.geometry, obj.feature_id),
            }
    rendered = {str(f): frames[f] for f in sorted(frames)}
    return {"frames": rendered, "segments": segments, "key_frame_feature_map": keymap}


def _frame_classifications(content: LabelContent) -> tuple[list[Any], dict[str, Any]]:
    """Frame-ranged classifications as the API exports them: ordinary top-level
    classifications, with their frame ranges in ``segments`` under their own feature id."""
    rendered, segments = [], {}
    for number, items in sorted(content.frame_classifications.items()):
        for cls in items:
            rendered.append(render_classification(cls))
            segments[cls.feature_id] = [[number, number]]
    return rendered, segments


def _video(content: LabelContent, interpolated: bool, globals_: list[Any]) -> dict[str, Any]:
    video = _frames(content.objects, interpolated)
    ranged, segments = _frame_classifications(content)
    video["segments"].update(segments)
    return {**video, "classifications": [*globals_, *ranged]}


def _dicom(content: LabelContent, interpolated: bool, globals_: list[Any]) -> dict[str, Any]:
    """DICOM: per plane ``groups`` (all three, always), ``segments`` plane -> feature id, and
    ``key_frame_feature_map`` feature id -> plane (the nesting orders differ, as recorded)."""
    groups, segments = {}, {}
    keymap: dict[str, dict[str, Any]] = {}
    for plane in DICOM_PLANES:
        video = _frames([o for o in content.objects if o.group == plane], interpolated)
        groups[plane] = {"name": plane, "classifications": [], "frames": video["frames"]}
        segments[plane] = video["segments"]
        for fid, frames in video["key_frame_feature_map"].items():
            keymap[fid] = {p: {} for p in DICOM_PLANES} | {plane: frames}
    return {
        "groups": groups,
        "segments": segments,
        "classifications": globals_,
        "key_frame_feature_map": keymap,
    }


def _relationship(rel: Relationship, view: LabelView) -> dict[str, Any]:
    """A relationship as the API names it (``TextUnidirectionalRelationship``...)."""
    return {
        "feature_id": rel.feature_id,
        "feature_schema_id": view.ctx.ontology.relationship_schema_id,
        "name": RELATIONSHIP_TOOL,
        "annotation_kind": relationship_kind(view.ctx.media_type, rel.type),
        "relationship": {"source": rel.source, "target": rel.target, "type": rel.type},
    }


def render_annotations(view: LabelView, interpolated: bool) -> dict[str, Any]:
    """The ``annotations`` value of one label for the project's media type."""
    content, media = view.content, view.ctx.media_type
    globals_ = render_classifications(content.classifications)
    if media == "AUDIO":
        return {"classifications": globals_, "segments": {}, "timestamp": {}}
    if media == "VIDEO":
        return _video(content, interpolated, globals_)
    if media == "DICOM":
        return _dicom(content, interpolated, globals_)
    return {
        "objects": [render_object(o, view.ctx.id) for o in content.objects],
        "classifications": globals_,
        "relationships": [_relationship(r, view) for r in content.relationships],
    }
