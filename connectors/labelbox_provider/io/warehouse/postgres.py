"""The production warehouse: PostgreSQL (15+, for ``MERGE``) over ADBC.

The connection is described by an Airflow connection id (read through ``PostgresHook``, a
``DbApiHook``), or by any ``DbApiHook`` passed in; the load itself runs on an ADBC connection
(``adbc-driver-postgresql``) to that server. A batch is streamed into temporary staging tables
as Arrow record batches over binary ``COPY`` (``adbc_ingest``), one Parquet record batch at a
time (bounded memory), then merged by key in the same transaction as everything else: a failed
load leaves the warehouse unchanged.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from labelbox_provider.io.warehouse.load import Session, Warehouse
from labelbox_provider.io.warehouse.pgcopy import for_ingest, pg_type
from labelbox_provider.io.warehouse.sql import quote, staging
from labelbox_provider.state.ledger import Ledger

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

COPY_ROWS = 10_000  # rows per Parquet record batch streamed into the one COPY of a file
# The staging tables are temporary: held in the session's local buffers (temp_buffers, 8 MB by
# default, settable only before the first temp table is touched), and sorted and hashed by the
# merge (work_mem, 4 MB by default: a 100,000-row batch spills to disk). Both are per session.
SESSION_SETTINGS = ("SET temp_buffers = '256MB'", "SET work_mem = '64MB'")
LIBPQ_EXTRAS = ("sslmode", "sslcert", "sslkey", "sslrootcert", "connect_timeout", "options")
_PARAM = re.compile(r"\?")
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "data_rows": (("project_id", "data_row_id"),),  # MERGE key
    "labels": (("project_id", "label_id"), ("project_id", "data_row_id")),  # key, snapshot drop
    "objects": (("project_id", "label_id"),),  # children are replaced by label
    "classifications": (("project_id", "label_id"),),
    "relationships": (("project_id", "label_id"),),
    "message_evaluations": (("project_id", "label_id"),),
    "reviews": (("project_id", "label_id"),),
    "workflow_history": (("project_id", "data_row_id"), ("project_id", "label_id")),
    "tombstones": (("project_id", "label_id"), ("project_id", "batch_id")),
    "rejects": (("project_id", "batch_id"),),  # replaced by batch
    "metadata": (("project_id", "data_row_id"),),  # replaced by data row
    "attachments": (("project_id", "data_row_id"),),
}


class PostgresSession(Session):
    """A transaction on one ADBC (DB-API) connection to PostgreSQL."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cur = conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement; ``?`` placeholders become ``$1``, ``$2``, ..."""
        if params:
            n = itertools.count(1)
            self.cur.execute(_PARAM.sub(lambda _: f"${next(n)}", sql), tuple(params))
        else:
            self.cur.execute(sql)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""
        self.execute(sql, params)
        return [tuple(row) for row in self.cur.fetchall()]

    def ingest(self, table: str, reader: pa.RecordBatchReader) -> None:
        """Append the reader's batches to the temp table ``table`` with one binary COPY."""
        self.cur.adbc_ingest(table, reader, mode="append", temporary=True)


def libpq_uri(conn: Any) -> str:
    """The libpq URI of an Airflow ``Connection`` (host, port, login, password, database and
    the libpq options among its extras)."""
    from urllib.parse import quote as q
    from urllib.parse import urlencode

    auth = q(conn.login or "", safe="")
    if conn.password:
        auth += ":" + q(conn.password, safe="")
    netloc = f"{auth}@" if auth else ""
    netloc += f"{conn.host or 'localhost'}:{conn.port or 5432}"
    extras = {k: v for k, v in conn.extra_dejson.items() if k in LIBPQ_EXTRAS}
    query = f"?{urlencode(extras)}" if extras else ""
    return f"postgresql://{netloc}/{q(conn.schema or '', safe='')}{query}"


class PostgresWarehouse(Warehouse):
    """Tables in ``schema`` of the database behind ``postgres_conn_id`` (or ``hook``)."""

    def __init__(
        self,
        postgres_conn_id: str = "postgres_default",
        schema: str = "labelbox",
        *,
        hook: DbApiHook | None = None,
    ) -> None:
        self.postgres_conn_id = postgres_conn_id
        self.schema = schema
        self._hook = hook

    def __repr__(self) -> str:
        return f"PostgresWarehouse(conn_id={self.postgres_conn_id!r}, schema={self.schema!r})"

    @property
    def hook(self) -> DbApiHook:
        """The ``DbApiHook`` (a ``PostgresHook`` unless one was given), created on first use."""
        if self._hook is None:
            from airflow.providers.postgres.hooks.postgres import PostgresHook

            self._hook = PostgresHook(postgres_conn_id=self.postgres_conn_id)
        return self._hook

    @contextmanager
    def session(self) -> Iterator[PostgresSession]:
        """A fresh connection and one transaction (temp tables vanish with the connection)."""
        import adbc_driver_postgresql.dbapi as adbc_pg

        conn = adbc_pg.connect(libpq_uri(self.hook.connection))  # autocommit off
        try:
            s = PostgresSession(conn)
            for setting in SESSION_SETTINGS:
                s.execute(setting)
            s.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
            try:
                yield s
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            conn.close()

    def ensure_table(self, s: Session, table: str, schema: pa.Schema) -> None:
        """Create ``table`` (types from :func:`pg_type`) and its indexes when missing."""
        cols = ", ".join(f"{quote(f.name)} {pg_type(f.type)}" for f in schema)
        s.execute(f"CREATE TABLE IF NOT EXISTS {self.target(table)} ({cols})")
        for n, key in enumerate(INDEXES.get(table, ())):
            name = quote(f"{table}_lbx_{n}")
            keys = ", ".join(quote(k) for k in key)
            s.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {self.target(table)} ({keys})")

    def stage(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> list[str]:
        """Stream the files into a temp table (binary COPY of Arrow batches, one per file);
        add new file columns to the target.

        The staging table has every target column, so a column the files lack is null in the
        merged rows (as in the current view), never a stale value of an older copy.
        """
        assert isinstance(s, PostgresSession)
        names = _file_columns(ledger, paths, held)
        for name, type_ in names.items():
            if name not in held:
                s.execute(f"ALTER TABLE {self.target(table)} ADD COLUMN {quote(name)} {type_}")
        s.execute(
            f"CREATE TEMP TABLE {staging(table)} AS SELECT * FROM {self.target(table)} LIMIT 0"
        )
        types = {**names, **held}
        for path in paths:
            with ledger.fs.open(ledger.path(path), "rb") as handle:
                batches = (
                    for_ingest(batch, types)
                    for batch in pq.ParquetFile(handle).iter_batches(batch_size=COPY_ROWS)
                )
                first = next(batches, None)
                if first is not None:
                    chain = itertools.chain([first], batches)
                    s.ingest(staging(table), pa.RecordBatchReader.from_batches(first.schema, chain))
        if paths:
            s.execute(f"ANALYZE {staging(table)}")
        return [*held, *(n for n in names if n not in held)]


def _file_columns(ledger: Ledger, paths: list[str], held: dict[str, str]) -> dict[str, str]:
    """Columns of the files (footers only), in first-seen order, with their Postgres types."""
    found: dict[str, str] = {}
    for path in paths:
        with ledger.fs.open(ledger.path(path), "rb") as handle:
            for f in pq.read_schema(handle):
                found.setdefault(f.name, held.get(f.name) or pg_type(f.type))
    return found
