"""Postgres warehouse loads (real server on 127.0.0.1:5432, db ``test``) match the current view.

Each test uses its own schema, dropped afterwards. Without a reachable server the tests are
skipped with the reason shown in the pytest summary.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from labelbox_provider.io.batch import commit_batch
from labelbox_provider.io.warehouse import BatchRef, load_batch
from labelbox_provider.io.warehouse.postgres import INDEXES, PostgresWarehouse
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window, batch_id_for
from labelbox_provider.transforms.tables import SCHEMAS

from .warehouse_world import T0, build_world, canonical, expected

pytestmark = pytest.mark.integration

PG = {
    "host": os.environ.get("LBX_TEST_PG_HOST", "127.0.0.1"),
    "port": 5432,
    "dbname": "test",
    "user": "postgres",
}
CONN_ID = "lbx_warehouse_test"


def _connect() -> Any:
    import psycopg2

    return psycopg2.connect(connect_timeout=3, **PG)


@pytest.fixture
def pg_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh schema on the test server (and an Airflow connection to it); dropped after."""
    try:
        probe = _connect()
    except Exception as exc:  # any failure to reach the server means "not available here"
        pytest.skip(f"PostgreSQL not reachable at {PG['host']}:5432 db test: {exc}")
    probe.close()
    uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", uri)
    schema = f"lbx_test_{uuid.uuid4().hex[:10]}"
    yield schema
    con = _connect()
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    con.close()


def held(schema: str) -> dict[str, list[str]]:
    """Every mirror table in ``schema``, canonicalised like the oracle."""
    con = _connect()
    out = {}
    with con.cursor() as cur:
        for table, arrow in SCHEMAS.items():
            cur.execute(f'SELECT * FROM "{schema}"."{table}"')
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            out[table] = canonical(rows, list(arrow.names))
    con.close()
    return out


def test_shuffled_and_repeated_loads_equal_current_view(tmp_path: Path, pg_schema: str) -> None:
    root = tmp_path / "mirror"
    manifests = build_world(root, tmp_path / "work", seed=2024, batches=7)
    order = [m.batch_id for m in manifests]
    random.Random(1).shuffle(order)
    wh = PostgresWarehouse(CONN_ID, pg_schema)
    for batch_id in order:
        wh.load(BatchRef(str(root), "p1", batch_id))
    state = held(pg_schema)
    assert state == expected(root)
    assert state["labels"] and any(state[t] for t in ("objects", "classifications", "reviews"))
    for batch_id in order[:3]:  # loading again changes nothing
        assert not wh.load(BatchRef(str(root), "p1", batch_id), force=True).skipped
    assert held(pg_schema) == state
    assert load_batch(
        f"postgres://{CONN_ID}/{pg_schema}", BatchRef(str(root), "p1", order[0])
    ).skipped


def test_failed_load_leaves_warehouse_unchanged(tmp_path: Path, pg_schema: str) -> None:
    root = tmp_path / "mirror"
    manifests = build_world(root, tmp_path / "work", seed=9, batches=3)
    wh = PostgresWarehouse(CONN_ID, pg_schema)
    wh.load(BatchRef(str(root), "p1", manifests[0].batch_id))
    before = held(pg_schema)
    victim = next(f for f in manifests[1].files if f.table == "labels")
    (root / "project=p1" / victim.path).write_bytes(b"not parquet")
    with pytest.raises(Exception, match=r"(?i)parquet"):
        wh.load(BatchRef(str(root), "p1", manifests[1].batch_id))
    assert held(pg_schema) == before
    assert wh.loaded("p1") == {("p1", manifests[0].batch_id): manifests[0].attempt}


