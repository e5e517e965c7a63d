"""Export v2 annotations of one label -> object, classification and relationship rows.

Image-like labels list ``objects``; video labels key ``frames`` by frame number with objects
keyed by feature id, plus ``segments`` (inclusive frame ranges) and ``key_frame_feature_map``;
DICOM labels nest the same per plane under ``groups``.
"""

from __future__ import annotations

from typing import Any

from .classifications import Parent, v2_classification_rows
from .common import Row, Rows, as_dict, as_list, extra_json, flag, integer, text, to_json
from .objects import v2_object_row

_REL_KNOWN = frozenset(
    {"feature_id", "feature_schema_id", "name", "annotation_kind", "relationship"}
)


def annotation_rows(rows: Rows, annotations: dict[str, Any], base: Row) -> None:
    """Append the object, classification and relationship rows of one label's annotations
    (image-like lists, video ``frames``, DICOM ``groups``) to ``rows``."""
    segments = as_dict(annotations.get("segments"), "segments")
    _objects(rows, annotations.get("objects"), base, Parent(base, segments=segments))
    parent = Parent(base, segments=segments)
    rows["classifications"].extend(
        v2_classification_rows(annotations.get("classifications"), parent)
    )
    for rel in as_list(annotations.get("relationships"), "relationships"):
        rows["relationships"].append(relationship_row(rel, base))
    _frames(rows, annotations, base, None)
    for group_name, group in as_dict(annotations.get("groups"), "groups").items():
        _frames(rows, _dicom_group(annotations, group_name, group), base, group_name)


def _objects(rows: Rows, objects: Any, base: Row, parent: Parent, keyframes: Any = None) -> None:
    """Object rows (objects may be a list, or a dict keyed by feature id in video frames)."""
    items = objects.values() if isinstance(objects, dict) else as_list(objects, "objects")
    segments = parent.segments or {}
    for obj in items:
        row = v2_object_row(obj, base)
        fid = row["feature_id"]
        row["frame_number"] = parent.frame
        row["group_name"] = parent.group
        if fid in segments:
            row["segments"] = segments[fid]
        if keyframes is not None and fid in keyframes:  # frames not in the map: interpolated
            feature_map = as_dict(keyframes[fid], "key_frame_feature_map")
            row["keyframe"] = flag(feature_map.get(str(parent.frame), False), "keyframe")
        rows["objects"].append(row)
        nested = obj.get("classifications")
        if nested:
            child = Parent(base, object_id=fid, frame=parent.frame, group=parent.group)
            rows["classifications"].extend(v2_classification_rows(nested, child))


def _dicom_group(annotations: dict[str, Any], plane: str, group: Any) -> dict[str, Any]:
    """A DICOM plane's frames with its segments and keyframe map, which may sit inside the
    group or at the annotations level keyed by plane (``segments.Axial``,
    ``key_frame_feature_map.<feature id>.Axial``)."""
    holder = as_dict(group, "group")
    if "segments" in holder or "key_frame_feature_map" in holder:
        return holder
    segments = as_dict(annotations.get("segments"), "segments").get(plane)
    keymap = as_dict(annotations.get("key_frame_feature_map"), "key_frame_feature_map")
    per_plane = {fid: as_dict(m, "key_frame_feature_map").get(plane) for fid, m in keymap.items()}
    per_plane = {fid: m for fid, m in per_plane.items() if m is not None}
    return {**holder, "segments": segments, "key_frame_feature_map": per_plane}


def _frames(rows: Rows, holder: dict[str, Any], base: Row, group: str | None) -> None:
    frames = as_dict(holder.get("frames"), "frames")
    if not frames:
        return
    segments = as_dict(holder.get("segments"), "segments")
    keyframes = as_dict(holder.get("key_frame_feature_map"), "key_frame_feature_map")
    for key, item in frames.items():
        frame = as_dict(item, "frame")
        number = integer(key, "frame number")
        parent = Parent(base, frame=number, group=group, segments=segments)
        _objects(rows, frame.get("objects"), base, parent, keyframes)
        rows["classifications"].extend(v2_classification_rows(frame.get("classifications"), parent))


def relationship_row(rel: Any, base: Row) -> Row:
    rel = as_dict(rel, "relationship")
    inner = as_dict(rel.get("relationship"), "relationship.relationship")
    extra = {k: v for k, v in inner.items() if k not in ("source", "target", "type")}
    rel_extra = extra_json(rel, _REL_KNOWN)
    return {
        **base,
        "feature_id": text(rel.get("feature_id"), "relationship.feature_id"),
        "schema_id": text(rel.get("feature_schema_id"), "relationship.feature_schema_id"),
        "name": text(rel.get("name"), "relationship.name"),
        "source_feature_id": text(inner.get("source"), "relationship.source"),
        "target_feature_id": text(inner.get("target"), "relationship.target"),
        "relationship_type": text(inner.get("type"), "relationship.type"),
        "annotation_kind": text(rel.get("annotation_kind"), "relationship.annotation_kind"),
        "extra_json": to_json({"relationship": extra, "record": rel_extra}) if extra else rel_extra,
    }
