"""Example: a weekly reconcile run that writes tombstones for labels deleted at the source.

Incremental exports never return deleted labels. This DAG exports every label id of each
project, compares them with the mirror's current labels, and commits a ``reconcile`` batch of
tombstones; the current view then hides those labels. It is how deletions reach v1 mirrors.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_settings import POOL, flatten_processes, initial_start, retry_delay

DAG_ID = "labelbox_reconcile"
DEFAULT_PROJECTS = [p for p in os.environ.get("LABELBOX_PROJECT_IDS", "").split(",") if p]
DEFAULT_ROOT = os.environ.get("LABELBOX_MIRROR_ROOT", "/tmp/labelbox-mirror")
DEFAULT_FORMAT = os.environ.get("LABELBOX_EXPORT_FORMAT", "v2")
INITIAL_START = initial_start()  # LABELBOX_INITIAL_START: must match the incremental DAG


def build_dag(
    *,
    dag_id: str = DAG_ID,
    project_ids: list[str] | None = None,
    destination: str = DEFAULT_ROOT,
    export_format: str = DEFAULT_FORMAT,
    initial_start: pendulum.DateTime = INITIAL_START,
    **operator_options: Any,
) -> DAG:
    """The reconcile DAG (parameters let tests and users reuse it)."""
    operator_options.setdefault("flatten_processes", flatten_processes())  # auto, 1 or 2
    # [START labelbox_reconcile]
    with DAG(
        dag_id=dag_id,
        schedule="@weekly",
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        params={"project_ids": Param(project_ids or DEFAULT_PROJECTS, type="array")},
        tags=["labelbox"],
    ) as dag:

        @task
        def projects(params: dict[str, Any] | None = None) -> list[str]:
            """The projects to reconcile in this run."""
            return list((params or {})["project_ids"])

        LabelboxIncrementalExportOperator.partial(
            task_id="reconcile",
            mode="reconcile",  # export every id, tombstone what the source no longer has
            destination=destination,
            export_format=export_format,
            initial_start=initial_start,
            **{"pool": POOL, "retry_delay": retry_delay(), **operator_options},
        ).expand(project_id=projects())
    # [END labelbox_reconcile]
    return dag


dag = build_dag()
