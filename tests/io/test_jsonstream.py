"""The record splitter: layouts, chunk boundaries, tricky strings, depth, truncation."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labelbox_provider.exceptions import ExportFormatError, TruncatedExportError
from labelbox_provider.io import jsonstream
from labelbox_provider.io.jsonstream import detect_format, iter_decoded, iter_raw_records

pytestmark = pytest.mark.unit

RECORDS = [
    {"ID": "a", "text": 'brace } and bracket ] and quote \\" inside', "n": [1, [2, {"x": "]"}]]},
    {"ID": "b", "unicode": "żółw 🐢", "empty": {}, "list": []},
    {"ID": "c", "nested": {"k": [{"deep": [[[]]]}]}},
]


def layouts(records: list[Any]) -> dict[str, bytes]:
    """The same records in every layout an export file can have."""
    return {
        "array_one_per_line": ("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]").encode(),
        "array_minified": json.dumps(records, separators=(",", ":")).encode(),
        "array_pretty": json.dumps(records, indent=4, ensure_ascii=False).encode(),
        "ndjson": "".join(json.dumps(r) + "\n" for r in records).encode(),
    }


@pytest.mark.parametrize("layout", list(layouts(RECORDS)))
def test_every_layout_gives_the_same_records(layout: str) -> None:
    data = layouts(RECORDS)[layout]
    decoded = list(iter_decoded(io.BytesIO(data)))
    assert [d.value for d in decoded] == RECORDS
    assert [d.position for d in decoded] == [0, 1, 2]
    assert [json.loads(raw) for _, raw in iter_raw_records(io.BytesIO(data))] == RECORDS


@pytest.mark.parametrize("layout", ["array_one_per_line", "array_minified", "array_pretty"])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_tiny_chunks_split_records_anywhere(
    layout: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", chunk)
    data = layouts(RECORDS)[layout]
    assert [d.value for d in iter_decoded(io.BytesIO(data), "v1_array")] == RECORDS


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"  [{}]", "v1_array", id="array"),
        pytest.param(b"\xef\xbb\xbf[{}]", "v1_array", id="array-with-bom"),
        pytest.param(b'{\n  "ID": "x"\n}', "v1_object", id="pretty-object"),
        pytest.param(b'{"a": 1}\n{"a": 2}\n', "ndjson", id="ndjson"),
        pytest.param(b'{"a": 1}', "ndjson", id="one-line-object"),
        pytest.param(b"", "ndjson", id="empty-file"),
    ],
)
def test_detect_format(data: bytes, expected: str) -> None:
    fp = io.BytesIO(data)
    assert detect_format(fp) == expected
    assert fp.tell() == 0  # nothing consumed


def test_detect_format_unseekable_stream_peeks(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    with path.open("rb") as raw:
        stream = io.BufferedReader(raw)  # type: ignore[arg-type]
        stream.seekable = lambda: False  # type: ignore[method-assign]
        assert detect_format(stream) == "ndjson"
        assert stream.read() == path.read_bytes()


def test_detect_format_rejects_non_json() -> None:
    with pytest.raises(ExportFormatError):
        detect_format(io.BytesIO(b"<html>"))


def test_bare_objects_back_to_back() -> None:
    data = b'{\n "ID": "a"\n}\n{\n "ID": "b"\n}\n'
    assert [d.value["ID"] for d in iter_decoded(io.BytesIO(data))] == ["a", "b"]


def test_malformed_elements_are_yielded_with_their_position() -> None:
    data = b'[\n{"ID": "a"},\n{"ID": tru},\n7,\n{"ID": "c"}\n]'
    decoded = list(iter_decoded(io.BytesIO(data)))
    assert [(d.position, d.error is None) for d in decoded] == [
        (0, True),
        (1, False),
        (2, True),
        (3, True),
    ]
    assert decoded[1].raw == b'{"ID": tru}'
    assert decoded[2].value == 7


@pytest.mark.parametrize("fmt", ["v1_object", "v1_array"])
def test_a_malformed_pretty_printed_record_is_one_reject(fmt: str) -> None:
    """Its deeper lines (``null,``, valid JSON on their own) are its own, not new records;
    a later record at the record's own indentation still starts anew."""
    bad = {"ID": "l1", "DataRow ID": [None, float("inf")], "Label": {"objects": []}}
    good = {"ID": "l2"}
    if fmt == "v1_object":
        data = json.dumps(bad, indent=2) + "\n" + json.dumps(good, indent=2) + "\n"
    else:
        data = json.dumps([bad, good], indent=2)
    decoded = list(iter_decoded(io.BytesIO(data.encode()), fmt))
    assert [(d.position, d.error is None) for d in decoded] == [(0, False), (1, True)]
    assert decoded[0].raw.startswith(b"{") and decoded[0].raw.endswith(b"}")
    assert b"Infinity" in decoded[0].raw and decoded[1].value == good


