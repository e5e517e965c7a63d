"""The legacy (2018-2019) v1 normaliser: one named case per legacy layout, record-level drift,
and every real v1 file of the corpus checked against an independent count of its raw JSON.

Adopted from the issue-17 prototype (/work/proto/legacy); the end-to-end checks through
``flatten_file`` (no rejects, counts conserved, snapshots) are in ``test_legacy_files.py``.
"""

from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import pytest
from labelbox_provider.transforms import legacy, legacy_record, wkt

from ._transform_helpers import REAL_FILES

pytestmark = pytest.mark.unit

L = SimpleNamespace(
    **{n: getattr(m, n) for m in (legacy, legacy_record, wkt) for n in dir(m) if n[:1] != "_"}
)
V1_NAMES = [name for name in REAL_FILES if name.startswith("v1_")]


def V(x, y):
    return {"x": x, "y": y}


SQUARE = [V(0, 0), V(4, 0), V(4, 3), V(0, 3)]


def kinds(label):
    out = []
    for o in label["objects"]:
        out.append(next(k for k in ("polygon", "point", "line") if k in o))
    return out


# ----------------------------------------------------------------- named layouts (label)

LAYOUT_CASES = [
    pytest.param(
        {"Car": "MULTIPOLYGON (((0 0, 4 0, 4 3, 0 0)), ((10 10, 12 10, 12 12, 10 10)))"},
        "class_keyed",
        {"Car": "wkt"},
        ["Car", "Car"],
        ["polygon", "polygon"],
        id="wkt-multipolygon-two-parts",
    ),
    pytest.param(
        {"Car": "POLYGON ((0 0, 4 0, 4 3, 0 3, 0 0))"},
        "class_keyed",
        {"Car": "wkt"},
        ["Car"],
        ["polygon"],
        id="wkt-polygon",
    ),
    pytest.param(
        {"Knob": "POINT (652.5 704)", "Rail": "LINESTRING (0 0, 10 10, 20 5)"},
        "class_keyed",
        {"Knob": "wkt", "Rail": "wkt"},
        ["Knob", "Rail"],
        ["point", "line"],
        id="wkt-point-and-linestring",
    ),
    pytest.param(
        {"Stud": "MULTIPOINT ((1 2), (3 4))", "Wire": "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))"},
        "class_keyed",
        {"Stud": "wkt", "Wire": "wkt"},
        ["Stud", "Stud", "Wire", "Wire"],
        ["point", "point", "line", "line"],
        id="wkt-multipoint-multilinestring",
    ),
    pytest.param(
        {"Car": ["POLYGON ((0 0, 1 0, 1 1, 0 0))", "POINT (5 5)"]},
        "class_keyed",
        {"Car": "wkt"},
        ["Car", "Car"],
        ["polygon", "point"],
        id="wkt-list-of-strings",
    ),
    pytest.param(
        {"Car": [SQUARE, SQUARE[:3]], "Road Sign": [SQUARE]},
        "class_keyed",
        {"Car": "point_lists", "Road Sign": "point_lists"},
        ["Car", "Car", "Road Sign"],
        ["polygon"] * 3,
        id="point-lists",
    ),
    pytest.param(
        {
            "Door": [{"geometry": SQUARE, "type": "double", "color": "#ff0000"}],
            "Knob": [{"geometry": SQUARE}],
        },
        "class_keyed",
        {"Door": "geometry_objects", "Knob": "geometry_objects"},
        ["Door", "Knob"],
        ["polygon", "polygon"],
        id="geometry-objects-point-list",
    ),
    pytest.param(
        {"Car": [{"geometry": "POLYGON ((0 0, 4 0, 4 3, 0 0))", "color": "#00f"}]},
        "class_keyed",
        {"Car": "geometry_objects"},
        ["Car"],
        ["polygon"],
        id="geometry-objects-wkt",
    ),
    pytest.param(
        {"box": [{"geometry": {"x": 1259, "y": 1411}}], "select_the_cup_models": ["model_3"]},
        "class_keyed",
        {"box": "geometry_objects", "select_the_cup_models": "answers"},
        ["box"],
        ["point"],
        id="geometry-single-vertex-and-global-checklist",
    ),
    pytest.param(
        {"Traffic light / pole ": [{"geometry": SQUARE}], "weather": "sunny"},
        "class_keyed",
        {"Traffic light / pole ": "geometry_objects", "weather": "answer"},
        ["Traffic light / pole "],
        ["polygon"],
        id="class-name-verbatim-and-global-radio",
    ),
    pytest.param(
        {
            "polygon": [{"geometry": SQUARE}, {"geometry": SQUARE}],
            "line": [{"geometry": SQUARE[:2]}],
            "type": "Car",
        },
        "tool_keyed",
        {
            "type": "class",
            "polygon": "tool_keyed/geometry_objects",
            "line": "tool_keyed/geometry_objects",
        },
        ["Car", "Car", "Car"],
        ["polygon", "polygon", "line"],
        id="tool-keyed",
    ),
    pytest.param(
        {"point": [[V(1, 2)]], "class": "Knob"},
        "tool_keyed",
        {"class": "class", "point": "tool_keyed/point_lists"},
        ["Knob"],
        ["point"],
        id="tool-keyed-point-lists",
    ),
]


