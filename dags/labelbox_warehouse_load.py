"""Example: load each new mirror batch into a warehouse as soon as it is committed.

The DAG is scheduled on the projects' mirror Assets: every committed batch emits one Asset
event whose ``extra`` names the batch, and a run loads exactly the batches of the events that
triggered it (merge by key, deletions applied, older batches never overwrite newer state).
A run started by hand (or ``dag.test()``) loads the batches named in its ``batches`` param or,
when none are named, every committed batch the warehouse has not loaded yet (catch-up).

The warehouse is a DuckDB file by default (``LABELBOX_WAREHOUSE``, e.g.
``duckdb:///data/labelbox.duckdb``); ``postgres://<conn_id>/<schema>`` loads into PostgreSQL
through the common-sql provider (see ``labelbox_warehouse_load_postgres.py``). Importing this
file touches no network and no database.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import DAG, AssetAny, Param, task
from labelbox_provider.assets import mirror_asset

DAG_ID = "labelbox_warehouse_load"
DEFAULT_PROJECTS = [p for p in os.environ.get("LABELBOX_PROJECT_IDS", "").split(",") if p]
DEFAULT_ROOT = os.environ.get("LABELBOX_MIRROR_ROOT", "/tmp/labelbox-mirror")
DEFAULT_WAREHOUSE = os.environ.get("LABELBOX_WAREHOUSE", "duckdb:///tmp/labelbox-warehouse.duckdb")


def build_dag(
    *,
    dag_id: str = DAG_ID,
    project_ids: list[str] | None = None,
    destination: str = DEFAULT_ROOT,
    warehouse: str = DEFAULT_WAREHOUSE,
) -> DAG:
    """The warehouse load DAG (parameters let tests and users reuse it)."""
    projects = list(project_ids if project_ids is not None else DEFAULT_PROJECTS)
    # [START labelbox_warehouse_load]
    with DAG(
        dag_id=dag_id,
        # any project's new batch triggers a run; its events say which batches are new
        schedule=AssetAny(*(mirror_asset(p) for p in projects)) if projects else None,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,  # loads into one warehouse run one at a time
        params={
            "project_ids": Param(projects, type="array"),  # catch-up scope of manual runs
            "batches": Param([], type="array"),  # manual runs: manifest URLs to load
        },
        tags=["labelbox", "warehouse"],
        # found through the module-level `dag` below; not auto-registered, so the Postgres
        # variant can import this builder without registering this DAG a second time
        auto_register=False,
    ) as dag:

        @task
        def batches_to_load(
            triggering_asset_events: Any = None, params: dict[str, Any] | None = None
        ) -> list[dict[str, str]]:
            """The triggering events' batches; else the named ones; else all not yet loaded."""
            from labelbox_provider.io.warehouse import warehouse_for
            from labelbox_provider.io.warehouse.refs import refs_from_conf, refs_from_events

            refs = refs_from_events(triggering_asset_events)
            if not refs:
                refs = refs_from_conf((params or {}).get("batches") or [])
            if not refs:
                wh = warehouse_for(warehouse)
                for project in (params or {}).get("project_ids") or []:
                    refs += wh.pending(destination, project)
            return [r.to_dict() for r in refs]

        @task(retries=2)
        def load(refs: list[dict[str, str]]) -> list[dict[str, Any]]:
            """Merge the batches one by one (each its own transaction; reloads are no-ops)."""
            from labelbox_provider.io.warehouse import BatchRef, load_batch

            return [load_batch(warehouse, BatchRef.from_dict(r)).to_dict() for r in refs]

        load(batches_to_load())
    # [END labelbox_warehouse_load]
    return dag


dag = build_dag()
