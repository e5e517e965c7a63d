"""Property tests of the pure window maths (planning, coverage, gaps, splitting, batch ids)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labelbox_provider.exceptions import WindowError
from labelbox_provider.state.windows import (
    Window,
    advance_watermark,
    batch_id_for,
    chop,
    contiguous_end,
    gaps,
    merge,
    plan_backfill,
    plan_incremental,
    split_window,
)

pytestmark = pytest.mark.unit

T0 = datetime(2024, 1, 1, tzinfo=UTC)
micros = st.integers(min_value=0, max_value=10 * 86_400 * 10**6)
instants = micros.map(lambda us: T0 + timedelta(microseconds=us))
spans = st.integers(min_value=1, max_value=3 * 86_400 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)
windows = st.tuples(instants, spans).map(lambda p: Window(p[0], p[0] + p[1]))
lags = st.integers(min_value=0, max_value=3600).map(lambda s: timedelta(seconds=s))
steps = st.lists(st.integers(min_value=0, max_value=2 * 86_400), min_size=1, max_size=8)
short_steps = st.lists(st.integers(min_value=0, max_value=6 * 3600), min_size=1, max_size=8)
long_spans = st.integers(min_value=3600, max_value=3 * 86_400).map(lambda s: timedelta(seconds=s))


def _run_incrementals(
    run_offsets: list[int], settle: timedelta, lookback: timedelta, max_span: timedelta
) -> tuple[list[Window], list[tuple[datetime, datetime | None]]]:
    """Simulate scheduled runs: plan, commit every window, advance the watermark."""
    covered: list[Window] = []
    history: list[tuple[datetime, datetime | None]] = []
    watermark: datetime | None = None
    now = T0
    for offset in run_offsets:
        now = now + timedelta(seconds=offset)
        plan = plan_incremental(
            watermark=watermark,
            initial_start=T0,
            now=now,
            settle_lag=settle,
            lookback=lookback,
            max_span=max_span,
        )
        covered.extend(plan)
        watermark = advance_watermark(watermark, covered, T0)
        history.append((now, watermark))
    return covered, history


@settings(max_examples=200, deadline=None)
@given(steps, lags, lags, st.integers(min_value=3600, max_value=86_400))
def test_incremental_runs_cover_without_gap_and_respect_the_horizon(
    run_offsets: list[int], settle: timedelta, lookback: timedelta, span_s: int
) -> None:
    covered, history = _run_incrementals(run_offsets, settle, lookback, timedelta(seconds=span_s))
    previous: datetime | None = None
    for now, watermark in history:
        if watermark is not None:
            assert gaps(covered, T0, watermark) == []  # no gap from the start
            assert watermark <= now - settle  # never past the settle horizon
        if previous is not None:
            assert watermark is not None and watermark >= previous  # never decreases
        previous = watermark
    for w in covered:
        assert w.span <= timedelta(seconds=span_s)


@settings(max_examples=200, deadline=None)
@given(short_steps, lags, lags, st.integers(min_value=600, max_value=7200))
def test_activity_on_a_boundary_is_captured(
    run_offsets: list[int], settle: timedelta, lookback: timedelta, span_s: int
) -> None:
    covered, history = _run_incrementals(run_offsets, settle, lookback, timedelta(seconds=span_s))
    watermark = history[-1][1]
    boundaries = {b for w in covered for b in (w.start, w.end)}
    for instant in boundaries:
        if watermark is None or instant >= watermark:
            continue
        # the half-open windows own it, and the inclusive API filter of that window returns it
        owners = [w for w in covered if w.contains(instant)]
        assert owners
        for w in owners:
            lo, hi = w.filter_bounds()
            assert lo <= instant <= hi


@settings(max_examples=200, deadline=None)
@given(windows, instants)
def test_filter_bounds_are_whole_seconds_containing_the_window(w: Window, t: datetime) -> None:
    lo, hi = w.filter_bounds()
    assert lo.microsecond == 0 and hi.microsecond == 0
    assert lo <= w.start and w.end <= hi and hi - w.end < timedelta(seconds=1)
    if w.contains(t):
        assert lo <= t <= hi


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.just("run"), st.integers(0, 86_400)), st.tuples(windows))))
def test_backfills_never_move_the_watermark_backwards(events: list[tuple[object, ...]]) -> None:
    covered: list[Window] = []
    watermark: datetime | None = None
    now = T0
    for event in events:
        if event[0] == "run":
            now += timedelta(seconds=int(str(event[1])))
            covered += plan_incremental(
                watermark=watermark,
                initial_start=T0,
                now=now,
                settle_lag=timedelta(minutes=5),
                lookback=timedelta(minutes=10),
                max_span=timedelta(hours=6),
            )
        else:
            w = event[0]
            assert isinstance(w, Window)
            covered += plan_backfill(start=w.start, end=w.end, max_span=timedelta(hours=6))
        new = advance_watermark(watermark, covered, T0)
        if watermark is not None:
            assert new is not None and new >= watermark
        watermark = new
        if watermark is not None:
            assert gaps(covered, T0, watermark) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(windows, max_size=12), windows)
def test_gaps_and_coverage_partition_the_range(covered: list[Window], rng: Window) -> None:
    holes = gaps(covered, rng.start, rng.end)
    inside = [
        Window(max(w.start, rng.start), min(w.end, rng.end))
        for w in covered
        if w.start < rng.end and w.end > rng.start
    ]
    assert merge(holes + inside) == [rng]  # together: everything
    for hole in holes:  # and disjoint
        assert all(hole.end <= w.start or w.end <= hole.start for w in covered)
    assert holes == merge(holes)  # sorted, non-overlapping


@settings(max_examples=300, deadline=None)
@given(windows, st.integers(min_value=2, max_value=9))
def test_split_window_gives_contiguous_pieces(w: Window, parts: int) -> None:
    min_span = timedelta(seconds=1)
    if w.span < min_span * parts:
        with pytest.raises(WindowError):
            split_window(w, parts, min_span=min_span)
        return
    pieces = split_window(w, parts, min_span=min_span)
    assert len(pieces) == parts
    assert pieces[0].start == w.start and pieces[-1].end == w.end
    assert all(a.end == b.start for a, b in pairwise(pieces))
    assert all(p.span >= min_span for p in pieces)
    assert max(p.span for p in pieces) - min(p.span for p in pieces) <= timedelta(microseconds=1)


@settings(max_examples=200, deadline=None)
@given(instants, instants, long_spans)
def test_chop_is_contiguous_and_bounded(a: datetime, b: datetime, max_span: timedelta) -> None:
    pieces = chop(a, b, max_span)
    if a >= b:
        assert pieces == []
        return
    assert merge(pieces) == [Window(a, b)]
    assert all(x.end == y.start for x, y in pairwise(pieces))
    assert all(p.span <= max_span for p in pieces)


def test_plan_incremental_examples() -> None:
    now = datetime(2024, 1, 2, 0, 0, 30, 500_000, tzinfo=UTC)
    first = plan_incremental(
        watermark=None,
        initial_start=T0,
        now=now,
        settle_lag=timedelta(seconds=30),
        lookback=timedelta(hours=1),
        max_span=timedelta(hours=12),
    )
    assert first == [
        Window(T0, T0 + timedelta(hours=12)),
        Window(T0 + timedelta(hours=12), T0 + timedelta(days=1)),
    ]
    later = plan_incremental(
        watermark=T0 + timedelta(days=1),
        initial_start=T0,
        now=now + timedelta(hours=2),
        settle_lag=timedelta(seconds=30),
        lookback=timedelta(hours=1),
        max_span=timedelta(hours=12),
    )
    assert later == [Window(T0 + timedelta(hours=23), T0 + timedelta(days=1, hours=2))]
    caught_up = plan_incremental(
        watermark=T0 + timedelta(days=1),
        initial_start=T0,
        now=T0 + timedelta(days=1),
        settle_lag=timedelta(seconds=30),
        lookback=timedelta(0),
        max_span=timedelta(hours=12),
    )
    assert caught_up == []


def test_plan_backfill_clips_to_the_settle_horizon() -> None:
    plan = plan_backfill(
        start=T0,
        end=T0 + timedelta(days=2),
        max_span=timedelta(days=1),
        now=T0 + timedelta(days=1, hours=1),
        settle_lag=timedelta(hours=1),
    )
    assert plan == [Window(T0, T0 + timedelta(days=1))]


def test_window_validation_and_normalisation() -> None:
    with pytest.raises(WindowError, match="timezone-aware"):
        Window(datetime(2024, 1, 1), datetime(2024, 1, 2))
    with pytest.raises(WindowError, match="before end"):
        Window(T0, T0)
    plus2 = timezone(timedelta(hours=2))
    w = Window(datetime(2024, 1, 1, 2, tzinfo=plus2), datetime(2024, 1, 1, 3, tzinfo=plus2))
    assert w.start == T0 and w.start.tzinfo is UTC
    assert Window.from_dict(w.to_dict()) == w
    assert str(w) == "[2024-01-01T00:00:00.000000Z, 2024-01-01T01:00:00.000000Z)"


def test_contiguous_end_needs_the_start_covered() -> None:
    hour = timedelta(hours=1)
    covered = [Window(T0 + hour, T0 + 2 * hour), Window(T0, T0 + hour)]
    assert contiguous_end(covered, T0) == T0 + 2 * hour
    assert contiguous_end(covered[:1], T0) is None
    assert advance_watermark(T0 + 5 * hour, covered, T0) == T0 + 5 * hour


@settings(max_examples=200, deadline=None)
@given(windows, windows, st.sampled_from(["v1", "v2"]))
def test_batch_ids_are_deterministic_distinct_and_path_safe(a: Window, b: Window, fmt: str) -> None:
    ida = batch_id_for("proj", a, fmt)
    assert ida == batch_id_for("proj", a, fmt)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", ida)
    assert (ida == batch_id_for("proj", b, fmt)) == (a == b)
    assert ida != batch_id_for("other", a, fmt)
    assert ida != batch_id_for("proj", a, fmt, "backfill")


def test_batch_id_rejects_unknown_format_and_mode() -> None:
    w = Window(T0, T0 + timedelta(hours=1))
    with pytest.raises(WindowError):
        batch_id_for("p", w, "v3")
    with pytest.raises(WindowError):
        batch_id_for("p", w, "v2", "sometimes")


def test_the_worked_example_of_docs_semantics() -> None:
    """docs/semantics.md, "A worked example": the plans of runs 1 and 2 and the watermarks."""

    def h(n: float) -> datetime:
        return T0 + timedelta(hours=n)

    def plan(watermark: datetime | None, now: datetime) -> list[Window]:
        return plan_incremental(
            watermark=watermark,
            initial_start=T0,
            now=now,
            settle_lag=timedelta(minutes=5),
            lookback=timedelta(minutes=10),
            max_span=timedelta(hours=6),
        )

    run1 = plan(None, h(12) + timedelta(minutes=5))
    assert run1 == [Window(h(0), h(6)), Window(h(6), h(12))]
    wm1 = advance_watermark(None, run1, T0)
    assert wm1 == h(12)
    run2 = plan(wm1, h(18) + timedelta(minutes=5))
    ten = timedelta(minutes=10)
    assert run2 == [Window(h(12) - ten, h(18) - ten), Window(h(18) - ten, h(18))]
    assert advance_watermark(wm1, run1 + run2, T0) == h(18)
    assert gaps(run1[:1] + run2, T0, h(18)) == [Window(h(6), h(12) - ten)]
    assert advance_watermark(h(18), [Window(h(6), h(12))], T0) == h(18)  # backfill E