@pytest.mark.parametrize("label, layout, entries, titles, geo_kinds", LAYOUT_CASES)
def test_layout(label, layout, entries, titles, geo_kinds):
    before = copy.deepcopy(label)
    n = L.normalise_legacy_label(label, label_id="L1")
    assert label == before  # input untouched
    assert n.layout == layout and n.legacy
    assert n.entry_layouts == entries
    assert n.unmapped == {}
    assert [o["title"] for o in n.label["objects"]] == titles
    assert [o["value"] for o in n.label["objects"]] == titles
    assert kinds(n.label) == geo_kinds
    ids = [o["featureId"] for o in n.label["objects"]]
    assert ids == [f"legacy:L1:o{i}" for i in range(len(ids))]
    assert n.synthetic_ids
    assert not any("bbox" in o for o in n.label["objects"])  # never invented
    assert L.is_legacy_label(label)


def test_wkt_ring_opened_and_numbers_kept():
    n = L.normalise_legacy_label(
        {"Car": "MULTIPOLYGON (((297.7282926472745 792.2, 1 -2, 3e2 4, 297.7282926472745 792.2)))"}
    )
    assert n.label["objects"][0]["polygon"] == [V(297.7282926472745, 792.2), V(1, -2), V(300.0, 4)]


def test_wkt_holes_kept():
    n = L.normalise_legacy_label({"Ring": "POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))"})
    obj = n.label["objects"][0]
    assert obj["polygon"] == [V(0, 0), V(9, 0), V(9, 9)]
    assert obj["holes"] == [[V(1, 1), V(2, 1), V(2, 2)]]


def test_nested_answers_as_plain_string_keys():
    n = L.normalise_legacy_label(
        {
            "Door": [
                {
                    "geometry": SQUARE,
                    "type": "double",
                    "color": "#f00",
                    "handles": ["left", "right"],
                    "score": 3,
                }
            ]
        },
        label_id="L",
    )
    (obj,) = n.label["objects"]
    assert obj["color"] == "#f00"
    assert "type" not in obj  # moved: 'type' is a geometry key for modern v1 objects
    radio, checklist = obj["classifications"]
    assert radio["title"] == radio["value"] == "type"
    assert radio["answer"]["title"] == radio["answer"]["value"] == "double"
    assert [a["title"] for a in checklist["answers"]] == ["left", "right"]
    assert obj["legacyExtra"] == {"score": 3}  # kept, lands in objects.extra_json
    assert len({radio["featureId"], checklist["featureId"]}) == 2


@pytest.mark.parametrize(
    "label, skipped, empty, layout",
    [
        pytest.param("Skip", True, False, "skip", id="skip-string"),
        pytest.param({}, False, True, "empty", id="empty-dict"),
        pytest.param(None, False, True, "empty", id="null"),
    ],
)
def test_skip_and_empty(label, skipped, empty, layout):
    n = L.normalise_legacy_label(label)
    assert (n.skipped, n.empty, n.layout) == (skipped, empty, layout)
    assert n.label == {"objects": [], "classifications": []}


