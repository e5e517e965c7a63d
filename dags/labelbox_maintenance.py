"""Example: compact each project's mirror on a schedule (and expire old raw batches if asked).

Each run folds the batches committed since the last compaction into a new compacted base
(``io.compact.compact``: atomic, idempotent; a run with nothing new writes nothing), one mapped
task per project, so the current view reads the base plus the few batches since instead of the
whole history. The warehouse-load DAG is unaffected: it loads the raw batches, which stay until
expired. Retention is off by default (raw batches are kept); the run's ``expire_raw_after`` param
(default ``LABELBOX_EXPIRE_RAW_AFTER``, e.g. ``30d``) deletes the data files of folded batches
committed longer ago than that (set it longer than the warehouse load's lag). The schedule is
``LABELBOX_COMPACT_SCHEDULE`` (default ``@weekly``). No Labelbox call: no API pool. Importing
this file touches no network and no storage.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from labelbox_settings import COMPACT_SCHEDULE, duration, expire_raw_after, retry_delay

DAG_ID = "labelbox_maintenance"
DEFAULT_PROJECTS = [p for p in os.environ.get("LABELBOX_PROJECT_IDS", "").split(",") if p]
DEFAULT_ROOT = os.environ.get("LABELBOX_MIRROR_ROOT", "/tmp/labelbox-mirror")
DURATION = r"^[0-9]+[dhm]$"  # what `labelbox-export compact --expire-raw-after` accepts


def build_dag(
    *,
    dag_id: str = DAG_ID,
    project_ids: list[str] | None = None,
    destination: str = DEFAULT_ROOT,
    storage_options: dict[str, Any] | None = None,
    schedule: str | None = COMPACT_SCHEDULE,
) -> DAG:
    """The maintenance DAG (parameters let tests and users reuse it)."""
    # [START labelbox_maintenance]
    with DAG(
        dag_id=dag_id,
        schedule=schedule,  # LABELBOX_COMPACT_SCHEDULE, default @weekly
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,  # two compactions of one project: one would give up
        params={
            "project_ids": Param(project_ids or DEFAULT_PROJECTS, type="array"),
            # null keeps every raw batch; "30d" expires folded batches older than 30 days
            "expire_raw_after": Param(
                expire_raw_after(), type=["null", "string"], pattern=DURATION
            ),
        },
        tags=["labelbox", "maintenance"],
    ) as dag:

        @task
        def projects(params: dict[str, Any] | None = None) -> list[str]:
            """The projects to compact in this run."""
            return list((params or {})["project_ids"])

        @task(retries=1, retry_delay=retry_delay())
        def compact(project_id: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            """Fold the project's new batches into its base; expire old raw batches if asked."""
            from labelbox_provider.io import compact as compaction
            from labelbox_provider.state.ledger import Ledger

            after = duration((params or {}).get("expire_raw_after"), "expire_raw_after")
            ledger = Ledger(destination, project_id, storage_options)
            return compaction.compact(ledger, expire_raw_after=after).__dict__

        compact.expand(project_id=projects())
    # [END labelbox_maintenance]
    return dag


dag = build_dag()
