"""Row buffers of the sink: rows held as tuples, grouped by *shape*, converted column by column.

A shape is a fixed tuple of columns that some rows fill; the table's other columns are null
for those rows. Rows are appended as ``(position, value, ...)``, ``position`` being the export
record they come from (so that a record Arrow refuses can be taken out whole, and so that the
rows of several shapes go out in record order). Building a tuple and appending it is the
cheapest thing a Python row builder can do; the transpose (``zip``) and ``pa.array`` per
column run in C.

A *keyed* shape leaves out ``project_id``, ``label_id`` and ``data_row_id``: they are the
record's, registered once per record in :class:`RecordKeys` and taken from there by position.

Every table also has a *full* shape holding every column, for rows built as dicts by the row
functions of :mod:`.v1` / :mod:`.v2`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, chain
from operator import attrgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .columns import F64, POINTS
from .common import Row
from .schemas import ROW_TYPES

Converter = Callable[[Sequence[Any], pa.DataType, pa.MemoryPool], pa.Array]
_CONVERT_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


def convert(values: Sequence[Any], type_: pa.DataType, pool: pa.MemoryPool) -> pa.Array:
    """Python values -> Arrow, the column's type enforced (Arrow raises on a wrong type)."""
    return pa.array(values, type=type_, memory_pool=pool)


def vertices(values: Sequence[Any], type_: pa.DataType, pool: pa.MemoryPool) -> pa.Array:
    """Vertex lists of objects with ``x`` and ``y`` attributes (typed vertices) -> ``POINTS``.

    Built from flat coordinate lists and offsets, which is about 4x cheaper than converting
    one struct per vertex.
    """
    flat = list(chain.from_iterable(filter(None, values)))
    items = pa.StructArray.from_arrays(
        [
            pa.array(list(map(_X, flat)), F64, memory_pool=pool),
            pa.array(list(map(_Y, flat)), F64, memory_pool=pool),
        ],
        fields=list(POINTS.value_type),
    )
    sizes = [0 if v is None else len(v) for v in values]
    nulls = [v is None for v in values]
    return pa.ListArray.from_arrays(
        pa.array([0, *accumulate(sizes)], pa.int32()),
        items,
        type=POINTS,
        mask=pa.array(nulls, pa.bool_()) if any(nulls) else None,
        pool=pool,
    )


_X = attrgetter("x")
_Y = attrgetter("y")


KEY_COLUMNS = ("project_id", "label_id", "data_row_id")


class RecordKeys:
    """``(project_id, label_id, data_row_id)`` of the buffered records of keyed shapes."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.keys: list[tuple[str, str, str]] = []
        self._arrays: tuple[pa.Array, list[pa.Array]] | None = None

    def add(self, position: int, keys: tuple[str, str, str]) -> None:
        """Register the keys of the record at ``position`` (records come in order)."""
        self.positions.append(position)
        self.keys.append(keys)
        self._arrays = None

    def pop_record(self, position: int) -> None:
        """Forget the keys of the record at ``position`` if it was registered last."""
        if self.positions and self.positions[-1] == position:
            self.positions.pop()
            self.keys.pop()
            self._arrays = None

    def clear(self) -> None:
        """Forget every record."""
        self.positions.clear()
        self.keys.clear()
        self._arrays = None

    def arrays(self, pool: pa.MemoryPool) -> tuple[pa.Array, list[pa.Array]]:
        """The registered positions and one array per key column (built once per batch)."""
        if self._arrays is None:
            columns = list(zip(*self.keys, strict=True)) or [(), (), ()]
            self._arrays = (
                pa.array(self.positions, pa.int64()),
                [pa.array(c, pa.string(), memory_pool=pool) for c in columns],
            )
        return self._arrays


class Shape:
    """Rows of one table that fill the same columns, as ``(position, *values)`` tuples."""

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        converters: dict[str, Converter] | None = None,
        keys: RecordKeys | None = None,
    ) -> None:
        row_type = ROW_TYPES[table]
        unknown = [c for c in columns if row_type.get_field_index(c) < 0]
        if unknown:
            raise ValueError(f"{table} has no column(s) {unknown}")
        if keys is not None and set(KEY_COLUMNS) & set(columns):
            raise ValueError("a keyed shape takes the key columns from the record's keys")
        self.table = table
        self.columns = tuple(columns)
        self.keys = keys
        self._index = {c: i + 1 for i, c in enumerate(self.columns)}
        self._converters = converters or {}
        self.rows: list[tuple[Any, ...]] = []
        self.append = self.rows.append  # bound once: row builders call it per row

    def converter(self, column: str) -> Converter:
        """How the values of ``column`` become an Arrow array."""
        return self._converters.get(column, convert)

    def to_batch(self, pool: pa.MemoryPool) -> tuple[pa.Array, pa.RecordBatch]:
        """The positions and a batch of the table's row columns (nulls where not filled)."""
        n = len(self.rows)
        columns = list(zip(*self.rows, strict=True))
        positions = pa.array(columns[0], pa.int64(), memory_pool=pool)
        keys: dict[str, pa.Array] = {}
        if self.keys is not None:
            registered, key_arrays = self.keys.arrays(pool)
            rows = pc.index_in(positions, value_set=registered, memory_pool=pool)
            keys = {c: a.take(rows) for c, a in zip(KEY_COLUMNS, key_arrays, strict=True)}
        arrays = []
        for field in ROW_TYPES[self.table]:
            index = self._index.get(field.name)
            if index is not None:
                arrays.append(self.converter(field.name)(columns[index], field.type, pool))
            elif field.name in keys:
                arrays.append(keys[field.name])
            else:
                arrays.append(pa.nulls(n, field.type, memory_pool=pool))
        return positions, pa.RecordBatch.from_arrays(arrays, schema=_row_schema(self.table))

    def bad_positions(self) -> dict[int, str]:
        """Records whose values Arrow refuses: position -> the first column at fault."""
        bad: dict[int, str] = {}
        fields = [ROW_TYPES[self.table].field(c) for c in self.columns]
        for row in self.rows:
            if row[0] in bad:
                continue
            for field, value in zip(fields, row[1:], strict=True):
                if value is None:
                    continue
                try:
                    self.converter(field.name)([value], field.type, pa.default_memory_pool())
                except _CONVERT_ERRORS:
                    bad[row[0]] = field.name
                    break
        return bad

    def drop(self, positions: set[int]) -> None:
        """Remove the rows of the records at ``positions``."""
        self.rows[:] = [r for r in self.rows if r[0] not in positions]

    def pop_record(self, position: int) -> None:
        """Remove the trailing rows of the record at ``position`` (one being built)."""
        rows = self.rows
        while rows and rows[-1][0] == position:
            rows.pop()


