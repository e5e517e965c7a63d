"""Pure window maths: half-open UTC windows, planning, splitting, coverage and gaps.

Nothing here does I/O or reads the clock: ``now`` is always a parameter, so a retried task that
passes the same ``now`` (its run's logical date) plans exactly the same windows.

A window is half-open, ``[start, end)``. The export API's activity filter is inclusive at both
ends and has one-second granularity, so :meth:`Window.filter_bounds` widens a window to whole
seconds; a record active exactly on a boundary is therefore exported by both neighbours, and the
current view (:mod:`labelbox_provider.io.current`) collapses such duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from labelbox_provider.exceptions import WindowError
from labelbox_provider.state import codec
from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.utc import to_utc

SECOND = timedelta(seconds=1)  # granularity of the export API's date filters
SOURCE_FORMATS = ("v1", "v2")  # export v1 (exportLabels) and export v2 (export tasks)
MODES = ("incremental", "backfill", "reconcile")  # why a batch was written
COVERING_MODES = ("incremental", "backfill")  # modes whose batches count as window coverage


def floor_second(value: datetime) -> datetime:
    """Truncate to the whole second at or before ``value``."""
    return value.replace(microsecond=0)


def ceil_second(value: datetime) -> datetime:
    """Round up to the whole second at or after ``value``."""
    floored = floor_second(value)
    return floored if floored == value else floored + SECOND


@dataclass(frozen=True, order=True)
class Window(JsonRecord):
    """A half-open UTC interval ``[start, end)`` with ``start < end``; JSON ``{start, end}``.

    >>> from datetime import UTC
    >>> w = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    >>> w.span
    datetime.timedelta(days=1)
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", to_utc(self.start, "window start", error=WindowError))
        object.__setattr__(self, "end", to_utc(self.end, "window end", error=WindowError))
        if self.start >= self.end:
            raise WindowError(
                f"window start {self.start.isoformat()} must be before end {self.end.isoformat()}"
            )

    @property
    def span(self) -> timedelta:
        """Length of the window."""
        return self.end - self.start

    def contains(self, instant: datetime) -> bool:
        """True when ``start <= instant < end``."""
        return self.start <= to_utc(instant, error=WindowError) < self.end

    def filter_bounds(self) -> tuple[datetime, datetime]:
        """Inclusive, whole-second ``(start, end)`` for the API's ``last_activity`` filter.

        The start is floored and the end rounded up, so every instant of the half-open window
        lies inside the inclusive filter, whatever the sub-second precision of either side.
        """
        return floor_second(self.start), ceil_second(self.end)

    def __str__(self) -> str:
        return f"[{isoformat(self.start)}, {isoformat(self.end)})"


