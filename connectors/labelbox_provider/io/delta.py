"""Delta Lake current tables: the current view of every table, kept as Delta tables per project.

Layout: ``<root>/project=<project_id>/_delta/<table>/`` (one Delta table per table of
:data:`~labelbox_provider.io.current.TABLES`), typed with
:data:`~labelbox_provider.transforms.tables.SCHEMAS`. Per project, like the ledger, because a
project is the unit one writer commits: projects never contend for one Delta log, and a
table's versions map one to one to that project's batches (docs/delta.md).

**Updated per committed batch**, in one Delta commit per table: the rows a batch can change are
those of the data rows it touches (every table carries ``data_row_id``; the current view of a
data row depends only on raw rows of that data row, and a tombstone names its label's data
row). So the update recomputes, with DuckDB over the current view
(:func:`~labelbox_provider.io.current.register_current_views`), the current rows of those data
rows and MERGEs them in: target rows of a touched data row are deleted, the recomputed rows
inserted, atomically. Tombstones and rejects (every row kept) are scoped by ``batch_id``
instead. The result equals the current view by construction.

**Idempotent, and repaired by the next commit.** Every commit of a table carries the Delta
application transaction ``labelbox-mirror`` at version ``seq``: the ledger's commit sequence
number through which the table holds every committed batch (its commit metadata names the batch
and attempt too, for ``delta history``). An update reads that version and applies, one Delta
commit each, the batches the checkpoint lists with a higher seq (``Ledger.batches(since_seq)``
reads only the index segments holding them): none when caught up, the batch just committed
usually, every missed one after a crash between a commit and its Delta update or with Delta
enabled late. So its cost does not grow with the history. A pending batch that re-commits one
the table holds (a new attempt: a changed archive file, a re-run backfill window) rebuilds the
table, as does a table that does not exist yet (or was written before the sequence number).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from labelbox_provider.exceptions import DeltaTableError, LabelboxConfigError
from labelbox_provider.io.current import TABLES, register_current_views, render_current_sql
from labelbox_provider.io.fs import is_local
from labelbox_provider.state.checkpoint import BatchEntry, Checkpoint
from labelbox_provider.state.ledger import Ledger

if TYPE_CHECKING:
    import duckdb
    from deltalake import DeltaTable

log = logging.getLogger(__name__)

DELTA_DIR = "_delta"  # under the project directory: one Delta table per table
APP_ID = "labelbox-mirror"  # the application transaction: version = the seq applied through
META = "labelbox."  # prefix of this provider's keys in a Delta commit's metadata
RAW_TABLES = ("rejects", "tombstones")  # every committed row: scoped by batch, not data row
# raw batches since the compacted base beyond which an update compacts first (io.compact): the
# update reads the current view of the touched data rows, whose cost grows with those batches
AUTO_COMPACT_AFTER = 64
MAX_CONFLICT_RETRIES = 5  # a concurrent writer's commit: reload and try again this many times
_OP = "_labelbox_op"  # source-only column of the MERGE: 'del' (scope) or 'ins' (a row)
_ROWS_PER_BATCH = 64 * 1024  # Arrow batch size when a rebuild streams a table


def require_deltalake() -> None:
    """Raise a clear configuration error when the ``delta`` extra is not installed."""
    try:
        import deltalake  # noqa: F401
    except ImportError:
        raise LabelboxConfigError(
            "Delta tables need the 'deltalake' package: "
            "pip install 'airflow-provider-labelbox-export[delta]'"
        ) from None


def delta_storage_options(
    root: str, storage_options: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The object-store options deltalake wants, from the mirror's fsspec (s3fs) options.

    Local folders need none. For ``s3://`` the s3fs keys map to deltalake's: ``key``,
    ``secret``, ``token``, ``endpoint_url`` (top level or in ``client_kwargs``) and
    ``region_name``; anything else comes from the usual ``AWS_*`` environment variables,
    which deltalake reads itself (as it does ``GOOGLE_*`` and ``AZURE_*`` for gs:// and az://).
    """
    opts = dict(storage_options or {})
    if not root.startswith(("s3://", "s3a://")):
        return {}
    client = dict(opts.get("client_kwargs") or {})
    pairs = {
        "AWS_ACCESS_KEY_ID": opts.get("key"),
        "AWS_SECRET_ACCESS_KEY": opts.get("secret"),
        "AWS_SESSION_TOKEN": opts.get("token"),
        "AWS_ENDPOINT_URL": opts.get("endpoint_url") or client.get("endpoint_url"),
        "AWS_REGION": client.get("region_name") or opts.get("region_name"),
    }
    out = {k: str(v) for k, v in pairs.items() if v}
    if out.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        out["AWS_ALLOW_HTTP"] = "true"
    return out


