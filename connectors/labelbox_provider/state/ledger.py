"""The ledger and watermark store: everything lives in the destination, nothing on the worker.

Layout under ``<root>/project=<project_id>/`` (any fsspec URL or local folder)::

    _ledger/<batch_id>.json      manifest of a committed batch (its presence IS the commit)
    _watermark.json              end of the contiguous covered range from the initial start
    _exports/<batch_id>.json     export started but not committed yet (lets a retry re-attach)
    _staging/<batch_id>/<n>/     files of commit attempt n, before they move into place
    <table>/batch=<batch_id>/part-<n>-<k>.parquet   data files of committed attempt n

Readers only ever read the files a manifest lists, so files of an unfinished or superseded
attempt are invisible even before garbage collection removes them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from fsspec import AbstractFileSystem

from labelbox_provider.io import fs as fsu
from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.state.windows import (
    COVERING_MODES,
    Window,
    batch_id_for,
    isoformat,
    merge,
    parse_iso,
)
from labelbox_provider.state.windows import gaps as window_gaps
from labelbox_provider.utc import to_utc

MANIFEST_VERSION = 1  # bump when the manifest JSON changes incompatibly
LEDGER_DIR = "_ledger"  # manifests, one JSON per committed batch
EXPORTS_DIR = "_exports"  # pending (started, not committed) exports
STAGING_DIR = "_staging"  # per-attempt staging area of the commit protocol
WATERMARK_FILE = "_watermark.json"  # the project's watermark


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


class Ledger:
    """Manifests, watermark and pending exports of one project, stored under the destination.

    ``root`` is a local folder or any fsspec URL; ``fs`` may be passed to reuse (or, in tests,
    to wrap) a filesystem object, in which case ``root`` must be a path on it.
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

    def __repr__(self) -> str:
        return f"Ledger(root={self.root!r}, project_id={self.project_id!r})"

    def path(self, *parts: str) -> str:
        """Filesystem path of ``parts`` under the project directory."""
        return fsu.join(self.project_path, *parts)

    def url(self, relative: str) -> str:
        """Openable URL (or local path) of a path relative to the project directory."""
        return fsu.full_url(self.fs, self.path(relative))

    # -- manifests -------------------------------------------------------------------------

    def manifest_path(self, batch_id: str) -> str:
        """Where the manifest of ``batch_id`` lives."""
        return self.path(LEDGER_DIR, f"{batch_id}.json")

    def manifest(self, batch_id: str) -> Manifest | None:
        """The committed manifest of ``batch_id``, or None."""
        data = fsu.read_json(self.fs, self.manifest_path(batch_id))
        return None if data is None else Manifest.from_dict(data)

    def manifests(self) -> list[Manifest]:
        """Every committed batch, ordered by window then batch id."""
        found = []
        for path in fsu.list_files(self.fs, self.path(LEDGER_DIR)):
            name = posixpath.basename(path)
            if name.endswith(".json") and not name.startswith("."):
                data = fsu.read_json(self.fs, path)
                if data is not None:
                    found.append(Manifest.from_dict(data))
        return sorted(found, key=lambda m: (m.window, m.batch_id))

    def write_manifest(self, manifest: Manifest) -> None:
        """Publish a manifest atomically: this is the commit point of its batch."""
        fsu.write_json_atomic(self.fs, self.manifest_path(manifest.batch_id), manifest.to_dict())

    # -- coverage and watermark ------------------------------------------------------------

    def covered(self) -> list[Window]:
        """Union of the windows of committed incremental and backfill batches."""
        return merge(m.window for m in self.manifests() if m.mode in COVERING_MODES)

    def gaps(self, start: datetime, until: datetime) -> list[Window]:
        """Parts of ``[start, until)`` that no committed batch covers (fill them by backfill)."""
        return window_gaps(self.covered(), start, until)

    def watermark(self) -> datetime | None:
        """The stored watermark, or None before the first commit."""
        data = fsu.read_json(self.fs, self.path(WATERMARK_FILE))
        return None if data is None else parse_iso(data["watermark"])

    def write_watermark(
        self, watermark: datetime, *, initial_start: datetime, batch_id: str
    ) -> None:
        """Store the watermark (callers guarantee it never decreases)."""
        payload = {
            "watermark": isoformat(watermark),
            "initial_start": isoformat(initial_start),
            "advanced_by": batch_id,
        }
        fsu.write_json_atomic(self.fs, self.path(WATERMARK_FILE), payload)

    # -- pending exports -------------------------------------------------------------------

    def _export_path(self, batch_id: str) -> str:
        return self.path(EXPORTS_DIR, f"{batch_id}.json")

    def record_export_started(
        self, window: Window, fmt: str, export_id: str, mode: str = "incremental"
    ) -> PendingExport:
        """Persist that an export was started for ``window`` so a retried task can re-attach."""
        batch_id = batch_id_for(self.project_id, window, fmt, mode)
        pending = PendingExport(batch_id, window, fmt, mode, export_id)
        fsu.write_json_atomic(self.fs, self._export_path(batch_id), pending.to_dict())
        return pending

    def pending_export(
        self, window: Window, fmt: str, mode: str = "incremental"
    ) -> PendingExport | None:
        """The started, uncommitted export of ``window``, if any."""
        batch_id = batch_id_for(self.project_id, window, fmt, mode)
        data = fsu.read_json(self.fs, self._export_path(batch_id))
        return None if data is None else PendingExport.from_dict(data)

    def pending_exports(self) -> list[PendingExport]:
        """Every started, uncommitted export, ordered by window."""
        found = []
        for path in fsu.list_files(self.fs, self.path(EXPORTS_DIR)):
            if not posixpath.basename(path).startswith("."):
                data = fsu.read_json(self.fs, path)
                if data is not None:
                    found.append(PendingExport.from_dict(data))
        return sorted(found, key=lambda p: (p.window, p.batch_id))

    def clear_pending_export(self, batch_id: str) -> None:
        """Forget the pending export of ``batch_id`` (done after its commit)."""
        fsu.remove(self.fs, self._export_path(batch_id))


def list_projects(root: str, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """Project ids that have a directory under ``root`` (``project=<id>``)."""
    fs, path = fsu.get_fs(root, storage_options)
    prefix = "project="
    return [d[len(prefix) :] for d in fsu.list_dirs(fs, path) if d.startswith(prefix)]
