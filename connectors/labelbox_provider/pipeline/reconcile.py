"""Reconcile: find labels the mirror holds but the source no longer has, and tombstone them.

A deleted label leaves no record in an incremental export, so a v1 mirror (and a v2 mirror
whose data row vanished entirely) cannot see deletions. A reconcile run exports every label of
the project, anti-joins the mirror's current labels against it in DuckDB (which spills to disk,
so memory stays bounded), and commits one ``reconcile`` batch holding only ``tombstones`` rows.
The current view then hides a label whose tombstone is newer than the label's latest copy.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelbox_provider.exceptions import ReconcileError
from labelbox_provider.pipeline.commit import CommitStaged
from labelbox_provider.pipeline.config import PipelineConfig
from labelbox_provider.pipeline.export import ExportHook, download_export
from labelbox_provider.pipeline.types import BatchResult, ExportRef

if TYPE_CHECKING:  # pyarrow is imported when a reconcile runs, not when a DAG file is parsed
    import pyarrow as pa

log = logging.getLogger(__name__)

_ID_BATCH = 65_536  # label ids buffered before a Parquet write
REASON = "absent from reconcile export"  # tombstones.reason written by this run
# Latest copy of every label the mirror ever held (tombstoned or not, so that re-running a
# reconcile, which replaces its batch, writes the same tombstones again), minus the source's.
_MISSING_SQL = """
SELECT cur.label_id, cur.data_row_id FROM (
  SELECT label_id, data_row_id FROM raw_labels
  WHERE project_id = $project AND extracted_at <= $extracted
  QUALIFY row_number() OVER (PARTITION BY label_id ORDER BY extracted_at DESC, batch_id DESC) = 1
) cur
WHERE NOT EXISTS (SELECT 1 FROM {source} src WHERE src.label_id = cur.label_id)
ORDER BY cur.label_id
"""


def reconcile_export(
    hook: ExportHook,
    ref: ExportRef,
    detected_at: datetime,
    *,
    config: PipelineConfig,
    commit: CommitStaged,
) -> BatchResult:
    """Download the finished whole-project export ``ref``, commit its tombstones batch.

    ``detected_at`` is the batch's extraction time; ``commit`` commits the staged tables.
    """
    with tempfile.TemporaryDirectory(prefix="lbx-reconcile-") as tmp:
        work = Path(tmp)
        export_file = download_export(
            hook, ref, work, timeout=config.export_timeout, poll_interval=config.poll_interval
        )
        source = work / "source" / "labels"
        write_source_ids(export_file, source / "part-00000.parquet", ref.project_id)
        staging = work / "staging"
        rows = write_tombstones(config, ref, source, staging / "tombstones", detected_at)
        return commit(ref, staging, {"tombstones": rows}, detected_at)


def _label_ids(record: Any, project_id: str) -> list[str]:
    """Label ids of one raw record: v1 ``ID``; v2 ``projects.<id>.labels[].id``."""
    if not isinstance(record, dict):
        raise ReconcileError(f"export record is a {type(record).__name__}, not an object")
    if "ID" in record:
        return [str(record["ID"])]
    project = (record.get("projects") or {}).get(project_id) or {}
    return [str(label["id"]) for label in project.get("labels") or []]


def write_source_ids(export_file: Path, out: Path, project_id: str) -> int:
    """Stream the label ids of an export into a one-column Parquet file; return how many.

    Any record that cannot be decoded aborts the reconcile: a label whose id cannot be read
    must not be mistaken for a deleted one.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from labelbox_provider.io.jsonstream import iter_decoded

    out.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([pa.field("label_id", pa.string(), nullable=False)])
    total, ids = 0, []
    with pq.ParquetWriter(out, schema) as writer:
        if export_file.stat().st_size:
            with export_file.open("rb") as fp:
                for rec in iter_decoded(fp):
                    if rec.error is not None:
                        raise ReconcileError(f"record {rec.position} unreadable: {rec.error}")
                    ids.extend(_label_ids(rec.value, project_id))
                    if len(ids) >= _ID_BATCH:
                        writer.write_table(pa.table({"label_id": ids}, schema=schema))
                        total, ids = total + len(ids), []
        writer.write_table(pa.table({"label_id": ids}, schema=schema))
    return total + len(ids)


def _source_expr(labels_dir: Path) -> str:
    files = sorted(labels_dir.glob("*.parquet")) if labels_dir.is_dir() else []
    if not files:
        return "(SELECT NULL::VARCHAR AS label_id WHERE false)"
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listed}])"


def write_tombstones(
    config: PipelineConfig,
    ref: ExportRef,
    source_labels: Path,
    out_dir: Path,
    detected_at: datetime,
) -> int:
    """Write one tombstone per current mirror label missing from ``source_labels``."""
    import duckdb
    import pyarrow.parquet as pq

    from labelbox_provider.io.current import register_current_views
    from labelbox_provider.transforms.tables import SCHEMAS

    schema = SCHEMAS["tombstones"]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        register_current_views(con, config.root, ref.project_id, config.storage_options)
        query = _MISSING_SQL.format(source=_source_expr(source_labels))
        params = {"project": ref.project_id, "extracted": detected_at}
        reader = con.sql(query, params=params).to_arrow_reader(64 * 1024)
        with pq.ParquetWriter(out_dir / "part-00000.parquet", schema, compression="zstd") as out:
            for batch in reader:
                out.write_table(_tombstone_table(batch, ref, schema, detected_at))
                written += batch.num_rows
    finally:
        con.close()
    log.info("reconcile of %s: %d labels missing from the source", ref.project_id, written)
    return written


def _tombstone_table(
    batch: pa.RecordBatch, ref: ExportRef, schema: pa.Schema, detected_at: datetime
) -> pa.Table:
    import pyarrow as pa

    n = batch.num_rows
    values = {
        "project_id": [ref.project_id] * n,
        "label_id": batch.column("label_id"),
        "data_row_id": batch.column("data_row_id"),
        "detected_at": [detected_at] * n,
        "reason": [REASON] * n,
        "batch_id": [ref.batch_id] * n,
        "extracted_at": [detected_at] * n,
        "window_start": [ref.window.start] * n,
        "window_end": [ref.window.end] * n,
        "source_format": [ref.source_format] * n,
    }
    columns = [
        v.cast(f.type) if isinstance(v := values[f.name], pa.Array) else pa.array(v, type=f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
