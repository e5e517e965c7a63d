"""The production warehouse: PostgreSQL (15+, for ``MERGE``) over ADBC.

The connection is described by an Airflow connection id (read through ``PostgresHook``, a
``DbApiHook``), or by any ``DbApiHook`` passed in; the load itself runs on an ADBC connection
(``adbc-driver-postgresql``) to that server. A batch is streamed into temporary staging tables
as Arrow record batches over binary ``COPY`` (``adbc_ingest``), one Parquet record batch at a
time (bounded memory), then merged by key in the same transaction as everything else: a failed
load leaves the warehouse unchanged. Label children skip staging: once the accepted labels are
known, their files are copied straight into the target, filtered in Arrow.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelbox_provider.io.current import LABEL_CHILDREN
from labelbox_provider.io.warehouse.load import Session, Warehouse
from labelbox_provider.io.warehouse.pgcopy import for_ingest, pg_type
from labelbox_provider.io.warehouse.sql import LAB_ACC, quote, staging
from labelbox_provider.state.ledger import Ledger

if TYPE_CHECKING:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

KEY_ROWS = 131_072  # rows per chunk of a child file's key columns matched against the labels
COPY_ROWS = 10_000  # rows per Parquet record batch streamed into the one COPY of a file
# The staging tables are temporary: held in the session's local buffers (temp_buffers, 8 MB by
# default, settable only before the first temp table is touched), and sorted and hashed by the
# merge (work_mem, 4 MB by default: a 100,000-row batch spills to disk). Both are per session.
# JIT is off: the merge's plans over fresh temp tables look expensive to the planner and
# compiling them took longer than running them (0.2-0.6 s per statement at 100,000 labels).
# The session's ANALYZE (of its temp tables only) samples 3,000 rows, not 30,000: enough for
# the join sizes the merge's plans depend on, at a tenth of the cost.
SESSION_SETTINGS = (
    "SET temp_buffers = '256MB'",
    "SET work_mem = '64MB'",
    "SET jit = off",
    "SET default_statistics_target = 10",
)
LOCK_PREFIX = "labelbox_provider.warehouse:"  # + schema: the advisory lock writers take turns on
LIBPQ_EXTRAS = ("sslmode", "sslcert", "sslkey", "sslrootcert", "connect_timeout", "options")
_PARAM = re.compile(r"\?")
# The columns the merge joins, filters and deduplicates staging tables on: the only ones whose
# statistics the planner needs (ANALYZE of every column cost up to 0.1 s per staged table).
MERGE_COLUMNS = (
    "project_id",
    "batch_id",
    "data_row_id",
    "label_id",
    "source_format",
    "extracted_at",
    "detected_at",
    "position",
)
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

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return its rows as an Arrow table."""
        self.cur.execute(sql)
        table: pa.Table = self.cur.fetch_arrow_table()
        return table

    def ingest(self, table: str, reader: pa.RecordBatchReader, schema: str | None = None) -> None:
        """Append the reader's batches to ``table`` with one binary COPY: a temp table, or
        a table of ``schema`` when one is given."""
        if schema is None:
            self.cur.adbc_ingest(table, reader, mode="append", temporary=True)
        else:
            self.cur.adbc_ingest(table, reader, mode="append", db_schema_name=schema)


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

    # A label child's rows are copied straight into the target, filtered to the accepted labels
    # in Arrow: binary COPY inserts rows a page at a time, where a staging table and an
    # INSERT ... SELECT parse every row twice and insert one row at a time.
    direct = frozenset(LABEL_CHILDREN)

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
            try:
                yield s
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            conn.close()

    def begin(self, s: Session) -> None:
        """Take the warehouse's lock (a transaction-level advisory lock named after the schema),
        then create the schema when missing. Writers of one schema take turns: a second load,
        or a second first load creating the same tables and indexes, waits for the first to
        commit instead of failing on a duplicate name or deadlocking."""
        s.fetchall(
            "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtext(?))) AS t",
            (f"{LOCK_PREFIX}{self.schema}",),
        )
        s.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")

    def ensure_table(self, s: Session, table: str, schema: pa.Schema) -> None:
        """Create ``table`` (types from :func:`pg_type`) when missing; its indexes are built by
        the first load that finds them missing, after its rows are in (:meth:`finish`)."""
        cols = ", ".join(f"{quote(f.name)} {pg_type(f.type)}" for f in schema)
        s.execute(f"CREATE TABLE IF NOT EXISTS {self.target(table)} ({cols})")

    def finish(self, s: Session) -> None:
        """Build the indexes of :data:`INDEXES` that are missing, now that the batch's rows
        are in: one sort per index instead of one insertion per row (0.5 s of the first
        load's server CPU at 300,000 objects). Existing indexes are left alone (a catalog
        read, no lock on the tables)."""
        held = {
            str(row[0])
            for row in s.fetchall(
                "SELECT indexname FROM pg_indexes WHERE schemaname = ?", (self.schema,)
            )
        }
        for table, keys in INDEXES.items():
            for n, key in enumerate(keys):
                name = f"{table}_lbx_{n}"
                if name not in held:
                    cols = ", ".join(quote(k) for k in key)
                    s.execute(f"CREATE INDEX {quote(name)} ON {self.target(table)} ({cols})")

    def analyze(self, s: Session, rel: str, columns: Sequence[str] = ()) -> None:
        """``ANALYZE`` a temp table (autovacuum never sees them): without statistics the
        planner guesses hundreds of rows for the one-row batch table and millions for joins."""
        listed = f" ({', '.join(quote(c) for c in columns)})" if columns else ""
        s.execute(f"ANALYZE {rel}{listed}")

    def stage(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> list[str]:
        """Stream the files into a temp table (binary COPY of Arrow batches, one per file);
        add new file columns to the target.

        The staging table has every target column, so a column the files lack is null in the
        merged rows (as in the current view), never a stale value of an older copy.
        """
        assert isinstance(s, PostgresSession)
        names = self._add_columns(s, ledger, table, paths, held)
        s.execute(
            f"CREATE TEMP TABLE {staging(table)} AS SELECT * FROM {self.target(table)} LIMIT 0"
        )
        types = {**names, **held}
        for path in paths:
            _copy(s, ledger, path, types, staging(table))
        if paths:
            self.analyze(s, staging(table), [c for c in MERGE_COLUMNS if c in types])
        return [*held, *(n for n in names if n not in held)]

    def insert_accepted(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> None:
        """Copy the files' rows of accepted labels into ``table`` (binary COPY of Arrow
        batches, filtered by ``(project_id, label_id)`` against ``LAB_ACC``)."""
        assert isinstance(s, PostgresSession)
        types = {**self._add_columns(s, ledger, table, paths, held), **held}
        accepted = s.arrow(f"SELECT project_id, label_id FROM {LAB_ACC}")
        if not accepted.num_rows:
            return
        both = [accepted.column(n).combine_chunks() for n in ("project_id", "label_id")]
        keys = pc.drop_null(_label_keys(*both))
        for path in paths:
            _copy(s, ledger, path, types, table, schema=self.schema, keys=keys)

    def _add_columns(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> dict[str, str]:
        """Add the files' columns the target lacks; return every file column's type."""
        names = _file_columns(ledger, paths, held)
        for name, type_ in names.items():
            if name not in held:
                s.execute(f"ALTER TABLE {self.target(table)} ADD COLUMN {quote(name)} {type_}")
        return names


def _copy(
    s: PostgresSession,
    ledger: Ledger,
    path: str,
    types: dict[str, str],
    table: str,
    *,
    schema: str | None = None,
    keys: pa.Array | None = None,
) -> None:
    """Stream one Parquet file into ``table`` with one binary COPY (only the rows whose label
    key is in ``keys``, when given)."""
    with ledger.fs.open(ledger.path(path), "rb") as handle:
        file = pq.ParquetFile(handle)
        raw: Iterator[pa.RecordBatch] = file.iter_batches(batch_size=COPY_ROWS)
        if keys is not None:
            raw = _accepted(raw, _keep(file, keys))
        batches = (for_ingest(batch, types) for batch in raw)
        first = next(batches, None)
        if first is not None:
            chain = itertools.chain([first], batches)
            s.ingest(table, pa.RecordBatchReader.from_batches(first.schema, chain), schema)


def _label_keys(project_id: pa.Array, label_id: pa.Array) -> pa.Array:
    """One string per ``(project_id, label_id)``, joined by NUL (which no text value holds in
    PostgreSQL, so the key is unambiguous); null when either part is null."""
    parts = [pc.cast(a, pa.string()) for a in (project_id, label_id)]
    return pc.binary_join_element_wise(*parts, "\x00")


def _keep(file: pq.ParquetFile, keys: pa.Array) -> pa.Array:
    """Per row of the file, whether its label key is in ``keys`` (a null part never matches,
    as in the SQL join). Reads only the two key columns."""
    if not {"project_id", "label_id"} <= set(file.schema_arrow.names):
        return pa.array([False] * file.metadata.num_rows)
    masks = []  # one bit per row; the key strings are built a chunk at a time (bounded memory)
    for both in file.iter_batches(batch_size=KEY_ROWS, columns=["project_id", "label_id"]):
        mine = _label_keys(both.column("project_id"), both.column("label_id"))
        masks.append(pc.fill_null(pc.is_in(mine, value_set=keys), False))
    return pa.concat_arrays(masks) if masks else pa.array([], pa.bool_())


def _accepted(batches: Iterator[pa.RecordBatch], keep: pa.Array) -> Iterator[pa.RecordBatch]:
    """The batches (in file order) cut down to the rows ``keep`` marks; empty ones dropped."""
    offset = 0
    for batch in batches:
        mask = keep.slice(offset, batch.num_rows)
        offset += batch.num_rows
        if pc.all(mask).as_py():
            yield batch
        elif pc.any(mask).as_py():
            yield batch.filter(mask)


def _file_columns(ledger: Ledger, paths: list[str], held: dict[str, str]) -> dict[str, str]:
    """Columns of the files (footers only), in first-seen order, with their Postgres types."""
    found: dict[str, str] = {}
    for path in paths:
        with ledger.fs.open(ledger.path(path), "rb") as handle:
            for f in pq.read_schema(handle):
                found.setdefault(f.name, held.get(f.name) or pg_type(f.type))
    return found