@pytest.mark.parametrize(
    "label, key",
    [
        pytest.param({"Car": 5}, "Car", id="number-value"),
        pytest.param({"Car": "POLYGON ((1 2, 3"}, "Car", id="malformed-wkt"),
        pytest.param({"Car": "POLYGON EMPTY"}, "Car", id="empty-wkt"),
        pytest.param({"Car": [{"geometry": 7}]}, "Car", id="unknown-geometry"),
        pytest.param(
            {"Car": [{"geometry": SQUARE}, {"geometry": "CIRCLE (1)"}]},
            "Car",
            id="one-bad-object-keeps-entry-whole",
        ),
        pytest.param({"Car": {"nested": True}}, "Car", id="dict-value"),
        pytest.param(
            {"Car": [{"geometry": "POINT EMPTY", "type": "x"}]},
            "Car",
            id="empty-wkt-geometry-object",
        ),
        pytest.param({"Car": []}, "Car", id="empty-list"),
    ],
)
def test_unmapped_kept(label, key):
    n = L.normalise_legacy_label(label)
    assert n.unmapped == {key: label[key]}
    assert n.label["objects"] == [] and n.label["classifications"] == []


def test_unmapped_next_to_mapped():
    n = L.normalise_legacy_label({"Car": "POINT (1 2)", "odd": 1.5})
    assert n.unmapped == {"odd": 1.5} and len(n.label["objects"]) == 1


@pytest.mark.parametrize(
    "label",
    [
        pytest.param({"objects": [], "classifications": []}, id="modern"),
        pytest.param({"objects": [{"title": "x", "point": V(1, 2)}]}, id="modern-objects-only"),
        pytest.param([{"frameNumber": 1, "objects": [], "classifications": []}], id="video"),
    ],
)
def test_modern_passthrough(label):
    n = L.normalise_legacy_label(label)
    assert n.label is label and n.layout == "modern" and not n.legacy


def test_not_tool_keyed_when_other_keys():
    # a class named "polygon" next to a global answer is class keyed, not tool keyed
    n = L.normalise_legacy_label({"polygon": [SQUARE], "type": "Car", "weather": "rain"})
    assert n.layout == "class_keyed"
    assert len(n.label["classifications"]) == 2


# ----------------------------------------------------------------------------- WKT parser


@pytest.mark.parametrize(
    "text, parts",
    [
        pytest.param("POINT (1 2)", [("point", V(1, 2))], id="point"),
        pytest.param("point(1 2)", [("point", V(1, 2))], id="lowercase-no-space"),
        pytest.param("POINT Z (1 2 3)", [("point", {"x": 1, "y": 2, "z": 3})], id="point-z"),
        pytest.param("SRID=4326;POINT (-1.5 2e-3)", [("point", V(-1.5, 0.002))], id="ewkt"),
        pytest.param(
            "MULTIPOINT (1 2, 3 4)", [("point", V(1, 2)), ("point", V(3, 4))], id="multipoint-bare"
        ),
        pytest.param("LINESTRING EMPTY", [], id="empty"),
        pytest.param(
            "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
            [("point", V(1, 2)), ("line", [V(0, 0), V(1, 1)])],
            id="collection",
        ),
    ],
)
def test_parse_wkt(text, parts):
    assert L.parse_wkt(text) == parts


@pytest.mark.parametrize(
    "text", ["POLYGON ((1 2, 3 4)", "POINT (1)", "POINT (1 2) x", "TRIANGLE ((0 0))", "POINT (1 2"]
)
def test_parse_wkt_errors(text):
    with pytest.raises(wkt.WktError):
        L.parse_wkt(text)


# ------------------------------------------------------------------------- record drift

RECORD_2018 = {
    "ID": "cje6mfeikhvp80135xv3olbix",
    "Labeled Data": "https://example.invalid/a.jpg",
    "Label": {"Car": "POLYGON ((0 0, 4 0, 4 3, 0 0))"},
    "Created By": "a@example.invalid",
    "Project Name": "coco",
    "Seconds to Label": "5.249",
    "External ID": "",
}


def test_record_2018_minimal_keys():
    before = copy.deepcopy(RECORD_2018)
    n = L.normalise_record(RECORD_2018)
    assert before == RECORD_2018
    r = n.record
    assert n.legacy
    assert r["DataRow ID"] == r["ID"]  # keyed by the label id
    assert "Updated At" not in r and "Created At" not in r  # nothing invented
    assert n.missing == ("DataRow ID", "Created At", "Updated At", "Reviews", "Dataset Name")
    assert r["Seconds to Label"] == 5.249
    assert r["External ID"] is None
    assert r["Skipped"] is False
    assert r["Label"]["objects"][0]["title"] == "Car"
    info = r["Legacy Normalisation"]
    assert info["original"] == {"DataRow ID": None, "Seconds to Label": "5.249", "External ID": ""}
    assert info["layout"] == "class_keyed" and info["syntheticFeatureIds"] is True


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("5.249", 5.249, id="string"),
        pytest.param(" 7 ", 7.0, id="string-int-padded"),
        pytest.param(5, 5.0, id="int"),
        pytest.param(8.974, 8.974, id="float"),
        pytest.param(None, None, id="null"),
        pytest.param("n/a", "n/a", id="non-numeric-left-as-is"),
    ],
)
def test_seconds_to_label(value, expected):
    r = L.normalise_record(
        {"ID": "L", "DataRow ID": "D", "Label": {}, "Seconds to Label": value}
    ).record
    assert r["Seconds to Label"] == expected
    assert type(r["Seconds to Label"]) is type(expected)


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param(-1, None, id="minus-one"),
        pytest.param(-1.0, None, id="minus-one-float"),
        pytest.param(None, None, id="null"),
        pytest.param(0.75, 0.75, id="score"),
        pytest.param(0, 0, id="zero"),
    ],
)
def test_agreement(value, expected):
    n = L.normalise_record(
        {
            "ID": "L",
            "DataRow ID": "D",
            "Label": {},
            "Agreement": value,
            "Benchmark Agreement": value,
        }
    )
    assert n.record["Agreement"] == expected and n.record["Benchmark Agreement"] == expected
    assert ("Agreement" in n.drift) == (value == -1)


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("", None, id="empty-string"),
        pytest.param(None, None, id="null"),
        pytest.param("002205_1.jpg", "002205_1.jpg", id="value"),
    ],
)
def test_external_id(value, expected):
    r = L.normalise_record({"ID": "L", "DataRow ID": "D", "Label": {}, "External ID": value})
    assert r.record["External ID"] == expected


@pytest.mark.parametrize(
    "record, legacy_era, skipped",
    [
        pytest.param({"ID": "L", "Label": "Skip"}, None, True, id="skip-string"),
        pytest.param({"ID": "L", "Label": {}}, None, False, id="empty-legacy-era"),
        pytest.param(
            {"ID": "L", "DataRow ID": "D", "Label": {}}, None, True, id="empty-modern-era"
        ),
        pytest.param(
            {"ID": "L", "DataRow ID": "D", "Label": {}}, True, False, id="empty-in-legacy-file"
        ),
        pytest.param(
            {"ID": "L", "DataRow ID": "D", "Label": {}, "Skipped": False},
            None,
            False,
            id="explicit-skipped-wins",
        ),
        pytest.param(
            {"ID": "L", "DataRow ID": "D", "Label": {"Door": [{"geometry": SQUARE}]}},
            None,
            False,
            id="class-keyed",
        ),
    ],
)
def test_skipped(record, legacy_era, skipped):
    n = L.normalise_record(record, legacy_era=legacy_era)
    assert n.skipped is skipped and n.record["Skipped"] is skipped


@pytest.mark.parametrize(
    "record, legacy",
    [
        pytest.param({"ID": "L", "DataRow ID": "D", "Label": {"objects": []}}, False, id="modern"),
        pytest.param({"ID": "L", "DataRow ID": "D", "Label": {}}, False, id="modern-empty"),
        pytest.param({"ID": "L", "Label": {}}, True, id="no-datarow-id"),
        pytest.param({"ID": "L", "DataRow ID": "D", "Label": "Skip"}, True, id="skip"),
        pytest.param(
            {"ID": "L", "DataRow ID": "D", "Label": {"Car": "POINT (1 2)"}}, True, id="class-keyed"
        ),
    ],
)
def test_is_legacy_record(record, legacy):
    assert L.is_legacy_record(record) is legacy


def test_modern_record_not_embedded():
    rec = {"ID": "L", "DataRow ID": "D", "Label": {"objects": []}, "Agreement": -1}
    n = L.normalise_record(rec)
    assert "Legacy Normalisation" not in n.record and n.record["Label"] is rec["Label"]
    assert n.drift == {"Agreement": -1} and n.record["Agreement"] is None


def test_unmapped_embedded_in_label():
    n = L.normalise_record({"ID": "L", "Label": {"Car": "POINT (1 2)", "odd": 1.5}})
    assert n.record["Label"]["legacyUnmapped"] == {"odd": 1.5}


# --------------------------------------------------------------------- real files (v1)

_POLY_WKT = re.compile(r"\s*(MULTI)?POLYGON\b", re.I)


def raw_geometry_count(label):
    """Independent count of the geometries in a raw v1 label (no parsing of shapes)."""
    if isinstance(label, list):  # video frame lines
        return sum(len(f.get("objects") or []) for f in label)
    if not isinstance(label, dict):
        return 0
    if "objects" in label or "classifications" in label or "frames" in label:
        return len(label.get("objects") or [])
    total = 0
    for value in label.values():
        if isinstance(value, str):
            assert _POLY_WKT.match(value), "only polygon WKT is seen in the real files"
            total += value.count("((")  # one "((" opens each polygon
        elif isinstance(value, list):
            total += len(value)  # one geometry (a dict with a point list) per item
    return total


def raw_answer_count(label):
    """Nested answers given as plain string keys on legacy objects."""
    if not isinstance(label, dict) or "objects" in label:
        return 0
    return sum(
        1
        for v in label.values()
        if isinstance(v, list)
        for o in v
        if isinstance(o, dict)
        for k, x in o.items()
        if k != "geometry" and isinstance(x, str)
    )


def load(path):
    with open(path, encoding="utf-8") as fp:
        data = json.load(fp)
    return data if isinstance(data, list) else [data]


def norm_objects(label):
    if isinstance(label, list):
        return [o for f in label for o in f.get("objects") or []]
    return label.get("objects") or []


@pytest.mark.parametrize("name", V1_NAMES)
def test_real_file_conserved(name, real_fixtures):
    records = load(real_fixtures / name)
    era = L.is_legacy_file(records)
    raw_skip = sum(r.get("Label") == "Skip" for r in records)
    out = [L.normalise_record(r, legacy_era=era) for r in records]
    assert len(out) == len(records)  # every label kept
    assert sum(n.skipped is True and n.label.skipped for n in out) == raw_skip
    for r, n in zip(records, out, strict=True):
        assert n.unmapped == {}, r["ID"]
        assert len(norm_objects(n.record["Label"])) == raw_geometry_count(r["Label"]), r["ID"]
        nested = sum(len(o.get("classifications") or []) for o in norm_objects(n.record["Label"]))
        if n.label.legacy:
            assert nested == raw_answer_count(r["Label"]), r["ID"]
        assert n.record["DataRow ID"]
        assert isinstance(n.record["Seconds to Label"], float | None)
        assert n.record.get("Reviews") == r.get("Reviews")  # untouched
        if n.label.legacy:  # synthetic ids unique within the label
            ids = [o["featureId"] for o in norm_objects(n.record["Label"])]
            assert len(ids) == len(set(ids))


