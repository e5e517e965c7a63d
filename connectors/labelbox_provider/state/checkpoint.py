"""The project checkpoint: the one small object a run reads, and the commit point of every batch.

``project=<id>/_state/checkpoint.json`` holds what planning, re-attaching and committing need:
the watermark and its initial start, the merged coverage windows, the pending exports, the
index of the most recent batches (the *tail*), the list of sealed index *segments* (immutable
files holding older index entries, ``SEGMENT_SIZE`` at most each) and the compaction record.
It is replaced only by a conditional write (:mod:`labelbox_provider.io.conditional`), so two
writers never lose each other's update; the functions here are the pure part: checkpoint in,
new checkpoint out.

Its size is bounded by the tail limit, the number of pending exports, the coverage gaps and one
line per ``SEGMENT_SIZE`` batches; no per-run read or write grows with the number of batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.state.windows import COVERING_MODES, Window, advance_watermark, merge
from labelbox_provider.utc import to_utc

CHECKPOINT_VERSION = 1  # bump when the checkpoint JSON changes incompatibly
STATE_DIR = "_state"  # checkpoint, index segments, attempt claims
CHECKPOINT_FILE = f"{STATE_DIR}/checkpoint.json"
SEGMENTS_DIR = f"{STATE_DIR}/segments"  # sealed (immutable) index segments
CLAIMS_DIR = f"{STATE_DIR}/claims"  # <batch_id>/<attempt>.json, created exclusively
TAIL_LIMIT = 128  # index entries kept in the checkpoint before they are sealed into a segment


@dataclass(frozen=True)
class PendingExport(JsonRecord):
    """An export that was started for a window but whose batch is not committed yet.

    :class:`~labelbox_provider.pipeline.types.ExportRef` is a pending export plus its project
    and whether a retry re-attached to it.
    """

    batch_id: str  # the batch the export will become
    window: Window  # its window
    source_format: str  # "v1" or "v2"
    mode: str  # run kind
    export_id: str  # server-side id to re-attach to


@dataclass(frozen=True)
class BatchEntry(JsonRecord):
    """One committed batch in the index: enough to list, plan, load and read it.

    Its data files are derived (``<table>/batch=<id>/part-<attempt>-<k>.parquet``, k from 0), so
    reading the current view needs no manifest; the manifest keeps sizes and digests.
    """

    batch_id: str
    attempt: int  # the committed attempt
    seq: int  # commit sequence number: strictly increasing per project
    window: Window
    source_format: str
    mode: str
    extracted_at: datetime  # the "latest wins" clock
    committed_at: datetime  # when the checkpoint listed it (retention counts from here)
    manifest: str  # the attempt's manifest, relative to the project directory
    export_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # rows per table
    files: dict[str, int] = field(default_factory=dict)  # data files per table
    bytes: int = 0  # bytes of the data files
    replaces_seq: int | None = None  # a re-commit: the seq of the entry it superseded

    def __post_init__(self) -> None:
        object.__setattr__(self, "extracted_at", to_utc(self.extracted_at, "extracted_at"))
        object.__setattr__(self, "committed_at", to_utc(self.committed_at, "committed_at"))

    def paths(self, table: str | None = None) -> list[str]:
        """Data files (relative to the project directory), of one table or of all."""
        tables = [table] if table is not None else sorted(self.files)
        return [
            f"{t}/batch={self.batch_id}/part-{self.attempt}-{k:05d}.parquet"
            for t in tables
            for k in range(self.files.get(t, 0))
        ]


@dataclass(frozen=True)
class Segment(JsonRecord):
    """A sealed, immutable file of index entries with ``first_seq <= seq <= last_seq``."""

    path: str  # relative to the project directory
    first_seq: int
    last_seq: int
    count: int


@dataclass(frozen=True)
class Compaction(JsonRecord):
    """The compacted base: per table, the rows the current view needs from batches up to
    ``through_seq``. ``stale``: a folded batch id was committed again since, so readers use the
    raw batches until the next compaction (docs/storage.md)."""

    generation: str  # folder name under _compacted/
    through_seq: int  # every batch with seq <= this is folded in
    files: dict[str, list[str]]  # table -> base files (relative to the project directory)
    rows: dict[str, int]  # table -> rows in the base
    compacted_at: datetime
    stale: bool = False
    expired_through_seq: int = 0  # raw files of folded batches with seq <= this were deleted

    def __post_init__(self) -> None:
        object.__setattr__(self, "compacted_at", to_utc(self.compacted_at, "compacted_at"))


@dataclass(frozen=True)
class Checkpoint(JsonRecord):
    """The state of one project (see the module docstring); its JSON carries the version."""

    project_id: str
    generation: int = 0  # +1 at every write (diagnostics; the CAS token is the object version)
    watermark: datetime | None = None
    initial_start: datetime | None = None
    advanced_by: str | None = None  # batch that last moved the watermark
    coverage: tuple[Window, ...] = ()  # merged windows of covering batches
    pending: dict[str, PendingExport] = field(default_factory=dict)
    tail: dict[str, BatchEntry] = field(default_factory=dict)  # newest index entries
    segments: tuple[Segment, ...] = ()  # older entries, oldest first
    next_seq: int = 1
    compaction: Compaction | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with the checkpoint version."""
        return {"checkpoint_version": CHECKPOINT_VERSION, **super().to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; refuses a checkpoint of another version."""
        version = data.get("checkpoint_version")
        if version != CHECKPOINT_VERSION:
            raise ValueError(f"unsupported checkpoint version {version!r}")
        return super().from_dict({k: v for k, v in data.items() if k != "checkpoint_version"})


def with_pending(cp: Checkpoint, pending: PendingExport) -> Checkpoint:
    """``cp`` remembering a started export."""
    return replace(cp, pending={**cp.pending, pending.batch_id: pending})


def without_pending(cp: Checkpoint, batch_id: str) -> Checkpoint | None:
    """``cp`` forgetting the pending export of ``batch_id`` (None: nothing to change)."""
    if batch_id not in cp.pending:
        return None
    return replace(cp, pending={k: v for k, v in cp.pending.items() if k != batch_id})


def with_batch(
    cp: Checkpoint,
    entry: BatchEntry,
    *,
    initial_start: datetime,
    previous: BatchEntry | None,
) -> Checkpoint:
    """``cp`` with ``entry`` committed: listed (next sequence number), coverage merged,
    watermark advanced (never backwards), its pending export cleared; a compacted base that
    folded an earlier copy of the same batch id (``previous``) becomes stale."""
    entry = replace(entry, seq=cp.next_seq, replaces_seq=previous.seq if previous else None)
    coverage = tuple(cp.coverage)
    if entry.mode in COVERING_MODES:
        coverage = tuple(merge([*coverage, entry.window]))
    start = cp.initial_start or to_utc(initial_start, "initial_start")
    watermark = advance_watermark(cp.watermark, list(coverage), start)
    compaction = cp.compaction
    if compaction is not None and previous is not None and previous.seq <= compaction.through_seq:
        compaction = replace(compaction, stale=True)
    return replace(
        cp,
        watermark=watermark,
        initial_start=start,
        advanced_by=entry.batch_id if watermark != cp.watermark else cp.advanced_by,
        coverage=coverage,
        pending={k: v for k, v in cp.pending.items() if k != entry.batch_id},
        tail={**{k: v for k, v in cp.tail.items() if k != entry.batch_id}, entry.batch_id: entry},
        next_seq=cp.next_seq + 1,
        compaction=compaction,
    )


def latest(entries: Iterable[BatchEntry]) -> list[BatchEntry]:
    """The newest entry of each batch id (a re-commit supersedes), ordered by sequence."""
    found: dict[str, BatchEntry] = {}
    for e in entries:
        if e.batch_id not in found or found[e.batch_id].seq < e.seq:
            found[e.batch_id] = e
    return sorted(found.values(), key=lambda e: e.seq)
