"""Which batches a load takes (Asset events, run conf) and the Postgres COPY encoding."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from labelbox_provider.io.warehouse import warehouse_for
from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
from labelbox_provider.io.warehouse.pgcopy import copy_text, encode, pg_type
from labelbox_provider.io.warehouse.postgres import PostgresWarehouse
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


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(None, "\\N", id="null"),
        pytest.param(True, "t", id="bool"),
        pytest.param(7, "7", id="int"),
        pytest.param(0.1, "0.1", id="float"),
        pytest.param(math.nan, "NaN", id="nan"),
        pytest.param(-math.inf, "-Infinity", id="neg-inf"),
        pytest.param("a\tb\nc\\d\re", "a\\tb\\nc\\\\d\\re", id="escapes"),
        pytest.param(
            datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            "2024-01-02T03:04:05.000006+00:00",
            id="timestamp",
        ),
        pytest.param([{"x": 1.5, "y": None}], '[{"x": 1.5, "y": null}]', id="nested-json"),
        pytest.param(b"\x01\xff", "\\\\x01ff", id="bytes"),
    ],
)
def test_copy_encoding(value: Any, text: str) -> None:
    assert encode(value) == text


def test_copy_text_and_types() -> None:
    batch = pa.record_batch({"a": ["x", None], "n": [1, 2], "l": [[1], None]})
    assert copy_text(batch) == "x\t1\t[1]\n\\N\t2\t\\N\n"
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
