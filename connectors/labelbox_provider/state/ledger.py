"""The ledger: checkpoint, manifests and pending exports, all in the destination.

Layout under ``<root>/project=<project_id>/`` (any fsspec URL or local folder)::

    _state/checkpoint.json       THE state: watermark, coverage, pending exports, recent index,
                                 segment list, compaction (replaced by compare-and-swap only)
    _state/segments/<..>.json    sealed, immutable index segments (older batches)
    _state/claims/<batch_id>/<n>.json   attempt n of a batch, claimed by an exclusive create
    _ledger/<batch_id>/<n>.json  manifest of attempt n (the audit trail: sizes, digests)
    _ledger/<batch_id>.json      copy of the committed attempt's manifest, written after commit
    _compacted/<generation>/...  the compacted base (see labelbox_provider.io.compact)
    <table>/batch=<batch_id>/part-<n>-<k>.parquet   data files of attempt n

A batch is committed when the checkpoint lists it (the compare-and-swap that lists it is the
commit point). Readers read only the files the checkpoint lists, so files of an unfinished,
losing or superseded attempt are invisible even before garbage collection removes them. A mirror
written before the checkpoint existed (``_ledger/<batch_id>.json``, ``_watermark.json``,
``_exports/``) is migrated on first read. See docs/storage.md.
"""

from __future__ import annotations

import json
import logging
import posixpath
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Self

from fsspec import AbstractFileSystem

from labelbox_provider.exceptions import ConditionalWriteConflict, LostClaimError
from labelbox_provider.io import conditional
from labelbox_provider.io import fs as fsu
from labelbox_provider.state.checkpoint import (
    CHECKPOINT_FILE,
    CLAIMS_DIR,
    SEGMENTS_DIR,
    TAIL_LIMIT,
    BatchEntry,
    Checkpoint,
    PendingExport,
    Segment,
    latest,
    with_batch,
    with_pending,
    without_pending,
)
from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.state.windows import (
    Window,
    batch_id_for,
    merge,
    parse_iso,
)
from labelbox_provider.state.windows import gaps as window_gaps
from labelbox_provider.utc import to_utc

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1  # bump when the manifest JSON changes incompatibly
LEDGER_DIR = "_ledger"  # manifests: <batch_id>/<attempt>.json, and <batch_id>.json copies
EXPORTS_DIR = "_exports"  # before the checkpoint: pending exports (read once, by migration)
STAGING_DIR = "_staging"  # before the checkpoint: staging area (swept by sweep_orphans)
WATERMARK_FILE = "_watermark.json"  # before the checkpoint: the watermark (read by migration)
CAS_ATTEMPTS = 200  # compare-and-swap retries before giving up (each conflict means progress)

__all__ = ["BatchEntry", "Checkpoint", "Ledger", "Manifest", "ManifestFile", "PendingExport"]


@dataclass(frozen=True)
class ManifestFile(JsonRecord):
    """One committed Parquet file of a batch."""

    table: str  # table the file belongs to (e.g. "labels")
    path: str  # path relative to the project directory
    rows: int  # row count read back from the Parquet footer
    size: int  # bytes
    sha256: str  # hex digest of the bytes


@dataclass(frozen=True)
class Manifest(JsonRecord):
    """The record of one committed batch; writing it is the commit point.

    Its JSON form carries ``manifest_version`` besides the fields.
    """

    batch_id: str  # deterministic id (see ``batch_id_for``)
    project_id: str  # Labelbox project id
    window: Window  # half-open activity window the export covered
    source_format: str  # "v1" or "v2"
    mode: str  # "incremental", "backfill" or "reconcile"
    export_id: str | None  # server-side export/task id, when there was one
    extracted_at: datetime  # when the export was taken: the "latest wins" clock
    attempt: int  # commit attempt number; its files are named part-<attempt>-*
    counts: dict[str, int] = field(default_factory=dict)  # rows per table
    files: tuple[ManifestFile, ...] = ()  # every data file of the batch
    source_file: str | None = None  # archive batches: the export file's name (issue 17)
    source_sha256: str | None = None  # and the hex SHA-256 of its bytes: unchanged = loaded
    stats: dict[str, int] = field(default_factory=dict)  # flatten stats (unknown kinds...)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extracted_at", to_utc(self.extracted_at, "extracted_at"))

    def files_for(self, table: str) -> list[ManifestFile]:
        """Files of one table."""
        return [f for f in self.files if f.table == table]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the manifest version and the counts sorted by table."""
        data = super().to_dict()
        data["counts"] = dict(sorted(self.counts.items()))
        return {"manifest_version": MANIFEST_VERSION, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; refuses a manifest of another version."""
        version = data.get("manifest_version")
        if version != MANIFEST_VERSION:
            raise ValueError(f"unsupported manifest version {version!r}")
        return super().from_dict({k: v for k, v in data.items() if k != "manifest_version"})


def _now() -> datetime:
    return datetime.now(UTC)


def _dumps(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, indent=1, sort_keys=True).encode()


def entry_of(manifest: Manifest, *, manifest_path: str, committed_at: datetime) -> BatchEntry:
    """The index entry of a committed manifest (its sequence number is set when listed)."""
    files: dict[str, int] = {}
    for f in manifest.files:
        files[f.table] = files.get(f.table, 0) + 1
    return BatchEntry(
        batch_id=manifest.batch_id,
        attempt=manifest.attempt,
        seq=0,
        window=manifest.window,
        source_format=manifest.source_format,
        mode=manifest.mode,
        extracted_at=manifest.extracted_at,
        committed_at=committed_at,
        manifest=manifest_path,
        export_id=manifest.export_id,
        counts={t: int(n) for t, n in sorted(manifest.counts.items())},
        files=dict(sorted(files.items())),
        bytes=sum(f.size for f in manifest.files),
    )


class Ledger:
    """Checkpoint, manifests and pending exports of one project, stored under the destination.

    ``root`` is a local folder or any fsspec URL; ``fs`` may be passed to reuse (or, in tests,
    to wrap) a filesystem object, in which case ``root`` must be a path on it.

    Every per-run question (watermark, coverage, gaps, pending exports, the recent batches) is
    answered from the checkpoint: one read, whatever the history. Listing every batch
    (:meth:`batches`) also reads the sealed segments (one read per ``TAIL_LIMIT`` batches).
    """

    def __init__(
        self,
        root: str,
        project_id: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        fs: AbstractFileSystem | None = None,
    ) -> None:
        if not project_id or "/" in project_id:
            raise ValueError(f"invalid project id {project_id!r}")
        if fs is None:
            fs, root = fsu.get_fs(root, storage_options)
        self.fs: AbstractFileSystem = fs
        self.root = root.rstrip("/") or "/"
        self.project_id = project_id
        self.project_path = fsu.join(self.root, f"project={project_id}")
        self._segments: dict[str, list[BatchEntry]] = {}  # sealed segments are immutable

    def __repr__(self) -> str:
        return f"Ledger(root={self.root!r}, project_id={self.project_id!r})"

    def path(self, *parts: str) -> str:
        """Filesystem path of ``parts`` under the project directory."""
        return fsu.join(self.project_path, *parts)

    def url(self, relative: str) -> str:
        """Openable URL (or local path) of a path relative to the project directory."""
        return fsu.full_url(self.fs, self.path(relative))

    # -- the checkpoint --------------------------------------------------------------------

    def read_checkpoint(self) -> tuple[Checkpoint, str | None]:
        """The checkpoint and its version token (None: not written yet). Migrates a mirror
        that has manifests but no checkpoint (once: the migration is a conditional create)."""
        found = conditional.read_versioned(self.fs, self.path(CHECKPOINT_FILE))
        if found.data is not None:
            return Checkpoint.from_dict(json.loads(found.data)), found.token
        return self._migrate()

    def checkpoint(self) -> Checkpoint:
        """The current checkpoint (an empty one before the first commit)."""
        return self.read_checkpoint()[0]

    def update(self, change: Callable[[Checkpoint], Checkpoint | None]) -> Checkpoint:
        """Apply ``change`` to the checkpoint by compare-and-swap, re-reading and re-applying
        it after a conflict. ``change`` returns the new checkpoint or None (nothing to do); it
        may raise to abort. Returns the checkpoint as written (or as found)."""
        for attempt in range(CAS_ATTEMPTS):
            current, token = self.read_checkpoint()
            new = change(current)
            if new is None:
                return current
            new = self._seal(replace(new, generation=current.generation + 1))
            try:
                conditional.write_if(
                    self.fs, self.path(CHECKPOINT_FILE), _dumps(new.to_dict()), token
                )
            except ConditionalWriteConflict:
                time.sleep(random.uniform(0, 0.01 * min(attempt + 1, 20)))
                continue
            return new
        raise ConditionalWriteConflict(
            f"checkpoint of project {self.project_id}: {CAS_ATTEMPTS} conflicting writers in a row"
        )

    def _seal(self, cp: Checkpoint) -> Checkpoint:
        """Move the tail into a new immutable segment once it exceeds ``TAIL_LIMIT``."""
        if len(cp.tail) <= TAIL_LIMIT:
            return cp
        segment = self._write_segment(list(cp.tail.values()))
        return replace(cp, tail={}, segments=(*cp.segments, segment))

    def _write_segment(self, entries: list[BatchEntry]) -> Segment:
        """Write entries as a new segment (a unique name: a losing CAS leaves it unlisted)."""
        entries = sorted(entries, key=lambda e: e.seq)
        first, last = entries[0].seq, entries[-1].seq
        rel = f"{SEGMENTS_DIR}/{first:012d}-{last:012d}-{uuid.uuid4().hex[:8]}.json"
        payload = {"entries": [e.to_dict() for e in entries]}
        conditional.write_if(self.fs, self.path(rel), _dumps(payload), None)
        self._segments[rel] = entries
        return Segment(rel, first, last, len(entries))

    def _segment(self, segment: Segment) -> list[BatchEntry]:
        if segment.path not in self._segments:
            data = fsu.read_json(self.fs, self.path(segment.path))
            if data is None:
                raise FileNotFoundError(f"index segment {segment.path} is missing")
            self._segments[segment.path] = [BatchEntry.from_dict(e) for e in data["entries"]]
        return self._segments[segment.path]

    # -- the batch index -------------------------------------------------------------------

    def batches(
        self, *, since_seq: int = 0, checkpoint: Checkpoint | None = None
    ) -> list[BatchEntry]:
        """Committed batches (the newest entry per batch id) with ``seq > since_seq``, by
        sequence number: the cheap way to find "what was committed since I last looked" (reads
        only the segments that hold such entries)."""
        cp = checkpoint if checkpoint is not None else self.checkpoint()
        entries: list[BatchEntry] = []
        for segment in cp.segments:
            if segment.last_seq > since_seq:
                entries += [e for e in self._segment(segment) if e.seq > since_seq]
        entries += [e for e in cp.tail.values() if e.seq > since_seq]
        return latest(entries)

    def batch(self, batch_id: str, *, checkpoint: Checkpoint | None = None) -> BatchEntry | None:
        """The committed entry of ``batch_id`` (tail first, then segments newest first)."""
        cp = checkpoint if checkpoint is not None else self.checkpoint()
        if batch_id in cp.tail:
            return cp.tail[batch_id]
        for segment in reversed(cp.segments):
            hits = [e for e in self._segment(segment) if e.batch_id == batch_id]
            if hits:
                return max(hits, key=lambda e: e.seq)
        return None

    # -- manifests -------------------------------------------------------------------------

    def manifest_path(self, batch_id: str, attempt: int | None = None) -> str:
        """Where the manifest of an attempt lives (no attempt: the post-commit copy)."""
        if attempt is None:
            return self.path(LEDGER_DIR, f"{batch_id}.json")
        return self.path(LEDGER_DIR, batch_id, f"{attempt}.json")

    def manifest(self, batch_id: str) -> Manifest | None:
        """The manifest of the committed attempt of ``batch_id``, or None if not committed."""
        entry = self.batch(batch_id)
        if entry is None:
            return None
        data = fsu.read_json(self.fs, self.path(entry.manifest))
        return None if data is None else Manifest.from_dict(data)

    def manifests(self) -> list[Manifest]:
        """Every committed batch's manifest, ordered by window then batch id (one read per
        batch: for audits and tests; per-run code uses the checkpoint)."""
        found = []
        for entry in self.batches():
            data = fsu.read_json(self.fs, self.path(entry.manifest))
            if data is not None:
                found.append(Manifest.from_dict(data))
        return sorted(found, key=lambda m: (m.window, m.batch_id))

    def write_manifest(self, manifest: Manifest) -> None:
        """Write the manifest of an attempt (before its commit; attempt-unique path)."""
        path = self.manifest_path(manifest.batch_id, manifest.attempt)
        fsu.write_json_atomic(self.fs, path, manifest.to_dict())

    def publish_commit(self, manifest: Manifest, *, initial_start: datetime) -> Checkpoint:
        """THE commit point: list ``manifest``'s attempt in the checkpoint (coverage merged,
        watermark advanced, pending export cleared), by compare-and-swap.

        Raises :class:`LostClaimError` when another writer committed a newer attempt of the
        same batch first; an older committed attempt is replaced.
        """
        rel = posixpath.relpath(
            self.manifest_path(manifest.batch_id, manifest.attempt), self.project_path
        )
        entry = entry_of(manifest, manifest_path=rel, committed_at=_now())
        previous_claims = manifest.attempt > 1

        def change(cp: Checkpoint) -> Checkpoint | None:
            previous = cp.tail.get(manifest.batch_id)
            if previous is None and previous_claims:
                previous = self.batch(manifest.batch_id, checkpoint=cp)
            if previous is not None and previous.attempt == manifest.attempt:
                return None  # already listed (a retried publish): nothing to do
            if previous is not None and previous.attempt > manifest.attempt:
                raise LostClaimError(
                    f"batch {manifest.batch_id}: attempt {previous.attempt} was committed by "
                    f"another writer; attempt {manifest.attempt} is dropped"
                )
            return with_batch(
                cp,
                replace(entry, committed_at=_now()),
                initial_start=initial_start,
                previous=previous,
            )

        return self.update(change)

    # -- attempt claims --------------------------------------------------------------------

    def claims(self, batch_id: str) -> list[int]:
        """Attempt numbers claimed for ``batch_id`` so far (one listing)."""
        folder = self.path(CLAIMS_DIR, batch_id)
        self.fs.invalidate_cache(folder)
        names = (posixpath.basename(p) for p in fsu.list_files(self.fs, folder))
        return sorted(int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit())

    def claim_attempt(self, batch_id: str) -> int:
        """A fresh attempt number for ``batch_id``, claimed by an exclusive create: two writers
        never get the same one, so their files never share a name."""
        n = max(self.claims(batch_id), default=0) + 1
        while not conditional.create_exclusive(
            self.fs,
            self.path(CLAIMS_DIR, batch_id, f"{n}.json"),
            _dumps({"claimed_at": _now().isoformat()}),
        ):
            n += 1
        return n

    # -- coverage and watermark ------------------------------------------------------------

    def covered(self) -> list[Window]:
        """Union of the windows of committed incremental and backfill batches."""
        return list(self.checkpoint().coverage)

    def gaps(self, start: datetime, until: datetime) -> list[Window]:
        """Parts of ``[start, until)`` that no committed batch covers (fill them by backfill)."""
        return window_gaps(self.covered(), start, until)

    def watermark(self) -> datetime | None:
        """The watermark (end of contiguous coverage from the initial start), None before the
        first commit."""
        return self.checkpoint().watermark

    # -- pending exports -------------------------------------------------------------------

    def record_export_started(
        self, window: Window, fmt: str, export_id: str, mode: str = "incremental"
    ) -> PendingExport:
        """Persist that an export was started for ``window`` so a retried task can re-attach."""
        batch_id = batch_id_for(self.project_id, window, fmt, mode)
        pending = PendingExport(batch_id, window, fmt, mode, export_id)
        self.update(lambda cp: with_pending(cp, pending))
        return pending

    def pending_export(
        self, window: Window, fmt: str, mode: str = "incremental"
    ) -> PendingExport | None:
        """The started, uncommitted export of ``window``, if any."""
        return self.checkpoint().pending.get(batch_id_for(self.project_id, window, fmt, mode))

    def pending_exports(self) -> list[PendingExport]:
        """Every started, uncommitted export, ordered by window."""
        found = self.checkpoint().pending.values()
        return sorted(found, key=lambda p: (p.window, p.batch_id))

    def clear_pending_export(self, batch_id: str) -> None:
        """Forget the pending export of ``batch_id`` (its export failed, or its window split)."""
        self.update(lambda cp: without_pending(cp, batch_id))

    # -- migration from manifests ----------------------------------------------------------

    def _migrate(self) -> tuple[Checkpoint, str | None]:
        """Build the checkpoint of a mirror written before it existed, and create it."""
        legacy = []
        for path in fsu.list_files(self.fs, self.path(LEDGER_DIR)):
            name = posixpath.basename(path)
            if name.endswith(".json") and not name.startswith("."):
                data = fsu.read_json(self.fs, path)
                if data is not None:
                    legacy.append(Manifest.from_dict(data))
        stored = fsu.read_json(self.fs, self.path(WATERMARK_FILE)) or {}
        pending = []
        for path in fsu.list_files(self.fs, self.path(EXPORTS_DIR)):
            if not posixpath.basename(path).startswith("."):
                data = fsu.read_json(self.fs, path)
                if data is not None:
                    pending.append(PendingExport.from_dict(data))
        empty = Checkpoint(self.project_id)
        if not legacy and not stored and not pending:
            return empty, None
        cp = migrated_checkpoint(self.project_id, legacy, stored, pending)
        for m in legacy:  # later attempts must not reuse a migrated attempt's file names
            conditional.create_exclusive(
                self.fs, self.path(CLAIMS_DIR, m.batch_id, f"{m.attempt}.json"), b"{}"
            )
        cp = self._seal_all(cp)
        try:
            token = conditional.write_if(
                self.fs, self.path(CHECKPOINT_FILE), _dumps(cp.to_dict()), None
            )
        except ConditionalWriteConflict:  # another process migrated first: use its checkpoint
            found = conditional.read_versioned(self.fs, self.path(CHECKPOINT_FILE))
            assert found.data is not None
            return Checkpoint.from_dict(json.loads(found.data)), found.token
        log.info(
            "project %s: migrated %d manifests into the checkpoint", self.project_id, len(legacy)
        )
        return cp, token

    def _seal_all(self, cp: Checkpoint) -> Checkpoint:
        entries = sorted(cp.tail.values(), key=lambda e: e.seq)
        segments: list[Segment] = []
        while len(entries) > TAIL_LIMIT:
            chunk, entries = entries[:TAIL_LIMIT], entries[TAIL_LIMIT:]
            segments.append(self._write_segment(chunk))
        return replace(cp, tail={e.batch_id: e for e in entries}, segments=tuple(segments))


