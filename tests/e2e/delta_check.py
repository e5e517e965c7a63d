"""Test helper: the Delta current tables of a project equal its current view, table for table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from labelbox_provider.io.current import TABLES, current_tables
from labelbox_provider.io.delta import delta_storage_options, table_uri
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.transforms.tables import SCHEMAS


def rows_of(table: pa.Table) -> list[str]:
    """Every row as canonical JSON (keys sorted: column order is ignored), sorted."""
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in table.to_pylist())


def _types(schema: pa.Schema) -> dict[str, str]:
    # Delta names list items "element", Arrow "item": compare the logical type, not the name.
    # Delta has one string type: large_string (rejects.raw) reads back as string.
    return {
        f.name: str(f.type).replace("element:", "item:").replace("large_string", "string")
        for f in schema
    }


def delta_differences(
    root: str, project_id: str, storage_options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Per table that differs: rows only in the current view, rows only in Delta (or why)."""
    from deltalake import DeltaTable

    ledger = Ledger(root, project_id, storage_options)
    options = delta_storage_options(ledger.url(""), storage_options)
    view = current_tables(root, project_id, storage_options=storage_options)
    out: dict[str, Any] = {}
    for table in TABLES:
        dt = DeltaTable(table_uri(ledger, table), storage_options=options)
        delta = dt.to_pyarrow_table()
        if _types(delta.schema) != _types(SCHEMAS[table]):
            out[table] = ("schema", _types(delta.schema), _types(SCHEMAS[table]))
            continue
        left, right = rows_of(view[table]), rows_of(delta)
        if left != right:
            out[table] = (sorted(set(left) - set(right))[:3], sorted(set(right) - set(left))[:3])
    return out


def live_rows(root: str, project_id: str, storage_options: Mapping[str, Any] | None = None) -> int:
    """Rows of the current view over every table (to show a comparison compared something)."""
    view = current_tables(root, project_id, storage_options=storage_options)
    return sum(t.num_rows for t in view.values())
