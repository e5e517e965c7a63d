"""Small helpers shared by the v1 and v2 row functions: typed coercion and the record context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from labelbox_provider.exceptions import TransformError
from labelbox_provider.utc import to_utc

from .tables import TABLES

Row = dict[str, Any]
Rows = dict[str, list[Row]]

_ENCODER = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True)
class Lineage:
    """Where a batch of rows comes from; constant for one flattened file."""

    project_id: str  # the mirrored project; "" = take it from each record (CLI use)
    batch_id: str  # deterministic id of the batch (one window of one project)
    extracted_at: datetime  # when the export was taken (UTC)
    window_start: datetime | None  # start of the half-open window [start, end); None = open
    window_end: datetime | None  # end of that window; None = open
    source_format: str | None = None  # "v1" or "v2"; None = detect from the file layout

    def __post_init__(self) -> None:
        for name in ("extracted_at", "window_start", "window_end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Lineage.{name} must be timezone-aware")
        if self.source_format not in (None, "v1", "v2"):
            raise ValueError("Lineage.source_format must be 'v1', 'v2' or None")


@dataclass
class RecordContext:
    """What a row function needs besides the record: the project and where frames live."""

    project_id: str = ""  # "" = infer per record (v1: from "View Label"; v2: the only project)
    frames_dir: Path | None = None  # where the hook saved v1 video frames as <label_id>.ndjson
    legacy_era: bool | None = None  # v1 file from 2018-2019 ("Label": {} is no skip there);
    # None: each record decides (.legacy_record.normalise_record)


def new_rows() -> Rows:
    """An empty row collection, one list per table (tombstones are never produced here)."""
    return {t: [] for t in TABLES if t != "tombstones"}


def ts(value: Any, what: str) -> datetime | None:
    """Parse an exported ISO-8601 timestamp ("...Z" or "...+00:00") to an aware UTC datetime.

    >>> ts("2021-07-15T22:57:30.268Z", "x")
    datetime.datetime(2021, 7, 15, 22, 57, 30, 268000, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TransformError(f"{what}: timestamp is not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TransformError(f"{what}: not an ISO-8601 timestamp") from None
    if parsed.tzinfo is UTC:  # "...Z" / "+00:00", nearly every export value: already plain UTC
        return parsed
    return to_utc(parsed, naive_is_utc=True)


def ts_naive(value: Any, what: str) -> datetime | None:
    """:func:`ts` without its zone, for the typed fast paths' row tuples: Arrow reads a naive
    value as UTC in a ``timestamp[us, UTC]`` column, the same stored instant, and converts it
    several times faster than an aware one (which costs a ``utcoffset()`` call per value).

    >>> ts_naive("2021-07-15T22:57:30.268+02:00", "x")
    datetime.datetime(2021, 7, 15, 20, 57, 30, 268000)
    """
    parsed = ts(value, what)
    return None if parsed is None else parsed.replace(tzinfo=None)


def num(value: Any, what: str) -> float | None:
    """A JSON number as float (None passes); anything else is an error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransformError(f"{what}: not a number")
    return float(value)


def integer(value: Any, what: str) -> int | None:
    """A JSON integer (or integral float, or digit string as used for frame keys) as int."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TransformError(f"{what}: not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise TransformError(f"{what}: not an integer")


def text(value: Any, what: str) -> str | None:
    """A JSON string (numbers are accepted and written as text; ids are sometimes numeric)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TransformError(f"{what}: not a string")


def flag(value: Any, what: str) -> bool | None:
    """A JSON boolean, or 0/1 as some v1 fields carry."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise TransformError(f"{what}: not a boolean")


def to_json(value: Any) -> str | None:
    """Compact JSON with sorted keys (None stays None)."""
    return None if value is None else _ENCODER.encode(value).decode()


def extra_json(obj: dict[str, Any], known: frozenset[str]) -> str | None:
    """The fields of ``obj`` not in ``known``, as JSON, or None if there are none.

    >>> extra_json({"a": 1, "zz": [2]}, frozenset({"a"}))
    '{"zz":[2]}'
    """
    if known.issuperset(obj):
        return None
    return to_json({k: v for k, v in obj.items() if k not in known})


def as_dict(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, {} if null, else an error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TransformError(f"{what}: not an object")
    return value


def as_list(value: Any, what: str) -> list[Any]:
    """``value`` if it is a JSON array, [] if null, else an error."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TransformError(f"{what}: not an array")
    return value


def open_ring(vertices: list[Any]) -> list[Any]:
    """A polygon without its closing vertex: v2 repeats the first point last, v1 does not.

    >>> open_ring([{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 0, "y": 0}])
    [{'x': 0, 'y': 0}, {'x': 1, 'y': 0}]
    """
    if len(vertices) > 1 and vertices[0] == vertices[-1]:
        return vertices[:-1]
    return vertices
