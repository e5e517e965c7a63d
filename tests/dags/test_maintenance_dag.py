"""The maintenance DAG, run with dag.test() on a mirror the emulator-backed pipeline built.

A compaction folds every batch into a base without changing the current view; a second run
writes nothing; the warehouse-load DAG keeps loading the batches committed afterwards (the
warehouse equals the current view); a run with ``expire_raw_after`` deletes the folded raw
batches and the view still holds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.state.ledger import Ledger

from tests.dags.test_warehouse_dag import DAY, EVENTS, _current, _differences, _mirror, _ok

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("airflow_db")]


def _files(root: Path) -> dict[str, str]:
    """Every file under ``root`` and the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_maintenance_dag_compacts_without_changing_what_readers_see(
    emulator: Any, tmp_path: Path
) -> None:
    import labelbox_maintenance
    import labelbox_warehouse_load

    projects = [p["id"] for p in emulator.projects]
    root, db = tmp_path / "mirror", tmp_path / "wh.duckdb"
    maint = labelbox_maintenance.build_dag(project_ids=projects, destination=str(root))
    assert maint.params["expire_raw_after"] is None, "default: raw batches are kept"
    load = labelbox_warehouse_load.build_dag(
        project_ids=projects, destination=str(root), warehouse=f"duckdb://{db}"
    )

    emulator.advance(DAY, events=EVENTS)
    _mirror(emulator, str(root), projects)
    emulator.advance(DAY, events=EVENTS)
    _mirror(emulator, str(root), projects, reconcile=True)
    _ok(load)  # catch up with everything committed so far
    before = _current(str(root))

    _ok(maint)
    for project in projects:
        ledger = Ledger(str(root), project)
        cp = ledger.checkpoint()
        comp = cp.compaction
        assert comp is not None and not comp.stale
        assert comp.through_seq == cp.next_seq - 1 >= 2, "every committed batch is folded"
        assert comp.expired_through_seq == 0, "raw batches kept by default"
        for rels in comp.files.values():
            assert all(ledger.fs.exists(ledger.path(rel)) for rel in rels)
        assert sum(comp.rows.values()) > 0
    assert _current(str(root)) == before, "compaction changed the current view"

    snapshot = _files(root)
    _ok(maint)
    assert _files(root) == snapshot, "a run with nothing new wrote something"

    emulator.advance(DAY, events=EVENTS)
    _mirror(emulator, str(root), projects, reconcile=True)
    for project in projects:  # readers use the base plus the batches since
        cp = Ledger(str(root), project).checkpoint()
        assert cp.compaction is not None and cp.compaction.through_seq < cp.next_seq - 1
    _ok(load, run_conf={"batches": []})  # the batches committed after the compaction
    diff = _differences(db, str(root))
    assert not diff, "\n".join(diff)

    after = _current(str(root))
    _ok(maint, run_conf={"expire_raw_after": "0m"})
    for project in projects:
        ledger = Ledger(str(root), project)
        cp = ledger.checkpoint()
        assert cp.compaction is not None
        assert cp.compaction.expired_through_seq == cp.compaction.through_seq == cp.next_seq - 1
        for entry in ledger.batches(checkpoint=cp):
            assert not any(ledger.fs.exists(ledger.path(rel)) for rel in entry.paths())
    assert _current(str(root)) == after, "expiring folded raw batches changed the view"
    diff = _differences(db, str(root))
    assert not diff, "\n".join(diff)
