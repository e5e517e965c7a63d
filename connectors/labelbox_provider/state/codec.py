"""The one JSON form of the value objects: windows, manifests, export references, results.

Each value object is a frozen dataclass that inherits :class:`JsonRecord`; msgspec turns it
into JSON-able builtins (dicts, lists, strings, numbers) and back, checking every field's type on
the way in. The builtins are what goes to storage (manifests, ``_watermark.json``, pending
exports), to XCom and to Asset event extras. Datetimes are written as ISO 8601 in UTC with
microseconds and a ``Z`` suffix (``2024-01-01T00:00:00.000000Z``), the form every stored file
already has; any aware ISO 8601 string is read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import msgspec

from labelbox_provider.utc import to_utc


def isoformat(value: datetime, *, error: type[Exception] = ValueError) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z`` suffix (stable, sortable)."""
    return to_utc(value, error=error).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _texts(value: Any) -> Any:
    """``value`` with every datetime written by :func:`isoformat`."""
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):  # msgspec keeps tuples (windows of a checkpoint)
        return [_texts(v) for v in value]
    return value


def to_builtins(value: Any) -> Any:
    """JSON-able builtins of a value object (or a list/dict of them)."""
    return _texts(msgspec.to_builtins(value, builtin_types=(datetime,)))


class JsonRecord:
    """Mixin of the value objects: ``to_dict()`` and ``from_dict()`` through msgspec."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ids, times and counts only: no secrets)."""
        data: dict[str, Any] = to_builtins(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of :meth:`to_dict` (raises ``ValueError`` on a malformed form)."""
        return msgspec.convert(dict(data), cls)
