"""The load DAG's structure and its batch selection (no Airflow DB, no network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit


@dataclass
class Event:
    """The part of an AssetEvent the DAG reads."""

    extra: dict[str, Any] = field(default_factory=dict)


def _select(dag: Any, **kwargs: Any) -> list[dict[str, str]]:
    result: list[dict[str, str]] = dag.task_dict["batches_to_load"].python_callable(**kwargs)
    return result


def test_events_win_over_params_and_catch_up(tmp_path: Path) -> None:
    import labelbox_warehouse_load

    dag = labelbox_warehouse_load.build_dag(
        project_ids=["p1"], destination=str(tmp_path), warehouse=f"duckdb://{tmp_path}/w.db"
    )
    assert set(dag.task_dict) == {"batches_to_load", "load"}
    assert dag.task_dict["load"].upstream_task_ids == {"batches_to_load"}
    manifest = f"{tmp_path}/project=p1/_ledger/b7.json"
    events = {"asset": [Event({"manifest": manifest, "project_id": "p1", "batch_id": "b7"})]}
    params = {"project_ids": ["p1"], "batches": [f"{tmp_path}/project=p1/_ledger/other.json"]}
    chosen = _select(dag, triggering_asset_events=events, params=params)
    assert chosen == [{"root": str(tmp_path), "project_id": "p1", "batch_id": "b7"}]
    named = _select(dag, triggering_asset_events={}, params=params)
    assert [r["batch_id"] for r in named] == ["other"]
    assert _select(dag, triggering_asset_events={}, params={"project_ids": ["p1"]}) == []


def test_schedule_and_postgres_variant() -> None:
    import labelbox_warehouse_load
    import labelbox_warehouse_load_postgres

    no_projects = labelbox_warehouse_load.build_dag(project_ids=[])
    assert type(no_projects.timetable).__name__ == "NullTimetable"  # nothing to wait for
    dag = labelbox_warehouse_load_postgres.dag
    assert dag.dag_id == "labelbox_warehouse_load_postgres"
    assert dag.max_active_runs == 1
