"""Ten simulated days of activity, mirrored by the example DAGs run once per day with dag.test().

For v1 and v2, deferrable and not, the current view must equal the emulator's ground truth
exactly at the end (labels, objects, answers, relationships, reviews, workflow history;
updates and deletions included), and running days again must change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import labelbox_incremental
import labelbox_reconcile
import pytest
from labelbox_provider.io.current import current_tables
from labelbox_provider.state.ledger import Ledger

from tests.e2e.mirror_truth import differences, mirror_state, truth_state

pytestmark = pytest.mark.e2e

DAY = 86_400.0  # seconds
SETTLE = timedelta(minutes=10)  # the DAG's settle lag in this test
EVENTS = {  # per simulated day, spread over all projects
    "label_created": 2,
    "label_updated": 3,
    "label_deleted": 1,
    "review_applied": 2,
    "workflow_moved": 2,
    "comment_created": 1,
    "issue_created": 1,
    "metadata_updated": 1,
}
WORLD = {"media_types": ["IMAGE", "VIDEO", "TEXT"], "labels_per_project": 12}


def _simulate_day(emu: Any, day: int) -> None:
    """One day: random activity, a late-indexed event, an event exactly on the window edge."""
    emu.advance(DAY - 3600, events=EVENTS)
    projects = [p["id"] for p in emu.projects]
    emu.add_event("label_updated", project_id=projects[day % 3], visible_after=300)
    emu.advance(3000)
    emu.add_event("review_applied", project_id=projects[(day + 1) % 3])  # at now - settle lag
    emu.advance(SETTLE.total_seconds())


def _run(dag: Any, when: Any) -> None:
    run = dag.test(logical_date=when)
    assert run.state == "success", f"{dag.dag_id} run at {when} ended {run.state}"


LINEAGE = {"batch_id", "extracted_at", "window_start", "window_end"}  # differ on re-export


def _asset_events(project: str, root: str) -> list[dict[str, Any]]:
    """Extras of the Asset events emitted on ``project``'s mirror Asset for this mirror root."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from labelbox_provider.assets import asset_name
    from sqlalchemy import select

    query = select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
    with create_session() as session:
        events = session.scalars(query.where(AssetModel.name == asset_name(project))).all()
        extras = [dict(e.extra or {}) for e in events]
    return [x for x in extras if str(x.get("manifest", "")).startswith(root)]


def _snapshot(root: str, projects: list[str]) -> dict[str, list[str]]:
    """Every current row of every table, lineage aside, as sorted text (order-free compare)."""
    out = {}
    for p in projects:
        for name, table in current_tables(root, p).items():
            keep = [c for c in table.column_names if c not in LINEAGE]
            out[f"{p}/{name}"] = sorted(map(str, table.select(keep).to_pylist()))
    return out


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
@pytest.mark.parametrize("export_format", ["v2", "v1"])
def test_ten_days_match_ground_truth(
    labelbox_emulator_factory: Any,
    labelbox_connection: Any,
    tmp_path: Path,
    export_format: str,
    deferrable: bool,
) -> None:
    emu = labelbox_emulator_factory(**WORLD)
    labelbox_connection(emu)
    projects = [p["id"] for p in emu.projects]
    media = {p["id"]: p["media_type"] for p in emu.projects}
    root = str(tmp_path / "mirror")
    common = {"project_ids": projects, "destination": root, "export_format": export_format}
    start = emu.world.now() - timedelta(days=31)
    incremental = labelbox_incremental.build_dag(
        **common, deferrable=deferrable, retries=0, initial_start=start, poll_interval=0.05
    )
    reconcile = labelbox_reconcile.build_dag(**common, initial_start=start, poll_interval=0.05)
    run_dates = []
    for day in range(10):
        _simulate_day(emu, day)
        run_dates.append(emu.world.now())
        _run(incremental, run_dates[-1])
    _run(reconcile, emu.world.now())

    for p in projects:
        assert Ledger(root, p).watermark() == run_dates[-1] - SETTLE
        diff = differences(mirror_state(root, p, media[p]), truth_state(emu.ground_truth(p)))
        assert diff == [], "\n".join(diff[:20])
        committed = {m.batch_id for m in Ledger(root, p).manifests()}
        emitted = [x["batch_id"] for x in _asset_events(p, root)]
        assert sorted(emitted) == sorted(committed)  # one event per committed batch
    before = _snapshot(root, projects)
    for when in (run_dates[3], run_dates[-1]):
        _run(incremental, when)
    _run(reconcile, emu.world.now())
    after = _snapshot(root, projects)
    changed = {
        k: (sorted(set(before[k]) - set(after.get(k, []))), sorted(set(after[k]) - set(before[k])))
        for k in after
        if after[k] != before.get(k)
    }
    assert changed == {}
    assert sum(len(rows) for rows in before.values()) > 100  # the comparison compared something
