"""Emulator records have the same shape as real export files of the same asset type.

``shape`` turns a JSON value into a type tree (dict keys, list elements merged, scalar types);
``diff`` lists every key one side has and the other lacks, and every scalar type clash. A
difference is a failure unless it is listed in ``ALLOWED`` for that fixture with a reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.emulator.world import ExportFilter, V2Params, World

pytestmark = pytest.mark.unit

Tree = dict[str, Any]  # kind ("obj" | "arr" | "str" | "num" | "bool" | "null") -> sub-tree


def shape(value: Any) -> Tree:
    """Type tree of a JSON value; list elements are merged into one tree."""
    if isinstance(value, dict):
        return {"obj": {k: shape(v) for k, v in value.items()}}
    if isinstance(value, list):
        merged: Tree = {}
        for item in value:
            merged = merge(merged, shape(item))
        return {"arr": merged}
    if value is None:
        return {"null": None}
    if isinstance(value, bool):
        return {"bool": None}
    return {"num" if isinstance(value, int | float) else "str": None}


def merge(a: Tree, b: Tree) -> Tree:
    """Union of two type trees."""
    out = dict(a)
    for kind, sub in b.items():
        if kind not in out:
            out[kind] = sub
        elif kind == "obj":
            keys = set(out[kind]) | set(sub)
            out[kind] = {k: merge(out[kind].get(k, {}), sub.get(k, {})) for k in sorted(keys)}
        elif kind == "arr":
            out[kind] = merge(out[kind], sub)
    return out


def diff(real: Tree, emu: Tree, path: str = "$") -> set[str]:
    """Differences between two trees; null is compatible with anything, empty lists too."""
    out: set[str] = set()
    scalars = {"str", "num", "bool"}
    real_s, emu_s = scalars & set(real), scalars & set(emu)
    if real_s and emu_s and real_s != emu_s:
        out.add(f"type {path}: real {sorted(real_s)} emulator {sorted(emu_s)}")
    if "obj" in real and "obj" in emu:
        r, e = real["obj"], emu["obj"]
        out |= {f"missing {path}.{k}" for k in set(r) - set(e)}
        out |= {f"extra {path}.{k}" for k in set(e) - set(r)}
        for k in set(r) & set(e):
            out |= diff(r[k], e[k], f"{path}.{k}")
    if "arr" in real and "arr" in emu and real["arr"] and emu["arr"]:
        out |= diff(real["arr"], emu["arr"], path + "[]")
    return out


_TOOLS = "the emulator's ontology uses more tools than this file"
_NESTED = "the emulator nests questions under answers more than this file does"
_MEDIA = "Media Attributes is {} in this file; spec 3.1 shows mimeType/width/height in others"
_RELS = "relationships: present in v1_highly_nested_image.json (2021) but not in this file"
_NEWER = "newer v2 exports (SDK conftest 2024, spec 4.7); this file is from Oct 2023"
_CHECKLIST = "object classifications with checklists: not used in this file"
_PDF_2022 = "this 2022 file lacks 2021 keys; spec 3.1 says 2022 = 2021 + Global Key"
_DOC_ENTITY = "document entities [inferred v1 shape]: this file has boxes only"
_L = "$[].Label"
_O = "$[].projects.<project>.labels[].annotations.objects[]"
# fixture -> {difference: reason}
ALLOWED: dict[str, dict[str, str]] = {
    "v1_highly_nested_image.json": {
        f"extra {_L}.classifications[].answer.classifications": _NESTED,
        f"extra {_L}.classifications[].answers[].classifications": _NESTED,
        f"extra {_L}.objects[].classifications[].answer.classifications": _NESTED,
        f"extra {_L}.objects[].classifications[][].answer.classifications": _NESTED,
        f"extra {_L}.objects[].classifications[].answers": _CHECKLIST + " unwrapped",
        f"extra {_L}.objects[].bbox": _TOOLS,
        f"extra {_L}.objects[].line": _TOOLS,
        **{
            f"extra $[].Media Attributes.{k}": _MEDIA
            for k in ("exifRotation", "height", "mimeType", "width")
        },
    },
    "v1_image_bbox_project_export_2020.json": {
        f"extra {_L}.objects[].classifications": "this 2020 project has no nested questions",
        f"extra {_L}.objects[].line": _TOOLS,
        f"extra {_L}.objects[].point": _TOOLS,
        f"extra {_L}.objects[].polygon": _TOOLS,
    },
    "v1_image_export.json": {
        f"extra {_L}.objects[].classifications[].answer.classifications": _NESTED,
        f"extra {_L}.objects[].classifications[].answers": _CHECKLIST,
        f"extra {_L}.relationships": _RELS,
        **{
            f"extra $[].Media Attributes.{k}": _MEDIA
            for k in ("exifRotation", "height", "mimeType", "width")
        },
    },
    "v1_pdf_export.json": {
        "extra $[].Data Split": _PDF_2022,
        "extra $[].DataRow Metadata": "this 2022 file lacks the 2021 keys (see Data Split)",
        "extra $[].Media Attributes": "this 2022 file lacks the 2021 keys (see Data Split)",
        f"extra {_L}.objects[].classifications": "this PDF project has no nested questions",
        f"extra {_L}.objects[].textSelections": _DOC_ENTITY,
    },
    "v1_text_export.json": {
        f"extra {_L}.classifications[].answer.classifications": _NESTED,
        f"extra {_L}.classifications[].answers": "global checklists: not used in this file",
        f"extra {_L}.objects[].classifications[].answer.classifications": _NESTED,
        f"extra {_L}.objects[].classifications[].answers": _CHECKLIST,
        f"extra {_L}.relationships": _RELS,
        "extra $[].Media Attributes.mimeType": _MEDIA,
    },
    "v1_video_export_frames_inlined.json": {
        f"extra {_L}[].objects[].line": _TOOLS,
        f"extra {_L}[].objects[].point": _TOOLS,
        **{
            f"extra $[].Media Attributes.{k}": _MEDIA
            for k in ("frameCount", "frameRate", "height", "mimeType", "width")
        },
    },
    "v2_image_bbox_minimal.ndjson": {
        "extra $[].media_attributes.exif_rotation": "present in v2_image_masks_full_details.ndjson",
        f"extra {_O}.composite_mask": _TOOLS + " (masks; newer composite form, spec 4.7)",
        f"extra {_O}.mask": _TOOLS + " (masks)",
        f"extra {_O}.line": _TOOLS,
        f"extra {_O}.point": _TOOLS,
        f"extra {_O}.polygon": _TOOLS,
        f"extra {_O}.value": _NEWER,
    },
    "v2_image_masks_full_details.ndjson": {
        "extra $[].data_row.global_key": "present in v2_image_bbox_minimal.ndjson",
        f"extra {_O}.bounding_box": _TOOLS,
        f"extra {_O}.composite_mask": _NEWER,
        f"extra {_O}.line": _TOOLS,
        f"extra {_O}.point": _TOOLS,
        f"extra {_O}.polygon": _TOOLS,
        f"extra {_O}.value": _NEWER,
        "extra $[].projects.<project>.labels[].label_details.content_last_updated_at": _NEWER,
    },
}


def _records(name: str, real_fixtures: Path) -> list[Any]:
    text = (real_fixtures / name).read_text()
    if name.endswith(".ndjson"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def _v1(media: str, era: str, *, frames_inlined: bool = False) -> list[Any]:
    w = World(seed=21, projects=[{"media_type": media, "labels": 60}], v1_era=era)
    pid = w.projects()[0].id
    recs = list(w.iter_v1(pid, ExportFilter()))
    if frames_inlined:  # what the SDK does with Label.frames (see fixtures README)
        for r in recs:
            if r["Label"]:
                r["Label"] = w.v1_frames(r["ID"])
    return recs


def _v2(params: V2Params) -> list[Any]:
    w = World(seed=21, projects=[{"media_type": "IMAGE", "labels": 60}])
    pid = w.projects()[0].id
    rows = list(w.iter_v2(pid, ExportFilter(), params))
    for row in rows:  # project ids are keys: compare them under one name
        row["projects"] = {"<project>": row["projects"][pid]}
    return rows


def _real(name: str, real_fixtures: Path) -> list[Any]:
    recs = _records(name, real_fixtures)
    if name.startswith("v2"):
        for row in recs:
            row["projects"] = {"<project>": next(iter(row["projects"].values()))}
    return recs


FULL = V2Params(
    include_data_row_details=True,
    include_label_details=True,
    include_performance_details=True,
    include_project_details=True,
    include_metadata=True,
    include_attachments=True,
)
CASES = {
    "v1_image_export.json": lambda: _v1("IMAGE", "2021"),
    "v1_highly_nested_image.json": lambda: _v1("IMAGE", "2021"),
    "v1_text_export.json": lambda: _v1("TEXT", "2021"),
    "v1_pdf_export.json": lambda: _v1("PDF", "2022"),
    "v1_video_export_frames_inlined.json": lambda: _v1("VIDEO", "2021", frames_inlined=True),
    "v1_image_bbox_project_export_2020.json": lambda: _v1("IMAGE", "2020"),
    "v2_image_masks_full_details.ndjson": lambda: _v2(FULL),
    "v2_image_bbox_minimal.ndjson": lambda: _v2(V2Params()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_emulator_shape_matches_real_file(name: str, real_fixtures: Path) -> None:
    real = shape(_real(name, real_fixtures))
    emu = shape(CASES[name]())
    found = diff(real, emu)
    allowed = ALLOWED.get(name, {})
    assert sorted(found - set(allowed)) == []
    # an allowance that no longer matches anything is stale: keep the list honest
    assert sorted(set(allowed) - found) == []


def test_shape_and_diff_see_differences() -> None:
    a = shape([{"x": 1, "y": [{"z": "s"}]}, {"x": None}])
    b = shape([{"x": 2.5, "y": [{"z": 3}], "w": True}])
    assert diff(a, b) == {"extra $[].w", "type $[].y[].z: real ['str'] emulator ['num']"}
    assert diff(a, a) == set()