def test_truncated_last_record() -> None:
    """The cut record is yielded (a reject), then the missing ']' is an error."""
    decoded: list[Any] = []
    with pytest.raises(TruncatedExportError, match=r"after 2 record\(s\) without its closing"):
        decoded.extend(iter_decoded(io.BytesIO(b'[{"ID": "a"}, {"ID": "b", "x": "unterminated')))
    assert decoded[0].value == {"ID": "a"}
    assert decoded[1].error is not None and decoded[1].raw.startswith(b'{"ID": "b"')


def test_deeper_than_the_fast_pattern() -> None:
    depth = jsonstream.FAST_DEPTH + 10
    deep: Any = "leaf"
    for _ in range(depth):
        deep = {"d": [deep]}
    data = json.dumps([deep, {"ID": "after"}]).encode()
    assert [d.value for d in iter_decoded(io.BytesIO(data))] == [deep, {"ID": "after"}]


def test_ndjson_skips_blank_lines_and_crlf() -> None:
    data = b'{"a": 1}\r\n\r\n  \n{"a": 2}\r\n'
    assert list(iter_raw_records(io.BytesIO(data))) == [(0, b'{"a": 1}'), (1, b'{"a": 2}')]


def test_unknown_format_name() -> None:
    with pytest.raises(ExportFormatError):
        list(iter_raw_records(io.BytesIO(b"[]"), "xml"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab{}[]",\\\n :'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(st.dictionaries(st.text(max_size=4), json_values), max_size=5))
def test_property_any_records_any_layout(records: list[dict[str, Any]]) -> None:
    for data in layouts(records).values():
        assert [d.value for d in iter_decoded(io.BytesIO(data))] == records


def test_unbalanced_record_does_not_swallow_the_next_lines() -> None:
    data = b'[\n{"ID": "a"},\n{"ID": "b", "x": {"open": 1},\n{"ID": "c"}\n]'
    decoded = list(iter_decoded(io.BytesIO(data)))
    assert [(d.position, d.error is None) for d in decoded] == [(0, True), (1, False), (2, True)]
    assert decoded[2].value == {"ID": "c"}


def test_pretty_array_after_one_line_records() -> None:
    records = [{}, {"a": {"b": [1, {}]}}, {}, {"c": "}"}]
    data = json.dumps(records, indent=2).encode()
    assert [d.value for d in iter_decoded(io.BytesIO(data))] == records


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"a": 1}\n]\n{"b": 2}\n', id="stray-bracket-line"),
        pytest.param(b'{"a": 1}\n,\n,{"b": 2}\n', id="stray-commas"),
        pytest.param(b'{"a": 1}\n"text"\n{"b": 2}', id="scalar-line"),
    ],
)
def test_garbage_between_bare_objects_terminates(data: bytes) -> None:
    decoded = list(iter_decoded(io.BytesIO(data), "v1_object"))
    good = [d.value for d in decoded if d.error is None and isinstance(d.value, dict)]
    assert good == [{"a": 1}, {"b": 2}]
    assert all(d.raw for d in decoded)
