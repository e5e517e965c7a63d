"""Annotation objects (v1 and v2) -> object rows with a normalised ``kind`` and typed geometry.

The kind is decided by the geometry field present (spec 3.2 for v1, 4.7 for v2), so the same
annotation gives the same row in both formats. An object with no known geometry is of a kind
this version does not know (Labelbox adds kinds): its row has ``kind`` ``unknown``, its
``annotation_kind`` as exported and the whole object in ``extra_json``, so that the label and
its other annotations are kept; the flattener counts such rows (:data:`UNKNOWN_KIND`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from labelbox_provider.exceptions import TransformError

from .common import Row, as_dict, as_list, extra_json, integer, num, open_ring, text, to_json
from .messages import MESSAGE_KEYS, message_kind

UNKNOWN_KIND = "unknown"  # objects.kind of an annotation of a kind not known to this version

_V1_KNOWN = frozenset(
    {"featureId", "schemaId", "title", "value", "color", "instanceURI", "classifications"}
    | {"keyframe", "page", "unit", "bbox", "polygon", "line", "point", "data", "type"}
    | {"geometry", "cuboid", "textSelections"}
)
_V2_KNOWN = frozenset(
    {"feature_id", "feature_schema_id", "name", "value", "annotation_kind", "classifications"}
    | {"bounding_box", "polygon", "line", "point", "mask", "composite_mask", "location"}
    | {"conversational_location", "page_number", "page_dimensions", "geometry", "cuboid"}
    | set(MESSAGE_KEYS)  # chat evaluation: mapped to message_evaluations rows
)
_GEO_KINDS = {"point": "point", "polyline": "polyline", "polygon": "polygon", "rectangle": "bbox"}


_BOX_KEYS = frozenset({"top", "left", "height", "width"})
_XY = frozenset({"x", "y"})


def _bbox(row: Row, box: Any, key: str) -> None:
    box = as_dict(box, "bbox")
    get = box.get
    row["bbox_top"] = get("top")
    row["bbox_left"] = get("left")
    row["bbox_height"] = get("height")
    row["bbox_width"] = get("width")
    if not _BOX_KEYS.issuperset(box):
        _keep_extra(row, key, {k: v for k, v in box.items() if k not in _BOX_KEYS})


def _point(row: Row, point: Any, key: str) -> None:
    point = as_dict(point, "point")
    row["point_x"] = point.get("x")
    row["point_y"] = point.get("y")
    if not _XY.issuperset(point):
        _keep_extra(row, key, {k: v for k, v in point.items() if k not in _XY})


def _points(row: Row, vertices: list[Any], key: str) -> None:
    """Vertices to ``points``; keys besides x and y (a ``z``, say) are kept in extra_json."""
    row["points"] = vertices
    if any(type(v) is dict and not _XY.issuperset(v) for v in vertices):
        extra = [{k: x for k, x in v.items() if k not in _XY} for v in vertices if type(v) is dict]
        _keep_extra(row, key, extra)


def _keep_extra(row: Row, key: str, value: Any) -> None:
    """Add ``{key: value}`` to the row's extra_json (a geometry's unmapped leftovers)."""
    current = row.get("extra_json")
    extra = msgspec.json.decode(current) if current is not None else {}
    extra[key] = value
    row["extra_json"] = to_json(extra)


def _span(row: Row, location: dict[str, Any]) -> None:
    row["text_start"] = integer(location.get("start"), "location.start")
    row["text_end"] = integer(location.get("end"), "location.end")


def v1_object_row(obj: Any, base: Row) -> Row:
    """One v1 ``Label.objects[]`` entry (or a frame's object) as an object row.

    Values are taken as exported; the sink's Arrow conversion checks their types (a record
    with, say, a string coordinate is rejected whole, naming the column).

    >>> row = v1_object_row({"featureId": "f", "title": "car", "bbox": {"top": 1, "left": 2,
    ...     "height": 3, "width": 4}}, {"label_id": "L"})
    >>> row["kind"], row["bbox_top"], row["bbox_width"]
    ('bbox', 1, 4)
    """
    get = obj.get if type(obj) is dict else as_dict(obj, "object").get
    row = {
        **base,
        "feature_id": get("featureId"),
        "schema_id": get("schemaId"),
        "name": get("title"),
        "value": get("value"),
        "color": get("color"),
        "instance_uri": get("instanceURI"),
        "keyframe": get("keyframe"),
        "extra_json": None if _V1_KNOWN.issuperset(obj) else extra_json(obj, _V1_KNOWN),
    }
    if "page" in obj:
        row["page_number"] = _v1_page(obj["page"])
        row["page_unit"] = get("unit")
    row["kind"] = _v1_geometry(row, obj)
    return row


def _shape_geometry(row: Row, obj: dict[str, Any], box_key: str) -> str | None:
    """The geometries both formats spell alike (the box under ``box_key``): the kind, or
    None if the object has none of them."""
    if box_key in obj:
        _bbox(row, obj[box_key], box_key)
        return "bbox"
    if "polygon" in obj:
        _points(row, open_ring(as_list(obj["polygon"], "polygon")), "polygon")
        return "polygon"
    if "line" in obj:
        _points(row, as_list(obj["line"], "line"), "line")
        return "polyline"
    if "point" in obj:
        _point(row, obj["point"], "point")
        return "point"
    return None


def _v1_geometry(row: Row, obj: dict[str, Any]) -> str:
    kind = _shape_geometry(row, obj, "bbox")
    if kind is not None:
        return kind
    if "data" in obj:
        location = as_dict(as_dict(obj["data"], "object.data").get("location"), "data.location")
        _span(row, location)
        row["message_id"] = location.get("messageId")
        return "conversational_entity" if row["message_id"] is not None else "text_entity"
    if "textSelections" in obj:
        return _v1_text_selections(row, obj["textSelections"])
    if "geometry" in obj:
        return _v1_geo(row, obj)
    if "cuboid" in obj:
        row["cuboid_json"] = to_json(obj["cuboid"])
        return "cuboid"
    if row["instance_uri"] is not None:
        row["mask_url"] = row["instance_uri"]
        return "mask"
    return _unknown(row, obj)


def _unknown(row: Row, obj: dict[str, Any]) -> str:
    """An object of a kind this version does not know: kept whole in extra_json."""
    row["extra_json"] = to_json(obj)
    return UNKNOWN_KIND


def _v1_page(page: Any) -> int | None:
    """v1 pages count from 0, v2 ``page_number`` from 1: both are stored 1-based."""
    number = integer(page, "page")
    return None if number is None else number + 1


def _v1_text_selections(row: Row, selections: Any) -> str:
    groups = []
    for item in as_list(selections, "textSelections"):
        sel = as_dict(item, "textSelection")
        tokens = [text(t, "tokenIds") for t in as_list(sel.get("tokenIds"), "tokenIds")]
        groups.append({"id": sel.get("groupId"), "page_number": _v1_page(sel.get("page"))})
        groups[-1]["tokens"] = tokens
    row["token_groups_json"] = to_json(groups)
    return "document_entity"


def _v1_geo(row: Row, obj: dict[str, Any]) -> str:
    geo_type = text(obj.get("type"), "object.type")
    coordinates = as_dict(obj["geometry"], "object.geometry").get("coordinates")
    row["geo_type"] = geo_type
    row["geo_coordinates_json"] = to_json(coordinates)
    if geo_type not in _GEO_KINDS:
        raise TransformError("unknown annotation kind: unknown tiled-imagery geometry type")
    if geo_type == "point":
        lng_lat = as_list(coordinates, "geometry.coordinates")
        row["point_x"], row["point_y"] = (num(v, "coordinates") for v in lng_lat[:2])
        return "point"
    ring = as_list(coordinates, "geometry.coordinates")
    if geo_type != "polyline" and ring and isinstance(ring[0], list) and ring[0]:
        ring = ring[0] if isinstance(ring[0][0], list) else ring  # outer ring of a polygon
    vertices = [{"x": num(p[0], "lng"), "y": num(p[1], "lat")} for p in ring]
    if geo_type == "rectangle":
        _envelope(row, vertices)
    else:
        row["points"] = open_ring(vertices) if geo_type == "polygon" else vertices
    return _GEO_KINDS[geo_type]


def _envelope(row: Row, vertices: list[dict[str, float | None]]) -> None:
    """A geo rectangle as a bbox in degrees: top = north-most latitude, left = west-most
    longitude (as v2 exports it); extents rounded to 1e-9 degree to drop float noise."""
    xs = [v["x"] for v in vertices if v["x"] is not None]
    ys = [v["y"] for v in vertices if v["y"] is not None]
    if not xs or not ys:
        raise TransformError("geometry.coordinates: empty rectangle")
    row["bbox_top"], row["bbox_left"] = max(ys), min(xs)
    row["bbox_height"] = round(max(ys) - min(ys), 9)
    row["bbox_width"] = round(max(xs) - min(xs), 9)


def v2_object_row(obj: Any, base: Row) -> Row:
    """One v2 ``annotations.objects[]`` entry (or a frame's object) as an object row.

    >>> row = v2_object_row({"feature_id": "f", "name": "moss",
    ...     "annotation_kind": "ImageSegmentationMask", "mask": {"url": "u"}}, {"label_id": "L"})
    >>> row["kind"], row["mask_url"], row["annotation_kind"]
    ('mask', 'u', 'ImageSegmentationMask')
    """
    get = as_dict(obj, "object").get
    row = {
        **base,
        "feature_id": get("feature_id"),
        "schema_id": get("feature_schema_id"),
        "name": get("name"),
        "value": get("value"),
        "annotation_kind": get("annotation_kind"),
        "extra_json": extra_json(obj, _V2_KNOWN),
    }
    if "page_number" in obj:
        row["page_number"] = integer(obj["page_number"], "object.page_number")
    if "page_dimensions" in obj:
        dims = as_dict(obj["page_dimensions"], "page_dimensions")
        row["page_width"] = dims.get("width")
        row["page_height"] = dims.get("height")
    row["kind"] = _v2_geometry(row, obj)
    return row


def _v2_geometry(row: Row, obj: dict[str, Any]) -> str:
    kind = _shape_geometry(row, obj, "bounding_box")
    if kind is not None:
        return kind
    if "mask" in obj or "composite_mask" in obj:
        return _v2_mask(row, obj)
    if "location" in obj:
        return _v2_location(row, as_dict(obj["location"], "object.location"))
    if "conversational_location" in obj:
        conv = as_dict(obj["conversational_location"], "conversational_location")
        _span(row, as_dict(conv.get("location"), "conversational_location.location"))
        row["message_id"] = text(conv.get("message_id"), "conversational_location.message_id")
        return "conversational_entity"
    if "cuboid" in obj:
        row["cuboid_json"] = to_json(obj["cuboid"])
        return "cuboid"
    return message_kind(obj) or _unknown(row, obj)


def _v2_mask(row: Row, obj: dict[str, Any]) -> str:
    if "composite_mask" in obj:
        mask = as_dict(obj["composite_mask"], "composite_mask")
        rgb = mask.get("color_rgb")
        row["mask_color_rgb"] = [integer(c, "color_rgb") for c in as_list(rgb, "color_rgb")]
        if "mask" in obj:  # both present: keep the legacy mask under extra
            row["extra_json"] = to_json({"mask": obj["mask"]})
    else:
        mask = as_dict(obj["mask"], "mask")
    row["mask_url"] = text(mask.get("url"), "mask.url")
    return "mask"


def _v2_location(row: Row, location: dict[str, Any]) -> str:
    if "groups" in location:
        groups, texts = [], []
        for item in as_list(location["groups"], "location.groups"):
            group = as_dict(item, "location.group")
            groups.append({k: group.get(k) for k in ("id", "page_number", "tokens")})
            texts.append(text(group.get("text"), "group.text") or "")
        row["token_groups_json"] = to_json(groups)
        row["text_token"] = " ".join(texts)
        return "document_entity"
    _span(row, location)
    row["text_token"] = text(location.get("token"), "location.token")
    return "text_entity"
