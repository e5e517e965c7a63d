"""The embedded default warehouse: a DuckDB database file.

DuckDB reads the batch's Parquet files itself (``read_parquet`` streams row groups and spills to
its temp directory under memory pressure), so nothing here holds a batch in Python memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from labelbox_provider.io import fs as fsu
from labelbox_provider.io.warehouse.load import Session, Warehouse
from labelbox_provider.io.warehouse.sql import quote, staging
from labelbox_provider.state.ledger import Ledger

if TYPE_CHECKING:
    import duckdb


class DuckDBSession(Session):
    """A transaction on one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self.con.execute(sql, list(params))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""
        return self.con.execute(sql, list(params)).fetchall()


class DuckDBWarehouse(Warehouse):
    """Tables in a DuckDB file (``path``), in ``schema`` (``main`` by default).

    ``memory_limit`` (e.g. ``"1GB"``) caps DuckDB's buffer pool; above it DuckDB spills to disk.
    """

    def __init__(
        self, path: str | Path, schema: str = "main", *, memory_limit: str | None = None
    ) -> None:
        self.path = str(path)
        self.schema = schema
        self.memory_limit = memory_limit

    def __repr__(self) -> str:
        return f"DuckDBWarehouse(path={self.path!r}, schema={self.schema!r})"

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        """One connection, one transaction."""
        import duckdb

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path)
        try:
            con.execute("SET TimeZone = 'UTC'")
            if self.memory_limit:
                con.execute(f"SET memory_limit = '{self.memory_limit}'")
            if self.schema != "main":
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
            con.begin()
            try:
                yield DuckDBSession(con)
            except BaseException:
                con.rollback()
                raise
            con.commit()
        finally:
            con.close()

    def ensure_table(self, s: Session, table: str, schema: pa.Schema) -> None:
        """Create ``table`` with DuckDB's mapping of the Arrow schema when it is missing."""
        if table in self.columns(s):
            return
        assert isinstance(s, DuckDBSession)
        s.con.register("_lbx_arrow_schema", schema.empty_table())
        try:
            s.execute(f"CREATE TABLE {self.target(table)} AS SELECT * FROM _lbx_arrow_schema")
        finally:
            s.con.unregister("_lbx_arrow_schema")

    def stage(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> list[str]:
        """Stage the files with ``read_parquet``; add new file columns to the target.

        The staging table has every target column, so a column the files lack is null in the
        merged rows (as in the current view), never a stale value of an older copy.
        """
        assert isinstance(s, DuckDBSession)
        added: list[str] = []
        if paths:
            _register_fs(s.con, ledger)
            listed = ", ".join("'" + ledger.url(p).replace("'", "''") + "'" for p in paths)
            source = f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"
            for row in s.fetchall(f"DESCRIBE SELECT * FROM {source}"):
                name, dtype = str(row[0]), str(row[1])
                if name not in held:
                    s.execute(f"ALTER TABLE {self.target(table)} ADD COLUMN {quote(name)} {dtype}")
                    added.append(name)
        s.execute(
            f"CREATE TEMP TABLE {staging(table)} AS SELECT * FROM {self.target(table)} LIMIT 0"
        )
        if paths:
            s.execute(f"INSERT INTO {staging(table)} BY NAME SELECT * FROM {source}")
        return [*held, *added]


def _register_fs(con: duckdb.DuckDBPyConnection, ledger: Ledger) -> None:
    """Let DuckDB open the mirror's URLs through fsspec when the root is not local."""
    if fsu.is_local(ledger.fs):
        return
    protocols = (
        ledger.fs.protocol if isinstance(ledger.fs.protocol, tuple) else (ledger.fs.protocol,)
    )
    if not set(protocols) & set(con.list_filesystems()):
        con.register_filesystem(ledger.fs)
