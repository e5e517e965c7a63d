"""The warehouse load DAG, run with dag.test() against the emulator and the example mirror DAG.

Days of simulated activity are mirrored by ``labelbox_incremental``; the load DAG then brings
a DuckDB warehouse to exactly the mirror's current view: first by catch-up, then by loading
exactly one named batch, then by catching up again after deletions and updates.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from labelbox_provider.io.current import current_tables
from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.transforms.tables import SCHEMAS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("airflow_db")]

DAY = 86_400.0  # seconds
START = datetime(2025, 12, 1, tzinfo=UTC)  # mirror coverage start (the emulator's history)
EVENTS = {"label_created": 2, "label_updated": 2, "label_deleted": 1, "review_applied": 1}


def _rows(table: Any) -> list[str]:
    return sorted(json.dumps(r, default=str, sort_keys=True) for r in table.to_pylist())


def _warehouse(db: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        cols = {t: ", ".join(f'"{c}"' for c in s.names) for t, s in SCHEMAS.items()}
        return {
            t: _rows(con.sql(f"SELECT {cols[t]} FROM main.{t}").to_arrow_table()) for t in SCHEMAS
        }


def _current(root: str) -> dict[str, list[str]]:
    return {t: _rows(tab.select(SCHEMAS[t].names)) for t, tab in current_tables(root).items()}


def _differences(db: Path, root: str) -> list[str]:
    """Rows only in the warehouse or only in the current view, per table (first few)."""
    held, want = _warehouse(db), _current(root)
    out = []
    for table in SCHEMAS:
        extra, missing = Counter(held[table]), Counter(want[table])
        extra.subtract(want[table])
        missing.subtract(held[table])
        out += [f"{table} extra: {r}" for r, n in extra.items() if n > 0][:3]
        out += [f"{table} missing: {r}" for r, n in missing.items() if n > 0][:3]
    return out


def _ok(dag: Any, **kwargs: Any) -> None:
    run = dag.test(**kwargs)
    assert run.state == "success", f"{dag.dag_id} ended {run.state}"


def _mirror(emu: Any, root: str, projects: list[str], *, reconcile: bool = False) -> None:
    """Bring the mirror up to the emulator's clock (what the incremental DAG does daily)."""
    from labelbox_provider.hooks.labelbox import LabelboxHook
    from labelbox_provider.pipeline.run import MirrorPipeline

    hook = LabelboxHook(labelbox_conn_id="labelbox_default")
    for project in projects:
        pipe = MirrorPipeline(
            hook, root, project, initial_start=START, poll_interval=0.01, export_format="v2"
        )
        pipe.catch_up(now=emu.world.now())
        if reconcile:
            pipe.reconcile(now=emu.world.now())


def test_load_dag_follows_the_mirror(emulator: Any, tmp_path: Path) -> None:
    import labelbox_warehouse_load

    projects = [p["id"] for p in emulator.projects]
    root, db = str(tmp_path / "mirror"), tmp_path / "wh.duckdb"
    load = labelbox_warehouse_load.build_dag(
        project_ids=projects, destination=root, warehouse=f"duckdb://{db}"
    )
    names = {a.name for a in load.timetable.asset_condition.objects}
    assert names == {f"labelbox_mirror_{p}" for p in projects}

    emulator.advance(DAY, events=EVENTS)
    _mirror(emulator, root, projects)
    _ok(load)  # manual run, no batches named: catch up with everything committed
    diff = _differences(db, root)
    assert not diff, "\n".join(diff)

    emulator.advance(DAY, events=EVENTS)
    _mirror(emulator, root, projects, reconcile=True)
    wh = DuckDBWarehouse(db)
    pending = wh.pending(root, projects[0])
    assert len(pending) >= 2, "the second day committed an incremental and a reconcile batch"
    before = set(wh.loaded())
    _ok(load, run_conf={"batches": [pending[0].manifest_url]})
    assert set(wh.loaded()) - before == {(projects[0], pending[0].batch_id)}

    _ok(load, run_conf={"batches": []})  # dag.test() keeps the last run_conf: reset it
    assert [r for p in projects for r in wh.pending(root, p)] == []
    diff = _differences(db, root)
    assert not diff, "\n".join(diff)
    assert sum(len(Ledger(root, p).manifests()) for p in projects) == len(wh.loaded())
