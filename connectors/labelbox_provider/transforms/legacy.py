"""Legacy (2018-2019) v1 ``Label`` values -> the modern ``{"objects", "classifications"}``.

Before the objects/classifications layout, ``Label`` was keyed by class name. Recognised
(class names kept verbatim as ``title`` and ``value``; the layouts are described for users in
``docs/legacy-exports.md``):

===================  ======================================================================
layout (entry kind)  raw form
===================  ======================================================================
``skip``             ``"Label": "Skip"``  (skipped label)
``empty``            ``"Label": {}``
``wkt``              ``{"Car": "MULTIPOLYGON (((...)))"}`` (:mod:`.wkt`; one object per member)
``point_lists``      ``{"Car": [[{"x":..,"y":..}, ...], ...]}``  one polygon per list
``geometry_objects`` ``{"Door": [{"geometry": [{x,y}...] | "POLYGON (...)" | {x,y},
                     "color": "#f00", "type": "double"}]}``; string extras become nested
                     classifications, a list of strings a nested checklist
``answer``           ``{"weather": "sunny"}`` (a non-WKT string): a global radio answer
``answers``          ``{"models": ["model_3"]}`` (a list of non-WKT strings): a checklist
``tool_keyed``       ``{"polygon": [{"geometry": ...}], "type": "Car"}``: tool name keys, the
                     class in the string sibling ``type`` (or ``class``/``title``/``label``/
                     ``name``)
===================  ======================================================================

Legacy labels carry no feature ids, and the objects and classifications tables are keyed by
feature id, so deterministic synthetic ids are given: ``legacy:<label id>:o<n>`` (objects, in
file order), ``...:c<n>`` (questions), ``...:c<n>a<m>`` (answers). A class entry that cannot be
mapped is kept whole in ``unmapped`` (nothing of it half-added).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labelbox_provider.exceptions import TransformError

from .common import open_ring as _open
from .wkt import WktError, looks_like_wkt, parse_wkt

__all__ = [
    "NormalisedLabel",
    "is_legacy_label",
    "is_legacy_record",
    "label_layout",
    "normalise_legacy_label",
]

MODERN_LABEL_KEYS = frozenset({"objects", "classifications", "relationships", "frames"})
TOOL_KEYS = frozenset(
    {"polygon", "rectangle", "bbox", "box", "point", "line", "polyline", "segmentation"}
)
CLASS_SIBLINGS = ("type", "class", "title", "label", "name")
# keys of a legacy {geometry, ...} object copied onto the modern object as they are
_OBJECT_PASSTHROUGH = frozenset({"color", "instanceURI", "featureId", "schemaId"})
_LINE_TOOLS = frozenset({"line", "polyline"})


def label_layout(label: Any) -> str:
    """``"modern"`` (dict with objects/classifications/relationships/frames, or a list of
    video frame lines), ``"skip"`` (the string ``"Skip"``), ``"empty"`` (``{}`` or null),
    ``"tool_keyed"``, ``"class_keyed"`` (any other dict), or ``"unknown"``.

    >>> [label_layout(x) for x in ("Skip", {}, {"objects": []}, {"Car": "POINT (1 2)"})]
    ['skip', 'empty', 'modern', 'class_keyed']
    """
    if label is None or label == {}:
        return "empty"
    if isinstance(label, list):
        return "modern"
    if isinstance(label, str):
        return "skip" if label.strip().lower() == "skip" else "unknown"
    if not isinstance(label, dict):
        return "unknown"
    if not MODERN_LABEL_KEYS.isdisjoint(label):
        return "modern"
    if _tool_keyed_class(label) is not None:
        return "tool_keyed"
    return "class_keyed"


def is_legacy_label(label: Any) -> bool:
    """True for a ``Label`` only the 2018-2019 exports produce ("Skip", class/tool keyed).
    ``{}`` is not legacy-specific (both eras write it) and gives False."""
    return label_layout(label) in ("skip", "tool_keyed", "class_keyed", "unknown")


def is_legacy_record(record: Any) -> bool:
    """True if a v1 record is from the legacy era: its ``Label`` is legacy, or it lacks
    ``DataRow ID`` (every export since 2019 has one)."""
    if not isinstance(record, dict):
        return False
    return "DataRow ID" not in record or is_legacy_label(record.get("Label"))


def _tool_keyed_class(label: dict[str, Any]) -> str | None:
    """The class of a tool-keyed label, or None if ``label`` is not tool keyed: every key is
    a tool name holding a list, except exactly one class sibling holding a non-WKT string."""
    siblings = [k for k in CLASS_SIBLINGS if isinstance(label.get(k), str)]
    if len(siblings) != 1 or looks_like_wkt(label[siblings[0]]):
        return None
    tools = [k for k in label if k != siblings[0]]
    if not tools or not all(k in TOOL_KEYS and isinstance(label[k], list) for k in tools):
        return None
    title: str = label[siblings[0]]
    return title


# ---------------------------------------------------------------------------- normalisation


@dataclass
class NormalisedLabel:
    """The result of :func:`normalise_legacy_label`.

    ``label``: modern ``{"objects", "classifications"}`` (a modern input is returned as is,
    the same object). ``layout``: as :func:`label_layout`. ``entry_layouts``: per class key
    of a class-keyed label, its entry kind (see the module doc). ``skipped``: the label was
    ``"Skip"``. ``empty``: the label was ``{}``/null (no annotations; whether that means
    skipped depends on the era, see :func:`normalise_record`). ``unmapped``: class keys
    whose value could not be turned into objects or classifications, with the raw value (to
    keep in extra_json). ``synthetic_ids``: feature ids were generated.
    """

    label: Any
    layout: str
    entry_layouts: dict[str, str] = field(default_factory=dict)
    skipped: bool = False
    empty: bool = False
    unmapped: dict[str, Any] = field(default_factory=dict)
    synthetic_ids: bool = False

    @property
    def legacy(self) -> bool:
        return self.layout in ("skip", "tool_keyed", "class_keyed", "unknown")


class _Builder:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.objects: list[dict[str, Any]] = []
        self.classifications: list[dict[str, Any]] = []
        self.n_questions = 0

    def question(self, title: str, answer: Any) -> dict[str, Any]:
        """A modern question: radio for a string answer, checklist for a list of strings."""
        qid = f"{self.prefix}:c{self.n_questions}"
        self.n_questions += 1
        q: dict[str, Any] = {"featureId": qid, "title": title, "value": title}
        if isinstance(answer, list):
            q["answers"] = [
                {"featureId": f"{qid}a{i}", "title": a, "value": a} for i, a in enumerate(answer)
            ]
        else:
            q["answer"] = {"featureId": f"{qid}a0", "title": answer, "value": answer}
        return q

    def add_object(self, title: str, geometry: dict[str, Any], extras: dict[str, Any]) -> None:
        obj = {"featureId": f"{self.prefix}:o{len(self.objects)}", "title": title, "value": title}
        obj.update(geometry)
        obj.update(extras)
        self.objects.append(obj)


def _wkt_geometries(text: str) -> list[dict[str, Any]]:
    """Modern geometry dicts of a WKT string (one per member of a MULTI*)."""
    out: list[dict[str, Any]] = []
    for kind, data in parse_wkt(text):
        if kind == "point":
            out.append({"point": data})
        elif kind == "line":
            out.append({"line": data})
        else:
            geo: dict[str, Any] = {"polygon": _open(data[0])}
            if len(data) > 1:  # interior rings: no modern key, kept (as extra_json)
                geo["holes"] = [_open(r) for r in data[1:]]
            out.append(geo)
    return out


def _is_vertex(v: Any) -> bool:
    return isinstance(v, dict) and "x" in v and "y" in v


def _is_vertex_list(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(_is_vertex(p) for p in v)


def _geometries(geometry: Any, tool: str | None) -> list[dict[str, Any]] | None:
    """Modern geometry dicts for a legacy ``geometry`` value, or None if it is not one.

    A vertex list is a polygon (a line under a line tool, a point when it has one vertex);
    a lone ``{x, y}`` is a point; a string is WKT; a list of vertex lists is several."""
    if isinstance(geometry, str):
        if not looks_like_wkt(geometry):
            return None
        return _wkt_geometries(geometry)
    if _is_vertex(geometry):
        return [{"point": geometry}]
    if _is_vertex_list(geometry):
        if len(geometry) == 1 or tool == "point":
            return [{"point": p} for p in geometry]
        if tool in _LINE_TOOLS:
            return [{"line": geometry}]
        return [{"polygon": _open(geometry)}]
    if isinstance(geometry, list) and geometry and all(_is_vertex_list(g) for g in geometry):
        out: list[dict[str, Any]] = []
        for g in geometry:
            out.extend(_geometries(g, tool) or [])
        return out
    return None


def _is_string_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(a, str) for a in v)


def _legacy_object(b: _Builder, title: str, item: dict[str, Any], tool: str | None) -> bool:
    """Add the objects of one ``{geometry, ...}`` item; False if its geometry is unknown."""
    geos = _geometries(item.get("geometry"), tool)
    if not geos:  # unknown, or WKT EMPTY: the entry is kept raw rather than half-mapped
        return False
    extras: dict[str, Any] = {}
    nested: list[tuple[str, Any]] = []
    leftover: dict[str, Any] = {}
    for key, value in item.items():
        if key == "geometry":
            continue
        if key in _OBJECT_PASSTHROUGH:
            extras[key] = value
        elif isinstance(value, str) or (_is_string_list(value) and value):
            nested.append((key, value))  # a nested answer given as a plain string key
        else:
            leftover[key] = value
    if tool is not None:
        extras["legacyTool"] = tool
    if leftover:
        extras["legacyExtra"] = leftover  # not a v1 key: the transform keeps it in extra_json
    for geo in geos:
        classes = [b.question(k, v) for k, v in nested]
        b.add_object(title, geo, {**extras, **({"classifications": classes} if classes else {})})
    return True


def _entry(b: _Builder, title: str, value: Any, tool: str | None = None) -> str | None:
    """Map one class entry; return its entry layout, or None if it could not be mapped (in
    which case nothing was added)."""
    if isinstance(value, str) or (_is_string_list(value) and value):
        return _strings_entry(b, title, value)
    if not isinstance(value, list) or not value:
        return None
    if all(_is_vertex_list(v) for v in value):
        for v in value:
            for geo in _geometries(v, tool) or []:
                b.add_object(title, geo, {})
        return "point_lists"
    if all(isinstance(v, dict) and "geometry" in v for v in value):
        return _objects_entry(b, title, value, tool)
    return None


def _strings_entry(b: _Builder, title: str, value: str | list[str]) -> str | None:
    """WKT geometry (a string or a list of them), else a global answer (a string: radio) or
    answers (a list of strings: checklist); a list mixing both is not mapped."""
    texts = [value] if isinstance(value, str) else value
    if all(looks_like_wkt(v) for v in texts):
        return _wkt_entry(b, title, texts)
    if any(looks_like_wkt(v) for v in texts):
        return None
    b.classifications.append(b.question(title, value))
    return "answer" if isinstance(value, str) else "answers"


def _wkt_entry(b: _Builder, title: str, texts: list[str]) -> str | None:
    """Objects of WKT strings, all or none (a malformed or EMPTY one: none, the raw value is
    kept rather than the class lost)."""
    try:
        geos = [geo for t in texts for geo in _wkt_geometries(t)]
    except WktError:
        return None
    if not geos:
        return None
    for geo in geos:
        b.add_object(title, geo, {})
    return "wkt"


def _objects_entry(b: _Builder, title: str, items: list[Any], tool: str | None) -> str | None:
    """Objects of ``{geometry, ...}`` items, all or nothing (the raw entry goes to unmapped)."""
    mark_o, mark_c, mark_q = len(b.objects), len(b.classifications), b.n_questions
    for item in items:
        try:
            ok = _legacy_object(b, title, item, tool)
        except WktError:
            ok = False
        if not ok:
            del b.objects[mark_o:]
            del b.classifications[mark_c:]
            b.n_questions = mark_q
            return None
    return "geometry_objects"


_NO_ANNOTATIONS: dict[str, list[Any]] = {"objects": [], "classifications": []}


def normalise_legacy_label(label: Any, *, label_id: str | None = None) -> NormalisedLabel:
    """Any v1 ``Label`` -> :class:`NormalisedLabel` with a modern ``label``.

    ``label_id`` seeds the synthetic feature ids (``legacy:<label_id>:o0`` ...), so they are
    unique across labels and stable across runs; without it they are ``legacy:o0`` ...

    >>> n = normalise_legacy_label({"Door": [{"geometry": [{"x": 0, "y": 0}, {"x": 2, "y": 0},
    ...     {"x": 2, "y": 3}], "type": "double"}]}, label_id="L")
    >>> o = n.label["objects"][0]
    >>> o["featureId"], o["title"], len(o["polygon"]), o["classifications"][0]["answer"]["title"]
    ('legacy:L:o0', 'Door', 3, 'double')
    >>> normalise_legacy_label("Skip").skipped
    True
    """
    layout = label_layout(label)
    if layout == "modern":
        return NormalisedLabel(label=label, layout=layout)
    if layout in ("empty", "skip"):
        empty: dict[str, list[Any]] = {"objects": [], "classifications": []}
        return NormalisedLabel(empty, layout, empty=layout == "empty", skipped=layout == "skip")
    if layout == "unknown":
        if isinstance(label, str | int | float | bool):
            return NormalisedLabel(dict(_NO_ANNOTATIONS), layout, unmapped={"": label})
        raise TransformError(f"Label of type {type(label).__name__}")
    b = _Builder(f"legacy:{label_id}" if label_id else "legacy")
    entry_layouts: dict[str, str] = {}
    unmapped: dict[str, Any] = {}
    title = _tool_keyed_class(label) if layout == "tool_keyed" else None
    for key, value in label.items():
        if title is not None and label.get(key) == title and key in CLASS_SIBLINGS:
            entry_layouts[key] = "class"
            continue
        kind = _entry(
            b, key if title is None else title, value, tool=None if title is None else key
        )
        if kind is None:
            unmapped[key] = value
        else:
            entry_layouts[key] = kind if title is None else f"tool_keyed/{kind}"
    out = {"objects": b.objects, "classifications": b.classifications}
    return NormalisedLabel(out, layout, entry_layouts, unmapped=unmapped, synthetic_ids=True)
