"""Example: a daily incremental mirror of several Labelbox projects (one mapped task each).

Each run takes its window from the project's ledger and watermark (Airflow 3's cron schedule
gives a zero-width data interval), exports what changed, commits one batch per window and
emits one Asset event per batch. Project ids, destination and format come from the
environment (``LABELBOX_PROJECT_IDS``, ``LABELBOX_MIRROR_ROOT``, ``LABELBOX_EXPORT_FORMAT``) or
from the run's ``project_ids`` param; where coverage starts, the settle lag, the pool and the
retry delay from ``LABELBOX_INITIAL_START``, ``LABELBOX_SETTLE_LAG_SECONDS``, ``LABELBOX_POOL``
and ``LABELBOX_RETRY_DELAY_SECONDS`` (see ``labelbox_settings.py``). Every mirror task runs in
the ``labelbox_api`` pool, so many mapped projects cannot exceed the API's rate limits. The
operator declares its AssetAlias at parse time, so the dag-processor registers it before any
task runs. Importing this file touches no network.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_settings import POOL, flatten_processes, initial_start, retry_delay, settle_lag

DAG_ID = "labelbox_incremental"
DEFAULT_PROJECTS = [p for p in os.environ.get("LABELBOX_PROJECT_IDS", "").split(",") if p]
DEFAULT_ROOT = os.environ.get("LABELBOX_MIRROR_ROOT", "/tmp/labelbox-mirror")
DEFAULT_FORMAT = os.environ.get("LABELBOX_EXPORT_FORMAT", "v2")
INITIAL_START = initial_start()  # where the mirror's coverage begins (LABELBOX_INITIAL_START)


def build_dag(
    *,
    dag_id: str = DAG_ID,
    project_ids: list[str] | None = None,
    destination: str = DEFAULT_ROOT,
    export_format: str = DEFAULT_FORMAT,
    deferrable: bool | None = None,
    retries: int = 2,
    initial_start: pendulum.DateTime = INITIAL_START,
    **operator_options: Any,
) -> DAG:
    """The incremental mirror DAG (parameters let tests and users reuse it)."""
    if deferrable is not None:
        operator_options["deferrable"] = deferrable
    operator_options.setdefault("settle_lag", settle_lag())
    operator_options.setdefault("pool", POOL)  # bounds concurrent Labelbox API calls
    operator_options.setdefault("retry_delay", retry_delay())
    operator_options.setdefault("flatten_processes", flatten_processes())  # auto, 1 or 2
    # [START labelbox_incremental]
    with DAG(
        dag_id=dag_id,
        schedule="@daily",  # a trigger timetable: the window comes from the watermark
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,  # runs of one project must not overlap
        params={"project_ids": Param(project_ids or DEFAULT_PROJECTS, type="array")},
        tags=["labelbox"],
    ) as dag:

        @task
        def projects(params: dict[str, Any] | None = None) -> list[str]:
            """The projects to mirror in this run (from the run's params)."""
            return list((params or {})["project_ids"])

        LabelboxIncrementalExportOperator.partial(
            task_id="mirror",
            destination=destination,
            export_format=export_format,
            lookback=timedelta(hours=1),
            initial_start=initial_start,
            retries=retries,
            **operator_options,
        ).expand(project_id=projects())
    # [END labelbox_incremental]
    return dag


dag = build_dag()
