"""The whole dags/ folder as Airflow's DAG processor sees it: every file parses, no DAG twice."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {
    "labelbox_incremental",
    "labelbox_backfill",
    "labelbox_reconcile",
    "labelbox_maintenance",
    "labelbox_warehouse_load",
    "labelbox_warehouse_load_postgres",
}


def test_dag_folder_parses_cleanly_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No import error, no duplicated DAG id, and no network access while parsing."""
    from airflow.dag_processing.dagbag import DagBag

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a DAG file opened a network connection at parse time")

    monkeypatch.setattr(socket, "create_connection", refuse)
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED
