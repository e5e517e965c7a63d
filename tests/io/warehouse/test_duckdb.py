"""DuckDB warehouse loads agree with the current view, whatever the load order or repetition."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from labelbox_provider.exceptions import WarehouseLoadError
from labelbox_provider.io.warehouse import BatchRef, load_batch
from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
from labelbox_provider.state.ledger import Manifest
from labelbox_provider.transforms.tables import SCHEMAS

from .warehouse_world import T0, build_world, canonical, commit_random_batch, expected

pytestmark = pytest.mark.unit


def held(db: Path) -> dict[str, list[str]]:
    """Every mirror table of the warehouse, canonicalised like the oracle."""
    with duckdb.connect(str(db)) as con:
        out = {}
        for table, schema in SCHEMAS.items():
            rows = con.sql(f'SELECT * FROM main."{table}"').to_arrow_table().to_pylist()
            out[table] = canonical(rows, list(schema.names))
        return out


def ref(root: Path, batch_id: str) -> BatchRef:
    return BatchRef(str(root), "p1", batch_id)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6), order_seed=st.integers(0, 10**6))
@example(seed=91162, order_seed=0)  # repeated v1-style workflow steps within one batch
def test_any_load_order_equals_current_view(
    tmp_path_factory: pytest.TempPathFactory, seed: int, order_seed: int
) -> None:
    base = tmp_path_factory.mktemp("world")
    root, db = base / "mirror", base / "wh.duckdb"
    manifests = build_world(root, base / "work", seed)
    order = [m.batch_id for m in manifests]
    rng = random.Random(order_seed)
    rng.shuffle(order)
    order += rng.sample(order, 2)  # some batches arrive twice
    wh = DuckDBWarehouse(db)
    for batch_id in order:
        wh.load(ref(root, batch_id), force=True)
    assert held(db) == expected(root)


def test_in_order_then_reload_changes_nothing(tmp_path: Path) -> None:
    root, db = tmp_path / "mirror", tmp_path / "wh.duckdb"
    manifests = build_world(root, tmp_path / "work", seed=7, batches=8)
    wh = DuckDBWarehouse(db)
    for m in manifests:
        assert not wh.load(ref(root, m.batch_id)).skipped
    first = held(db)
    assert first == expected(root)
    assert any(first[t] for t in ("labels", "objects", "data_rows"))
    for m in manifests:
        wh.load(ref(root, m.batch_id), force=True)
    assert held(db) == first
    again = wh.load(ref(root, manifests[0].batch_id))
    assert again.skipped and again.staged == {}


Snapshots = tuple[Path, Path, DuckDBWarehouse, Manifest, Manifest]


def _two_snapshots(tmp_path: Path, seed: int) -> Snapshots:
    """Two v2 snapshot batches of random world ``seed``, a day apart, and an empty warehouse:
    ``(root, db, warehouse, old, new)``."""
    root, work, db = tmp_path / "mirror", tmp_path / "work", tmp_path / "wh.duckdb"
    rng = random.Random(seed)
    old = commit_random_batch(root, work, rng, 0, kind="v2", extracted_at=T0 + timedelta(days=1))
    new = commit_random_batch(root, work, rng, 1, kind="v2", extracted_at=T0 + timedelta(days=2))
    return root, db, DuckDBWarehouse(db), old, new


def test_newer_snapshot_deletes_missing_labels_and_late_old_batch_is_ignored(
    tmp_path: Path,
) -> None:
    root, db, wh, old, new = _two_snapshots(tmp_path, seed=3)
    wh.load(ref(root, new.batch_id))
    result = wh.load(ref(root, old.batch_id))
    assert held(db) == expected(root)
    new_rows = {r["data_row_id"] for r in _rows(root, new, "data_rows")}
    old_only = {r["data_row_id"] for r in _rows(root, old, "data_rows")} - new_rows
    assert result.data_rows_upserted == len(old_only)  # the old batch never wins a newer row
    with duckdb.connect(str(db)) as con:
        labels = con.sql("SELECT data_row_id, batch_id FROM main.labels").fetchall()
        copies = con.sql("SELECT data_row_id, batch_id FROM main.data_rows").fetchall()
    assert all(b == new.batch_id for d, b in labels + copies if d in new_rows)
    new_labels = {(r["data_row_id"], new.batch_id) for r in _rows(root, new, "labels")}
    assert {x for x in labels if x[0] in new_rows} == new_labels  # snapshot defines the set


def test_newer_snapshot_loaded_last_deletes_what_it_lacks(tmp_path: Path) -> None:
    # seed 8: a world where the newer snapshot drops two labels
    root, db, wh, old, new = _two_snapshots(tmp_path, seed=8)
    wh.load(ref(root, old.batch_id))
    result = wh.load(ref(root, new.batch_id))
    assert held(db) == expected(root)
    new_rows = {r["data_row_id"] for r in _rows(root, new, "data_rows")}
    new_ids = {r["label_id"] for r in _rows(root, new, "labels")}
    lost = {r["label_id"] for r in _rows(root, old, "labels") if r["data_row_id"] in new_rows}
    assert lost - new_ids, "the world must drop a label between the two snapshots"
    assert result.labels_deleted == len(lost - new_ids)
    with duckdb.connect(str(db)) as con:
        kept = {r[0] for r in con.sql("SELECT label_id FROM main.labels").fetchall()}
        orphans = con.execute(
            "SELECT count(*) FROM main.objects o WHERE NOT EXISTS "
            "(SELECT 1 FROM main.labels l WHERE l.label_id = o.label_id "
            "AND l.batch_id = o.batch_id)"
        ).fetchall()
    assert not (lost - new_ids) & kept
    assert orphans == [(0,)]


def _rows(root: Path, manifest: object, table: str) -> list[dict[str, object]]:
    import pyarrow.parquet as pq
    from labelbox_provider.state.ledger import Ledger

    ledger = Ledger(str(root), "p1")
    files = manifest.files_for(table)  # type: ignore[attr-defined]
    return [row for f in files for row in pq.read_table(ledger.path(f.path)).to_pylist()]


def test_tombstone_deletes_label_and_children(tmp_path: Path) -> None:
    root, work, db = tmp_path / "mirror", tmp_path / "work", tmp_path / "wh.duckdb"
    rng = random.Random(11)
    day = T0 + timedelta(days=1)
    first = commit_random_batch(root, work, rng, 0, kind="v1", extracted_at=day)
    tomb = commit_random_batch(
        root, work, rng, 1, kind="reconcile", extracted_at=day + timedelta(hours=1)
    )
    wh = DuckDBWarehouse(db)
    wh.load(ref(root, first.batch_id))
    before = held(db)
    result = wh.load(ref(root, tomb.batch_id))
    after = held(db)
    assert after == expected(root)
    gone = {r["label_id"] for r in _rows(root, tomb, "tombstones")}
    had = {r["label_id"] for r in _rows(root, first, "labels")}
    assert result.labels_deleted == len(gone & had)
    assert len(after["labels"]) == len(before["labels"]) - len(gone & had)
    assert len(after["tombstones"]) == len(gone)


def test_uncommitted_batch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WarehouseLoadError, match="not committed"):
        load_batch(str(tmp_path / "wh.duckdb"), BatchRef(str(tmp_path), "p1", "nope"))


def test_pending_lists_what_is_not_loaded(tmp_path: Path) -> None:
    root, db = tmp_path / "mirror", tmp_path / "wh.duckdb"
    manifests = build_world(root, tmp_path / "work", seed=5, batches=3)
    wh = DuckDBWarehouse(db)
    assert {r.batch_id for r in wh.pending(str(root), "p1")} == {m.batch_id for m in manifests}
    load_batch(f"duckdb://{db}", ref(root, manifests[1].batch_id))
    rest = {m.batch_id for m in manifests} - {manifests[1].batch_id}
    assert {r.batch_id for r in wh.pending(str(root), "p1")} == rest
    assert wh.loaded("p1") == {("p1", manifests[1].batch_id): manifests[1].attempt}
