"""Value objects of the mirror pipeline: export references, poll states, results.

Each has a JSON form (``to_dict``/``from_dict``, through :mod:`labelbox_provider.state.codec`)
because a deferred Airflow task carries its state through the triggerer and XCom as JSON.
Nothing here holds an API key or a signed URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from labelbox_provider.pipeline.config import EXPORT_FORMATS
from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.state.ledger import Manifest, PendingExport
from labelbox_provider.state.windows import MODES, Window, isoformat
from labelbox_provider.utc import to_utc


@dataclass(frozen=True)
class ExportRef(PendingExport):
    """A started export: enough to poll it, re-attach to it, and commit its batch.

    The pending export the ledger stores (batch id, window, format, mode, export id; for v1 the
    export id is a stable key of the idempotent request) plus the project and the retry flag.
    """

    project_id: str  # Labelbox project id
    reattached: bool = False  # True when a retry found this export already started

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; refuses an unknown mode or format."""
        if data.get("mode") not in MODES or data.get("source_format") not in EXPORT_FORMATS:
            raise ValueError(f"bad export reference {dict(data)!r}")
        return super().from_dict(data)


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
class BatchResult(JsonRecord):
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "extracted_at", to_utc(self.extracted_at, "extracted_at"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used as Asset event ``extra`` too), counts sorted by table."""
        return {**super().to_dict(), "counts": dict(sorted(self.counts.items()))}


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
