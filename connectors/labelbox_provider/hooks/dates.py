"""Validation and normalisation of the export date filters, before any request is sent.

Accepted for every bound (``start``, ``end``, ``last_activity_start``, ``last_activity_end`` and
the v2 ``(start, end)`` pairs):

* ``None`` (the bound is open);
* ``"YYYY-MM-DD"`` and ``"YYYY-MM-DD hh:mm:ss"`` (sent verbatim, as the SDK does; read as UTC);
* ISO-8601 with an offset, ``"YYYY-MM-DDThh:mm:ss+hhmm"``, ``"...+hh:mm"`` or ``"...Z"``
  (optionally with fractions of a second): converted to UTC, then sent as
  ``"YYYY-MM-DDThh:mm:ss+0000"``;
* a ``datetime``: aware ones are converted to UTC, naive ones are taken as UTC.

The API compares at whole seconds and both ends are inclusive.  A fractional start is floored and a
fractional end is ceiled so the request covers at least the asked window (overlap is harmless: the
current view collapses duplicates, a gap would lose data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.utc import to_utc

DateInput = str | datetime | None
Side = Literal["start", "end"]

WIRE_ISO = "%Y-%m-%dT%H:%M:%S+0000"  # what aware bounds are sent as (the SDK's ISO form, in UTC)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # "YYYY-MM-DD"
_DAY_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")  # "YYYY-MM-DD hh:mm:ss"
# ISO-8601 with T, optional fraction, and a mandatory offset (Z, +hh:mm or +hhmm).
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})")
_FORMATS_HELP = (
    'use "YYYY-MM-DD", "YYYY-MM-DD hh:mm:ss", ISO-8601 with an offset '
    '("YYYY-MM-DDThh:mm:ss+hhmm" or "...Z"), a datetime, or None'
)


@dataclass(frozen=True)
class DateBound:
    """One validated bound: the instant it stands for (UTC) and the text sent on the wire."""

    instant: datetime  # the bound as an aware UTC datetime (midnight for a bare day)
    wire: str  # the exact string spliced into the v1 query / sent in the v2 filter


def _bad(name: str, value: object, why: str) -> LabelboxConfigError:
    return LabelboxConfigError(f"invalid {name}={value!r}: {why}; {_FORMATS_HELP}")


def _from_datetime(value: datetime, side: Side) -> DateBound:
    moment = to_utc(value, naive_is_utc=True)
    whole = moment.replace(microsecond=0)
    if side == "end" and moment.microsecond:
        whole += timedelta(seconds=1)
    return DateBound(whole, whole.strftime(WIRE_ISO))


def _from_string(name: str, value: str, side: Side) -> DateBound:
    text = value.strip()
    if _ISO.fullmatch(text):
        return _from_datetime(_fromiso(name, value, text.replace("Z", "+00:00")), side)
    if not (_DAY.fullmatch(text) or _DAY_TIME.fullmatch(text)):
        if "T" in text and re.fullmatch(r"[\d\-T:.]+", text):
            raise _bad(name, value, "an ISO-8601 time needs an offset such as +0000 or Z")
        raise _bad(name, value, "unrecognised format")
    return DateBound(_fromiso(name, value, text).replace(tzinfo=UTC), text)


def _fromiso(name: str, value: str, text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:  # e.g. "month must be in 1..12"
        raise _bad(name, value, str(exc)) from None


def parse_bound(name: str, value: DateInput, side: Side) -> DateBound | None:
    """Validate one bound; ``name`` is the argument name used in the error message.

    >>> parse_bound("start", "2021-01-02", "start").wire
    '2021-01-02'
    >>> parse_bound("end", "2021-01-02T10:00:00+0200", "end").wire
    '2021-01-02T08:00:00+0000'
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _from_datetime(value, side)
    if isinstance(value, str):
        if not value.strip():
            return None
        return _from_string(name, value, side)
    raise _bad(name, value, f"a {type(value).__name__} is not a date")


def parse_range(
    name: str, start: DateInput, end: DateInput
) -> tuple[DateBound | None, DateBound | None]:
    """Validate a ``(start, end)`` pair: each bound alone, then ``start <= end``."""
    lo = parse_bound(f"{name} start", start, "start")
    hi = parse_bound(f"{name} end", end, "end")
    if lo and hi and lo.instant > hi.instant:
        raise LabelboxConfigError(
            f"invalid {name}: start {lo.wire!r} is after end {hi.wire!r}; swap them"
        )
    return lo, hi


def parse_pair(name: str, pair: object) -> tuple[DateBound | None, DateBound | None] | None:
    """Validate the v2 form: ``None`` or a 2-sequence ``(start, end)``."""
    if pair is None:
        return None
    if isinstance(pair, str | bytes) or not isinstance(pair, tuple | list) or len(pair) != 2:
        raise LabelboxConfigError(
            f"invalid {name}={pair!r}: pass a (start, end) pair; either may be None"
        )
    lo, hi = parse_range(name, pair[0], pair[1])
    return None if lo is None and hi is None else (lo, hi)
