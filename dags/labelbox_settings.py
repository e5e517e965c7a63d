"""Deployment settings the example DAGs read from the environment (see docs/production.md).

Not a DAG: a helper module the example DAG files import (Airflow puts the DAG folder on the
path). Every setting has a default that suits production; tests and staging override them.

| variable | default | what |
|---|---|---|
| ``LABELBOX_INITIAL_START`` | ``2024-01-01T00:00:00Z`` | where the mirror's coverage begins |
| ``LABELBOX_SETTLE_LAG_SECONDS`` | ``600`` | windows end this long before now (indexing lag) |
| ``LABELBOX_POOL`` | ``labelbox_api`` | the pool every Labelbox-calling task runs in |
| ``LABELBOX_RETRY_DELAY_SECONDS`` | ``60`` | delay before a failed mirror task is retried |
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum

POOL = os.environ.get("LABELBOX_POOL", "labelbox_api")  # create it: `airflow pools set ...`


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
