"""Load one big committed batch into DuckDB and Postgres; print time and peak RSS per target.

The first load includes creating the tables (a fresh DuckDB file, a fresh Postgres schema);
imports are not timed (see :func:`warm`; ``imports_s`` reports them).

Reproduce: .venv/bin/python benchmarks/warehouse_load.py --labels 100000
(needs the local PostgreSQL on 127.0.0.1:5432, trust auth, database ``test``)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def make(root: Path, labels: int) -> str:
    from labelbox_provider.io.batch import commit_batch
    from labelbox_provider.state.ledger import Ledger
    from labelbox_provider.state.windows import Window, batch_id_for
    from labelbox_provider.transforms.tables import SCHEMAS

    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    w = Window(t0, t0 + timedelta(days=1))
    bid = batch_id_for("p1", w, "v2")
    lin = {
        "batch_id": bid,
        "extracted_at": w.end,
        "window_start": w.start,
        "window_end": w.end,
        "source_format": "v2",
    }
    stage = root.parent / "stage"
    counts = {}
    for table, per in (("data_rows", 1), ("labels", 1), ("objects", 3)):
        (stage / table).mkdir(parents=True)
        with pq.ParquetWriter(
            stage / table / "a.parquet", SCHEMAS[table], compression="zstd"
        ) as wr:
            for start in range(0, labels, 20000):
                rows = []
                for i in range(start, min(start + 20000, labels)):
                    for k in range(per):
                        rows.append(
                            {
                                "project_id": "p1",
                                "data_row_id": f"d{i}",
                                "label_id": f"l{i}",
                                "feature_id": f"f{i}-{k}",
                                "name": "car",
                                "points": [{"x": 1.0, "y": 2.0}] if table == "objects" else None,
                                "extra_json": "x" * 200,
                                **lin,
                            }
                        )
                wr.write_table(pa.Table.from_pylist(rows, schema=SCHEMAS[table]))
        counts[table] = labels * per
    commit_batch(
        Ledger(str(root), "p1"),
        staging_dir=stage,
        batch_id=bid,
        window=w,
        source_format="v2",
        export_id=None,
        extracted_at=w.end,
        counts=counts,
        initial_start=t0,
        mode="incremental",
    )
    return bid


def warm(target: str) -> float:
    """Import what a load into ``target`` imports (DuckDB; or Airflow's ``PostgresHook``, whose
    import alone takes over a second, and the ADBC driver) and return the seconds it took. The
    loads are timed without it, as bench.py times every case without imports: an Airflow worker
    has them loaded before any task runs."""
    from labelbox_provider.io.warehouse import warehouse_for
    from labelbox_provider.io.warehouse.postgres import PostgresWarehouse

    t = time.perf_counter()
    wh = warehouse_for(target)
    if isinstance(wh, PostgresWarehouse):
        import adbc_driver_postgresql.dbapi  # noqa: F401

        assert wh.hook.connection is not None  # imports Airflow, reads the connection
    else:
        import duckdb  # noqa: F401
    return time.perf_counter() - t


def child(target: str, root: str, bid: str) -> None:
    from labelbox_provider.io.warehouse import BatchRef, load_batch

    imports = warm(target)
    t = time.perf_counter()
    r = load_batch(target, BatchRef(root, "p1", bid))
    took = time.perf_counter() - t
    t = time.perf_counter()
    load_batch(target, BatchRef(root, "p1", bid), force=True)
    again = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "target": target.split(":", maxsplit=1)[0],
                "first_load_s": round(took, 2),
                "reload_s": round(again, 2),
                "imports_s": round(imports, 2),
                "peak_rss_mb": round(rss),
                "staged": r.staged,
            }
        )
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--labels", type=int, default=100000)
    p.add_argument("--child", nargs=3)
    a = p.parse_args()
    if a.child:
        child(*a.child)
        sys.exit(0)
    d = Path(tempfile.mkdtemp())
    bid = make(d / "mirror", a.labels)
    size = sum(f.stat().st_size for f in (d / "mirror").rglob("*.parquet")) / 1e6
    print(f"batch: {a.labels} labels, {3 * a.labels} objects, {size:.1f} MB parquet")
    schema = f"lbx_bench_{uuid.uuid4().hex[:8]}"
    import os

    env = {**os.environ, "AIRFLOW_CONN_LBX_BENCH": "postgresql://postgres@127.0.0.1:5432/test"}
    for target in (f"duckdb://{d}/wh.duckdb", f"postgres://lbx_bench/{schema}"):
        subprocess.run(
            [sys.executable, __file__, "--child", target, str(d / "mirror"), bid],
            check=True,
            env=env,
        )
    import psycopg2

    c = psycopg2.connect(host="127.0.0.1", dbname="test", user="postgres")
    c.autocommit = True
    c.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    c.close()
