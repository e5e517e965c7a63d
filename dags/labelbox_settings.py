"""Deployment settings the example DAGs read from the environment (see docs/production.md).

Not a DAG: a helper module the example DAG files import (Airflow puts the DAG folder on the
path). Every setting has a default that suits production; tests and staging override them.

| variable | default | what |
|---|---|---|
| ``LABELBOX_INITIAL_START`` | ``2024-01-01T00:00:00Z`` | where the mirror's coverage begins |
| ``LABELBOX_SETTLE_LAG_SECONDS`` | ``600`` | windows end this long before now (indexing lag) |
| ``LABELBOX_POOL`` | ``labelbox_api`` | the pool every Labelbox-calling task runs in |
| ``LABELBOX_RETRY_DELAY_SECONDS`` | ``60`` | delay before a failed mirror task is retried |
| ``LABELBOX_COMPACT_SCHEDULE`` | ``@weekly`` | when the maintenance DAG compacts the mirror |
| ``LABELBOX_EXPIRE_RAW_AFTER`` | (unset: keep) | maintenance: expire raw batches older (``30d``) |
| ``LABELBOX_FLATTEN_PROCESSES`` | ``auto`` | processes flattening one export file (``1``, ``2``) |
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta

import pendulum

POOL = os.environ.get("LABELBOX_POOL", "labelbox_api")  # create it: `airflow pools set ...`
COMPACT_SCHEDULE = os.environ.get("LABELBOX_COMPACT_SCHEDULE", "@weekly")


def initial_start() -> pendulum.DateTime:
    """``LABELBOX_INITIAL_START`` (ISO 8601; naive means UTC), else 2024-01-01 UTC."""
    text = os.environ.get("LABELBOX_INITIAL_START", "2024-01-01T00:00:00Z")
    try:
        value = pendulum.parse(text, tz="UTC")
    except ValueError:
        value = None
    if not isinstance(value, pendulum.DateTime):
        raise ValueError(f"LABELBOX_INITIAL_START={text!r} is not a date and time")
    return value


def _seconds(name: str, default: float) -> timedelta:
    text = os.environ.get(name)
    try:
        value = float(text) if text else default
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number of seconds") from None
    if value < 0:
        raise ValueError(f"{name}={text!r} must not be negative")
    return timedelta(seconds=value)


def settle_lag() -> timedelta:
    """``LABELBOX_SETTLE_LAG_SECONDS``, else 10 minutes."""
    return _seconds("LABELBOX_SETTLE_LAG_SECONDS", 600)


def retry_delay() -> timedelta:
    """``LABELBOX_RETRY_DELAY_SECONDS``, else one minute."""
    return _seconds("LABELBOX_RETRY_DELAY_SECONDS", 60)


def duration(text: str | None, name: str = "LABELBOX_EXPIRE_RAW_AFTER") -> timedelta | None:
    """``30d``, ``12h`` or ``90m`` as a timedelta; empty or None: None (keep raw batches)."""
    if not text:
        return None
    from labelbox_provider.cli.compact import duration_arg  # not at parse time of every DAG

    try:
        return duration_arg(text)
    except argparse.ArgumentTypeError as err:
        raise ValueError(f"{name}: {err}") from None


def expire_raw_after() -> str | None:
    """``LABELBOX_EXPIRE_RAW_AFTER`` (checked), else None: raw batches are kept."""
    text = os.environ.get("LABELBOX_EXPIRE_RAW_AFTER") or None
    duration(text)
    return text


def flatten_processes() -> int | None:
    """``LABELBOX_FLATTEN_PROCESSES``: ``auto`` (or unset: two processes for a large file when
    two cores are idle), ``1`` or ``2`` (the operator's ``flatten_processes``)."""
    text = (os.environ.get("LABELBOX_FLATTEN_PROCESSES") or "auto").strip().lower()
    if text == "auto":
        return None
    if text in ("1", "2"):
        return int(text)
    raise ValueError(f"LABELBOX_FLATTEN_PROCESSES={text!r} must be auto, 1 or 2")
