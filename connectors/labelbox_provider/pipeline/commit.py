"""From a downloaded export to a committed batch: flatten it into staging, commit the staging.

Flattening streams the spooled export file record by record into ``staging/<table>/*.parquet``;
committing hands the staging folder to the commit protocol of :mod:`labelbox_provider.io.batch`,
whose manifest is the commit point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from labelbox_provider.pipeline.types import BatchResult, ExportRef
from labelbox_provider.state.ledger import Ledger

log = logging.getLogger(__name__)

# ``commit(ref, staging, counts, extracted_at)``: what a step needs to commit a staged batch.
CommitStaged = Callable[[ExportRef, Path, dict[str, int], datetime], BatchResult]


def flatten_into(
    export_file: Path,
    staging: Path,
    ref: ExportRef,
    *,
    extracted_at: datetime,
    frames_dir: Path | None,
    processes: int | None = None,
) -> dict[str, int]:
    """Flatten ``export_file`` into ``staging/<table>/*.parquet``; return rows per table
    (``processes``: see :func:`~labelbox_provider.io.flatten.flatten_file`)."""
    from labelbox_provider.io.flatten import UNKNOWN_KINDS_STAT, FlattenResult, flatten_file
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
        return FlattenResult({}, {UNKNOWN_KINDS_STAT: 0})
    return flatten_file(export_file, staging, lineage, frames_dir=frames_dir, processes=processes)


def commit_staged(
    ledger: Ledger,
    ref: ExportRef,
    staging: Path,
    counts: dict[str, int],
    extracted_at: datetime,
    *,
    initial_start: datetime,
    delta_tables: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> BatchResult:
    """Commit ``staging/<table>/*.parquet`` as the batch of ``ref`` (atomic, see io.batch);
    the flatten result's ``stats`` (unknown annotation kinds...) go into the manifest. With
    ``delta_tables`` the project's Delta current tables then take the batch (io.delta;
    ``storage_options``: the destination's fsspec options)."""
    from labelbox_provider.io.batch import commit_batch  # pyarrow: loaded when committing
    from labelbox_provider.io.flatten import stats_of

    staging.mkdir(parents=True, exist_ok=True)
    manifest = commit_batch(
        ledger,
        staging_dir=staging,
        batch_id=ref.batch_id,
        window=ref.window,
        source_format=ref.source_format,
        export_id=ref.export_id,
        extracted_at=extracted_at,
        counts={table: int(rows) for table, rows in counts.items()},
        stats=stats_of(counts),
        initial_start=initial_start,
        mode=ref.mode,
    )
    log.info("committed batch %s: %s", manifest.batch_id, manifest.counts)
    if delta_tables:
        update_delta(ledger, storage_options)
    return BatchResult.from_manifest(manifest, ledger.url(f"_ledger/{ref.batch_id}.json"))


def update_delta(ledger: Ledger, storage_options: Mapping[str, Any] | None) -> None:
    """After a commit: apply the batch just committed (and any batch a failed update missed)
    to the project's Delta current tables. A failure raises; the batch stays committed."""
    from labelbox_provider.io import delta

    delta.update_delta_tables(ledger, storage_options, compact_after=delta.AUTO_COMPACT_AFTER)
