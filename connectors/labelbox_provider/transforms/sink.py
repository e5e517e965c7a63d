"""Columnar accumulation of rows and Parquet output, one file per table, in row groups.

Rows arrive as dicts, a record at a time. Once a table holds :data:`BATCH_ROWS` rows, every
table's rows are converted together, in one C++ pass each (``pa.array`` of the table's struct
type), to Arrow record batches; every :data:`ROW_GROUP_ROWS` rows of a table are written as one
Parquet row group (zstd). Memory is bounded by those two numbers, whatever the export's size.

Arrow checks the types during conversion (a string where a number belongs, a list where an
object belongs...). When a conversion fails, the rows of the records at fault are removed from
every table, each such record becomes a ``rejects`` row naming the column, and the conversion
is retried: a record is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .common import Lineage, Row, Rows
from .schemas import LINEAGE_COLUMNS, ROW_TYPES, SCHEMAS, TABLES

BATCH_ROWS = 1024  # rows of one table held as Python dicts before all tables are converted
ROW_GROUP_ROWS = 65536  # rows per Parquet row group (at most)
PENDING_BYTES = 16 << 20  # Arrow bytes awaiting write, all tables: above, the largest is written
REJECT_BATCH_BYTES = 16 << 20  # raw bytes of rejected records held before conversion
PART_NAME = "part-00000.parquet"  # the one file written per table
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


def _with_statistics(schema: pa.Schema) -> list[str]:
    return [
        f.name
        for f in schema
        if pa.types.is_timestamp(f.type)
        or pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or f.name in DICTIONARY_COLUMNS
    ]


class TableSink:
    """Buffers rows per table and writes ``out_dir/<table>/part-00000.parquet`` for each."""

    def __init__(
        self,
        out_dir: Path,
        lineage: Lineage,
        source_format: str,
        make_reject: Callable[[int, bytes, str], Row],
    ) -> None:
        self.out_dir = out_dir
        self._make_reject = make_reject  # (position, raw bytes, error) -> rejects row
        self._lineage: dict[str, Any] = {
            "batch_id": lineage.batch_id,
            "extracted_at": lineage.extracted_at,
            "window_start": lineage.window_start,
            "window_end": lineage.window_end,
            "source_format": source_format,
        }
        self._rows: dict[str, list[Row]] = {t: [] for t in TABLES}
        self._owner: dict[str, list[int]] = {t: [] for t in TABLES}  # record position per row
        self._raw: dict[int, bytes] = {}  # raw bytes of the records with buffered rows
        self._batches: dict[str, list[pa.RecordBatch]] = {t: [] for t in TABLES}
        self._pending: dict[str, int] = dict.fromkeys(TABLES, 0)  # rows awaiting write
        self._pending_bytes: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._reject_bytes = 0

    def add(self, rows: Rows, position: int, raw: bytes) -> None:
        """Take the rows of the record at ``position`` (all tables); ``raw`` makes its
        rejects row should Arrow refuse one of its values."""
        self._raw[position] = raw
        full = False
        for table, new in rows.items():
            if new:
                buffer = self._rows[table]
                buffer.extend(new)
                self._owner[table].extend([position] * len(new))
                full = full or len(buffer) >= BATCH_ROWS
        if full:
            self._convert_all()

    def reject(self, row: Row) -> None:
        """Take one rejects row (its raw record may be large, so bytes are counted too)."""
        self._rows["rejects"].append(row)
        self._reject_bytes += len(row["raw"])
        if self._reject_bytes >= REJECT_BATCH_BYTES or len(self._rows["rejects"]) >= BATCH_ROWS:
            self._convert("rejects", self._rows["rejects"])
            self._rows["rejects"] = []
            self._reject_bytes = 0

    def close(self) -> dict[str, int]:
        """Write what is left, create an empty file for tables without rows, return counts."""
        self._convert_all()
        if self._rows["rejects"]:
            self._convert("rejects", self._rows["rejects"])
        for table in TABLES:
            self._write(table)
            if table not in self._writers:
                self._writer(table)
            self._writers.pop(table).close()
        return dict(self.counts)

    def abort(self) -> None:
        """Close open files after a failure (the caller discards the output folder)."""
        for writer in self._writers.values():
            try:
                writer.close()
            except (OSError, pa.ArrowException):  # already failing: keep the first error
                continue
        self._writers.clear()

    def _convert_all(self) -> None:
        """Convert every table's buffered rows; reject the records Arrow refuses, retry."""
        batches: dict[str, pa.RecordBatch] = {}
        for table in _ROW_TABLES:
            rows = self._rows[table]
            if not rows:
                continue
            try:
                batches[table] = self._to_batch(table, rows)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                if not self._reject_bad_rows(table):
                    raise
                return self._convert_all()
        for table, batch in batches.items():
            self._add_batch(table, batch)
            self._rows[table] = []
            self._owner[table] = []
        self._raw.clear()
        return None

    def _reject_bad_rows(self, table: str) -> bool:
        bad: dict[int, str] = {}
        for row, position in zip(self._rows[table], self._owner[table], strict=True):
            if position not in bad:
                column = _bad_column(table, row)
                if column is not None:
                    bad[position] = f"wrong type for {table}.{column}"
        for name in _ROW_TABLES:
            kept = [(r, p) for r, p in zip(self._rows[name], self._owner[name], strict=True)
                    if p not in bad]  # fmt: skip
            self._rows[name] = [r for r, _ in kept]
            self._owner[name] = [p for _, p in kept]
        for position, error in sorted(bad.items()):
            self.reject(self._make_reject(position, self._raw.pop(position), error))
        return bool(bad)

    def _convert(self, table: str, rows: list[Row]) -> None:
        self._add_batch(table, self._to_batch(table, rows))

    def _add_batch(self, table: str, batch: pa.RecordBatch) -> None:
        self._batches[table].append(batch)
        self._pending[table] += batch.num_rows
        self._pending_bytes[table] += batch.nbytes
        self.counts[table] += batch.num_rows
        if self._pending[table] >= ROW_GROUP_ROWS:
            self._write(table)
        elif sum(self._pending_bytes.values()) > PENDING_BYTES:
            self._write(max(self._pending_bytes, key=self._pending_bytes.__getitem__))

    def _to_batch(self, table: str, rows: list[Row]) -> pa.RecordBatch:
        struct = pa.array(rows, type=ROW_TYPES[table])
        n = len(rows)
        columns = []
        for field in SCHEMAS[table]:
            if field.name in LINEAGE_COLUMNS:
                value = self._lineage[field.name]
                columns.append(pa.repeat(pa.scalar(value, field.type), n))
            else:
                columns.append(struct.field(field.name))
        return pa.RecordBatch.from_arrays(columns, schema=SCHEMAS[table])

    def _write(self, table: str) -> None:
        batches = self._batches[table]
        if not batches:
            return
        self._writer(table).write_table(
            pa.Table.from_batches(batches, schema=SCHEMAS[table]), row_group_size=ROW_GROUP_ROWS
        )
        self._batches[table] = []
        self._pending[table] = 0
        self._pending_bytes[table] = 0

    def _writer(self, table: str) -> pq.ParquetWriter:
        writer = self._writers.get(table)
        if writer is None:
            folder = self.out_dir / table
            folder.mkdir(parents=True, exist_ok=True)
            schema = SCHEMAS[table]
            writer = pq.ParquetWriter(
                folder / PART_NAME,
                schema,
                compression="zstd",
                use_dictionary=[n for n in schema.names if n in DICTIONARY_COLUMNS],
                write_statistics=_with_statistics(schema),
            )
            self._writers[table] = writer
        return writer


def _bad_column(table: str, row: Row) -> str | None:
    """The first column of ``row`` whose value Arrow cannot convert to the column's type."""
    for field in ROW_TYPES[table]:
        value = row.get(field.name)
        if value is None:
            continue
        try:
            pa.array([value], type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return str(field.name)
    return None