def _commit(root: Path, work: Path, hour: int, objects: list[dict[str, Any]]) -> str:
    """Commit a v1 batch (window ``hour``, extracted at the window's end) of data row d0 and
    label l0 with ``objects``, whose file has one column the mirror's schema lacks (note)."""
    window = Window(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1))
    batch_id = batch_id_for("p1", window, "v1")
    lineage = {"batch_id": batch_id, "extracted_at": window.end, "source_format": "v1"}
    key = {"project_id": "p1", "data_row_id": "d0"}
    rows = {
        "data_rows": [{**key, "global_key": f"g{hour}"}],
        "labels": [{**key, "label_id": "l0", "extra_json": f"h{hour}"}],
        "objects": objects,
    }
    folder = work / f"b{hour}"
    for table, items in rows.items():
        schema = SCHEMAS[table]
        if table == "objects":
            schema = schema.append(pa.field("note", pa.string()))
        (folder / table).mkdir(parents=True)
        data = pa.Table.from_pylist([{**r, **lineage} for r in items], schema=schema)
        pq.write_table(data, folder / table / "a.parquet")
    commit_batch(
        Ledger(str(root), "p1"),
        staging_dir=folder,
        batch_id=batch_id,
        window=window,
        source_format="v1",
        export_id=None,
        extracted_at=window.end,
        counts={t: len(r) for t, r in rows.items()},
        initial_start=T0,
        mode="incremental",
    )
    return batch_id


def test_objects_copied_for_accepted_labels_only(tmp_path: Path, pg_schema: str) -> None:
    """Label children go straight into the target: only rows of labels the batch makes
    current (no orphan, nothing of an older batch loaded late), a column only the files
    have is added to the table, and the tables' indexes exist after the first load."""
    root, work = tmp_path / "mirror", tmp_path / "work"

    def obj(label: str, feature: str, note: str | None = None) -> dict[str, Any]:
        return {"project_id": "p1", "data_row_id": "d0", "label_id": label,
                "feature_id": feature, "note": note, "points": [{"x": 1.0, "y": 2.5}]}  # fmt: skip

    newer = _commit(root, work, 5, [obj("l0", "new-a", "kept"), obj("l0", "new-b"), obj("lx", "x")])
    older = _commit(root, work, 2, [obj("l0", "old-a", "stale")])
    wh = PostgresWarehouse(CONN_ID, pg_schema)
    wh.load(BatchRef(str(root), "p1", newer))
    late = wh.load(BatchRef(str(root), "p1", older))  # older: its label is not accepted
    assert late.labels_upserted == 0 and late.staged["objects"] == 1
    assert held(pg_schema) == expected(root)
    con = _connect()
    with con.cursor() as cur:
        cur.execute(f'SELECT feature_id, note, points FROM "{pg_schema}".objects ORDER BY 1')
        rows = cur.fetchall()
        cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (pg_schema,))
        indexes = {r[0] for r in cur.fetchall()}
    con.close()
    # the first load built the indexes after its rows were in; the second found them there
    assert indexes >= {f"{t}_lbx_{n}" for t, keys in INDEXES.items() for n in range(len(keys))}
    points = [{"x": 1.0, "y": 2.5}]
    assert rows == [("new-a", "kept", points), ("new-b", None, points)]


def test_concurrent_loads_take_turns(tmp_path: Path, pg_schema: str) -> None:
    """Loads of one schema started at the same time, into a schema that does not exist yet
    (each creating the schema, the tables and, after its rows, the indexes): every load
    commits, and the warehouse equals the current view. Without the warehouse's lock the
    second creator fails on a duplicate schema, table or index, or deadlocks."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path / "mirror"
    manifests = build_world(root, tmp_path / "work", seed=77, batches=4)
    barrier = threading.Barrier(len(manifests))

    def load(batch_id: str) -> bool:
        wh = PostgresWarehouse(CONN_ID, pg_schema)  # one object per writer: each prepares
        barrier.wait(timeout=60)
        return wh.load(BatchRef(str(root), "p1", batch_id)).skipped

    with ThreadPoolExecutor(len(manifests)) as pool:
        skipped = list(pool.map(load, [m.batch_id for m in manifests]))
    assert skipped == [False] * len(manifests)
    assert held(pg_schema) == expected(root)
    loaded = PostgresWarehouse(CONN_ID, pg_schema).loaded("p1")
    assert loaded == {("p1", m.batch_id): m.attempt for m in manifests}
