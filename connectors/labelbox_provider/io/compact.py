"""Compaction: fold the committed batches into a compacted base, atomically and idempotently.

The base (``_compacted/<generation>/<table>/part-00000.parquet``) holds, per table, the rows the
current view can still need (:func:`labelbox_provider.io.current.render_fold_sql`): the latest
copy of every data row and label, the latest v2 snapshot, the children of those copies, every
tombstone and reject. Readers then read the base plus the batches committed since
(``through_seq``), so a current-table query costs in proportion to the live data, not to the
history. The fold is exact: view(base + later batches) == view(every batch).

Steps: read the checkpoint; fold the previous base and the batches since into new base files
(written to local temporary files by DuckDB, then uploaded); one compare-and-swap of the
checkpoint publishes them (a concurrent commit is re-read and kept; a concurrent compaction makes
this one give up, leaving its files unlisted). Nothing new to fold: nothing is written.

**Retention**: raw batches stay replayable (the warehouse load reads them) until expired: with
``expire_raw_after``, folded batches committed longer ago than that have their data files
deleted after the checkpoint records ``expired_through_seq`` (their manifests stay: the audit
trail). **Re-committing a folded batch id** (a backfill re-run of an old window) makes the base
stale: readers fall back to the raw batches until the next compaction (which folds the new copy
exactly). If some raw batches were expired already, readers keep using the base and the new
copy wins only for the rows it contains (docs/storage.md).
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from labelbox_provider.exceptions import ConditionalWriteConflict
from labelbox_provider.io import fs as fsu
from labelbox_provider.io.current import (
    TABLES,
    project_files,
    read_expr,
    render_fold_sql,
    table_of,
)
from labelbox_provider.state.checkpoint import BatchEntry, Checkpoint, Compaction
from labelbox_provider.state.ledger import Ledger

log = logging.getLogger(__name__)

COMPACTED_DIR = "_compacted"


@dataclass(frozen=True)
class CompactionResult:
    """What one ``compact`` did."""

    project_id: str
    folded_batches: int  # batches folded in this time (0: nothing new)
    through_seq: int  # every batch with seq <= this is in the base
    rows: dict[str, int]  # rows per table in the base
    expired_batches: int  # batches whose raw files were deleted now
    generation: str | None  # the base's folder name (None: no base)


def compact(
    ledger: Ledger,
    *,
    expire_raw_after: timedelta | None = None,
    now: datetime | None = None,
) -> CompactionResult:
    """Fold every committed batch of ``ledger`` into a new compacted base (see the module)."""
    now = now or datetime.now(UTC)
    cp = ledger.checkpoint()
    prev = cp.compaction
    through = cp.next_seq - 1
    fresh = prev is not None and not prev.stale and prev.through_seq == through
    folded = 0
    if not fresh and through > 0:
        since = 0 if prev is None or prev.stale else prev.through_seq
        folded = len(ledger.batches(since_seq=since, checkpoint=cp))
        _fold(ledger, cp, through, now)
    expired = _expire(ledger, expire_raw_after, now) if expire_raw_after is not None else 0
    comp = ledger.checkpoint().compaction
    return CompactionResult(
        project_id=ledger.project_id,
        folded_batches=folded,
        through_seq=comp.through_seq if comp else 0,
        rows=dict(comp.rows) if comp else {},
        expired_batches=expired,
        generation=comp.generation if comp else None,
    )


def _fold(ledger: Ledger, cp: Checkpoint, through: int, now: datetime) -> Checkpoint:
    import duckdb

    prev = cp.compaction
    generation = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
    sources: dict[str, list[str]] = {t: [] for t in TABLES}
    for rel in project_files(ledger):
        sources.setdefault(table_of(rel), []).append(ledger.url(rel))
    files: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not fsu.is_local(ledger.fs):
            con.register_filesystem(ledger.fs)
        exprs = {t: read_expr(urls, t) for t, urls in sources.items()}
        with tempfile.TemporaryDirectory(prefix="lbx-compact-") as tmp:
            for table in TABLES:
                local = Path(tmp) / f"{table}.parquet"
                sql = render_fold_sql(table, exprs)
                con.execute(f"COPY ({sql}) TO '{local}' (FORMAT parquet, COMPRESSION zstd)")
                count = con.execute(f"SELECT count(*) FROM read_parquet('{local}')").fetchone()
                rows[table] = int(count[0]) if count else 0
                rel = f"{COMPACTED_DIR}/{generation}/{table}/part-00000.parquet"
                fsu.upload_file(ledger.fs, local, ledger.path(rel))
                files[table] = [rel]
    finally:
        con.close()
    new = Compaction(
        generation=generation,
        through_seq=through,
        files=files,
        rows=rows,
        compacted_at=now,
        stale=False,
        expired_through_seq=prev.expired_through_seq if prev else 0,
    )

    def change(current: Checkpoint) -> Checkpoint:
        if prev_generation(current.compaction) != prev_generation(prev):
            raise ConditionalWriteConflict("another compaction finished first")
        later = ledger.batches(since_seq=through, checkpoint=current)
        # a folded batch re-committed while folding (the entry names the seq it superseded)
        stale = any(e.replaces_seq is not None and e.replaces_seq <= through for e in later)
        keep = current.compaction.expired_through_seq if current.compaction else 0
        return replace(
            current,
            compaction=replace(new, stale=stale, expired_through_seq=keep),
        )

    try:
        written = ledger.update(change)
    except ConditionalWriteConflict:
        fsu.remove(ledger.fs, ledger.path(COMPACTED_DIR, generation), recursive=True)
        raise
    _drop_old_generations(ledger, keep={generation, prev_generation(prev)})
    log.info("project %s: compacted through batch seq %d: %s", ledger.project_id, through, rows)
    return written


def prev_generation(comp: Compaction | None) -> str:
    """The generation of ``comp`` ("" for none)."""
    return comp.generation if comp is not None else ""


def _drop_old_generations(ledger: Ledger, keep: set[str]) -> None:
    """Delete base generations older than the previous one (a reader that read the previous
    checkpoint may still be reading the previous base)."""
    folder = ledger.path(COMPACTED_DIR)
    for name in fsu.list_dirs(ledger.fs, folder):
        if name not in keep:
            fsu.remove(ledger.fs, fsu.join(folder, name), recursive=True)


def _expirable(entries: list[BatchEntry], comp: Compaction, cutoff: datetime) -> list[BatchEntry]:
    """Folded, not yet expired batches committed before ``cutoff``: a prefix in commit order
    (expiry goes in sequence and stops at the first young batch)."""
    doomed: list[BatchEntry] = []
    for e in entries:
        if e.seq > comp.through_seq or e.committed_at >= cutoff:
            break
        if e.seq > comp.expired_through_seq:
            doomed.append(e)
    return doomed


def _expire(ledger: Ledger, after: timedelta, now: datetime) -> int:
    """Delete the raw files of folded batches committed before ``now - after``."""
    cutoff = now - after
    cp = ledger.checkpoint()
    comp = cp.compaction
    if comp is None or comp.stale:
        return 0
    doomed = _expirable(ledger.batches(checkpoint=cp), comp, cutoff)
    if not doomed:
        return 0
    upto = doomed[-1].seq

    def change(current: Checkpoint) -> Checkpoint | None:
        c = current.compaction
        if c is None or c.generation != comp.generation or c.stale:
            return None
        mark = max(upto, c.expired_through_seq)
        return replace(current, compaction=replace(c, expired_through_seq=mark))

    written = ledger.update(change)
    if written.compaction is None or written.compaction.expired_through_seq < upto:
        return 0
    for e in doomed:
        for rel in e.paths():
            fsu.remove(ledger.fs, ledger.path(rel))
    return len(doomed)
