"""Example: backfill an explicit history window, only when asked.

The DAG has no schedule: it writes the same project ledgers as the incremental DAG, so it runs
only when someone triggers it for a window. A run exports exactly the window in its params,
``[window_start, window_end)``, as ``backfill`` batches (split into spans the API handles);
batches fill gaps in the ledger, and the watermark only ever moves forward. The gaps left to
fill are listed by ``labelbox-export ledger`` (the CLI) or ``MirrorPipeline.gaps``, and
``labelbox-export backfill-command`` prints the ``airflow dags trigger`` commands that fill
them, each with ``--conf '{"project_ids": [...], "window_start": ..., "window_end": ...}'``.
A run without a window fails at once with a clear error.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_settings import POOL, flatten_processes, initial_start, retry_delay

DAG_ID = "labelbox_backfill"
DEFAULT_PROJECTS = [p for p in os.environ.get("LABELBOX_PROJECT_IDS", "").split(",") if p]
DEFAULT_ROOT = os.environ.get("LABELBOX_MIRROR_ROOT", "/tmp/labelbox-mirror")
INITIAL_START = initial_start()  # LABELBOX_INITIAL_START: must match the incremental DAG


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
    operator_options.setdefault("flatten_processes", flatten_processes())  # auto, 1 or 2
    # [START labelbox_backfill]
    with DAG(
        dag_id=dag_id,
        schedule=None,  # only when asked: `airflow dags trigger` with a window
        start_date=initial_start,
        catchup=False,
        max_active_runs=1,  # one backfill at a time per deployment
        params={
            "project_ids": Param(project_ids or DEFAULT_PROJECTS, type="array"),
            "window_start": Param(None, type=["null", "string"], format="date-time"),
            "window_end": Param(None, type=["null", "string"], format="date-time"),
        },
        render_template_as_native_obj=True,  # an unset window renders as None, not "None"
        tags=["labelbox"],
    ) as dag:

        @task
        def projects(params: dict[str, Any] | None = None) -> list[str]:
            """The projects to backfill in this run (the trigger's ``--conf`` can narrow them)."""
            return list((params or {})["project_ids"])

        LabelboxIncrementalExportOperator.partial(
            task_id="backfill_window",
            mode="backfill",  # export exactly the window in the run's params
            window_start="{{ params.window_start }}",
            window_end="{{ params.window_end }}",
            destination=destination,
            export_format=export_format,
            initial_start=initial_start,
            **{"pool": POOL, "retry_delay": retry_delay(), **operator_options},
        ).expand(project_id=projects())
    # [END labelbox_backfill]
    return dag


dag = build_dag()
