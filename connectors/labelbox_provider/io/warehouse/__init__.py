"""Loading committed batches into a warehouse: the load and its merge rule, SQL, targets.

:mod:`~labelbox_provider.io.warehouse.load` (the load, :func:`load_batch`),
:mod:`~labelbox_provider.io.warehouse.refs` (which batches to load),
:mod:`~labelbox_provider.io.warehouse.sql` (the merge statements),
:mod:`~labelbox_provider.io.warehouse.duckdb` and :mod:`~labelbox_provider.io.warehouse.postgres`
(the targets), :mod:`~labelbox_provider.io.warehouse.pgcopy` (COPY text encoding). The load's
public names are importable from this package too.
"""

from __future__ import annotations

from labelbox_provider.exceptions import WarehouseLoadError
from labelbox_provider.io.warehouse.load import LoadResult, Warehouse, load_batch, warehouse_for
from labelbox_provider.io.warehouse.refs import BatchRef

__all__ = [
    "BatchRef",
    "LoadResult",
    "Warehouse",
    "WarehouseLoadError",
    "load_batch",
    "warehouse_for",
]
