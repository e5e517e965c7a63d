"""Row buffers of the sink: rows held as tuples, grouped by *shape*, converted column by column.

A shape is a fixed tuple of columns that some rows fill; the table's other columns are null
for those rows. Rows are appended as ``(position, value, ...)``, ``position`` being the export
record they come from (so that a record Arrow refuses can be taken out whole, and so that the
rows of several shapes go out in record order). Building a tuple and appending it is the
cheapest thing a Python row builder can do; Arrow converts the tuples as the fields of one
struct array in C++ (about 40% cheaper than transposing them and converting column by
column).

A *keyed* shape leaves out ``project_id``, ``label_id`` and ``data_row_id``: they are the
record's, registered once per record in :class:`RecordKeys`, and its tuples start with the
index of that registration instead of the position (``(key index, value, ...)``): the key
columns and the positions are then taken from the registrations in one C++ ``take`` each.

Every table also has a *full* shape holding every column, for rows built as dicts by the row
functions of :mod:`.v1` / :mod:`.v2`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from .common import Row
from .tables import F64, POINTS, ROW_TYPES

_CONVERT_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


class VertexColumn:
    """A shape's ``points`` column, kept flat. A row builder calls :meth:`add` with the row's
    vertices (objects with ``x`` and ``y`` attributes, typed vertices) and puts the count it
    returns in the row, or None for no list. The coordinates are copied out while the vertices
    are fresh in cache, and the conversion builds the list array from the counts and the flat
    coordinates: several times cheaper than one Python struct per vertex."""

    def __init__(self) -> None:
        self.xs: list[float | None] = []
        self.ys: list[float | None] = []
        self._append_x, self._append_y = self.xs.append, self.ys.append  # lists kept for life

    def add(self, vertices: Sequence[Any]) -> int:
        """Take the coordinates of ``vertices``; returns the count to put in the row."""
        # a plain loop over typed vertices: about half the time of extend(map(attrgetter))
        append_x, append_y = self._append_x, self._append_y
        for vertex in vertices:
            append_x(vertex.x)
            append_y(vertex.y)
        return len(vertices)

    def to_array(self, counts: pa.Array, pool: pa.MemoryPool) -> pa.Array:
        """The ``POINTS`` array of the rows whose counts are ``counts`` (all rows, in order)."""
        items = pa.StructArray.from_arrays(
            [pa.array(self.xs, F64, memory_pool=pool), pa.array(self.ys, F64, memory_pool=pool)],
            fields=list(POINTS.value_type),
        )
        ends = pc.cumulative_sum(counts.fill_null(0), memory_pool=pool)
        offsets = pa.concat_arrays([pa.array([0], pa.int64()), ends]).cast(pa.int32())
        return pa.ListArray.from_arrays(
            offsets,
            items,
            type=POINTS,
            mask=counts.is_null() if counts.null_count else None,
            pool=pool,
        )

    def pop(self, counts: Iterable[int | None]) -> None:
        """Forget the coordinates of the last rows, whose counts are ``counts``."""
        n = sum(c for c in counts if c)
        if n:
            del self.xs[-n:], self.ys[-n:]

    def keep(self, counts: Sequence[int | None], kept: Sequence[bool]) -> None:
        """Keep the coordinates of the rows (all rows, in order) flagged in ``kept``."""
        xs, ys, start = [], [], 0
        for count, keep in zip(counts, kept, strict=True):
            end = start + (count or 0)
            if keep:
                xs += self.xs[start:end]
                ys += self.ys[start:end]
            start = end
        self.xs[:], self.ys[:] = xs, ys

    def clear(self) -> None:
        """Forget every coordinate."""
        self.xs.clear()
        self.ys.clear()


KEY_COLUMNS = ("project_id", "label_id", "data_row_id")


class RecordKeys:
    """``(project_id, label_id, data_row_id)`` of the buffered records of keyed shapes."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.keys: list[tuple[str, str, str]] = []
        self._arrays: tuple[pa.Array, list[pa.Array]] | None = None

    def add(self, position: int, keys: tuple[str, str, str]) -> int:
        """Register the keys of the record at ``position``; returns the key index that
        starts its rows in keyed shapes (records come in order)."""
        self.positions.append(position)
        self.keys.append(keys)
        self._arrays = None
        return len(self.keys) - 1

    def pop_record(self, position: int) -> None:
        """Forget the keys registered last for the record at ``position`` (a v2 record
        registers one per label)."""
        while self.positions and self.positions[-1] == position:
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
    """Rows of one table that fill the same columns, as ``(position, *values)`` tuples
    (keyed shapes: ``(key index, *values)``)."""

    def __init__(
        self,
        table: str,
        columns: Sequence[str],
        sides: dict[str, VertexColumn] | None = None,
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
        sides = sides or {}
        self._sides = {self._index[c]: v for c, v in sides.items()}  # kept off the tuples
        self._struct = pa.struct(  # the tuples' layout: what comes first, then the columns
            [("_first", pa.int64())]
            + [(c, pa.int64() if c in sides else row_type.field(c).type) for c in self.columns]
        )
        self.rows: list[tuple[Any, ...]] = []
        self.append = self.rows.append  # bound once: row builders call it per row

    def to_batch(self, pool: pa.MemoryPool) -> tuple[pa.Array, pa.RecordBatch]:
        """The positions and a batch of the table's row columns (nulls where not filled)."""
        n = len(self.rows)
        children = pa.array(self.rows, type=self._struct, memory_pool=pool).flatten(pool)
        keys: dict[str, pa.Array] = {}
        if self.keys is None:
            positions = children[0]
        else:
            registered, key_arrays = self.keys.arrays(pool)
            positions = registered.take(children[0])
            keys = {c: a.take(children[0]) for c, a in zip(KEY_COLUMNS, key_arrays, strict=True)}
        for side_index, side in self._sides.items():
            children[side_index] = side.to_array(children[side_index], pool)
        arrays = []
        for field in ROW_TYPES[self.table]:
            index = self._index.get(field.name)
            if index is not None:
                arrays.append(children[index])
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
            position = self.position(row)
            if position in bad:
                continue
            for index, (field, value) in enumerate(zip(fields, row[1:], strict=True), 1):
                if value is None or index in self._sides:  # side columns hold typed values
                    continue
                try:
                    pa.array([value], type=field.type)
                except _CONVERT_ERRORS:
                    bad[position] = field.name
                    break
        return bad

    def position(self, row: tuple[Any, ...]) -> int:
        """The position of the record ``row`` comes from."""
        first: int = row[0]
        return first if self.keys is None else self.keys.positions[first]

    def drop(self, positions: set[int]) -> None:
        """Remove the rows of the records at ``positions``."""
        kept = [self.position(r) not in positions for r in self.rows]
        for index, side in self._sides.items():
            side.keep([r[index] for r in self.rows], kept)
        self.rows[:] = [r for r, keep in zip(self.rows, kept, strict=True) if keep]

    def pop_record(self, position: int) -> None:
        """Remove the trailing rows of the record at ``position`` (one being built)."""
        rows = self.rows
        popped = []
        while rows and self.position(rows[-1]) == position:
            popped.append(rows.pop())
        for index, side in self._sides.items():
            side.pop(r[index] for r in popped)

    def clear(self) -> None:
        """Forget every row (the list is kept: builders hold its ``append``)."""
        self.rows.clear()
        for side in self._sides.values():
            side.clear()


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
        sides: dict[str, VertexColumn] | None = None,
        *,
        keyed: bool = False,
    ) -> Shape:
        """A new shape of this table; ``keyed``: its key columns are the record's keys."""
        shape = Shape(self.table, columns, sides, self._keys if keyed else None)
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
            shape.clear()


class RowBuffers(Protocol):
    """What the typed fast paths append to: the buffered rows of every table and the record
    keys (the Parquet writer's :class:`labelbox_provider.io.parquet.TableSink`)."""

    tables: dict[str, TableRows]
    keys: RecordKeys

    def discard(self, position: int) -> None:
        """Forget every row of the record at ``position``."""
