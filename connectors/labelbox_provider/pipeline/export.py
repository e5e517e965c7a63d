"""Format-specific steps of the pipeline: start, poll, download and size up an export (v1 or v2).

The pipeline talks to Labelbox only through these functions, and they only through the hook
(:class:`ExportHook` lists the methods used, so any object with them, e.g. the hook built from
an Airflow connection or one built from an explicit endpoint and key, will do).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from labelbox_provider.pipeline.types import ExportRef, ExportState
from labelbox_provider.state.windows import Window, isoformat, parse_iso

log = logging.getLogger(__name__)


class ExportHook(Protocol):
    """The hook methods the pipeline uses (see :mod:`labelbox_provider.hooks.labelbox`)."""

    def create_export_v2(
        self,
        project_id: str,
        *,
        last_activity: tuple[datetime, datetime] | None = ...,
        params: Mapping[str, Any] | None = ...,
        task_name: str | None = ...,
    ) -> str: ...

    def get_export_task(self, task_id: str) -> Any: ...

    def download_export_v2(self, task_id: str, dest: Path) -> Any: ...

    def request_export_v1(
        self,
        project_id: str,
        *,
        last_activity_start: datetime | None = ...,
        last_activity_end: datetime | None = ...,
    ) -> Any: ...

    def download_export_v1(
        self,
        project_id: str,
        dest: Path,
        *,
        last_activity_start: datetime | None = ...,
        last_activity_end: datetime | None = ...,
        timeout: float = ...,
        poll_interval: float = ...,
    ) -> Any: ...

    def download_v1_frames(
        self, export_file: Path, frames_dir: Path, *, max_workers: int
    ) -> int: ...


def v1_bounds(ref: ExportRef) -> tuple[datetime | None, datetime | None]:
    """The v1 ``last_activity`` filter of an export (open for a reconcile: everything)."""
    if ref.mode == "reconcile":
        return None, None
    return ref.window.filter_bounds()


def v1_export_key(project_id: str, window: Window | None) -> str:
    """A stable id for a v1 request: v1 has no export id, the request itself is idempotent."""
    bounds = "all" if window is None else "|".join(isoformat(b) for b in window.filter_bounds())
    digest = hashlib.sha256(f"{project_id}|{bounds}".encode()).hexdigest()[:16]
    return f"v1-{digest}"


def task_name_for(batch_id: str) -> str:
    """The v2 task name: the batch id, so exports are easy to match in Labelbox's UI."""
    return f"airflow-mirror {batch_id}"


def create_export(
    hook: ExportHook,
    project_id: str,
    window: Window,
    *,
    mode: str,
    fmt: str,
    batch_id: str,
    params: Mapping[str, Any],
) -> str:
    """Start an export of ``window`` (everything for a reconcile) and return its id."""
    whole = mode == "reconcile"
    if fmt == "v2":
        activity = None if whole else window.filter_bounds()
        return hook.create_export_v2(
            project_id,
            last_activity=activity,
            params={} if whole else dict(params),  # ids are all a reconcile needs
            task_name=task_name_for(batch_id),
        )
    start, end = (None, None) if whole else window.filter_bounds()
    hook.request_export_v1(project_id, last_activity_start=start, last_activity_end=end)
    return v1_export_key(project_id, None if whole else window)


def _created(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_iso(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def poll_export(hook: ExportHook, ref: ExportRef) -> ExportState:
    """One status poll of ``ref`` (v1 re-sends the identical, idempotent request)."""
    if ref.source_format == "v2":
        task = hook.get_export_task(ref.export_id)
        created = _created(getattr(task, "created_at", None))
        if task.status == "COMPLETE":
            return ExportState("success", created_at=created)
        if task.status == "FAILED":
            message = str(getattr(task, "errors", None) or "export task failed")
            return ExportState("failed", message=message, created_at=created)
        return ExportState("running", created_at=created)
    start, end = v1_bounds(ref)
    status = hook.request_export_v1(
        ref.project_id, last_activity_start=start, last_activity_end=end
    )
    created = _created(getattr(status, "created_at", None))
    return ExportState("success" if status.ready else "running", created_at=created)


def download_export(
    hook: ExportHook, ref: ExportRef, workdir: Path, *, timeout: float, poll_interval: float
) -> Path:
    """Download the export of ``ref`` into ``workdir`` and return the spool file."""
    if ref.source_format == "v2":
        dest = workdir / "export.ndjson"
        result = hook.download_export_v2(ref.export_id, dest)
        if result is None or not Path(getattr(result, "path", dest)).exists():
            dest.write_bytes(b"")  # the task produced no result stream: an empty export
            return dest
        return Path(getattr(result, "path", dest))
    dest = workdir / "export.json"
    start, end = v1_bounds(ref)
    result = hook.download_export_v1(
        ref.project_id,
        dest,
        last_activity_start=start,
        last_activity_end=end,
        timeout=timeout,
        poll_interval=poll_interval,
    )
    return Path(getattr(result, "path", dest))


def download_frames(hook: ExportHook, export_file: Path, workdir: Path, workers: int) -> Path:
    """Fetch the v1 video frame files the export points to; return their folder."""
    frames_dir = workdir / "frames"
    frames_dir.mkdir(exist_ok=True)
    fetched = hook.download_v1_frames(export_file, frames_dir, max_workers=workers)
    log.info("downloaded %d video frame files", fetched)
    return frames_dir


def count_records(export_file: Path) -> int:
    """Records in an export file (v2 NDJSON lines or v1 array elements), streamed."""
    from labelbox_provider.io.jsonstream import iter_raw_records

    if export_file.stat().st_size == 0:
        return 0
    with export_file.open("rb") as fp:
        return sum(1 for _ in iter_raw_records(fp, "auto"))


def over_budget(records: int, size: int, max_lines: int | None, max_bytes: int | None) -> str:
    """Why an export is too large to commit as one batch, or "" when it fits.

    >>> over_budget(10, 100, max_lines=5, max_bytes=None)
    'has 10 records (budget 5)'
    >>> over_budget(10, 100, max_lines=None, max_bytes=None)
    ''
    """
    if max_lines is not None and records > max_lines:
        return f"has {records} records (budget {max_lines})"
    if max_bytes is not None and size > max_bytes:
        return f"has {size} bytes (budget {max_bytes})"
    return ""
