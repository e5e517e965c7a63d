"""Example: the warehouse load DAG with PostgreSQL (15+) as the production warehouse.

Same DAG as ``labelbox_warehouse_load.py``; only the target changes. The Airflow connection
``labelbox_warehouse`` (conn type ``postgres``, e.g. ``AIRFLOW_CONN_LABELBOX_WAREHOUSE=
postgresql://user:password@host:5432/analytics``) is used through the common-sql provider's
``PostgresHook``; tables are created in the ``labelbox`` schema on the first load, batches are
staged with ``COPY`` and merged by key (``MERGE``) in one transaction each.
"""

from __future__ import annotations

import os

from labelbox_warehouse_load import build_dag

# [START labelbox_warehouse_load_postgres]
WAREHOUSE_CONN_ID = os.environ.get("LABELBOX_WAREHOUSE_CONN_ID", "labelbox_warehouse")
WAREHOUSE_SCHEMA = os.environ.get("LABELBOX_WAREHOUSE_SCHEMA", "labelbox")

dag = build_dag(
    dag_id="labelbox_warehouse_load_postgres",
    warehouse=f"postgres://{WAREHOUSE_CONN_ID}/{WAREHOUSE_SCHEMA}",
)
# [END labelbox_warehouse_load_postgres]
