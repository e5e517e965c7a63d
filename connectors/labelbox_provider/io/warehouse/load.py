"""Load committed batches of the mirror into a warehouse, one batch at a time, by key.

A load reads exactly the files one batch's manifest lists, stages them in temporary tables and
merges them into the warehouse's tables in one transaction, so that after loading any set of
committed batches, in any order, any number of times, the warehouse holds what the current view
(:mod:`labelbox_provider.io.current`) computes from those batches. The merge rule is spelt out in
:mod:`labelbox_provider.io.warehouse.sql`.

Two targets share the rule: :class:`~labelbox_provider.io.warehouse.duckdb.DuckDBWarehouse` (a
local file, the embedded default) and
:class:`~labelbox_provider.io.warehouse.postgres.PostgresWarehouse` (production, through the
common-sql provider's ``DbApiHook``). :func:`load_batch` picks one from a target string.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from labelbox_provider.exceptions import WarehouseLoadError
from labelbox_provider.io.current import TABLES
from labelbox_provider.io.warehouse.refs import BatchRef
from labelbox_provider.io.warehouse.sql import (
    BATCH,
    BOOKKEEPING_DDL,
    DR_NEW,
    LAB_ACC,
    LAB_DROP,
    LAB_TOMB,
    LOADS,
    MergePlan,
    quote,
)
from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.state.ledger import Ledger, Manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult(JsonRecord):
    """What one load did (its ``to_dict()`` goes to XCom)."""

    batch_id: str  # the batch
    project_id: str  # its project
    skipped: bool  # True when this attempt of the batch was already loaded (nothing done)
    staged: dict[str, int] = field(default_factory=dict)  # rows read per table
    labels_upserted: int = 0  # labels of the batch that became current
    labels_deleted: int = 0  # held labels removed (newer snapshot without them, tombstones)
    data_rows_upserted: int = 0  # data rows whose current copy is now the batch's


class Session(ABC):
    """One open transaction on a warehouse (created by :meth:`Warehouse.session`)."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement; ``?`` marks parameters."""

    @abstractmethod
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""


