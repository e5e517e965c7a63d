"""The array splitter's fast ways (by first key, by msgspec skip) against the bracket matcher.

The oracle is the same module with the fast ways switched off (records then end where the
bracket matcher says, as before they existed), and ``json.loads`` for the values.
"""

from __future__ import annotations

import io
import json
import random
from typing import Any

import msgspec
import pytest
from labelbox_provider.exceptions import TruncatedExportError
from labelbox_provider.io import jsonstream
from labelbox_provider.io.jsonstream import iter_decoded

pytestmark = pytest.mark.unit

TRICKY = [
    '[{"ID":"a","s":"},{"},{"ID":"b"}]',
    '[{"ID":"a","s":"},{\\"ID\\":\\"x\\"}"},{"ID":"b"}]',
    '[{"ID":"a","s":"\\"},{\\"ID\\":"},{"ID":"b"}]',
    '[{"ID":"a","kids":[{"ID":1},{"ID":2},{"ID":3}]},{"ID":"b","kids":[]}]',
    '[{"ID":"a","s":"},{\\"ID\\":"}, {"ID":"b"}]',
    '[{"ID":"a","s":"back\\\\"},{"ID":"b\\\\\\"","t":"]"}]',
    '[{"ID":"a","s":"x"},{"ID":"b","s":"}, {\\"ID\\":\\"c\\"}"},{"ID":"c"}]',
    '[ {"ID" : "a"} , {"ID" : "b"} ]',
    '[\n  {\n    "ID": "a",\n    "x": [1, [2, [3, {"y": "}]"}]]]\n  },\n'
    '  {\n    "ID": "b"\n  }\n]\n',
    '[{"ID":"a"},\r\n{"ID":"b"}\r\n]',
    '\ufeff[{"ID":"\\u007d,\\u007b"},{"ID":"\u00e9\u4e2d\U0001f600"}]',
    "[]",
    " [ ] ",
    '[{"ID":"only"}]',
    '[1, "two", null, [3], {"ID":4}, true]',
    '[{"a":1},{"ID":"key learned late"},{"ID":"c"}]',
    '[{"ID":"a"}\t,\t{"ID":"b"},{"ID":"c"}]',
    '[{"ID":"a","deep":' + "[" * 60 + "]" * 60 + '},{"ID":"b"}]',
    '[{"ID":"a"},{"other":"first key differs"},{"ID":"c"},{"ID":"d"}]',
]
MALFORMED = [
    '[{"ID":"a"},{"ID":},{"ID":"c"}]',
    '[{"ID":"a"},{"ID":"b"',
    '[{"ID":"a"},{"ID":"b",}]',
    '[{"ID":"a"},{"ID":"b"}',
    '[{"ID":"a"} {"ID":"b"}]',
    '[{"ID":"a"},{"ID":"b","s":"unterminated}]',
]


def split(data: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch, fast: bool = True) -> list[Any]:
    with monkeypatch.context() as m:
        m.setattr(jsonstream, "CHUNK_BYTES", chunk)
        if not fast:
            m.setattr(jsonstream._Splitter, "_fast_record", lambda self: None)
        got: list[Any] = []
        try:
            got.extend(tuple(r) for r in iter_decoded(io.BytesIO(data), "v1_array"))
        except TruncatedExportError:  # no ']': both ways must say so, after the same records
            got.append("truncated")
        return got


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("text", TRICKY)
def test_tricky_arrays(text: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = text.encode()
    got = split(data, chunk, monkeypatch)
    assert [v for _, _, v, _ in got] == json.loads(text.lstrip("\ufeff"))
    assert [e for *_, e in got] == [None] * len(got)
    assert got == split(data, chunk, monkeypatch, fast=False)


ALPHA = ["}", "{", ",", "[", "]", '"', "\\", ":", " ", "\n", "ID", "a", "\u00e9", '},{"ID":']


def rand_value(rng: random.Random, depth: int = 0) -> Any:
    k = rng.random()
    if depth > 4 or k < 0.3:
        text = "".join(rng.choices(ALPHA, k=rng.randint(0, 6)))
        return rng.choice([rng.randint(-5, 5), rng.random(), None, True, text])
    if k < 0.6:
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["ID", "x", '},{"ID":', "s"]
    value = {
        rng.choice(keys) + str(i): rand_value(rng, depth + 1) for i in range(rng.randint(0, 4))
    }
    return value | ({"ID": rand_value(rng, depth + 1)} if rng.random() < 0.5 else {})


STYLES: list[dict[str, Any]] = [
    {"separators": (",", ":")},
    {},
    {"indent": 2},
    {"separators": (" , ", " : ")},
]


@pytest.mark.parametrize("seed", range(200))
def test_fuzzed_arrays(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    records = []
    for _ in range(rng.randint(0, 12)):
        extra = rand_value(rng, 0)
        records.append(
            {"ID": rand_value(rng, 1), **(extra if isinstance(extra, dict) else {"v": extra})}
        )
    text = json.dumps(records, ensure_ascii=rng.random() < 0.5, **rng.choice(STYLES))
    for chunk in (5, 50, 1 << 20):
        got = split(text.encode(), chunk, monkeypatch)
        assert [v for _, _, v, _ in got] == records
        assert got == split(text.encode(), chunk, monkeypatch, fast=False)


@pytest.mark.parametrize("chunk", [3, 1 << 20])
@pytest.mark.parametrize("text", MALFORMED)
def test_malformed_like_the_bracket_matcher(
    text: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = split(text.encode(), chunk, monkeypatch)
    slow = split(text.encode(), chunk, monkeypatch, fast=False)
    if not text.rstrip().endswith("]"):
        assert got[-1] == "truncated"
    assert [r if r == "truncated" else (r[0], r[1], r[2], r[3] is None) for r in got] == [
        r if r == "truncated" else (r[0], r[1], r[2], r[3] is None) for r in slow
    ]


def test_msgspec_reports_the_end_of_a_skipped_value() -> None:
    """The skip way reads the value's end from msgspec's message: pin its wording."""
    with pytest.raises(msgspec.DecodeError) as info:
        msgspec.json.Decoder(msgspec.Raw).decode(b'{"a": [1, "}"]} , {"b": 2}')
    match = jsonstream._TRAILING.search(str(info.value))
    assert match is not None
    assert jsonstream._skip_end(b'{"a": [1, "}"]} , {"b": 2}', 0, eof=True) == 15
    assert jsonstream._skip_end(b'{"a": [1, "}', 0, eof=False) == jsonstream._MORE_END
    assert jsonstream._skip_end(b'{"a": ]', 0, eof=True) is None


def test_single_line_array_uses_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records of a single-line array after the first are found by their key, not skipped."""
    records = [{"ID": str(i), "s": '},{"ID":"no"}'} for i in range(50)]
    data = json.dumps(records, separators=(",", ":")).encode()
    skipped = []
    real = jsonstream._skip_end
    monkeypatch.setattr(jsonstream, "_skip_end", lambda *a: skipped.append(1) or real(*a))
    got = list(iter_decoded(io.BytesIO(data), "v1_array"))
    assert [r.value for r in got] == records
    assert len(skipped) <= 2  # the first record (learns the key) and the last (before ']')
