"""io: export files to Parquet tables, batches, the current view and the warehouses.

This module holds what the pipeline's configuration checks without loading pyarrow: the
values of :func:`~labelbox_provider.io.flatten.flatten_file`'s ``processes``.
"""

from __future__ import annotations

from labelbox_provider.exceptions import LabelboxConfigError

PROCESSES = (None, 1, 2)  # flatten_file's ``processes``: automatic, one, two


def check_processes(processes: object, name: str = "processes") -> None:
    """Raise ``LabelboxConfigError`` (a ValueError) unless ``processes`` is None, 1 or 2."""
    if processes is not None and (type(processes) is not int or processes not in PROCESSES):
        raise LabelboxConfigError(
            f"{name}={processes!r}: use 1 (one process), 2 (split the file between two "
            "processes) or None (automatic: 2 for a large file when a second core is idle)"
        )