def table_uri(ledger: Ledger, table: str) -> str:
    """Where the Delta table of ``table`` lives (local path or URL)."""
    return ledger.url(f"{DELTA_DIR}/{table}")


@dataclass
class DeltaUpdate:
    """What one update did: per table, the batches applied, and the tables rebuilt."""

    applied: dict[str, list[str]] = field(default_factory=dict)
    rebuilt: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log: tables rebuilt, batches applied per table."""
        applied = sorted({n for n in map(len, self.applied.values()) if n})
        parts = [f"rebuilt {len(self.rebuilt)} table(s)"] if self.rebuilt else []
        if applied:
            tables = sum(1 for b in self.applied.values() if b)
            parts.append(f"{'/'.join(map(str, applied))} batch(es) applied to {tables} table(s)")
        return ", ".join(parts) or "up to date"

    @property
    def changed(self) -> bool:
        """True when at least one Delta commit was written."""
        return bool(self.rebuilt) or any(self.applied.values())


class _Session:
    """One update of a project's Delta tables: the DuckDB connection over the current view,
    the committed batches, and the data rows each applied batch touches (read once)."""

    def __init__(
        self,
        ledger: Ledger,
        storage_options: Mapping[str, Any] | None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.ledger = ledger
        self.storage = dict(storage_options or {})
        self.options = delta_storage_options(ledger.url(""), storage_options)
        # read once (or given): every table is brought up to it; the checkpoint's index is the
        # one place the update learns what the ledger holds (Ledger.batches reads only the
        # segments holding entries newer than a table's seq)
        self.checkpoint = checkpoint if checkpoint is not None else ledger.checkpoint()
        self.last_seq = self.checkpoint.next_seq - 1  # every batch with seq <= this
        self._pending: dict[int, list[BatchEntry]] = {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._touched: dict[str, pa.Array] = {}
        self._scoped: str | None = None  # the batch the scoped_<table> temp tables hold

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """DuckDB over the current view, opened when a batch is applied (not for a no-op)."""
        if self._con is None:
            import duckdb

            self._con = duckdb.connect()
            self._con.execute("SET TimeZone = 'UTC'")
            self._con.execute("SET parquet_metadata_cache = true")  # footers read once
            fs, root = self.ledger.fs, self.ledger.root
            url = root if is_local(fs) else str(fs.unstrip_protocol(root))
            register_current_views(self._con, url, self.ledger.project_id, self.storage)
        return self._con

    def since(self, seq: int) -> list[BatchEntry]:
        """Committed batches (as of the session's checkpoint) with seq above ``seq``."""
        if seq not in self._pending:
            entries = self.ledger.batches(since_seq=seq, checkpoint=self.checkpoint)
            self._pending[seq] = [e for e in entries if e.seq <= self.last_seq]
        return self._pending[seq]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()

    def open(self, table: str) -> DeltaTable | None:
        from deltalake import DeltaTable

        uri = table_uri(self.ledger, table)
        if not DeltaTable.is_deltatable(uri, storage_options=self.options):
            return None
        return DeltaTable(uri, storage_options=self.options)

    def current_rows(self, table: str, batch_id: str) -> pa.Table:
        """The current view's rows of ``table`` in ``batch_id``'s scope: its touched data rows
        (computed from those data rows' raw rows alone: the current view is local to a data
        row), or for tombstones and rejects the batch's own rows."""
        if table in RAW_TABLES:
            sql = f"SELECT * FROM raw_{table} WHERE batch_id = $b"
            return self.con.sql(sql, params={"b": batch_id}).to_arrow_table()
        if self._scoped != batch_id:  # every raw table narrowed to the touched data rows
            self.con.register("_scope", pa.table({"v": self.touched(batch_id)}))
            for name in TABLES:
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE scoped_{name} AS SELECT * FROM raw_{name} "
                    "WHERE data_row_id IN (SELECT v FROM _scope)"
                )
            self.con.unregister("_scope")
            self._scoped = batch_id
        sql = render_current_sql(table, {name: f"scoped_{name}" for name in TABLES})
        return self.con.sql(sql).to_arrow_table()

    def touched(self, batch_id: str) -> pa.Array:
        """Distinct data row ids in the committed files of ``batch_id`` (rejects aside)."""
        if batch_id not in self._touched:
            manifest = self.ledger.manifest(batch_id)
            files = [] if manifest is None else manifest.files
            urls = [self.ledger.url(f.path) for f in files if f.table not in ("rejects",)]
            if not urls:
                ids = pa.array([], pa.string())
            else:
                listed = ", ".join("'" + u.replace("'", "''") + "'" for u in urls)
                sql = (
                    f"SELECT DISTINCT data_row_id FROM read_parquet([{listed}], "
                    "union_by_name = true) WHERE data_row_id IS NOT NULL"
                )
                ids = self.con.sql(sql).to_arrow_table().column(0).combine_chunks()
            self._touched[batch_id] = ids.cast(pa.string())
        return self._touched[batch_id]


def applied_seq(dt: DeltaTable) -> int | None:
    """The commit sequence number through which ``dt`` holds every committed batch (its
    application transaction), or None for a table this version of the update did not write."""
    version = dt.transaction_version(APP_ID)
    return None if version is None else int(version)


def _pending(dt: DeltaTable, session: _Session) -> tuple[list[BatchEntry], bool]:
    """The committed batches ``dt`` has not applied, in commit order, and whether the table
    must be rebuilt instead: it predates the sequence number, or one of them re-commits a
    batch it holds (rows of the old attempt may have shaped other data rows' state)."""
    seq = applied_seq(dt)
    if seq is None:
        return session.since(0), True
    pending = session.since(seq)
    replaced = any(e.replaces_seq is not None and e.replaces_seq <= seq for e in pending)
    return pending, replaced


def _conform(data: pa.Table | pa.RecordBatch, schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    return table.select(schema.names).cast(schema)


def _commit_properties(metadata: Mapping[str, str], seq: int) -> Any:
    """Commit metadata (for people and ``delta history``) and the application transaction
    ``labelbox-mirror`` at version ``seq``: every batch with seq <= it is in the table. One id
    for all batches, so concurrent updates of a table conflict (and the loser re-reads) and the
    Delta log's transactions do not grow with the history."""
    from deltalake import CommitProperties, Transaction

    return CommitProperties(
        custom_metadata={META + k: v for k, v in metadata.items()},
        app_transactions=[Transaction(APP_ID, seq)],
    )


def _merge_source(rows: pa.Table, scope: str, values: pa.Array) -> pa.Table:
    """Recomputed rows (``ins``) plus one ``del`` row per scope value, all columns nullable."""
    loose = pa.schema([f.with_nullable(True) for f in rows.schema])
    ins = rows.cast(loose).append_column(_OP, pa.array(["ins"] * rows.num_rows, pa.string()))
    dels = pa.table(
        {f.name: values if f.name == scope else pa.nulls(len(values), f.type) for f in loose}
    ).append_column(_OP, pa.array(["del"] * len(values), pa.string()))
    return pa.concat_tables([ins, dels.cast(ins.schema)])


def _apply(session: _Session, dt: DeltaTable, table: str, entry: BatchEntry) -> None:
    """One Delta commit: the rows of the batch's scope in ``table`` replaced by the current
    view's rows of that scope."""
    from deltalake import write_deltalake

    from labelbox_provider.transforms.tables import SCHEMAS

    schema: pa.Schema = SCHEMAS[table]
    batch_id = entry.batch_id
    values = pa.array([batch_id], pa.string()) if table in RAW_TABLES else session.touched(batch_id)
    metadata = {"operation": "batch", "batch_id": batch_id, "attempt": str(entry.attempt)}
    props = _commit_properties(metadata | {"seq": str(entry.seq)}, entry.seq)
    before = dt.version()
    if len(values):
        _merge(session, dt, table, batch_id, values, props=props)
    if dt.version() == before:  # nothing changed (deltalake skips such a MERGE): still one
        write_deltalake(  # version, recording the batch
            dt, schema.empty_table(), mode="overwrite", predicate="false", commit_properties=props
        )


def _merge(
    session: _Session, dt: DeltaTable, table: str, batch_id: str, values: pa.Array, *, props: Any
) -> None:
    """MERGE: target rows of the scope values deleted, the current view's rows inserted."""
    from labelbox_provider.transforms.tables import SCHEMAS

    schema: pa.Schema = SCHEMAS[table]
    scope = "batch_id" if table in RAW_TABLES else "data_row_id"
    rows = session.current_rows(table, batch_id)
    source = _merge_source(_conform(rows, schema), scope, values)
    (
        dt.merge(
            source,
            predicate=f't."{scope}" = s."{scope}" AND s.{_OP} = \'del\'',
            source_alias="s",
            target_alias="t",
            commit_properties=props,
        )
        .when_matched_delete()
        .when_not_matched_insert(
            updates={f'"{n}"': f's."{n}"' for n in schema.names}, predicate=f"s.{_OP} = 'ins'"
        )
        .execute()
    )


def _rebuild_table(session: _Session, table: str, operation: str) -> None:
    """Overwrite ``table``'s Delta table with its whole current view (streamed), recording
    every committed batch."""
    from deltalake import write_deltalake

    from labelbox_provider.transforms.tables import SCHEMAS

    schema: pa.Schema = SCHEMAS[table]
    reader = session.con.sql(f"SELECT * FROM {table}").to_arrow_reader(_ROWS_PER_BATCH)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield from _conform(batch, schema).to_batches()

    metadata = {"operation": operation, "seq": str(session.last_seq)}
    write_deltalake(
        table_uri(session.ledger, table),
        pa.RecordBatchReader.from_batches(schema, batches()),
        mode="overwrite",
        schema_mode="overwrite",
        name=table,
        description=f"current view of {table} (labelbox mirror)",
        storage_options=session.options,
        commit_properties=_commit_properties(metadata, session.last_seq),
    )


def _update_table(session: _Session, table: str, result: DeltaUpdate) -> None:
    dt = session.open(table)
    if dt is None:
        if session.last_seq:
            _rebuild_table(session, table, "create")
            result.rebuilt.append(table)
        return
    pending, rebuild = _pending(dt, session)
    if rebuild:
        log.info("delta %s: a batch was replaced by a new attempt: rebuilding", table)
        _rebuild_table(session, table, "rebuild")
        result.rebuilt.append(table)
        return
    for entry in pending:
        _apply(session, dt, table, entry)
        result.applied.setdefault(table, []).append(entry.batch_id)


def _with_retries(session: _Session, table: str, result: DeltaUpdate) -> None:
    from deltalake.exceptions import CommitFailedError

    for attempt in range(MAX_CONFLICT_RETRIES + 1):
        try:
            _update_table(session, table, result)
            return
        except CommitFailedError as exc:  # another writer committed first: look again
            if attempt == MAX_CONFLICT_RETRIES:
                raise DeltaTableError(f"delta table {table}: {exc}") from None
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.info("delta %s: a concurrent writer committed first (%s); again", table, first)


def update_delta_tables(
    ledger: Ledger,
    storage_options: Mapping[str, Any] | None = None,
    *,
    tables: tuple[str, ...] = TABLES,
    compact_after: int | None = AUTO_COMPACT_AFTER,
) -> DeltaUpdate:
    """Bring the project's Delta tables up to the ledger's checkpoint: apply every committed
    batch they have not seen (usually the one just committed), in commit order. With more than
    ``compact_after`` raw batches since the compacted base (None: never), compact first, so
    that the update's read of the current view stays bounded whatever the history."""
    require_deltalake()
    from deltalake.exceptions import DeltaError

    cp = ledger.checkpoint()
    compacting = compact_after is not None and raw_batches(cp) > compact_after
    if compacting:
        _compact(ledger)
    result = DeltaUpdate()
    # after a compaction the checkpoint changed: the session reads it again
    session = _Session(ledger, storage_options, None if compacting else cp)
    try:
        for table in tables:
            _with_retries(session, table, result)
    except DeltaError as exc:
        raise DeltaTableError(f"delta update of {ledger.project_id} failed: {exc}") from None
    finally:
        session.close()
    if result.changed:
        log.info("delta tables of %s: %s", ledger.project_id, result.summary())
    return result


def raw_batches(cp: Checkpoint) -> int:
    """Commits the current view reads as raw batches: those since the compacted base (all of
    them without a base, or with a stale one)."""
    comp = cp.compaction
    folded = comp.through_seq if comp is not None and not comp.stale else 0
    return cp.next_seq - 1 - folded


def _compact(ledger: Ledger) -> None:
    """Fold the raw batches into the compacted base (raw files stay: no retention here)."""
    from labelbox_provider.exceptions import ConditionalWriteConflict
    from labelbox_provider.io.compact import compact

    try:
        done = compact(ledger)
    except ConditionalWriteConflict:  # another compaction finished first: its base serves
        log.info("delta tables of %s: a concurrent compaction won", ledger.project_id)
        return
    log.info(
        "delta tables of %s: compacted %d raw batches first", ledger.project_id, done.folded_batches
    )


def rebuild_delta_tables(
    ledger: Ledger,
    storage_options: Mapping[str, Any] | None = None,
    *,
    tables: tuple[str, ...] = TABLES,
) -> DeltaUpdate:
    """Overwrite every Delta table with its whole current view (one new version each)."""
    require_deltalake()
    from deltalake.exceptions import DeltaError

    result = DeltaUpdate()
    session = _Session(ledger, storage_options)
    try:
        for table in tables:
            _rebuild_table(session, table, "rebuild")
            result.rebuilt.append(table)
    except DeltaError as exc:
        raise DeltaTableError(f"delta rebuild of {ledger.project_id} failed: {exc}") from None
    finally:
        session.close()
    return result


def open_delta_table(
    ledger: Ledger,
    table: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
) -> DeltaTable | None:
    """The Delta table of ``table`` (at ``version`` or as of a time), or None if absent."""
    require_deltalake()
    from deltalake import DeltaTable

    options = delta_storage_options(ledger.url(""), storage_options)
    uri = table_uri(ledger, table)
    if not DeltaTable.is_deltatable(uri, storage_options=options):
        return None
    dt = DeltaTable(uri, storage_options=options, version=version)
    if as_of is not None:
        dt.load_as_version(as_of)
    return dt


def register_delta_views(
    con: duckdb.DuckDBPyConnection,
    ledgers: list[Ledger],
    storage_options: Mapping[str, Any] | None = None,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
) -> list[str]:
    """Register in ``con`` one relation ``<table>`` per Delta table: the union of the projects'
    tables (Arrow datasets: DuckDB's own ``delta`` extension needs a download). ``version``
    or ``as_of`` reads each table as it was (time travel). Returns the tables registered."""
    import pyarrow.dataset as ds
    from deltalake.exceptions import DeltaError

    found = []
    for table in TABLES:
        parts = []
        for ledger in ledgers:
            try:
                dt = open_delta_table(ledger, table, storage_options, version=version, as_of=as_of)
            except (DeltaError, OSError, ValueError) as exc:  # e.g. no such version
                what = f"delta table {table} of {ledger.project_id}"
                raise DeltaTableError(f"{what}: {exc}") from None
            if dt is not None:
                parts.append(dt.to_pyarrow_dataset())
        if parts:
            con.register(table, parts[0] if len(parts) == 1 else ds.dataset(parts))
            found.append(table)
    return found
