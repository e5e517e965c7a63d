"""Arrow to PostgreSQL: column types and the text format of ``COPY ... FROM STDIN``.

Pure functions, no connection: :func:`pg_type` maps an Arrow type to a column type and
:func:`copy_text` renders a record batch as COPY text (tab-separated, ``\\N`` for null, with
backslash, tab, newline and carriage return escaped). Nested values (lists, structs, maps)
become ``jsonb``.

>>> pg_type(pa.timestamp("us", tz="UTC"))
'TIMESTAMP WITH TIME ZONE'
>>> copy_text(pa.record_batch({"a": ["x\\ty", None], "b": [[1, 2], None]}))
'x\\\\ty\\t[1, 2]\\n\\\\N\\t\\\\N\\n'
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"  # COPY text format's null marker


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


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def encode(value: Any) -> str:
    """One value in COPY text format."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=_json_default).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def _column_text(col: pa.Array) -> list[str]:
    """One column in COPY text format; flat types are converted by Arrow, not per value."""
    t = col.type
    if pat.is_nested(t):
        dump = json.dumps
        return [
            NULL if v is None else dump(v, default=_json_default).translate(_ESCAPES)
            for v in col.to_pylist()
        ]
    if pat.is_string(t) or pat.is_large_string(t):
        return [NULL if v is None else v.translate(_ESCAPES) for v in col.to_pylist()]
    if pat.is_boolean(t) or pat.is_integer(t) or pat.is_floating(t) or pat.is_timestamp(t):
        # Arrow renders 'true', '1e+300', 'nan', '-inf', '2024-01-02 03:04:05.000006Z': all
        # accepted by PostgreSQL's input functions, and none needs escaping
        return [NULL if v is None else v for v in pc.cast(col, pa.string()).to_pylist()]
    return [encode(v) for v in col.to_pylist()]


def copy_text(batch: pa.RecordBatch) -> str:
    """The rows of ``batch`` as COPY text, one line per row, columns in batch order."""
    columns = [_column_text(col) for col in batch.columns]
    return "".join("\t".join(row) + "\n" for row in zip(*columns, strict=True))