_SCHEMAS: dict[str, pa.Schema] = {}


def _row_schema(table: str) -> pa.Schema:
    schema = _SCHEMAS.get(table)
    if schema is None:
        schema = _SCHEMAS[table] = pa.schema(list(ROW_TYPES[table]))
    return schema


class TableRows:
    """The buffered rows of one table: its shapes, and the full shape for dict rows."""

    def __init__(self, table: str, keys: RecordKeys) -> None:
        self.table = table
        self._keys = keys
        self.full = Shape(table, [f.name for f in ROW_TYPES[table]])
        self.shapes: list[Shape] = [self.full]

    def shape(
        self,
        columns: Sequence[str],
        converters: dict[str, Converter] | None = None,
        *,
        keyed: bool = False,
    ) -> Shape:
        """A new shape of this table; ``keyed``: its key columns are the record's keys."""
        shape = Shape(self.table, columns, converters, self._keys if keyed else None)
        self.shapes.append(shape)
        return shape

    def add_dicts(self, rows: Iterable[Row], position: int) -> None:
        """Append dict rows of the record at ``position`` (missing keys are null)."""
        columns = self.full.columns
        append = self.full.append
        for row in rows:
            append((position, *[row.get(c) for c in columns]))

    def to_batch(self, pool: pa.MemoryPool) -> pa.RecordBatch | None:
        """All buffered rows as one batch, in record order (None if there are none).

        Raises Arrow's error if a value has the wrong type; :meth:`bad_positions` then says
        which records are at fault.
        """
        parts = [s.to_batch(pool) for s in self.shapes if s.rows]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0][1]
        # A record's rows of one table are all in one shape, in order: a stable sort on the
        # record position restores the order in which they were produced.
        positions = pa.chunked_array([p[0] for p in parts])
        table = pa.Table.from_batches([p[1] for p in parts])
        ordered = table.take(pc.sort_indices(positions, memory_pool=pool))
        return ordered.combine_chunks(memory_pool=pool).to_batches()[0]

    def bad_positions(self) -> dict[int, str]:
        """Records with a value Arrow refuses, and the column at fault."""
        bad: dict[int, str] = {}
        for shape in self.shapes:
            for position, column in shape.bad_positions().items():
                bad.setdefault(position, column)
        return bad

    def drop(self, positions: set[int]) -> None:
        """Remove every row of the records at ``positions``."""
        for shape in self.shapes:
            shape.drop(positions)

    def pop_record(self, position: int) -> None:
        """Remove the rows of the record at ``position``, appended last."""
        for shape in self.shapes:
            shape.pop_record(position)

    def clear(self) -> None:
        """Forget every buffered row (the lists are kept: builders hold their ``append``)."""
        for shape in self.shapes:
            shape.rows.clear()