class Warehouse(ABC):
    """A load target. Subclasses provide the session, table creation and staging."""

    schema: str  # schema (namespace) that holds the tables
    # Label children the target inserts itself (insert_accepted) after the label merge, instead
    # of staging them for the plan's INSERT ... SELECT. Empty: every table is staged.
    direct: frozenset[str] = frozenset()

    def target(self, table: str) -> str:
        """Qualified, quoted name of a warehouse table."""
        return f"{quote(self.schema)}.{quote(table)}"

    @abstractmethod
    def session(self) -> AbstractContextManager[Session]:
        """A transaction: committed when the block exits normally, rolled back otherwise."""

    @abstractmethod
    def ensure_table(self, s: Session, table: str, schema: pa.Schema) -> None:
        """Create ``table`` from an Arrow schema when it does not exist (plus its indexes)."""

    def columns(self, s: Session) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` of every table in the warehouse schema.

        Both targets answer the standard ``information_schema`` with ``?`` placeholders.
        """
        rows = s.fetchall(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            (self.schema,),
        )
        found: dict[str, dict[str, str]] = {}
        for table, name, dtype in rows:
            found.setdefault(str(table), {})[str(name)] = str(dtype)
        return found

    def begin(self, s: Session) -> None:
        """First step of a writing transaction (a load, or creating the tables): a no-op
        unless the target needs one (PostgreSQL takes its lock and creates the schema)."""
        return None

    def analyze(self, s: Session, rel: str, columns: Sequence[str] = ()) -> None:
        """Refresh the planner's statistics of the temp table ``rel`` (of ``columns`` only,
        when given) before the merge joins it. A no-op unless the target needs it."""
        return None

    def finish(self, s: Session) -> None:
        """Last step of a load's transaction, after the merge (a no-op unless overridden)."""
        return None

    def insert_accepted(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> None:
        """Insert into the label child ``table`` (one of :attr:`direct`) the rows of ``paths``
        whose label is in ``LAB_ACC``: what the plan's INSERT would take from a staging table.
        Columns found in the files but not in the target are added to the target first."""
        raise NotImplementedError(f"{type(self).__name__} stages every table")

    @abstractmethod
    def stage(
        self, s: Session, ledger: Ledger, table: str, paths: list[str], held: dict[str, str]
    ) -> list[str]:
        """Create ``staging(table)`` holding the rows of ``paths``; return its columns.

        ``paths`` are relative to the project directory (as the manifest lists them); ``held``
        holds the target's columns. Columns found in the files but not in the target are added
        to the target first; the staging table has every target column (a column the files
        lack is null). With no paths the staging table is empty.
        """

    # -- public API --------------------------------------------------------------------------

    def load(
        self,
        ref: BatchRef,
        *,
        storage_options: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> LoadResult:
        """Merge one committed batch; skip it when this attempt was loaded before (unless
        ``force``). Raises :class:`WarehouseLoadError` when the batch is not committed."""
        ledger = Ledger(ref.root, ref.project_id, storage_options)
        manifest = ledger.manifest(ref.batch_id)
        if manifest is None:
            raise WarehouseLoadError(
                f"batch {ref.batch_id} of project {ref.project_id} is not committed "
                f"(no manifest under {ledger!r})"
            )
        self.prepare()
        with self.session() as s:
            self.begin(s)
            if not force and self._attempt_loaded(s, manifest):
                return LoadResult(manifest.batch_id, manifest.project_id, skipped=True)
            return self._merge(s, ledger, manifest)

    def loaded(self, project_id: str | None = None) -> dict[tuple[str, str], int]:
        """``{(project_id, batch_id): attempt}`` of every batch loaded so far."""
        self.prepare()
        with self.session() as s:
            rows = s.fetchall(f"SELECT project_id, batch_id, attempt FROM {self.target(LOADS)}")
        return {(p, b): int(a) for p, b, a in rows if project_id in (None, p)}

    def pending(
        self, root: str, project_id: str, storage_options: Mapping[str, Any] | None = None
    ) -> list[BatchRef]:
        """Committed batches of a project not loaded yet (or re-committed since), oldest first."""
        done = self.loaded(project_id)
        ledger = Ledger(root, project_id, storage_options)
        cp = ledger.checkpoint()  # the index: no manifest is read
        expired = cp.compaction.expired_through_seq if cp.compaction else 0
        entries = [
            e
            for e in ledger.batches(checkpoint=cp)
            if done.get((project_id, e.batch_id)) != e.attempt
        ]
        gone = [e.batch_id for e in entries if e.seq <= expired]
        if gone:  # retention expired them before they were loaded: their rows are in the base
            log.warning("%d batches expired before being loaded: %s", len(gone), gone[:5])
        entries.sort(key=lambda e: (e.extracted_at, e.batch_id))
        return [BatchRef(root, project_id, e.batch_id) for e in entries if e.seq > expired]

    # -- internals ---------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the mirror's tables and the bookkeeping tables when missing (once per object)."""
        if getattr(self, "_prepared", False):
            return
        with self.session() as s:
            self.begin(s)
            for table in TABLES:
                self.ensure_table(s, table, table_schema(table))
            for name, ddl in BOOKKEEPING_DDL.items():
                s.execute(f"CREATE TABLE IF NOT EXISTS {self.target(name)} ({ddl})")
        self._prepared = True

    def _attempt_loaded(self, s: Session, manifest: Manifest) -> bool:
        rows = s.fetchall(
            f"SELECT attempt FROM {self.target(LOADS)} WHERE project_id = ? AND batch_id = ?",
            (manifest.project_id, manifest.batch_id),
        )
        return bool(rows) and int(rows[0][0]) == manifest.attempt

    def _merge(self, s: Session, ledger: Ledger, manifest: Manifest) -> LoadResult:
        # temp tables live as long as the session's connection: each load opens its own
        held = self.columns(s)
        columns: dict[str, list[str]] = {}
        staged: dict[str, int] = {}
        direct: dict[str, list[str]] = {}  # inserted after the label merge, not staged
        for table in TABLES:
            files = manifest.files_for(table)
            paths = [f.path for f in files]
            staged[table] = sum(f.rows for f in files)
            if table in self.direct and paths:
                direct[table], paths = paths, []
            columns[table] = self.stage(s, ledger, table, paths, held[table])
        s.execute(
            f"CREATE TEMP TABLE {BATCH} (project_id TEXT, batch_id TEXT, "
            "extracted_at TIMESTAMP WITH TIME ZONE)"
        )
        s.execute(
            f"INSERT INTO {BATCH} VALUES (?, ?, ?)",
            (manifest.project_id, manifest.batch_id, manifest.extracted_at),
        )
        self.analyze(s, BATCH)
        nonempty = {t for t, n in staged.items() if n and t not in direct}

        def children() -> None:
            for table, paths in direct.items():
                self.insert_accepted(s, ledger, table, paths, held[table])

        plan = MergePlan(self.target, columns, nonempty)
        result = self._apply(s, plan, manifest, staged, children)
        self.finish(s)
        self._record(s, manifest)
        return result

    def _apply(
        self,
        s: Session,
        plan: MergePlan,
        manifest: Manifest,
        staged: dict[str, int],
        children: Callable[[], None],
    ) -> LoadResult:
        for stmt in plan.raw_statements():
            s.execute(stmt)
        accepted = dropped = rows = tombed = 0
        if staged["data_rows"] or staged["labels"]:
            for name, select in plan.derived():
                s.execute(f"CREATE TEMP TABLE {name} AS {select}")
            accepted, rows = _count(s, LAB_ACC), _count(s, DR_NEW)
            dropped = _count(s, LAB_DROP) - _count(s, LAB_DROP_KEPT)
            for stmt in plan.label_statements() + plan.data_row_statements():
                s.execute(stmt)
            children()  # the direct label children, where the plan would have inserted them
        if staged["tombstones"]:
            s.execute(f"CREATE TEMP TABLE {LAB_TOMB} AS {plan.tombstone_select()}")
            tombed = _count(s, LAB_TOMB)
            for stmt in plan.tombstone_statements():
                s.execute(stmt)
        return LoadResult(
            manifest.batch_id,
            manifest.project_id,
            skipped=False,
            staged=staged,
            labels_upserted=accepted,
            labels_deleted=dropped + tombed,
            data_rows_upserted=rows,
        )

    def _record(self, s: Session, m: Manifest) -> None:
        s.execute(
            f"DELETE FROM {self.target(LOADS)} WHERE project_id = ? AND batch_id = ?",
            (m.project_id, m.batch_id),
        )
        s.execute(
            f"INSERT INTO {self.target(LOADS)} (project_id, batch_id, attempt, source_format, "
            "mode, window_start, window_end, extracted_at, counts, loaded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)",
            (
                m.project_id,
                m.batch_id,
                m.attempt,
                m.source_format,
                m.mode,
                m.window.start,
                m.window.end,
                m.extracted_at,
                json.dumps(m.counts, sort_keys=True),
            ),
        )


def _count(s: Session, rel: str) -> int:
    return int(s.fetchall(f"SELECT count(*) FROM {rel}")[0][0])


# labels dropped by a snapshot that the same batch brings back (not counted as deleted)
LAB_DROP_KEPT = (
    f"{LAB_DROP} d WHERE EXISTS (SELECT 1 FROM {LAB_ACC} a "
    "WHERE a.project_id = d.project_id AND a.label_id = d.label_id)"
)


def table_schema(table: str) -> pa.Schema:
    """The Arrow schema a warehouse table is created with (the mirror's own schema)."""
    from labelbox_provider.transforms.tables import SCHEMAS

    schema: pa.Schema = SCHEMAS[table]
    return schema


def load_batch(
    target: str | Warehouse,
    ref: BatchRef,
    *,
    storage_options: Mapping[str, Any] | None = None,
    force: bool = False,
) -> LoadResult:
    """Load one committed batch into ``target``.

    ``target`` is a :class:`Warehouse`, a DuckDB file path (``duckdb:///path/to.db`` or a bare
    path), or ``postgres://<conn_id>[/<schema>]`` (an Airflow connection id).
    """
    return warehouse_for(target).load(ref, storage_options=storage_options, force=force)


def warehouse_for(target: str | Warehouse) -> Warehouse:
    """The warehouse a target string names (see :func:`load_batch`)."""
    if isinstance(target, Warehouse):
        return target
    if target.startswith("postgres://"):
        from labelbox_provider.io.warehouse.postgres import PostgresWarehouse

        conn_id, _, schema = target.removeprefix("postgres://").partition("/")
        return PostgresWarehouse(postgres_conn_id=conn_id, schema=schema or "labelbox")
    from labelbox_provider.io.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(target.removeprefix("duckdb://"))
