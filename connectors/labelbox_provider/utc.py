"""The one datetime normaliser: every instant the provider handles is a plain UTC ``datetime``.

Airflow hands out pendulum ``DateTime`` objects, exports carry ISO-8601 strings with or without
an offset, users type naive values: all of them pass through :func:`to_utc`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from labelbox_provider.exceptions import LabelboxConfigError


def to_utc(
    value: datetime,
    name: str = "datetime",
    *,
    naive_is_utc: bool = False,
    error: type[Exception] = LabelboxConfigError,
) -> datetime:
    """Return ``value`` as a plain ``datetime`` in UTC.

    A naive value is read as UTC when ``naive_is_utc`` (export timestamps, command-line input);
    otherwise it is refused with ``error``, never guessed.  Subclasses (pendulum) are converted
    to the standard class: pendulum drops the zone when a ``timedelta`` is subtracted from a
    stdlib-UTC value.

    >>> import pendulum
    >>> type(to_utc(pendulum.datetime(2026, 1, 1))) is datetime
    True
    >>> to_utc(datetime(2026, 1, 1, 12), naive_is_utc=True).isoformat()
    '2026-01-01T12:00:00+00:00'
    """
    if value.tzinfo is None or value.utcoffset() is None:
        if not naive_is_utc:
            raise error(f"{name} must be timezone-aware, got naive {value.isoformat()}")
        value = value.replace(tzinfo=UTC)
    utc = value.astimezone(UTC)
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )
