"""Columnar accumulation of rows and Parquet output per table, in row groups and part files.

Rows arrive a record at a time, as tuples appended to the shapes of
:mod:`labelbox_provider.transforms.buffers` (by the typed fast paths) or as dicts (from the row
functions). Once :data:`BATCH_BYTES` of records are buffered, every table's rows are converted
(each shape's tuples as one struct array) to one Arrow record batch of the row columns, in
record order; a table's batches are written as one Parquet row group (zstd, lineage columns
added) once they hold :data:`ROW_GROUP_ROWS` rows or :data:`ROW_GROUP_BYTES` bytes, or when
all tables together hold :data:`PENDING_BYTES` (then the largest goes). Writes run on a
background thread (:class:`BackgroundWriter`), one table at a time. Memory is bounded by these
numbers and by the Parquet footer a writer keeps until its file closes (~1 KB per column per
row group): a table's file is closed after :data:`ROW_GROUPS_PER_FILE` writes and the next part
file opened.

Arrow checks the types during conversion (a string where a number belongs, a list where an
object belongs...). When a conversion fails, the rows of the records at fault are removed from
every table, each such record becomes a ``rejects`` row naming the column, and the conversion
is retried: a record is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from labelbox_provider.transforms.buffers import RecordKeys, TableRows
from labelbox_provider.transforms.common import Lineage, Row, Rows
from labelbox_provider.transforms.tables import LINEAGE_COLUMNS, ROW_TYPES, SCHEMAS, TABLES

BATCH_BYTES = 3 << 20  # JSON bytes of the records buffered before all tables are converted
REJECT_BATCH_ROWS = 4096  # rejects rows held before conversion
ROW_GROUP_ROWS = 65536  # rows per Parquet row group (at most)
ROW_GROUP_BYTES = 16 << 20  # Arrow bytes of one table that make a row group (at most)
PENDING_BYTES = 20 << 20  # Arrow bytes awaiting write, all tables: above, the largest is written
REJECT_BATCH_BYTES = 16 << 20  # raw bytes of rejected records held before conversion
PART_NAME = "part-{:05d}.parquet"  # a table's files: part-00000.parquet, part-00001...
ROW_GROUPS_PER_FILE = 64  # a file is closed after this many writes (its footer leaves memory)
_ROW_TABLES = tuple(t for t in TABLES if t != "rejects")
# Low-cardinality columns get Parquet dictionary encoding; ids, URLs and numbers are written
# plain (zstd compresses them as well, and dictionary building costs time and memory).
DICTIONARY_COLUMNS = frozenset(
    {"project_id", "batch_id", "source_format", "kind", "annotation_kind", "name", "value"}
    | {"color", "action", "relationship_type", "label_kind", "media_type", "mime_type"}
)
# Only timestamps, numbers and low-cardinality columns get min/max statistics: they are what
# readers prune on, and every statistic stays in the writer's footer (in memory) until the file
# closes, so statistics on ids, URLs and JSON would grow memory with the export.


def _memory_pool() -> pa.MemoryPool:
    """jemalloc where this pyarrow build has it, else the system allocator: mimalloc (pyarrow's
    default on Linux) kept ~25 MB more resident here, buffers being allocated on the main
    thread and freed on the writer thread; the system allocator fragments over long runs."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.system_memory_pool()


POOL = _memory_pool()  # every Arrow buffer of the conversion and of the Parquet writers


def _with_statistics(schema: pa.Schema) -> list[str]:
    return [
        f.name
        for f in schema
        if pa.types.is_timestamp(f.type)
        or pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or f.name in DICTIONARY_COLUMNS
    ]


def open_writer(path: Path, table: str) -> pq.ParquetWriter:
    """A Parquet writer of ``table``'s schema at ``path``, with the sink's settings."""
    schema = SCHEMAS[table]
    return pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        use_dictionary=[n for n in schema.names if n in DICTIONARY_COLUMNS],
        write_statistics=_with_statistics(schema),
        memory_pool=POOL,
    )


def shift_positions(path: Path, table: str, offset: int) -> None:
    """Add ``offset`` to the ``position`` column of the Parquet file at ``path`` (rewritten
    a row group at a time, then renamed over it): the rows of a file flattened from a later
    range of an export, whose positions counted from that range's start."""
    source = pq.ParquetFile(path, memory_map=False)
    tmp = path.with_name(path.name + ".shift")
    try:
        with open_writer(tmp, table) as writer:
            for group in range(source.num_row_groups):
                rows = source.read_row_group(group)
                index = rows.schema.get_field_index("position")
                shifted = pc.add(rows.column(index), pa.scalar(offset, pa.int64()))
                rows = rows.set_column(index, rows.schema.field(index), shifted)
                writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
        source.close()
        tmp.replace(path)
    finally:
        source.close()
        tmp.unlink(missing_ok=True)


_Item = tuple[pq.ParquetWriter, pa.Table | None, int]  # no table: close the writer


class BackgroundWriter:
    """Writes tables to their Parquet writers on one thread, in submission order.

    One table at a time: :meth:`submit` waits for the previous table to be written, so at most
    one table is held beyond the caller's own (memory stays bounded). The first
    write error is raised by every later :meth:`submit` and by :meth:`finish`; later tables are
    dropped.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def submit(self, writer: pq.ParquetWriter, table: pa.Table, row_group_size: int) -> None:
        """Queue ``table`` for ``writer``, once the previous table is written."""
        self._queue.join()
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="parquet-writer", daemon=True)
            self._thread.start()
        self._queue.put((writer, table, row_group_size))

    def close(self, writer: pq.ParquetWriter) -> None:
        """Close ``writer`` once the tables queued before are written."""
        if self._thread is None:
            writer.close()
        else:
            self._queue.put((writer, None, 0))

    def finish(self) -> None:
        """Wait until every queued table is written; raise the first write error, if any."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            self._write(item)
            del item  # free the table before waiting for the next one
            self._queue.task_done()
        self._queue.task_done()

    def _write(self, item: _Item) -> None:
        if self._error is None:
            writer, table, row_group_size = item
            try:
                if table is None:
                    writer.close()
                else:
                    writer.write_table(table, row_group_size=row_group_size)
            except BaseException as exc:  # re-raised on the main thread
                self._error = exc


class TableSink:
    """Buffers rows per table and writes ``out_dir/<table>/part-NNNNN.parquet`` for each."""

    def __init__(
        self,
        out_dir: Path,
        lineage: Lineage,
        source_format: str,
        make_reject: Callable[[int, bytes, str], Row],
        *,
        share: float = 1.0,
        first_part: int = 0,
        empty_files: bool = True,
    ) -> None:
        """``share`` scales the buffers (:data:`BATCH_BYTES`, :data:`ROW_GROUP_BYTES`,
        :data:`PENDING_BYTES`, :data:`REJECT_BATCH_BYTES`) for a sink that shares the memory
        budget with another process; ``first_part`` numbers the part files from there;
        ``empty_files=False`` leaves tables without rows without a file."""
        self.out_dir = out_dir
        self._batch_bytes = int(BATCH_BYTES * share)
        self._row_group_bytes = int(ROW_GROUP_BYTES * share)
        self._pending_limit = int(PENDING_BYTES * share)
        self._reject_batch_bytes = int(REJECT_BATCH_BYTES * share)
        self._first_part = first_part
        self._empty_files = empty_files
        self._make_reject = make_reject  # (position, raw bytes, error) -> rejects row
        self._lineage: dict[str, Any] = {
            "batch_id": lineage.batch_id,
            "extracted_at": lineage.extracted_at,
            "window_start": lineage.window_start,
            "window_end": lineage.window_end,
            "source_format": source_format,
        }
        self.keys = RecordKeys()  # keys of the records whose rows are in keyed shapes
        self.tables: dict[str, TableRows] = {t: TableRows(t, self.keys) for t in _ROW_TABLES}
        self._raw: dict[int, bytes] = {}  # raw bytes of the records with buffered rows
        self._raw_bytes = 0  # their total size
        self._rejects: list[Row] = []
        self._batches: dict[str, list[pa.RecordBatch]] = {t: [] for t in TABLES}
        self._pending: dict[str, int] = dict.fromkeys(TABLES, 0)  # rows awaiting write
        self._pending_bytes: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._parts: dict[str, int] = dict.fromkeys(TABLES, 0)  # files opened per table
        self._writes: dict[str, int] = dict.fromkeys(TABLES, 0)  # writes to the open file
        self._background = BackgroundWriter()
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._reject_bytes = 0

    def add(self, rows: Rows, position: int, raw: bytes) -> None:
        """Take the dict rows of the record at ``position`` (all tables); ``raw`` makes its
        rejects row should Arrow refuse one of its values."""
        for table, new in rows.items():
            if new:
                self.tables[table].add_dicts(new, position)
        self.commit(position, raw)

    def commit(self, position: int, raw: bytes) -> None:
        """The record at ``position`` has appended all its rows (any shapes)."""
        self._raw[position] = raw
        self._raw_bytes += len(raw)
        if self._raw_bytes >= self._batch_bytes:
            self._convert_all()

    def discard(self, position: int) -> None:
        """Remove the rows appended so far for the record at ``position`` (not committed)."""
        for rows in self.tables.values():
            rows.pop_record(position)
        self.keys.pop_record(position)

    def reject(self, row: Row) -> None:
        """Take one rejects row (its raw record may be large, so bytes are counted too)."""
        self._rejects.append(row)
        self._reject_bytes += len(row["raw"])
        full = len(self._rejects) >= REJECT_BATCH_ROWS
        if full or self._reject_bytes >= self._reject_batch_bytes:
            self._convert_rejects()

    def close(self) -> dict[str, int]:
        """Write what is left, create an empty file for tables without rows, return counts."""
        self._convert_all()
        self._convert_rejects()
        for table in TABLES:
            self._write(table)
            if not self._parts[table] and self._empty_files:
                self._writer(table)  # every table gets a file, empty if it has no rows
        self._background.finish()
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        return dict(self.counts)

    def abort(self) -> None:
        """Close open files after a failure (the caller discards the output folder)."""
        with contextlib.suppress(Exception):  # already failing: keep the first error
            self._background.finish()
        for writer in self._writers.values():
            try:
                writer.close()
            except (OSError, pa.ArrowException):
                continue
        self._writers.clear()

    def _convert_all(self) -> None:
        """Convert every table's buffered rows; reject the records Arrow refuses, retry."""
        batches: dict[str, pa.RecordBatch] = {}
        for table, rows in self.tables.items():
            try:
                batch = rows.to_batch(POOL)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                if not self._reject_bad_rows(rows):
                    raise
                return self._convert_all()
            if batch is not None:
                batches[table] = batch
        for table, batch in batches.items():
            self._add_batch(table, batch)
        for rows in self.tables.values():
            rows.clear()
        self.keys.clear()
        self._raw.clear()
        self._raw_bytes = 0
        return None

    def _reject_bad_rows(self, rows: TableRows) -> bool:
        bad = rows.bad_positions()
        for other in self.tables.values():
            other.drop(set(bad))
        for position, column in sorted(bad.items()):
            error = f"wrong type for {rows.table}.{column}"
            self.reject(self._make_reject(position, self._raw.pop(position), error))
        return bool(bad)

    def _convert_rejects(self) -> None:
        if self._rejects:
            batch = pa.RecordBatch.from_struct_array(
                pa.array(self._rejects, type=ROW_TYPES["rejects"], memory_pool=POOL)
            )
            self._add_batch("rejects", batch)
        self._rejects = []
        self._reject_bytes = 0

    def _add_batch(self, table: str, batch: pa.RecordBatch) -> None:
        self._batches[table].append(batch)
        self._pending[table] += batch.num_rows
        self._pending_bytes[table] += batch.get_total_buffer_size()
        self.counts[table] += batch.num_rows
        if (
            self._pending[table] >= ROW_GROUP_ROWS
            or self._pending_bytes[table] >= self._row_group_bytes
        ):
            self._write(table)
        elif sum(self._pending_bytes.values()) > self._pending_limit:
            self._write(max(self._pending_bytes, key=self._pending_bytes.__getitem__))

    def _write(self, table: str) -> None:
        batches = self._batches[table]
        if not batches:
            return
        table_data = self._with_lineage(table, batches)
        self._background.submit(self._writer(table), table_data, ROW_GROUP_ROWS)
        self._batches[table] = []
        self._pending[table] = 0
        self._pending_bytes[table] = 0
        self._writes[table] += 1
        if self._writes[table] >= ROW_GROUPS_PER_FILE:  # the next write opens a new file
            self._background.close(self._writers.pop(table))
            self._writes[table] = 0

    def _with_lineage(self, table: str, batches: list[pa.RecordBatch]) -> pa.Table:
        """The row columns of ``batches`` and the lineage columns, constant for the file."""
        rows = pa.Table.from_batches(batches)
        n = rows.num_rows
        columns = [
            pa.repeat(pa.scalar(self._lineage[f.name], f.type), n, memory_pool=POOL)
            if f.name in LINEAGE_COLUMNS
            else rows.column(f.name)
            for f in SCHEMAS[table]
        ]
        return pa.Table.from_arrays(columns, schema=SCHEMAS[table])

    def _writer(self, table: str) -> pq.ParquetWriter:
        writer = self._writers.get(table)
        if writer is None:
            folder = self.out_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            part = PART_NAME.format(self._first_part + self._parts[table])
            writer = open_writer(folder / part, table)
            self._writers[table] = writer
            self._parts[table] += 1
        return writer