def migrated_checkpoint(
    project_id: str,
    manifests: list[Manifest],
    stored_watermark: Mapping[str, Any],
    pending: list[PendingExport],
) -> Checkpoint:
    """The checkpoint equivalent to pre-checkpoint state: manifests (commit order approximated
    by ``(extracted_at, batch_id)``, the order the warehouse loads them in), the stored
    watermark and the pending exports of uncommitted batches."""
    cp = Checkpoint(project_id)
    initial = stored_watermark.get("initial_start")
    start = parse_iso(initial) if initial else None
    first = min((m.window.start for m in manifests), default=None)
    for m in sorted(manifests, key=lambda m: (m.extracted_at, m.batch_id)):
        rel = posixpath.join(LEDGER_DIR, f"{m.batch_id}.json")
        entry = entry_of(m, manifest_path=rel, committed_at=m.extracted_at)
        cp = with_batch(cp, entry, initial_start=start or first or m.window.start, previous=None)
    if "watermark" in stored_watermark:  # never move a stored watermark back
        mark = parse_iso(stored_watermark["watermark"])
        if cp.watermark is None or mark > cp.watermark:
            cp = replace(cp, watermark=mark, advanced_by=stored_watermark.get("advanced_by"))
    if start is not None:
        cp = replace(cp, initial_start=start)
    committed = set(cp.tail)
    for p in pending:
        if p.batch_id not in committed:
            cp = with_pending(cp, p)
    return replace(cp, coverage=tuple(merge(cp.coverage)))


def list_projects(root: str, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """Project ids that have a directory under ``root`` (``project=<id>``)."""
    fs, path = fsu.get_fs(root, storage_options)
    prefix = "project="
    return [d[len(prefix) :] for d in fsu.list_dirs(fs, path) if d.startswith(prefix)]
