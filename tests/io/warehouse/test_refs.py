"""Which batches a load takes (Asset events, run conf) and the Arrow batches sent to Postgres."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.warehouse import postgres, warehouse_for
from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
from labelbox_provider.io.warehouse.pgcopy import for_ingest, pg_type
from labelbox_provider.io.warehouse.postgres import (
    PostgresWarehouse,
    _accepted,
    _keep,
    _label_keys,
)
from labelbox_provider.io.warehouse.refs import BatchRef, refs_from_conf, refs_from_events

pytestmark = pytest.mark.unit


@dataclass
class Event:
    """The part of an Airflow AssetEvent the load reads."""

    extra: dict[str, Any] = field(default_factory=dict)


def _extra(root: str, project: str, batch: str, at: str) -> dict[str, Any]:
    manifest = f"{root}/project={project}/_ledger/{batch}.json"
    return {"project_id": project, "batch_id": batch, "manifest": manifest, "extracted_at": at}


def test_events_give_each_batch_once_oldest_first() -> None:
    events = {
        "asset-a": [
            Event(_extra("s3://b/m", "p1", "b2", "2024-01-02")),
            Event(_extra("s3://b/m", "p1", "b1", "2024-01-01")),
        ],
        "asset-b": [
            Event(_extra("s3://b/m", "p2", "b3", "2024-01-03")),
            Event(_extra("s3://b/m", "p1", "b2", "2024-01-02")),  # seen twice
            Event({"unrelated": True}),
        ],
    }
    refs = refs_from_events(events)
    assert [(r.project_id, r.batch_id) for r in refs] == [("p1", "b1"), ("p1", "b2"), ("p2", "b3")]
    assert {r.root for r in refs} == {"s3://b/m"}
    assert refs_from_events(None) == [] and refs_from_events({}) == []


def test_event_that_contradicts_its_manifest_is_refused() -> None:
    extra = {**_extra("/m", "p1", "b1", "x"), "batch_id": "other"}
    with pytest.raises(ValueError, match="disagrees"):
        refs_from_events({"a": [Event(extra)]})


@pytest.mark.parametrize(
    ("url", "root"),
    [
        pytest.param("/data/m/project=p1/_ledger/b1.json", "/data/m", id="local"),
        pytest.param("s3://bucket/a/b/project=p1/_ledger/b1.json", "s3://bucket/a/b", id="s3"),
        pytest.param("/project=p1/_ledger/b1.json", "/", id="filesystem-root"),
    ],
)
def test_manifest_url_round_trip(url: str, root: str) -> None:
    ref = BatchRef.from_manifest_url(url)
    assert (ref.root, ref.project_id, ref.batch_id) == (root, "p1", "b1")
    assert BatchRef.from_manifest_url(ref.manifest_url) == ref
    assert BatchRef.from_dict(ref.to_dict()) == ref


def test_bad_manifest_url_and_conf_forms() -> None:
    with pytest.raises(ValueError, match="not a batch manifest"):
        BatchRef.from_manifest_url("/data/m/p1/b1.json")
    refs = refs_from_conf(
        ["/m/project=p/_ledger/b.json", {"root": "/m", "project_id": "p", "batch_id": "b"}]
    )
    assert refs == [BatchRef("/m", "p", "b")]


def test_target_strings() -> None:
    duck = warehouse_for("duckdb:///tmp/x.duckdb")
    assert isinstance(duck, DuckDBWarehouse) and duck.path == "/tmp/x.duckdb"
    assert isinstance(warehouse_for("/tmp/y.duckdb"), DuckDBWarehouse)
    pg = warehouse_for("postgres://wh_conn/analytics")
    assert isinstance(pg, PostgresWarehouse)
    assert (pg.postgres_conn_id, pg.schema) == ("wh_conn", "analytics")
    assert warehouse_for(pg) is pg


def test_ingest_batch_nested_as_json_and_text_columns_as_strings() -> None:
    points = pa.array([[{"x": 1.5, "y": None}], None, [{"x": math.nan, "y": 2.0}]])
    batch = pa.record_batch(
        {
            "a": ["x\tb", None, "c"],
            "n": [1, 2, None],
            "points": points,
            "drifted": [1, 2, 3],  # held as TEXT by the table
            "empty": pa.nulls(3),
            "at": pa.array(
                [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)] * 3, pa.timestamp("us", "UTC")
            ),
        }
    )
    out = for_ingest(batch, {"drifted": "text"})
    assert out.schema.names == batch.schema.names
    assert out.column(0).equals(batch.column(0))  # strings, ints and timestamps go as they are
    assert out.column(1).equals(batch.column(1))
    assert out.column(5).equals(batch.column(5))
    assert out.column(2).type == pa.json_()
    # one JSON document per value; NaN (which jsonb rejects) becomes null
    assert out.column(2).storage.to_pylist() == [
        '[{"x":1.5,"y":null}]',
        None,
        '[{"x":null,"y":2.0}]',
    ]
    assert out.column(3).to_pylist() == ["1", "2", "3"]
    assert out.column(4).type == pa.string()


def test_pg_types() -> None:
    types = [
        pg_type(t)
        for t in (
            pa.string(),
            pa.int32(),
            pa.float64(),
            pa.bool_(),
            pa.timestamp("us", tz="UTC"),
            pa.timestamp("us"),
            pa.list_(pa.int64()),
            pa.struct([("x", pa.int8())]),
        )
    ]
    assert types == [
        "TEXT",
        "BIGINT",
        "DOUBLE PRECISION",
        "BOOLEAN",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP",
        "JSONB",
        "JSONB",
    ]


def test_child_rows_kept_only_for_accepted_label_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Arrow filter of directly copied label children matches the SQL join: both key
    parts equal, a null part never matches, and the parts cannot run into each other."""
    keys = _label_keys(pa.array(["p1", "p1", "p"]), pa.array(["a", "b", "1c"]))
    rows = pa.table(
        {
            "project_id": ["p1", "p1", "p1", None, "p2", "p", "p1"],
            "label_id": ["a", "c", None, "a", "a", "1a", "b"],
            "n": list(range(7)),
        }
    )
    buf = io.BytesIO()
    pq.write_table(rows, buf, row_group_size=3)
    file = pq.ParquetFile(buf)
    keep = _keep(file, keys)
    assert keep.to_pylist() == [True, False, False, False, False, False, True]
    monkeypatch.setattr(postgres, "KEY_ROWS", 2)  # the keys read in chunks: the same mask
    assert _keep(file, keys).to_pylist() == keep.to_pylist()
    out = list(_accepted(file.iter_batches(batch_size=3), keep))
    assert [b.column("n").to_pylist() for b in out] == [[0], [6]]  # the empty batch is dropped
    whole = list(_accepted(file.iter_batches(batch_size=3), pa.array([True] * 7)))
    assert sum(b.num_rows for b in whole) == 7
    no_label = pa.table({"project_id": ["p1"], "n": [1]})
    buf = io.BytesIO()
    pq.write_table(no_label, buf)
    assert _keep(pq.ParquetFile(buf), keys).to_pylist() == [False]
