"""What the real deployment needs from the DAGs, checked on their serialized form (what the
dag-processor stores): outlets declared at parse time, the API pool, the backfill DAG on
demand only, coverage start and settle lag from the environment."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import labelbox_backfill
import labelbox_incremental
import labelbox_maintenance
import labelbox_reconcile
import labelbox_settings
import pendulum
import pytest
from airflow.sdk import DAG
from airflow.serialization.serialized_objects import DagSerialization, LazyDeserializedDAG
from labelbox_provider.assets import MIRROR_ALIAS
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator

pytestmark = pytest.mark.unit


def _registered_aliases(dag: Any) -> set[str]:
    """The aliases the dag-processor registers for ``dag`` before any task runs (Airflow's
    own collection code, on the serialized DAG)."""
    from airflow.dag_processing.collection import _find_all_asset_aliases

    lazy = LazyDeserializedDAG(data=DagSerialization.to_dict(dag))
    return {alias.name for alias in _find_all_asset_aliases([lazy])}


@pytest.mark.parametrize("module", [labelbox_incremental, labelbox_backfill, labelbox_reconcile])
def test_mapped_example_dags_declare_the_alias_at_parse_time(module: Any) -> None:
    assert _registered_aliases(module.build_dag(project_ids=["p1", "p2"])) == {MIRROR_ALIAS}


def test_unmapped_and_mapped_operators_declare_the_alias() -> None:
    with DAG("outlets", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        LabelboxIncrementalExportOperator(task_id="one", project_id="p", destination="/tmp/m")
        LabelboxIncrementalExportOperator.partial(task_id="many", destination="/tmp/m").expand(
            project_id=["a", "b"]
        )
    assert _registered_aliases(dag) == {MIRROR_ALIAS}


def test_explicit_outlets_are_kept() -> None:
    from airflow.sdk import Asset

    mine = Asset(name="mine", uri="x-test://mine")
    with DAG("own", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        LabelboxIncrementalExportOperator.partial(
            task_id="many", destination="/tmp/m", outlets=[mine]
        ).expand(project_id=["a"])
    assert _registered_aliases(dag) == set()


@pytest.mark.parametrize(
    ("module", "task_id"),
    [(labelbox_incremental, "mirror"), (labelbox_backfill, "backfill_window"),
     (labelbox_reconcile, "reconcile")],
)  # fmt: skip
def test_labelbox_calls_run_in_the_api_pool(module: Any, task_id: str) -> None:
    task = module.build_dag(project_ids=["p"]).get_task(task_id)
    assert labelbox_settings.POOL == "labelbox_api"
    assert task.partial_kwargs["pool"] == labelbox_settings.POOL
    assert task.partial_kwargs["retry_delay"] == timedelta(seconds=60)


def test_backfill_dag_runs_only_when_asked_for_a_window() -> None:
    dag = labelbox_backfill.build_dag(project_ids=["p"])
    assert dag.timetable.can_be_scheduled is False  # schedule=None: never on its own
    assert {"window_start", "window_end", "project_ids"} <= set(dag.params)
    task = dag.get_task("backfill_window")
    assert task.partial_kwargs["window_start"] == "{{ params.window_start }}"


def test_coverage_start_and_settle_lag_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELBOX_INITIAL_START", "2025-06-01T00:00:00Z")
    monkeypatch.setenv("LABELBOX_SETTLE_LAG_SECONDS", "5")
    module = importlib.reload(labelbox_incremental)
    try:
        task = module.build_dag(project_ids=["p"]).get_task("mirror")
        assert task.partial_kwargs["initial_start"] == pendulum.datetime(2025, 6, 1, tz="UTC")
        assert task.partial_kwargs["settle_lag"] == timedelta(seconds=5)
    finally:
        monkeypatch.delenv("LABELBOX_INITIAL_START")
        monkeypatch.delenv("LABELBOX_SETTLE_LAG_SECONDS")
        importlib.reload(labelbox_incremental)
    default_start = labelbox_incremental.INITIAL_START
    assert default_start == pendulum.datetime(2024, 1, 1, tz="UTC")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("LABELBOX_INITIAL_START", "soon", "LABELBOX_INITIAL_START"),
     ("LABELBOX_SETTLE_LAG_SECONDS", "-1", "must not be negative"),
     ("LABELBOX_RETRY_DELAY_SECONDS", "a minute", "not a number"),
     ("LABELBOX_EXPIRE_RAW_AFTER", "a month", "LABELBOX_EXPIRE_RAW_AFTER: 'a month' is not a"),
     ("LABELBOX_FLATTEN_PROCESSES", "3", "LABELBOX_FLATTEN_PROCESSES='3' must be auto, 1 or 2")],
)  # fmt: skip
def test_bad_settings_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        labelbox_settings.initial_start()
        labelbox_settings.settle_lag()
        labelbox_settings.retry_delay()
        labelbox_settings.expire_raw_after()
        labelbox_settings.flatten_processes()


def test_maintenance_schedule_and_retention_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = labelbox_maintenance.build_dag(project_ids=["p"])
    assert default.params["expire_raw_after"] is None  # raw batches kept unless asked
    assert default.timetable == DAG("weekly", schedule="@weekly").timetable
    monkeypatch.setenv("LABELBOX_COMPACT_SCHEDULE", "@daily")
    monkeypatch.setenv("LABELBOX_EXPIRE_RAW_AFTER", "30d")
    importlib.reload(labelbox_settings)
    module = importlib.reload(labelbox_maintenance)
    try:
        dag = module.build_dag(project_ids=["p"])
        assert dag.params["expire_raw_after"] == "30d"
        assert dag.timetable == DAG("daily", schedule="@daily").timetable
        assert labelbox_settings.duration("30d") == timedelta(days=30)
    finally:
        monkeypatch.delenv("LABELBOX_COMPACT_SCHEDULE")
        monkeypatch.delenv("LABELBOX_EXPIRE_RAW_AFTER")
        importlib.reload(labelbox_settings)
        importlib.reload(labelbox_maintenance)


@pytest.mark.parametrize(
    ("module", "task_id"),
    [(labelbox_incremental, "mirror"), (labelbox_backfill, "backfill_window"),
     (labelbox_reconcile, "reconcile")],
)  # fmt: skip
def test_flatten_processes_come_from_the_environment(
    module: Any, task_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = module.build_dag(project_ids=["p"]).get_task(task_id)
    assert default.partial_kwargs["flatten_processes"] is None  # automatic
    for text, processes in (("2", 2), (" 1 ", 1), ("AUTO", None)):
        monkeypatch.setenv("LABELBOX_FLATTEN_PROCESSES", text)
        task = module.build_dag(project_ids=["p"]).get_task(task_id)
        assert task.partial_kwargs["flatten_processes"] == processes
