"""The current view: today's state of every table, computed from all committed batches.

Raw batches are never edited; duplicates from overlapping windows and superseded copies are
collapsed here, at read time, by one rule (docs/semantics.md explains it with an example).
Within a project, ordering copies by ``(extracted_at, batch_id)`` (latest wins, the batch id
breaks ties so the result is deterministic):

* **data_rows**: the latest copy of each data row. For v2 that copy is the data row's
  *snapshot*: a v2 export returns a data row with all the labels it still has.
* **labels**: the latest copy of each label, kept unless (a) the data row has a v2 snapshot
  later than that copy that does not contain the label (deleted: it vanished from the
  snapshot), or (b) a tombstone for the label was detected later than that copy. For a pure v2
  mirror this is exactly "the labels of the data row's latest snapshot, minus tombstoned ones";
  v1 exports return single labels, not whole data rows, so there a label survives until a
  tombstone (written by a reconcile run) removes it.
* **objects, classifications, relationships, reviews**: the rows of current labels that come
  from the same batch as the label's current copy (never a mix of two extractions).
* **workflow_history**: v2 rows from the data row's snapshot batch; v1 rows follow their label
  (or, without a label id, the data row's current copy), one row per step (v1 repeats a data
  row's history on every label record).
* **metadata, attachments**: the rows of the data row's current copy's batch (its latest
  metadata and attachments), one per position (v1 repeats them on every label record).
* **tombstones, rejects**: every committed row, as written (not collapsed).

Only files the checkpoint lists are read (the compacted base and the batches committed since,
see :mod:`labelbox_provider.io.compact`), so unfinished commits are never visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from labelbox_provider.state.ledger import Ledger, list_projects

if TYPE_CHECKING:
    import duckdb

TABLES = (
    "data_rows",  # one row per data row per batch
    "labels",  # one row per label per batch
    "objects",  # annotation objects, keyed by label
    "classifications",  # selected answers, keyed by label
    "relationships",  # object relationships, keyed by label
    "message_evaluations",  # chat-evaluation selections and rankings, keyed by label
    "reviews",  # label reviews, keyed by label
    "workflow_history",  # workflow steps, keyed by data row (+ label for v1)
    "rejects",  # records that could not be flattened (raw only)
    "tombstones",  # labels found deleted by a reconcile run (raw only)
    "metadata",  # data row metadata fields, keyed by data row
    "attachments",  # data row attachments, keyed by data row
)
LABEL_CHILDREN = ("objects", "classifications", "relationships", "message_evaluations", "reviews")
DATA_ROW_CHILDREN = ("metadata", "attachments")  # follow the data row's current copy

_LATEST = "ORDER BY extracted_at DESC, batch_id DESC) = 1"
_CTES: dict[str, str] = {
    "cur_dr": (
        "SELECT * FROM {data_rows} QUALIFY row_number() OVER "
        "(PARTITION BY project_id, data_row_id " + _LATEST
    ),
    "snap": (
        "SELECT project_id, data_row_id, batch_id AS snap_batch, extracted_at AS snap_at "
        "FROM {data_rows} WHERE source_format = 'v2' QUALIFY row_number() OVER "
        "(PARTITION BY project_id, data_row_id " + _LATEST
    ),
    "tomb": (
        "SELECT project_id, label_id, max(detected_at) AS detected_at FROM {tombstones} "
        "WHERE label_id IS NOT NULL GROUP BY project_id, label_id"
    ),
    "lab_latest": (
        "SELECT * FROM {labels} QUALIFY row_number() OVER "
        "(PARTITION BY project_id, label_id " + _LATEST
    ),
    "cur_lab": (
        "SELECT l.* FROM lab_latest l "
        "LEFT JOIN snap s ON s.project_id = l.project_id AND s.data_row_id = l.data_row_id "
        "LEFT JOIN tomb t ON t.project_id = l.project_id AND t.label_id = l.label_id "
        "WHERE (s.snap_batch IS NULL OR l.extracted_at > s.snap_at "
        "OR (l.extracted_at = s.snap_at AND l.batch_id >= s.snap_batch)) "
        "AND (t.detected_at IS NULL OR t.detected_at <= l.extracted_at)"
    ),
}
_LABEL_CTES = ("snap", "tomb", "lab_latest", "cur_lab")

_CHILD_SQL = (
    "SELECT c.* FROM {raw} c WHERE EXISTS (SELECT 1 FROM cur_lab k WHERE "
    "k.project_id = c.project_id AND k.label_id = c.label_id AND k.batch_id = c.batch_id)"
)
_WORKFLOW_SQL = (
    "SELECT w.* FROM {workflow_history} w WHERE ("
    "(w.source_format = 'v2' AND EXISTS (SELECT 1 FROM snap s WHERE s.project_id = w.project_id "
    "AND s.data_row_id = w.data_row_id AND s.snap_batch = w.batch_id)) "
    "OR (w.source_format <> 'v2' AND w.label_id IS NOT NULL AND EXISTS (SELECT 1 FROM cur_lab k "
    "WHERE k.project_id = w.project_id AND k.label_id = w.label_id AND k.batch_id = w.batch_id)) "
    "OR (w.source_format <> 'v2' AND w.label_id IS NULL AND EXISTS (SELECT 1 FROM cur_dr d "
    "WHERE d.project_id = w.project_id AND d.data_row_id = w.data_row_id "
    "AND d.batch_id = w.batch_id))) "
    # v1 repeats a data row's history on each of its label records: keep one copy per step
    "QUALIFY row_number() OVER (PARTITION BY w.project_id, w.batch_id, w.data_row_id, "
    "w.label_id, w.position ORDER BY w.position) = 1"
)

_DATA_ROW_CHILD_SQL = (
    "SELECT c.* FROM {raw} c WHERE EXISTS (SELECT 1 FROM cur_dr d WHERE "
    "d.project_id = c.project_id AND d.data_row_id = c.data_row_id AND d.batch_id = c.batch_id) "
    "QUALIFY row_number() OVER (PARTITION BY c.project_id, c.batch_id, c.data_row_id, "
    "c.position ORDER BY c.position) = 1"
)


def _plan(table: str) -> tuple[tuple[str, ...], str]:
    """CTEs (in order) and final SELECT of the current view of ``table``."""
    if table == "data_rows":
        return ("cur_dr",), "SELECT * FROM cur_dr"
    if table == "labels":
        return _LABEL_CTES, "SELECT * FROM cur_lab"
    if table in LABEL_CHILDREN:
        return _LABEL_CTES, _CHILD_SQL.replace("{raw}", "{" + table + "}")
    if table == "workflow_history":
        return ("cur_dr", *_LABEL_CTES), _WORKFLOW_SQL
    if table in DATA_ROW_CHILDREN:
        return ("cur_dr",), _DATA_ROW_CHILD_SQL.replace("{raw}", "{" + table + "}")
    return (), "SELECT * FROM {" + table + "}"


def render_current_sql(table: str, sources: Mapping[str, str]) -> str:
    """SQL of the current view of ``table`` given a relation expression per raw table."""
    return _render(*_plan(table), sources)


def _render(ctes: tuple[str, ...], final: str, sources: Mapping[str, str]) -> str:
    parts = [f"{name} AS ({_CTES[name]})" for name in ctes]
    text = ("WITH " + ",\n".join(parts) + "\n" if parts else "") + final
    for name, expr in sources.items():
        text = text.replace("{" + name + "}", expr)
    return text


# The compacted base keeps, per table, exactly the rows the view above can still need once more
# batches arrive (not the view itself: a later snapshot or tombstone may drop a current label,
# and later copies need the latest copies to be compared with). Proved by a property test:
# view(base + later batches) == view(every batch), tests/io/test_compact.py.
_FOLD_DR = (
    "SELECT * FROM {data_rows} QUALIFY row_number() OVER "
    "(PARTITION BY project_id, data_row_id " + _LATEST + " "
    "OR (source_format = 'v2' AND row_number() OVER "
    "(PARTITION BY project_id, data_row_id, source_format = 'v2' " + _LATEST + ")"
)
_FOLD_CHILD = (
    "SELECT c.* FROM {raw} c WHERE EXISTS (SELECT 1 FROM lab_latest k WHERE "
    "k.project_id = c.project_id AND k.label_id = c.label_id AND k.batch_id = c.batch_id)"
)
_FOLD_WORKFLOW = (
    "SELECT w.* FROM {workflow_history} w WHERE "
    "(w.source_format = 'v2' AND EXISTS (SELECT 1 FROM snap s WHERE s.project_id = w.project_id "
    "AND s.data_row_id = w.data_row_id AND s.snap_batch = w.batch_id)) "
    "OR (w.source_format <> 'v2' AND w.label_id IS NOT NULL AND EXISTS (SELECT 1 FROM lab_latest "
    "k WHERE k.project_id = w.project_id AND k.label_id = w.label_id AND k.batch_id = w.batch_id)) "
    "OR (w.source_format <> 'v2' AND w.label_id IS NULL AND EXISTS (SELECT 1 FROM cur_dr d "
    "WHERE d.project_id = w.project_id AND d.data_row_id = w.data_row_id "
    "AND d.batch_id = w.batch_id))"
)
_FOLD_DR_CHILD = (
    "SELECT c.* FROM {raw} c WHERE EXISTS (SELECT 1 FROM cur_dr d WHERE "
    "d.project_id = c.project_id AND d.data_row_id = c.data_row_id AND d.batch_id = c.batch_id)"
)


def _fold_plan(table: str) -> tuple[tuple[str, ...], str]:
    """CTEs and SELECT of the rows of ``table`` a compacted base keeps."""
    if table == "data_rows":
        return (), _FOLD_DR
    if table == "labels":
        return ("lab_latest",), "SELECT * FROM lab_latest"
    if table in LABEL_CHILDREN:
        return ("lab_latest",), _FOLD_CHILD.replace("{raw}", "{" + table + "}")
    if table == "workflow_history":
        return ("cur_dr", "snap", "lab_latest"), _FOLD_WORKFLOW
    if table in DATA_ROW_CHILDREN:
        return ("cur_dr",), _FOLD_DR_CHILD.replace("{raw}", "{" + table + "}")
    return (), "SELECT * FROM {" + table + "}"  # tombstones, rejects: every row


def render_fold_sql(table: str, sources: Mapping[str, str]) -> str:
    """SQL of the rows of ``table`` a compacted base keeps, given a relation per raw table."""
    return _render(*_fold_plan(table), sources)


def read_expr(files: list[str], table: str) -> str:
    """A DuckDB relation over ``files`` (URLs) of ``table``, typed and empty when none."""
    return _read_expr(files, table)


def committed_files(
    root: str,
    project_id: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    compacted: bool = True,
) -> dict[str, list[str]]:
    """URLs of the files the current view reads, per table (one project, or every project).

    With a compacted base (and ``compacted``): the base files plus the files of batches
    committed since it; otherwise every committed batch's files. Only the checkpoint (and the
    index segments holding the batches read) is consulted, never a manifest.
    """
    projects = [project_id] if project_id is not None else list_projects(root, storage_options)
    found: dict[str, list[str]] = {t: [] for t in TABLES}
    for pid in projects:
        ledger = Ledger(root, pid, storage_options)
        for rel in project_files(ledger, compacted=compacted):
            found.setdefault(table_of(rel), []).append(ledger.url(rel))
    return found


def project_files(ledger: Ledger, *, compacted: bool = True) -> list[str]:
    """Files (relative to the project directory) the current view of one project reads; a
    base file's path starts with ``_compacted/<generation>/<table>/``, a batch file's with
    ``<table>/`` (:func:`table_of` tells the table)."""
    cp = ledger.checkpoint()
    comp = cp.compaction
    use_base = comp is not None and compacted and (not comp.stale or comp.expired_through_seq > 0)
    if comp is None or not use_base:
        expired = comp.expired_through_seq if comp is not None else 0
        entries = [e for e in ledger.batches(checkpoint=cp) if e.seq > expired]
        return [p for e in entries for p in e.paths()]
    base = [p for table in sorted(comp.files) for p in comp.files[table]]
    since = ledger.batches(since_seq=comp.through_seq, checkpoint=cp)
    return base + [p for e in since for p in e.paths()]


def table_of(rel: str) -> str:
    """The table of a file listed by :func:`project_files`."""
    parts = rel.split("/")
    return parts[2] if parts[0] == "_compacted" else parts[0]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_schema(table: str) -> pa.Schema:
    """Schema for a table with no committed file yet (the real one when schemas exist)."""
    try:
        from labelbox_provider.transforms.tables import SCHEMAS

        schema: pa.Schema = SCHEMAS[table]
        return schema
    except (ImportError, KeyError):
        ts = pa.timestamp("us", tz="UTC")
        fields = [
            ("project_id", pa.string()),
            ("batch_id", pa.string()),
            ("extracted_at", ts),
            ("window_start", ts),
            ("window_end", ts),
            ("source_format", pa.string()),
            ("label_id", pa.string()),
            ("data_row_id", pa.string()),
            ("detected_at", ts),
        ]
        return pa.schema(fields)


@cache
def _empty_select(table: str) -> str:
    """A typed, empty SELECT with the columns of ``table``."""
    import duckdb

    rel = duckdb.connect().from_arrow(_empty_schema(table).empty_table())
    cols = ", ".join(
        f'CAST(NULL AS {dtype}) AS "{name}"'
        for name, dtype in zip(rel.columns, rel.types, strict=True)
    )
    return f"(SELECT {cols} WHERE false)"


def _read_expr(files: list[str], table: str) -> str:
    if not files:
        return _empty_select(table)
    listed = ", ".join(_quote(f) for f in files)
    return f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"


def current_view_sql(
    root: str,
    project_id: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    compacted: bool = True,
) -> dict[str, str]:
    """Self-contained DuckDB SQL per table over exactly the committed files.

    For a remote ``root`` the connection must know its filesystem (``register_current_views``
    and ``current_tables`` register it; DuckDB's own httpfs also reads s3:// URLs).
    """
    files = committed_files(root, project_id, storage_options, compacted=compacted)
    sources = {t: _read_expr(files.get(t, []), t) for t in TABLES}
    return {t: render_current_sql(t, sources) for t in TABLES}


def _register_fs(
    con: duckdb.DuckDBPyConnection, root: str, storage: Mapping[str, Any] | None
) -> None:
    from labelbox_provider.io.fs import get_fs, is_local

    fs, _ = get_fs(root, storage)
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    if not is_local(fs) and not set(protocols) & set(con.list_filesystems()):
        con.register_filesystem(fs)


def register_current_views(
    con: duckdb.DuckDBPyConnection,
    root: str,
    project_id: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    compacted: bool = True,
) -> None:
    """Create views ``raw_<table>`` (the rows read: the compacted base and the batches since,
    or every committed row with ``compacted=False``) and ``<table>`` (current state)."""
    _register_fs(con, root, storage_options)
    files = committed_files(root, project_id, storage_options, compacted=compacted)
    for table in TABLES:
        con.execute(
            f"CREATE OR REPLACE VIEW raw_{table} AS SELECT * FROM {_read_expr(files[table], table)}"
        )
    sources = {t: f"raw_{t}" for t in TABLES}
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE VIEW {table} AS {render_current_sql(table, sources)}")


def current_tables(
    root: str,
    project_id: str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    tables: tuple[str, ...] = TABLES,
    storage_options: Mapping[str, Any] | None = None,
    compacted: bool = True,
) -> dict[str, pa.Table]:
    """The current view of ``tables`` as Arrow tables (convenient for small mirrors and tests).

    This materialises results in memory; for large mirrors query the views from
    :func:`register_current_views` and stream (``fetch_record_batch``) or write them instead.
    """
    import duckdb

    own = con is None
    conn = duckdb.connect() if con is None else con
    try:
        if own:
            conn.execute("SET TimeZone = 'UTC'")
        register_current_views(conn, root, project_id, storage_options, compacted=compacted)
        return {t: conn.sql(f"SELECT * FROM {t}").to_arrow_table() for t in tables}
    finally:
        if own:
            conn.close()
