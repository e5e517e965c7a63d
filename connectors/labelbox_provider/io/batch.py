"""Atomic commit of one batch of Parquet tables into the destination.

The protocol (design.md, "Commit protocol"), for attempt ``n`` of batch ``b``:

1. copy the staging files to ``_staging/b/n/<table>/`` (streamed; size and sha256 recorded);
2. read the row count of every copied file from its Parquet footer and compare with the counts
   the transforms reported; on a mismatch delete the attempt's staging and raise;
3. move the files into ``<table>/batch=b/part-n-<k>.parquet``;
4. write the manifest ``_ledger/b.json`` atomically: **the commit point**;
5. advance the watermark to the end of the contiguous covered range (never backwards);
6. delete files of older attempts of ``b``, its staging area and its pending-export record.

Readers read only the files listed in manifests, so a crash before step 4 leaves the previous
state (nothing of the new attempt is listed anywhere), and a crash after it leaves the complete
new batch. Steps 5 and 6 are repaired by the next commit: the watermark is recomputed from all
manifests and the next attempt's garbage collection removes leftovers.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

from labelbox_provider.exceptions import BatchCommitError, CountMismatchError
from labelbox_provider.io import fs as fsu
from labelbox_provider.state.ledger import STAGING_DIR, Ledger, Manifest, ManifestFile
from labelbox_provider.state.windows import MODES, SOURCE_FORMATS, Window, advance_watermark
from labelbox_provider.utc import to_utc

_PART_RE = re.compile(r"^part-(\d+)-\d+\.parquet$")


@dataclass(frozen=True)
class _Staged:
    """A file copied to the attempt's staging area."""

    table: str
    staged: str  # filesystem path in _staging
    final_rel: str  # path relative to the project directory once in place
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

    Returns the published manifest. Re-committing an existing batch id replaces that batch (a
    new attempt supersedes the old one at the manifest write). Raises
    :class:`CountMismatchError` when the files do not hold ``counts`` rows per table, leaving
    the destination as it was. ``source``: ``(file name, sha256)`` of the export file an
    archive batch was loaded from, recorded in the manifest; ``stats`` (what flattening
    noticed, such as unknown annotation kinds) are recorded there too.
    """
    if source_format not in SOURCE_FORMATS or mode not in MODES:
        raise BatchCommitError(f"bad source_format {source_format!r} or mode {mode!r}")
    attempt = next_attempt(ledger, batch_id)
    staged = _stage(ledger, Path(staging_dir), batch_id, attempt)
    staged = _check_counts(ledger, staged, counts, batch_id, attempt)
    files = _move_into_place(ledger, staged)
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
        files=files,
        source_file=source[0] if source else None,
        source_sha256=source[1] if source else None,
        stats=dict(stats or {}),
    )
    ledger.write_manifest(manifest)  # the commit point
    update_watermark(ledger, initial_start=initial_start, batch_id=batch_id)
    collect_garbage(ledger, manifest)
    return manifest


def next_attempt(ledger: Ledger, batch_id: str) -> int:
    """One more than any attempt of ``batch_id`` seen in the manifest, staging or data dirs."""
    seen = [0]
    current = ledger.manifest(batch_id)
    if current is not None:
        seen.append(current.attempt)
    seen += [int(d) for d in fsu.list_dirs(ledger.fs, ledger.path(STAGING_DIR, batch_id))]
    for table in fsu.list_dirs(ledger.fs, ledger.project_path):
        for path in fsu.list_files(ledger.fs, ledger.path(table, f"batch={batch_id}")):
            match = _PART_RE.match(posixpath.basename(path))
            if match:
                seen.append(int(match.group(1)))
    return max(seen) + 1


def _stage(ledger: Ledger, staging_dir: Path, batch_id: str, attempt: int) -> list[_Staged]:
    """Step 1: copy every ``<table>/*.parquet`` of ``staging_dir`` into the staging area."""
    if not staging_dir.is_dir():
        raise BatchCommitError(f"staging dir {staging_dir} does not exist")
    base = ledger.path(STAGING_DIR, batch_id, str(attempt))
    staged: list[_Staged] = []
    for table_dir in sorted(p for p in staging_dir.iterdir() if p.is_dir()):
        table = table_dir.name
        for k, local in enumerate(sorted(table_dir.glob("*.parquet"))):
            name = f"part-{attempt}-{k:05d}.parquet"
            target = fsu.join(base, table, name)
            size, digest = fsu.upload_file(ledger.fs, local, target)
            final_rel = fsu.join(table, f"batch={batch_id}", name)
            staged.append(_Staged(table, target, final_rel, size, digest))
    return staged


def _check_counts(
    ledger: Ledger, staged: list[_Staged], counts: Mapping[str, int], batch_id: str, attempt: int
) -> list[_Staged]:
    """Step 2: row counts from the staged files' footers must equal ``counts`` per table."""
    with_rows = [
        _Staged(s.table, s.staged, s.final_rel, s.size, s.sha256, parquet_rows(ledger, s.staged))
        for s in staged
    ]
    found: dict[str, int] = {}
    for s in with_rows:
        found[s.table] = found.get(s.table, 0) + s.rows
    tables = sorted(set(found) | set(counts))
    wrong = {t: (counts.get(t, 0), found.get(t, 0)) for t in tables}
    wrong = {t: pair for t, pair in wrong.items() if pair[0] != pair[1]}
    if wrong:
        fsu.remove(ledger.fs, ledger.path(STAGING_DIR, batch_id, str(attempt)), recursive=True)
        detail = ", ".join(f"{t}: expected {e}, found {f}" for t, (e, f) in wrong.items())
        raise CountMismatchError(f"batch {batch_id}: row counts differ ({detail})")
    return with_rows


def parquet_rows(ledger: Ledger, path: str) -> int:
    """Row count of a Parquet file, read from its footer only."""
    with ledger.fs.open(path, "rb") as handle:
        return int(pq.ParquetFile(handle).metadata.num_rows)


def _move_into_place(ledger: Ledger, staged: list[_Staged]) -> tuple[ManifestFile, ...]:
    """Step 3: move staged files to their final paths (still unlisted, so still invisible)."""
    files = []
    for s in staged:
        fsu.move_file(ledger.fs, s.staged, ledger.path(s.final_rel))
        files.append(ManifestFile(s.table, s.final_rel, s.rows, s.size, s.sha256))
    return tuple(files)


def update_watermark(ledger: Ledger, *, initial_start: datetime, batch_id: str) -> datetime | None:
    """Step 5: move the watermark to the end of contiguous coverage; never backwards."""
    current = ledger.watermark()
    new = advance_watermark(current, ledger.covered(), initial_start)
    if new is not None and new != current:
        ledger.write_watermark(new, initial_start=initial_start, batch_id=batch_id)
    return new


def collect_garbage(ledger: Ledger, manifest: Manifest) -> None:
    """Step 6: delete unlisted files of this batch, its staging area and its pending export."""
    keep = {ledger.path(f.path) for f in manifest.files}
    for table in fsu.list_dirs(ledger.fs, ledger.project_path):
        batch_dir = ledger.path(table, f"batch={manifest.batch_id}")
        for path in fsu.list_files(ledger.fs, batch_dir):
            if path not in keep:
                fsu.remove(ledger.fs, path)
    fsu.remove(ledger.fs, ledger.path(STAGING_DIR, manifest.batch_id), recursive=True)
    ledger.clear_pending_export(manifest.batch_id)


def sweep_orphans(ledger: Ledger, *, dry_run: bool = False) -> list[str]:
    """Delete data files no manifest lists and every staging area; return what was (or would be)
    deleted.

    Crashed attempts that were never retried leave such debris (invisible to readers, but it
    takes space). Run it only while no commit of this project is in progress: a running commit
    owns files that are not listed yet.
    """
    listed = {ledger.path(f.path) for m in ledger.manifests() for f in m.files}
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
