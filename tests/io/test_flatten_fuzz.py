"""Hypothesis: hostile records and corrupted files never crash the flattener, and every record
is flattened or rejected with a reason (counts conserved). Extends the mutation tests of
``tests/transforms/test_fast_paths.py`` (valid shapes, both paths agree) with invalid input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labelbox_provider.exceptions import ExportFormatError
from labelbox_provider.io.flatten import flatten_file

from tests.io.test_flatten import LINEAGE

pytestmark = pytest.mark.unit

GOOD = {"ID": "l1", "DataRow ID": "d1", "Label": {"objects": []}, "Reviews": []}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),  # unicode of every plane
    st.just("x" * 200_000),  # a huge string
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
DEEP = st.integers(1, 120).map(lambda n: json.loads("[" * n + "]" * n))  # deep nesting


@st.composite
def hostile(draw: st.DrawFn) -> Any:
    """A v1 record with keys dropped, wrong types, nulls, deep values, duplicate ids."""
    record: dict[str, Any] = dict(GOOD)
    for key in draw(st.lists(st.sampled_from([*GOOD, "Created At", "Labeled Data"]), max_size=3)):
        if draw(st.booleans()):
            record.pop(key, None)
        else:
            record[key] = draw(st.one_of(VALUES, DEEP))
    record["ID"] = draw(st.sampled_from(["l1", "l2", record.get("ID")]))  # duplicates allowed
    return record if draw(st.integers(0, 9)) else draw(VALUES)  # sometimes not even an object


def _rows(out: Path, table: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (out / table).glob("*.parquet"))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(hostile(), min_size=1, max_size=6), garbage=st.booleans())
def test_every_hostile_record_is_flattened_or_rejected(
    tmp_path_factory: Any, records: list[Any], garbage: bool
) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    lines = [json.dumps(r) for r in records] + (["{not json at all"] if garbage else [])
    src = tmp / "export.json"
    src.write_text("[\n" + ",\n".join(lines) + "\n]", encoding="utf-8")
    counts = flatten_file(src, tmp / "out", LINEAGE)
    assert counts["labels"] + counts["rejects"] == len(lines)  # nothing lost, nothing doubled
    assert _rows(tmp / "out", "rejects") == counts["rejects"]
    for table in ("labels", "rejects"):
        assert _rows(tmp / "out", table) == counts[table]
    rejects = pq.read_table(tmp / "out" / "rejects").to_pylist() if counts["rejects"] else []
    assert all(r["error"] for r in rejects)  # each with a reason


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(1, 400), ndjson=st.booleans())
def test_a_file_cut_anywhere_fails_cleanly_or_rejects(
    tmp_path_factory: Any, cut: int, ndjson: bool
) -> None:
    tmp = tmp_path_factory.mktemp("cut")
    records = [{**GOOD, "ID": f"l{i}"} for i in range(4)]
    whole = "\n".join(json.dumps(r) for r in records) if ndjson else json.dumps(records)
    src = tmp / ("export.ndjson" if ndjson else "export.json")
    src.write_text(whole[: min(cut, len(whole) - 1)], encoding="utf-8")  # truncated mid-record
    try:
        counts = flatten_file(src, tmp / "out", LINEAGE)
    except ExportFormatError as exc:  # a clear error about the file, never anything else
        assert str(exc)
        return
    kept = len(whole[: min(cut, len(whole) - 1)])
    texts = [json.dumps(r) for r in records]
    ends = [whole.index(t) + len(t) for t in texts]
    complete = sum(1 for end in ends if end <= kept)
    assert counts["labels"] <= complete  # a record cut in the middle is never taken as whole
    assert counts["labels"] + counts["rejects"] <= len(records)
