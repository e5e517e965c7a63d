"""Value objects of the mirror pipeline: its validated configuration, export references, results.

Everything here is plain data with a JSON form (``to_dict``/``from_dict``), because a deferred
Airflow task carries its state through the triggerer and XCom as JSON. Nothing here holds an API
key or a signed URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.state.ledger import Manifest
from labelbox_provider.state.windows import (
    MODES,
    SOURCE_FORMATS,
    Window,
    isoformat,
    parse_iso,
)
from labelbox_provider.utc import to_utc

EXPORT_FORMATS = SOURCE_FORMATS  # "v1" (exportLabels) or "v2" (export tasks)
DEFAULT_INITIAL_START = datetime(2018, 1, 1, tzinfo=UTC)  # before any Labelbox label existed
DEFAULT_SETTLE_LAG = timedelta(minutes=10)  # server-side indexing lag we wait out
DEFAULT_LOOKBACK = timedelta(hours=1)  # overlap with the previous run for late-indexed activity
DEFAULT_MAX_SPAN = timedelta(days=31)  # longest window one export covers
DEFAULT_EXPORT_TIMEOUT = 7200.0  # seconds an export may run before its window is split
DEFAULT_POLL_INTERVAL = 10.0  # seconds between status polls
# Export v2 detail params asked for by default: everything the tables hold.
DEFAULT_V2_PARAMS: dict[str, bool] = {
    "attachments": True,  # data row attachments (data_rows)
    "metadata_fields": True,  # data row metadata (data_rows)
    "data_row_details": True,  # dataset, created/updated (data_rows)
    "project_details": True,  # workflow status and history (workflow_history)
    "performance_details": True,  # seconds to create/review, skipped (labels)
    "label_details": True,  # created/updated/by, reviews (labels, reviews)
}
_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")  # cuid-like, path-safe


def check_project_id(project_id: object) -> str:
    """Return ``project_id`` if it is a path-safe Labelbox id, else raise a clear error."""
    if not isinstance(project_id, str) or not _PROJECT_ID.fullmatch(project_id):
        raise LabelboxConfigError(
            f"project_id={project_id!r} is not a Labelbox project id: use the id shown in the "
            "project's URL (letters, digits, '_', '-', '.'; 1 to 128 characters)"
        )
    return project_id


def check_destination(root: object) -> str:
    """Return ``root`` if fsspec can open it (local folder or a URL with an installed backend)."""
    import fsspec

    if not isinstance(root, str) or not root.strip():
        raise LabelboxConfigError(f"destination={root!r}: give a folder or an fsspec URL")
    protocol = root.split("://", 1)[0] if "://" in root else "file"
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError:
        raise LabelboxConfigError(
            f"destination protocol {protocol!r} is unknown to fsspec: use a local folder or "
            "a URL such as s3://bucket/path, gs://bucket/path, abfs://container/path"
        ) from None
    except ImportError as exc:
        raise LabelboxConfigError(
            f"destination protocol {protocol!r} needs a package that is not installed ({exc})"
        ) from None
    return root


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise LabelboxConfigError(f"{name}={value!r} must be a timezone-aware datetime (UTC)")
    return to_utc(value, name)


def _positive(value: object, name: str, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise LabelboxConfigError(f"{name}={value!r} must be a positive number")


def _duration(value: timedelta, name: str, *, positive: bool) -> None:
    if not isinstance(value, timedelta):
        raise LabelboxConfigError(f"{name}={value!r} must be a timedelta")
    if value < timedelta(0) or (positive and value == timedelta(0)):
        kind = "positive" if positive else "zero or positive"
        raise LabelboxConfigError(f"{name}={value} must be {kind}")


@dataclass(frozen=True)
class PipelineConfig:
    """What to mirror, where, and how; validated on construction."""

    project_id: str  # Labelbox project id
    root: str  # destination: local folder or fsspec URL
    export_format: str = "v2"  # "v1" or "v2"
    settle_lag: timedelta = DEFAULT_SETTLE_LAG  # windows end at most at now - settle_lag
    lookback: timedelta = DEFAULT_LOOKBACK  # incremental runs start at watermark - lookback
    max_window_span: timedelta = DEFAULT_MAX_SPAN  # longest window per export
    initial_start: datetime = DEFAULT_INITIAL_START  # where coverage (and the watermark) begins
    max_lines: int | None = None  # records per export before the window is split
    max_bytes: int | None = None  # bytes per export before the window is split
    export_timeout: float = DEFAULT_EXPORT_TIMEOUT  # seconds before a running export is split
    poll_interval: float = DEFAULT_POLL_INTERVAL  # seconds between status polls
    min_split_span: timedelta = timedelta(seconds=2)  # windows shorter are never split
    export_params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_V2_PARAMS))
    storage_options: Mapping[str, Any] | None = None  # fsspec options of the destination
    frames_workers: int = 4  # v1 video frames downloaded in parallel

    def __post_init__(self) -> None:
        check_project_id(self.project_id)
        check_destination(self.root)
        if self.export_format not in EXPORT_FORMATS:
            raise LabelboxConfigError(
                f"export_format={self.export_format!r}: use 'v2' (export tasks, default) or 'v1' "
                "(legacy exportLabels)"
            )
        _duration(self.settle_lag, "settle_lag", positive=False)
        _duration(self.lookback, "lookback", positive=False)
        _duration(self.max_window_span, "max_window_span", positive=True)
        _duration(self.min_split_span, "min_split_span", positive=True)
        object.__setattr__(self, "initial_start", _aware(self.initial_start, "initial_start"))
        _positive(self.max_lines, "max_lines", allow_none=True)
        _positive(self.max_bytes, "max_bytes", allow_none=True)
        _positive(self.export_timeout, "export_timeout")
        _positive(self.poll_interval, "poll_interval")
        _positive(self.frames_workers, "frames_workers")


@dataclass(frozen=True)
class ExportRef:
    """A started export: enough to poll it, re-attach to it, and commit its batch."""

    project_id: str  # Labelbox project id
    window: Window  # the half-open window the export covers
    mode: str  # "incremental", "backfill" or "reconcile"
    source_format: str  # "v1" or "v2"
    export_id: str  # v2 task id; for v1 a stable key of the (idempotent) request
    batch_id: str  # the batch this export becomes
    reattached: bool = False  # True when a retry found this export already started

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secrets: ids and times only)."""
        return {
            "project_id": self.project_id,
            "window": self.window.to_dict(),
            "mode": self.mode,
            "source_format": self.source_format,
            "export_id": self.export_id,
            "batch_id": self.batch_id,
            "reattached": self.reattached,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportRef:
        """Inverse of :meth:`to_dict`."""
        if data["mode"] not in MODES or data["source_format"] not in EXPORT_FORMATS:
            raise ValueError(f"bad export reference {dict(data)!r}")
        return cls(
            project_id=data["project_id"],
            window=Window.from_dict(data["window"]),
            mode=data["mode"],
            source_format=data["source_format"],
            export_id=data["export_id"],
            batch_id=data["batch_id"],
            reattached=bool(data.get("reattached", False)),
        )


@dataclass(frozen=True)
class ExportState:
    """What one status poll found."""

    status: str  # "running", "success" or "failed"
    message: str = ""  # the server's words (redacted) when failed
    created_at: datetime | None = None  # server-side creation time of the export, if known

    @property
    def done(self) -> bool:
        """True once the export stopped running."""
        return self.status != "running"


@dataclass(frozen=True)
class BatchResult:
    """One committed batch, as reported to XCom, Asset events and the CLI."""

    batch_id: str  # deterministic batch id
    window: Window  # its window
    mode: str  # run kind
    source_format: str  # "v1" or "v2"
    export_id: str | None  # server-side export id
    counts: dict[str, int]  # rows per table
    manifest: str  # location of the manifest (the commit point)
    extracted_at: datetime  # the "latest wins" clock of the batch

    @classmethod
    def from_manifest(cls, manifest: Manifest, manifest_url: str) -> BatchResult:
        """Summarise a committed manifest."""
        return cls(
            batch_id=manifest.batch_id,
            window=manifest.window,
            mode=manifest.mode,
            source_format=manifest.source_format,
            export_id=manifest.export_id,
            counts=dict(manifest.counts),
            manifest=manifest_url,
            extracted_at=manifest.extracted_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used as Asset event ``extra`` too)."""
        return {
            "batch_id": self.batch_id,
            "window": self.window.to_dict(),
            "mode": self.mode,
            "source_format": self.source_format,
            "export_id": self.export_id,
            "counts": dict(sorted(self.counts.items())),
            "manifest": self.manifest,
            "extracted_at": isoformat(self.extracted_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            batch_id=data["batch_id"],
            window=Window.from_dict(data["window"]),
            mode=data["mode"],
            source_format=data["source_format"],
            export_id=data["export_id"],
            counts={str(k): int(v) for k, v in data["counts"].items()},
            manifest=data["manifest"],
            extracted_at=parse_iso(data["extracted_at"]),
        )


@dataclass(frozen=True)
class WindowOutcome:
    """What finishing one export produced: a committed batch, or windows to export instead."""

    committed: tuple[BatchResult, ...] = ()  # batches committed
    requeue: tuple[Window, ...] = ()  # smaller windows to export instead (budget or timeout)
    reason: str = ""  # why the window was split, for the log


@dataclass
class RunSummary:
    """Everything one run committed; the operator's XCom return value is ``to_dict()``."""

    project_id: str  # Labelbox project id
    batches: list[BatchResult] = field(default_factory=list)  # committed, in order
    splits: int = 0  # windows split for budget or timeout
    watermark: datetime | None = None  # the project's watermark after the run

    def to_dict(self) -> dict[str, Any]:
        """Small JSON dict: batches, windows, counts, watermark (no key, no URLs)."""
        totals: dict[str, int] = {}
        for b in self.batches:
            for table, rows in b.counts.items():
                totals[table] = totals.get(table, 0) + rows
        return {
            "project_id": self.project_id,
            "batches": [b.batch_id for b in self.batches],
            "windows": [b.window.to_dict() for b in self.batches],
            "counts": dict(sorted(totals.items())),
            "splits": self.splits,
            "watermark": isoformat(self.watermark) if self.watermark else None,
        }
