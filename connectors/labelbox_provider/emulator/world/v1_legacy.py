"""The ``Label`` of the 2019 v1 era (spec: the real-corpus README's legacy layouts), rendered
from a label view for image projects.

Before 2020, ``Label`` was keyed by class name: ``{"<tool name>": [{"geometry": [...]}, ...]}``,
a polygon or box as a list of ``{x, y}`` vertices (a box as its four corners), a point as one
``{x, y}``; a nested radio answer as a plain string key of the object (``"type": "double"``), a
nested checklist as a list of option names; a global question as a top-level key holding the
answer's name (a list of names for a checklist, the text for free text). A skipped label is the
string ``"Skip"``; there are no feature ids.
"""

from __future__ import annotations

from typing import Any

from labelbox_provider.emulator.world.content import Classification, Obj
from labelbox_provider.emulator.world.views import LabelView

LEGACY_MEDIA = ("IMAGE",)  # other media types keep the modern layout in this era
_LEGACY_TOOLS = ("bbox", "polygon", "line", "point")


def render_legacy_label(view: LabelView) -> Any:
    """``"Skip"``, or the class-keyed ``Label`` of an image label."""
    if view.st.l_skipped[view.i]:
        return "Skip"
    label: dict[str, Any] = {}
    for obj in view.content.objects:
        if obj.tool.kind not in _LEGACY_TOOLS:  # masks: no legacy geometry form
            continue
        label.setdefault(obj.tool.name, []).append(_item(obj))
    for c in view.content.classifications:
        label[c.question.name] = _answer(c)
    return label


def _vertices(points: list[Any]) -> list[dict[str, Any]]:
    return [{"x": x, "y": y} for x, y in points]


def _item(obj: Obj) -> dict[str, Any]:
    g, kind = obj.geometry, obj.tool.kind
    if kind == "bbox":
        top, left, bottom, right = (
            g["top"],
            g["left"],
            g["top"] + g["height"],
            g["left"] + g["width"],
        )
        geometry: Any = _vertices([(left, top), (right, top), (right, bottom), (left, bottom)])
    elif kind == "point":
        geometry = {"x": g["x"], "y": g["y"]}
    else:  # polygon, line: a vertex list (the legacy files do not tell them apart)
        geometry = _vertices(g["points"])
    item: dict[str, Any] = {"geometry": geometry}
    for c in obj.classifications:
        item[c.question.name] = _answer(c)
    return item


def _answer(c: Classification) -> Any:
    if c.question.kind == "checklist":
        return [a.option.name for a in c.answers]
    if c.text is not None:
        return c.text
    return c.answers[0].option.name if c.answers else ""
