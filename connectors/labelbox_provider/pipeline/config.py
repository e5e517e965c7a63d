"""The mirror pipeline's configuration: defaults, and the checks it passes on construction."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.hooks.settings import HookSettings
from labelbox_provider.io import check_processes
from labelbox_provider.state.windows import SOURCE_FORMATS
from labelbox_provider.utc import to_utc

EXPORT_FORMATS = SOURCE_FORMATS  # "v1" (exportLabels) or "v2" (export tasks)
DEFAULT_INITIAL_START = datetime(2018, 1, 1, tzinfo=UTC)  # before any Labelbox label existed
DEFAULT_SETTLE_LAG = timedelta(minutes=10)  # server-side indexing lag we wait out
DEFAULT_LOOKBACK = timedelta(hours=1)  # overlap with the previous run for late-indexed activity
DEFAULT_MAX_SPAN = timedelta(days=31)  # longest window one export covers
DEFAULT_EXPORT_TIMEOUT = 7200.0  # seconds an export may run before its window is split
# poll_interval and frames_workers: one source each. Left as None (the default) they come from
# the hook's settings (the connection's extras); given here, they win, logged when they differ
# from an extra the connection sets (see docs/reliability.md, "Settings").
CONNECTION_SETTINGS = ("poll_interval", "frames_workers")
# Export v2 detail params asked for by default: everything the tables hold.
DEFAULT_V2_PARAMS: dict[str, bool] = {
    "attachments": True,  # data row attachments (data_rows)
    "metadata_fields": True,  # data row metadata (data_rows)
    "data_row_details": True,  # dataset, created/updated (data_rows)
    "project_details": True,  # workflow status and history (workflow_history)
    "performance_details": True,  # seconds to create/review, skipped (labels)
    "label_details": True,  # created/updated/by, reviews (labels, reviews)
}
log = logging.getLogger(__name__)
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
    poll_interval: float | None = None  # longest wait between polls; None: the connection's
    min_split_span: timedelta = timedelta(seconds=2)  # windows shorter are never split
    export_params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_V2_PARAMS))
    storage_options: Mapping[str, Any] | None = None  # fsspec options of the destination
    frames_workers: int | None = None  # parallel v1 frames downloads; None: the connection's
    delta_tables: bool = False  # also keep Delta Lake current tables (the `delta` extra)
    flatten_processes: int | None = None  # flatten_file's processes: None automatic, 1 or 2

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
        _positive(self.poll_interval, "poll_interval", allow_none=True)
        _positive(self.frames_workers, "frames_workers", allow_none=True)
        check_processes(self.flatten_processes, "flatten_processes")
        if not isinstance(self.delta_tables, bool):
            raise LabelboxConfigError(f"delta_tables={self.delta_tables!r} must be True or False")
        if self.delta_tables:
            from labelbox_provider.io.delta import require_deltalake

            require_deltalake()


def resolve_setting(name: str, argument: Any, hook_settings: HookSettings) -> Any:
    """One value for a setting both the pipeline and the connection know: the argument wins.

    ``hook_settings`` is the hook's ``HookSettings``; its ``explicit`` names the extras the
    connection really set. An argument that differs from one of those is logged.
    """
    connection = getattr(hook_settings, name)
    if argument is None:
        return connection
    if name in hook_settings.explicit and connection != argument:
        log.warning(
            "%s=%s (argument) overrides the connection extra %s=%s",
            name,
            argument,
            name,
            connection,
        )
    return argument
