"""Pure transforms: one export record in, rows of each table out (no Airflow, no network).

Public surface: :data:`TABLES`, :data:`SCHEMAS`, :data:`KEYS`, :class:`Lineage`, and the
per-record row functions :func:`v1_record_rows` and :func:`v2_record_rows`. Writing a whole
export file to Parquet is I/O: :func:`labelbox_provider.io.flatten.flatten_file`.
"""

from __future__ import annotations

from labelbox_provider.exceptions import TransformError

from .common import Lineage, RecordContext
from .tables import KEYS, LINEAGE_COLUMNS, SCHEMAS, TABLES
from .v1 import v1_record_rows
from .v2 import v2_record_rows

__all__ = [
    "KEYS",
    "LINEAGE_COLUMNS",
    "SCHEMAS",
    "TABLES",
    "Lineage",
    "RecordContext",
    "TransformError",
    "v1_record_rows",
    "v2_record_rows",
]
