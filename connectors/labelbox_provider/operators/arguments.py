"""Argument coercion and validation of the Labelbox operators (pure, no Airflow imports).

Durations accept a ``timedelta`` or a number of seconds; instants accept an aware ``datetime``
or an ISO-8601 string with an offset. Anything else fails with a message saying what to pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.pipeline.config import (
    DEFAULT_INITIAL_START,
    PipelineConfig,
    check_destination,
    check_project_id,
)
from labelbox_provider.utc import to_utc

RUN_MODES = ("auto", "incremental", "backfill", "reconcile")  # operator ``mode`` values
_PLACEHOLDER_PROJECT = "templated"  # stands in for a Jinja project id at construction
_PLACEHOLDER_ROOT = "."  # stands in for a Jinja destination at construction


def is_template(value: object) -> bool:
    """True for a string that still holds Jinja (rendered only at run time)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def as_duration(value: object, name: str) -> timedelta:
    """A ``timedelta`` from a timedelta or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise LabelboxConfigError(f"{name}={value!r}: pass a timedelta or a number of seconds")


def as_instant(value: object, name: str) -> datetime:
    """An aware ``datetime`` from a datetime or an ISO-8601 string with an offset."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LabelboxConfigError(
                f"{name}={value!r} is not ISO 8601: use e.g. '2024-01-01T00:00:00+00:00'"
            ) from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise LabelboxConfigError(
            f"{name}={value!r} must be timezone-aware: use pendulum.datetime(..., tz='UTC') "
            "or a string with an offset"
        )
    return to_utc(value, name)


def pipeline_options(
    *,
    export_format: str,
    settle_lag: object,
    lookback: object,
    max_window_span: object,
    initial_start: object,
    max_lines: int | None,
    max_bytes: int | None,
    export_timeout: float,
    poll_interval: float | None,
    frames_workers: int | None,
    storage_options: dict[str, Any] | None,
    delta_tables: bool = False,
    flatten_processes: int | None = None,
) -> dict[str, Any]:
    """Keyword options of ``MirrorPipeline`` from operator arguments (types checked)."""
    start = DEFAULT_INITIAL_START if initial_start is None else initial_start
    return {
        "export_format": export_format,
        "settle_lag": as_duration(settle_lag, "settle_lag"),
        "lookback": as_duration(lookback, "lookback"),
        "max_window_span": as_duration(max_window_span, "max_window_span"),
        "initial_start": as_instant(start, "initial_start"),
        "max_lines": max_lines,
        "max_bytes": max_bytes,
        "export_timeout": export_timeout,
        "poll_interval": poll_interval,
        "frames_workers": frames_workers,
        "storage_options": storage_options,
        "delta_tables": delta_tables,
        "flatten_processes": flatten_processes,
    }


def validate(project_id: object, destination: object, mode: str, options: dict[str, Any]) -> None:
    """Fail fast: check every argument that is not a Jinja template (raises ValueError)."""
    if mode not in RUN_MODES:
        raise LabelboxConfigError(f"mode={mode!r}: use one of {', '.join(RUN_MODES)}")
    if not is_template(project_id):
        check_project_id(project_id)
    if not is_template(destination):
        check_destination(destination)
    PipelineConfig(project_id=_PLACEHOLDER_PROJECT, root=_PLACEHOLDER_ROOT, **options)
