"""Atomic commit of one batch of Parquet tables into the destination, without renames.

The protocol (docs/storage.md, "Commit protocol"), for batch ``b``:

1. claim a fresh attempt number ``n`` for ``b`` (an exclusive create of
   ``_state/claims/b/n.json``: two writers never share an attempt, so never a file name);
2. upload the files straight to their final paths ``<table>/batch=b/part-n-<k>.parquet``
   (streamed; size and sha256 recorded) -- no staging copy, no move: on object storage a move is
   a copy and a delete, and nothing here relies on rename atomicity;
3. read the row count of every uploaded file from its Parquet footer and compare with the counts
   the transforms reported; on a mismatch delete the attempt's files and raise;
4. write the attempt's manifest ``_ledger/b/n.json`` (the audit trail);
5. **the commit point**: one compare-and-swap of the checkpoint lists attempt ``n`` of ``b``,
   merges its window into the coverage, advances the watermark and clears its pending export;
6. copy the manifest to ``_ledger/b.json``, delete files of other, finished attempts of ``b``.

Readers read only the files the checkpoint lists, so a crash before step 5 leaves the previous
state (nothing of attempt ``n`` is listed), and a crash after it leaves the complete new batch;
step 6 is repaired by the next commit of ``b`` or by :func:`sweep_orphans`. When another writer
committed a newer attempt of ``b`` first (a zombie task and its retry), step 5 raises
:class:`LostClaimError` internally and this attempt's files are removed: the commit is a no-op
that returns the winner's manifest.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

from labelbox_provider.exceptions import BatchCommitError, CountMismatchError, LostClaimError
from labelbox_provider.io import fs as fsu
from labelbox_provider.state.ledger import STAGING_DIR, Ledger, Manifest, ManifestFile
from labelbox_provider.state.windows import MODES, SOURCE_FORMATS, Window
from labelbox_provider.utc import to_utc

log = logging.getLogger(__name__)

_PART_RE = re.compile(r"^part-(\d+)-\d+\.parquet$")


@dataclass(frozen=True)
class _Uploaded:
    """A file uploaded to its final path (unlisted until the checkpoint lists its attempt)."""

    table: str
    rel: str  # path relative to the project directory
    size: int
    sha256: str
    rows: int = 0


def commit_batch(
    ledger: Ledger,
    *,
    staging_dir: Path,
    batch_id: str,
    window: Window,
    source_format: str,
    export_id: str | None,
    extracted_at: datetime,
    counts: Mapping[str, int],
    initial_start: datetime,
    mode: str,
    source: tuple[str, str] | None = None,
    stats: Mapping[str, int] | None = None,
) -> Manifest:
    """Commit the tables in ``staging_dir`` (``<table>/*.parquet``) as batch ``batch_id``.

    Returns the committed manifest. Re-committing an existing batch id replaces that batch (a
    new attempt supersedes the old one at the checkpoint write). Raises
    :class:`CountMismatchError` when the files do not hold ``counts`` rows per table, leaving
    the destination as it was. ``source``: ``(file name, sha256)`` of the export file an
    archive batch was loaded from, recorded in the manifest; ``stats`` (what flattening
    noticed, such as unknown annotation kinds) are recorded there too.
    """
    if source_format not in SOURCE_FORMATS or mode not in MODES:
        raise BatchCommitError(f"bad source_format {source_format!r} or mode {mode!r}")
    staging_dir = Path(staging_dir)
    if not staging_dir.is_dir():
        raise BatchCommitError(f"staging dir {staging_dir} does not exist")
    attempt = ledger.claim_attempt(batch_id)
    uploaded = _upload(ledger, staging_dir, batch_id, attempt)
    uploaded = _check_counts(ledger, uploaded, counts, batch_id)
    manifest = Manifest(
        batch_id=batch_id,
        project_id=ledger.project_id,
        window=window,
        source_format=source_format,
        mode=mode,
        export_id=export_id,
        extracted_at=to_utc(extracted_at, "extracted_at"),
        attempt=attempt,
        counts={t: int(c) for t, c in counts.items()},
        files=tuple(ManifestFile(u.table, u.rel, u.rows, u.size, u.sha256) for u in uploaded),
        source_file=source[0] if source else None,
        source_sha256=source[1] if source else None,
        stats=dict(stats or {}),
    )
    ledger.write_manifest(manifest)  # the audit trail of this attempt
    try:
        ledger.publish_commit(manifest, initial_start=initial_start)  # the commit point
    except LostClaimError as lost:
        log.warning("%s", lost)
        _remove(ledger, [u.rel for u in uploaded])
        winner = ledger.manifest(batch_id)
        if winner is None:  # cannot happen: the winner is listed
            raise
        return winner
    collect_garbage(ledger, manifest)
    return manifest


def _upload(ledger: Ledger, staging_dir: Path, batch_id: str, attempt: int) -> list[_Uploaded]:
    """Step 2: stream every ``<table>/*.parquet`` of ``staging_dir`` to its final path."""
    uploaded: list[_Uploaded] = []
    for table_dir in sorted(p for p in staging_dir.iterdir() if p.is_dir()):
        table = table_dir.name
        for k, local in enumerate(sorted(table_dir.glob("*.parquet"))):
            rel = fsu.join(table, f"batch={batch_id}", f"part-{attempt}-{k:05d}.parquet")
            size, digest = fsu.upload_file(ledger.fs, local, ledger.path(rel))
            uploaded.append(_Uploaded(table, rel, size, digest))
    return uploaded


def _remove(ledger: Ledger, rels: list[str]) -> None:
    for rel in rels:
        fsu.remove(ledger.fs, ledger.path(rel))


def _check_counts(
    ledger: Ledger, uploaded: list[_Uploaded], counts: Mapping[str, int], batch_id: str
) -> list[_Uploaded]:
    """Step 3: row counts from the uploaded files' footers must equal ``counts`` per table."""
    with_rows = [
        _Uploaded(u.table, u.rel, u.size, u.sha256, parquet_rows(ledger, ledger.path(u.rel)))
        for u in uploaded
    ]
    found: dict[str, int] = {}
    for u in with_rows:
        found[u.table] = found.get(u.table, 0) + u.rows
    tables = sorted(set(found) | set(counts))
    wrong = {t: (counts.get(t, 0), found.get(t, 0)) for t in tables}
    wrong = {t: pair for t, pair in wrong.items() if pair[0] != pair[1]}
    if wrong:
        _remove(ledger, [u.rel for u in uploaded])
        detail = ", ".join(f"{t}: expected {e}, found {f}" for t, (e, f) in wrong.items())
        raise CountMismatchError(f"batch {batch_id}: row counts differ ({detail})")
    return with_rows


def parquet_rows(ledger: Ledger, path: str) -> int:
    """Row count of a Parquet file, read from its footer only."""
    with ledger.fs.open(path, "rb") as handle:
        return int(pq.ParquetFile(handle).metadata.num_rows)


def _attempt_of(path: str) -> int | None:
    match = _PART_RE.match(posixpath.basename(path))
    return int(match.group(1)) if match else None


def collect_garbage(ledger: Ledger, manifest: Manifest) -> None:
    """Step 6: publish the manifest copy; delete this batch's files of every other attempt
    except newer ones still in flight (claimed: their writer may be uploading right now)."""
    fsu.write_json_atomic(ledger.fs, ledger.manifest_path(manifest.batch_id), manifest.to_dict())
    keep = {ledger.path(f.path) for f in manifest.files}
    candidates = []
    ledger.fs.invalidate_cache(ledger.project_path)
    tables = [d for d in fsu.list_dirs(ledger.fs, ledger.project_path) if not d.startswith("_")]
    for table in tables:  # list files first, claims second: a file seen has its claim already
        batch_dir = ledger.path(table, f"batch={manifest.batch_id}")
        candidates += [p for p in fsu.list_files(ledger.fs, batch_dir) if p not in keep]
    in_flight = {n for n in ledger.claims(manifest.batch_id) if n > manifest.attempt}
    for path in candidates:
        if _attempt_of(path) not in in_flight:
            fsu.remove(ledger.fs, path)


def listed_files(ledger: Ledger) -> set[str]:
    """Every data file the checkpoint lists (raw batches not expired, and the compacted base),
    relative to the project directory."""
    cp = ledger.checkpoint()
    found: set[str] = set()
    expired = cp.compaction.expired_through_seq if cp.compaction else 0
    for entry in ledger.batches(checkpoint=cp):
        if entry.seq > expired:
            found.update(entry.paths())
    if cp.compaction is not None:
        found.update(p for files in cp.compaction.files.values() for p in files)
    return found


def sweep_orphans(ledger: Ledger, *, dry_run: bool = False) -> list[str]:
    """Delete data files no manifest lists and every staging area; return what was (or would be)
    deleted.

    Crashed attempts that were never retried leave such debris (invisible to readers, but it
    takes space). Run it only while no commit of this project is in progress: a running commit
    owns files that are not listed yet.
    """
    listed = {ledger.path(p) for p in listed_files(ledger)}
    doomed: list[str] = []
    for table in fsu.list_dirs(ledger.fs, ledger.project_path):
        if table.startswith("_"):
            continue
        for batch_dir in fsu.list_dirs(ledger.fs, ledger.path(table)):
            files = fsu.list_files(ledger.fs, ledger.path(table, batch_dir))
            doomed += [p for p in files if p not in listed]
    staging = ledger.path(STAGING_DIR)
    doomed += [fsu.join(staging, d) for d in fsu.list_dirs(ledger.fs, staging)]
    if not dry_run:
        for path in doomed:
            fsu.remove(ledger.fs, path, recursive=True)
    return doomed