def isoformat(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z`` suffix (stable, sortable)."""
    return codec.isoformat(value, error=WindowError)


def parse_iso(text: str) -> datetime:
    """Parse what :func:`isoformat` wrote (any aware ISO 8601 string), in UTC."""
    return to_utc(datetime.fromisoformat(text), "timestamp", error=WindowError)


def chop(start: datetime, end: datetime, max_span: timedelta) -> list[Window]:
    """Cut ``[start, end)`` into consecutive windows no longer than ``max_span``.

    An empty or inverted range gives no window. Windows are contiguous: each one starts where
    the previous one ends, and the last one ends exactly at ``end``.
    """
    if max_span <= timedelta(0):
        raise WindowError(f"max_span must be positive, got {max_span}")
    start, end = to_utc(start, "start", error=WindowError), to_utc(end, "end", error=WindowError)
    windows: list[Window] = []
    cursor = start
    while cursor < end:
        nxt = min(cursor + max_span, end)
        windows.append(Window(cursor, nxt))
        cursor = nxt
    return windows


def horizon(now: datetime, settle_lag: timedelta) -> datetime:
    """Latest instant a window may end at: ``now - settle_lag``, floored to the second."""
    if settle_lag < timedelta(0):
        raise WindowError(f"settle_lag must not be negative, got {settle_lag}")
    return floor_second(to_utc(now, "now", error=WindowError) - settle_lag)


def plan_incremental(
    *,
    watermark: datetime | None,
    initial_start: datetime,
    now: datetime,
    settle_lag: timedelta,
    lookback: timedelta,
    max_span: timedelta,
) -> list[Window]:
    """Windows for an incremental run, in order, each at most ``max_span`` long.

    The run covers ``[max(initial_start, watermark - lookback), now - settle_lag)`` (the end
    floored to the second). With no watermark yet it starts at ``initial_start``. When the
    range is empty (the watermark is already at the horizon) the plan is empty.
    """
    if lookback < timedelta(0):
        raise WindowError(f"lookback must not be negative, got {lookback}")
    initial = to_utc(initial_start, "initial_start", error=WindowError)
    start = (
        initial
        if watermark is None
        else max(initial, to_utc(watermark, error=WindowError) - lookback)
    )
    return chop(start, horizon(now, settle_lag), max_span)


def plan_backfill(
    *,
    start: datetime,
    end: datetime,
    max_span: timedelta,
    now: datetime | None = None,
    settle_lag: timedelta = timedelta(0),
) -> list[Window]:
    """Windows for an explicit interval ``[start, end)`` (e.g. an Airflow data interval).

    When ``now`` is given the interval is clipped to the settle horizon, so a backfill that
    reaches into the present never exports activity that may not have settled yet.
    """
    stop = to_utc(end, "end")
    if now is not None:
        stop = min(stop, horizon(now, settle_lag))
    return chop(start, stop, max_span)


def split_window(w: Window, parts: int = 2, *, min_span: timedelta = SECOND) -> list[Window]:
    """Split ``w`` into ``parts`` contiguous windows of (nearly) equal length.

    Used when an export exceeds its line/byte budget or times out: the pieces are exported and
    committed separately. Pieces shorter than ``min_span`` are refused with :class:`WindowError`
    (splitting below the API's one-second filter granularity cannot make an export smaller).
    """
    if parts < 2:
        raise WindowError(f"parts must be at least 2, got {parts}")
    if w.span < min_span * parts:
        raise WindowError(f"window {w} is too short to split into {parts} parts of {min_span}")
    cuts = [w.start + (w.span * i) // parts for i in range(1, parts)]
    bounds = [w.start, *cuts, w.end]
    return [Window(a, b) for a, b in pairwise(bounds)]


def merge(windows: Iterable[Window]) -> list[Window]:
    """Union of windows as sorted, disjoint, non-adjacent windows (touching ones are joined)."""
    merged: list[Window] = []
    for w in sorted(windows):
        if merged and w.start <= merged[-1].end:
            if w.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, w.end)
        else:
            merged.append(w)
    return merged


def gaps(covered: Iterable[Window], start: datetime, until: datetime) -> list[Window]:
    """The parts of ``[start, until)`` that no window in ``covered`` covers, in order."""
    start, until = to_utc(start, "start"), to_utc(until, "until")
    holes: list[Window] = []
    cursor = start
    for w in merge(covered):
        if w.end <= cursor:
            continue
        if w.start >= until:
            break
        if w.start > cursor:
            holes.append(Window(cursor, w.start))
        cursor = max(cursor, w.end)
    if cursor < until:
        holes.append(Window(cursor, until))
    return holes


def contiguous_end(covered: Iterable[Window], start: datetime) -> datetime | None:
    """End of the covered range that runs without a gap from ``start``; None if not covered."""
    start = to_utc(start, "start")
    for w in merge(covered):
        if w.start <= start < w.end:
            return w.end
    return None


def advance_watermark(
    current: datetime | None, covered: Iterable[Window], initial_start: datetime
) -> datetime | None:
    """New watermark: the end of contiguous coverage from ``initial_start``, never lower."""
    reached = contiguous_end(covered, initial_start)
    if current is None:
        return reached
    current = to_utc(current, "watermark")
    return current if reached is None else max(current, reached)


def _stamp(value: datetime) -> str:
    """Compact, path-safe UTC stamp: ``20240131T235959Z`` (``.ffffff`` only when non-zero)."""
    text = to_utc(value).strftime("%Y%m%dT%H%M%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def batch_id_for(project_id: str, w: Window, source_format: str, mode: str = "incremental") -> str:
    """Deterministic, path-safe batch id: the same window and run kind give the same id.

    Re-running a window therefore replaces its batch instead of adding a duplicate. The id is
    readable (mode, format, window) and ends with a short hash that also binds the project.

    >>> from datetime import UTC
    >>> w = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    >>> batch_id_for("p1", w, "v2").startswith("incremental-v2-20240101T000000Z-20240102T000000Z-")
    True
    """
    if source_format not in SOURCE_FORMATS:
        raise WindowError(f"source_format must be one of {SOURCE_FORMATS}, got {source_format!r}")
    if mode not in MODES:
        raise WindowError(f"mode must be one of {MODES}, got {mode!r}")
    key = "|".join((project_id, mode, source_format, isoformat(w.start), isoformat(w.end)))
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"{mode}-{source_format}-{_stamp(w.start)}-{_stamp(w.end)}-{digest}"