# pinned per-file counts: labels, objects, skip, empty, layouts (a snapshot of the survey)
EXPECTED = {
    "v1_legacy2018_wkt_multipolygon_minimal_keys.json": (10, 10, 0, 0, {"class_keyed": 10}),
    "v1_legacy2018_skip_string_label.json": (2, 0, 1, 1, {"skip": 1, "empty": 1}),
    "v1_legacy2019_class_keyed_skip_reviews_doors.json": (
        812,
        1744,
        256,
        0,
        {"class_keyed": 556, "skip": 256},
    ),
    "v1_image_bbox_project_export_2020.json": (117, 798, 0, 29, {"modern": 88, "empty": 29}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_snapshot(name, real_fixtures):
    records = load(real_fixtures / name)
    out = [L.normalise_legacy_label(r["Label"], label_id=r["ID"]) for r in records]
    layouts: dict[str, int] = {}
    for n in out:
        layouts[n.layout] = layouts.get(n.layout, 0) + 1
    got = (
        len(out),
        sum(len(norm_objects(n.label)) for n in out),
        sum(n.skipped for n in out),
        sum(n.empty for n in out),
        layouts,
    )
    assert got == EXPECTED[name]


def test_doors_nested_types(real_fixtures):
    path = real_fixtures / "v1_legacy2019_class_keyed_skip_reviews_doors.json"
    answers: dict[str, int] = {}
    for r in load(path):
        for o in norm_objects(L.normalise_legacy_label(r["Label"], label_id=r["ID"]).label):
            for q in o.get("classifications", []):
                assert q["title"] == "type"
                answers[q["answer"]["title"]] = answers.get(q["answer"]["title"], 0) + 1
    assert answers == {"single": 660, "double": 408, "revolving": 55, "automatic": 16}


def test_wkt_vertices_conserved_on_real_file(real_fixtures):
    path = real_fixtures / "v1_legacy2018_wkt_multipolygon_minimal_keys.json"
    for r in load(path):
        (wkt,) = r["Label"].values()
        numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", wkt)]
        (obj,) = L.normalise_legacy_label(r["Label"]).label["objects"]
        flat = [float(c) for v in obj["polygon"] + obj["polygon"][:1] for c in (v["x"], v["y"])]
        assert flat == numbers  # ring given closed in WKT, stored open


# ------------------------------------------------------- properties: partition, cross-check


def _random_value(rng, depth=0):
    choice = rng.randrange(9 if depth < 2 else 5)
    if choice == 0:
        return rng.choice(
            [
                "POINT (1 2)",
                "POLYGON ((0 0, 1 0, 1 1, 0 0))",
                "sunny",
                "",
                "Skip",
                "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
                "POLYGON ((1 2",
                "LINESTRING EMPTY",
            ]
        )
    if choice == 1:
        return rng.choice([0, 1.5, True, None])
    if choice == 2:
        return [V(rng.randint(0, 9), rng.randint(0, 9)) for _ in range(rng.randint(0, 4))]
    if choice == 3:
        return [rng.choice(["a", "b", "POINT (0 0)"]) for _ in range(rng.randint(0, 3))]
    if choice == 4:
        return {"x": 1} if rng.random() < 0.5 else V(1, 2)
    if choice == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if choice == 6:
        return [
            {"geometry": _random_value(rng, depth + 1), "type": "t", "color": "#fff"}
            for _ in range(rng.randint(1, 3))
        ]
    if choice == 7:
        return {"geometry": _random_value(rng, depth + 1)}
    return {k: _random_value(rng, depth + 1) for k in ("polygon", "type")[: rng.randint(1, 2)]}


def test_every_key_is_mapped_or_kept():
    """On random class-keyed labels: no exception, and each key is either mapped (in
    entry_layouts) or kept verbatim in unmapped, never both, never neither."""
    import random

    rng = random.Random(17)
    for _ in range(3000):
        label = {f"k{i}": _random_value(rng) for i in range(rng.randint(1, 4))}
        if rng.random() < 0.2:
            label = {"polygon": [{"geometry": SQUARE}], "type": "Car"}
            if rng.random() < 0.5:
                label["line"] = _random_value(rng)
        n = L.normalise_legacy_label(label, label_id="R")
        mapped, kept = set(n.entry_layouts), set(n.unmapped)
        assert mapped | kept == set(label) and not mapped & kept, label
        assert all(n.unmapped[k] is label[k] for k in kept)
        ids = [o["featureId"] for o in n.label["objects"]]
        assert len(ids) == len(set(ids))
