"""Where a PostgreSQL warehouse load spends its time: every statement timed, beside DuckDB.

Loads one batch (the one ``warehouse_load.py`` builds) into DuckDB, then into a fresh Postgres
schema, first load and forced reload, in one process with the imports done first. For each
Postgres load it prints wall time, the client's CPU, the server backend's CPU (read from
``/proc/<backend pid>/stat``, so only for a server on this machine) and the slowest statements:
wall and backend CPU each, and the client's CPU for the COPYs (``INGEST``), whose client side
reads Parquet and encodes JSON.

Reproduce: PYTHONPATH=connectors .venv/bin/python benchmarks/pg_load_profile.py --labels 100000
(needs the local PostgreSQL on 127.0.0.1:5432, trust auth, database ``test``)
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from warehouse_load import make

URI = "postgresql://postgres@127.0.0.1:5432/test"
TICK = os.sysconf("SC_CLK_TCK")


class Probe:
    """Per-statement wall time and backend CPU of the sessions of one load."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.rows: list[tuple[float, float, float | None, str]] = []

    def backend_cpu(self) -> float:
        if self.pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the server is not on this machine
            return 0.0
        return (int(fields[11]) + int(fields[12])) / TICK

    def timed(self, label: str, call: Any, client: bool = False) -> None:
        wall, cpu, own = time.perf_counter(), self.backend_cpu(), time.process_time()
        call()
        took = time.perf_counter() - wall
        mine = time.process_time() - own if client else None
        self.rows.append((took, self.backend_cpu() - cpu, mine, label))


def install(probe: Probe) -> None:
    """Route every statement and COPY of ``PostgresSession`` through ``probe``."""
    from labelbox_provider.io.warehouse.postgres import PostgresSession

    execute, ingest = PostgresSession.execute, PostgresSession.ingest

    def timed_execute(self: PostgresSession, sql: str, params: Sequence[Any] = ()) -> None:
        if probe.pid is None or sql.startswith("SET temp_buffers"):  # a new session
            self.cur.execute("SELECT pg_backend_pid()")
            probe.pid = int(self.cur.fetchall()[0][0])
        probe.timed(" ".join(sql.split())[:110], lambda: execute(self, sql, params))

    def timed_ingest(self: PostgresSession, table: str, reader: Any, *schema: Any) -> None:
        probe.timed(f"INGEST {table}", lambda: ingest(self, table, reader, *schema), client=True)

    PostgresSession.execute = timed_execute  # type: ignore[method-assign]
    PostgresSession.ingest = timed_ingest  # type: ignore[method-assign]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--labels", type=int, default=100000)
    p.add_argument("--top", type=int, default=12, help="statements listed per load")
    a = p.parse_args()
    os.environ.setdefault("AIRFLOW_CONN_LBX_PROFILE", URI)
    from labelbox_provider.io.warehouse import BatchRef
    from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse
    from labelbox_provider.io.warehouse.postgres import PostgresWarehouse

    d = Path(tempfile.mkdtemp(prefix="lbx-pg-profile-"))
    ref = BatchRef(str(d / "mirror"), "p1", make(d / "mirror", a.labels))
    duck = DuckDBWarehouse(d / "wh.duckdb")
    for name in ("first load", "reload"):
        wall, cpu = time.perf_counter(), time.process_time()
        duck.load(ref, force=True)
        print(f"DuckDB {name}: {time.perf_counter() - wall:.2f} s wall, "
              f"{time.process_time() - cpu:.2f} s CPU")  # fmt: skip
    schema = f"lbx_profile_{uuid.uuid4().hex[:8]}"
    pg = PostgresWarehouse("lbx_profile", schema)
    assert pg.hook.connection is not None  # imports Airflow before anything is timed
    probe = Probe()
    install(probe)
    try:
        for name in ("first load", "reload"):
            probe.rows.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            pg.load(ref, force=True)
            took, client = time.perf_counter() - wall, time.process_time() - cpu
            server = sum(r[1] for r in probe.rows)
            print(f"\nPostgreSQL {name}: {took:.2f} s wall, client CPU {client:.2f} s, "
                  f"server CPU {server:.2f} s, {len(probe.rows)} statements")  # fmt: skip
            print("  wall s  server CPU s  client CPU s  statement")
            for wall_s, srv, mine, label in sorted(probe.rows, reverse=True)[: a.top]:
                own = "" if mine is None else f"{mine:.2f}"
                print(f"  {wall_s:6.2f}  {srv:12.2f}  {own:>12}  {label}")
    finally:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", dbname="test", user="postgres")
        con.autocommit = True
        con.cursor().execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        con.close()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
