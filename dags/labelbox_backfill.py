"""Example: backfill explicit history windows, one per daily data interval.

Unlike the incremental DAG, this one uses ``CronDataIntervalTimetable``: each run has a real
data interval ``[start, end)`` and exports exactly that window as a ``backfill`` batch. Run it
over history with ``airflow backfill create --dag-id labelbox_backfill --from-date ... --to-date
...``; batches fill gaps in the ledger, and the watermark only ever moves forward. The gaps left
to fill are listed by ``labelbox-export ledger`` (the CLI) or ``MirrorPipeline.gaps``, and
``labelbox-export backfill-command`` prints the commands that fill them, each with
``--dag-run-conf '{"project_ids": [...]}'`` so only the projects with the gap are exported.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator

DAG_ID = "labelbox_backfill"
DEFAULT_PROJECTS = [p for p in os.environ.get("LABELBOX_PROJECT_IDS", "").split(",") if p]
DEFAULT_ROOT = os.environ.get("LABELBOX_MIRROR_ROOT", "/tmp/labelbox-mirror")
INITIAL_START = pendulum.datetime(2024, 1, 1, tz="UTC")  # must match the incremental DAG


def build_dag(
    *,
    dag_id: str = DAG_ID,
    project_ids: list[str] | None = None,
    destination: str = DEFAULT_ROOT,
    export_format: str = "v2",
    initial_start: pendulum.DateTime = INITIAL_START,
    **operator_options: Any,
) -> DAG:
    """The backfill DAG (parameters let tests and users reuse it)."""
    # [START labelbox_backfill]
    with DAG(
        dag_id=dag_id,
        schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),  # real data intervals
        start_date=initial_start,
        catchup=False,  # history is filled on demand with `airflow backfill create`
        params={"project_ids": Param(project_ids or DEFAULT_PROJECTS, type="array")},
        tags=["labelbox"],
    ) as dag:

        @task
        def projects(params: dict[str, Any] | None = None) -> list[str]:
            """The projects to backfill in this run (``--dag-run-conf`` can narrow them)."""
            return list((params or {})["project_ids"])

        LabelboxIncrementalExportOperator.partial(
            task_id="backfill_window",
            mode="backfill",  # export exactly the run's data interval
            destination=destination,
            export_format=export_format,
            initial_start=initial_start,
            **operator_options,
        ).expand(project_id=projects())
    # [END labelbox_backfill]
    return dag


dag = build_dag()
