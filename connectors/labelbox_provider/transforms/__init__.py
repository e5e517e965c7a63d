"""Pure transforms: one export record in, rows of each table out (no Airflow, no network).

Public surface: :data:`TABLES`, :data:`SCHEMAS`, :data:`KEYS`, :class:`Lineage`,
:func:`flatten_file`, and the per-record row functions :func:`v1_record_rows` and
:func:`v2_record_rows`.
"""

from __future__ import annotations

from labelbox_provider.exceptions import TransformError

from .common import Lineage, RecordContext
from .flatten import flatten_file
from .schemas import KEYS, LINEAGE_COLUMNS, SCHEMAS, TABLES
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
    "flatten_file",
    "v1_record_rows",
    "v2_record_rows",
]
