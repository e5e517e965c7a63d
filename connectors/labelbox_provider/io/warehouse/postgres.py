"""The production warehouse: PostgreSQL (15+, for ``MERGE``) through the common-sql provider.

The connection comes from an Airflow connection id via ``PostgresHook`` (a ``DbApiHook``), or
from any ``DbApiHook`` passed in. A batch is streamed into temporary staging tables with
``COPY ... FROM STDIN`` one Parquet record batch at a time (bounded memory), then merged by key
in the same transaction as everything else: a failed load leaves the warehouse unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from labelbox_provider.io.warehouse.load import Session, Warehouse
from labelbox_provider.io.warehouse.pgcopy import copy_text, pg_type
from labelbox_provider.io.warehouse.sql import quote, staging
from labelbox_provider.state.ledger import Ledger

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

COPY_ROWS = 10_000  # rows per Parquet record batch sent with one COPY
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "data_rows": (("project_id", "data_row_id"),),  # MERGE key
    "labels": (("project_id", "label_id"), ("project_id", "data_row_id")),  # key, snapshot drop
    "objects": (("project_id", "label_id"),),  # children are replaced by label
    "classifications": (("project_id", "label_id"),),
    "relationships": (("project_id", "label_id"),),
    "reviews": (("project_id", "label_id"),),
    "workflow_history": (("project_id", "data_row_id"), ("project_id", "label_id")),
    "tombstones": (("project_id", "label_id"), ("project_id", "batch_id")),
    "rejects": (("project_id", "batch_id"),),  # replaced by batch
}


class PostgresSession(Session):
    """A transaction on one DB-API connection (psycopg2 or psycopg 3)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.cur = conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement; ``?`` placeholders become ``%s``."""
        if params:
            self.cur.execute(sql.replace("?", "%s"), tuple(params))
        else:
            self.cur.execute(sql)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""
        self.execute(sql, params)
        return [tuple(row) for row in self.cur.fetchall()]

    def copy(self, table: str, columns: Sequence[str], text: str) -> None:
        """``COPY table (columns) FROM STDIN`` with ``text`` in COPY text format."""
        sql = f"COPY {table} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        if hasattr(self.cur, "copy_expert"):  # psycopg2
            self.cur.copy_expert(sql, io.StringIO(text))
        else:  # psycopg 3
            with self.cur.copy(sql) as copy:
                copy.write(text)


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
        conn = self.hook.get_conn()
        try:
            conn.autocommit = False
            s = PostgresSession(conn)
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
        """Stream the files into a temp table with COPY; add new file columns to the target.

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
        for path in paths:
            with ledger.fs.open(ledger.path(path), "rb") as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=COPY_ROWS):
                    s.copy(staging(table), batch.schema.names, copy_text(batch))
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
