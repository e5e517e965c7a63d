"""Arrow to PostgreSQL: column types, and the Arrow batches that binary ``COPY`` sends.

Pure functions, no connection: :func:`pg_type` maps an Arrow type to a column type and
:func:`for_ingest` prepares a record batch for ADBC's ingest into a table of those types.
Nested values (lists, structs, maps) become ``jsonb``: each is encoded as one JSON document
(msgspec) and sent as Arrow's ``arrow.json`` extension type, which the driver writes as jsonb.

>>> pg_type(pa.timestamp("us", tz="UTC"))
'TIMESTAMP WITH TIME ZONE'
>>> for_ingest(pa.record_batch({"b": [[1, 2], None]}), {}).column(0).storage.to_pylist()
['[1,2]', None]
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

_ENCODE = msgspec.json.Encoder().encode  # NaN and infinities become null (jsonb has none)


def pg_type(t: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow type (nested types become ``JSONB``)."""
    checks: tuple[tuple[Any, str], ...] = (
        (pat.is_boolean, "BOOLEAN"),  # bool
        (pat.is_integer, "BIGINT"),  # any int width; Labelbox numbers fit in 64 bits
        (pat.is_floating, "DOUBLE PRECISION"),  # float16/32/64
        (pat.is_decimal, "NUMERIC"),  # exact decimals
        (pat.is_date, "DATE"),  # date32/64
        (pat.is_time, "TIME"),  # time of day
        (pat.is_binary, "BYTEA"),  # raw bytes
        (pat.is_large_binary, "BYTEA"),  # raw bytes, 64-bit offsets
        (pat.is_nested, "JSONB"),  # list, struct, map: kept whole, queryable with jsonb ops
    )
    if pat.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    for check, name in checks:
        if check(t):
            return name
    return "TEXT"  # strings, nulls and anything else


def json_column(col: pa.Array | pa.ChunkedArray) -> pa.ExtensionArray:
    """A nested column as ``arrow.json``: one JSON document per value, null kept null."""
    encode = _ENCODE
    text = [None if v is None else encode(v).decode() for v in col.to_pylist()]
    return pa.ExtensionArray.from_storage(pa.json_(), pa.array(text, pa.string()))


def for_ingest(batch: pa.RecordBatch, held: dict[str, str]) -> pa.RecordBatch:
    """The batch as the target's column types expect it: nested columns as ``arrow.json``
    (into jsonb), and any other column the table holds as text cast to string in Arrow (a
    column whose type drifted, or an all-null column). ``held`` maps column names to types."""
    columns: list[pa.Array] = []
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        t = col.type
        if pat.is_nested(t):
            columns.append(json_column(col))
        elif held.get(name, pg_type(t)).upper() == "TEXT" and not pat.is_string(t):
            columns.append(pc.cast(col, pa.string()))
        else:
            columns.append(col)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
