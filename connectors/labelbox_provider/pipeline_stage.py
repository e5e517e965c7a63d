"""Local staging of one export: count it against the budget, flatten it into Parquet tables.

Both steps stream the spooled export file record by record; nothing holds a whole export.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from labelbox_provider.pipeline_types import ExportRef


def count_records(export_file: Path) -> int:
    """Records in an export file (v2 NDJSON lines or v1 array elements), streamed."""
    from labelbox_provider.io.jsonstream import iter_raw_records

    if export_file.stat().st_size == 0:
        return 0
    with export_file.open("rb") as fp:
        return sum(1 for _ in iter_raw_records(fp, "auto"))


def over_budget(records: int, size: int, max_lines: int | None, max_bytes: int | None) -> str:
    """Why an export is too large to commit as one batch, or "" when it fits.

    >>> over_budget(10, 100, max_lines=5, max_bytes=None)
    'has 10 records (budget 5)'
    >>> over_budget(10, 100, max_lines=None, max_bytes=None)
    ''
    """
    if max_lines is not None and records > max_lines:
        return f"has {records} records (budget {max_lines})"
    if max_bytes is not None and size > max_bytes:
        return f"has {size} bytes (budget {max_bytes})"
    return ""


def flatten_into(
    export_file: Path,
    staging: Path,
    ref: ExportRef,
    *,
    extracted_at: datetime,
    frames_dir: Path | None,
) -> dict[str, int]:
    """Flatten ``export_file`` into ``staging/<table>/*.parquet``; return rows per table."""
    from labelbox_provider.io.flatten import flatten_file
    from labelbox_provider.transforms.common import Lineage

    staging.mkdir(parents=True, exist_ok=True)
    lineage = Lineage(
        project_id=ref.project_id,
        batch_id=ref.batch_id,
        extracted_at=extracted_at,
        window_start=ref.window.start,
        window_end=ref.window.end,
        source_format=ref.source_format,
    )
    if export_file.stat().st_size == 0:
        return {}
    counts = flatten_file(export_file, staging, lineage, frames_dir=frames_dir)
    return {table: int(rows) for table, rows in counts.items()}
