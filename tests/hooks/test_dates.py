"""Date filter validation: every format of the seed SDK, and the wrong ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from labelbox_provider.exceptions import LabelboxConfigError
from labelbox_provider.hooks.dates import parse_bound, parse_pair, parse_range

pytestmark = pytest.mark.unit

PLUS2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "side", "wire", "instant"),
    [
        pytest.param(
            "2021-01-02", "start", "2021-01-02", datetime(2021, 1, 2, tzinfo=UTC), id="day"
        ),
        pytest.param(
            "2021-01-02 10:11:12",
            "end",
            "2021-01-02 10:11:12",
            datetime(2021, 1, 2, 10, 11, 12, tzinfo=UTC),
            id="day-time",
        ),
        pytest.param(
            "2021-01-02T10:00:00+0200",
            "start",
            "2021-01-02T08:00:00+0000",
            datetime(2021, 1, 2, 8, tzinfo=UTC),
            id="iso-offset-hhmm",
        ),
        pytest.param(
            "2021-01-02T10:00:00-05:30",
            "start",
            "2021-01-02T15:30:00+0000",
            datetime(2021, 1, 2, 15, 30, tzinfo=UTC),
            id="iso-offset-colon",
        ),
        pytest.param(
            "2021-01-02T10:00:00Z",
            "start",
            "2021-01-02T10:00:00+0000",
            datetime(2021, 1, 2, 10, tzinfo=UTC),
            id="iso-z",
        ),
        pytest.param(
            "2021-01-02T10:00:00.250Z",
            "end",
            "2021-01-02T10:00:01+0000",
            datetime(2021, 1, 2, 10, 0, 1, tzinfo=UTC),
            id="iso-fraction-end-ceiled",
        ),
        pytest.param(
            datetime(2021, 1, 2, 10, 0, 0, 999, tzinfo=UTC),
            "start",
            "2021-01-02T10:00:00+0000",
            datetime(2021, 1, 2, 10, tzinfo=UTC),
            id="datetime-fraction-start-floored",
        ),
        pytest.param(
            datetime(2021, 1, 2, 12, tzinfo=PLUS2),
            "start",
            "2021-01-02T10:00:00+0000",
            datetime(2021, 1, 2, 10, tzinfo=UTC),
            id="aware-datetime",
        ),
        pytest.param(
            datetime(2021, 1, 2, 12),
            "start",
            "2021-01-02T12:00:00+0000",
            datetime(2021, 1, 2, 12, tzinfo=UTC),
            id="naive-datetime-is-utc",
        ),
    ],
)
def test_accepted_formats(value: object, side: str, wire: str, instant: datetime) -> None:
    bound = parse_bound("start", value, side)  # type: ignore[arg-type]
    assert bound is not None
    assert bound.wire == wire
    assert bound.instant == instant


@pytest.mark.parametrize("value", [None, "", "   "])
def test_open_bounds(value: str | None) -> None:
    assert parse_bound("end", value, "end") is None


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        pytest.param("2021/01/02", "unrecognised format", id="slashes"),
        pytest.param("02-01-2021", "unrecognised format", id="day-first"),
        pytest.param("2021-13-01", "month must be", id="month-13"),
        pytest.param("2021-02-30", "day is out of range", id="feb-30"),
        pytest.param("2021-01-02 25:00:00", "hour must be", id="hour-25"),
        pytest.param("2021-01-02T10:00:00", "needs an offset", id="iso-without-offset"),
        pytest.param("2021-01-02 10:00", "unrecognised format", id="no-seconds"),
        pytest.param("yesterday", "unrecognised format", id="words"),
        pytest.param(20210102, "is not a date", id="int"),
    ],
)
def test_rejected_formats_say_what_to_fix(value: object, hint: str) -> None:
    with pytest.raises(LabelboxConfigError) as info:
        parse_bound("last_activity_start", value, "start")  # type: ignore[arg-type]
    message = str(info.value)
    assert "last_activity_start" in message
    assert hint in message
    assert '"YYYY-MM-DD hh:mm:ss"' in message


def test_range_start_after_end_is_rejected() -> None:
    with pytest.raises(LabelboxConfigError, match="after end"):
        parse_range("window", "2021-01-03", "2021-01-02 23:59:59")


def test_range_equal_bounds_allowed() -> None:
    lo, hi = parse_range("window", "2021-01-02", "2021-01-02 00:00:00")
    assert lo is not None and hi is not None
    assert lo.instant == hi.instant


@pytest.mark.parametrize("pair", ["2021-01-01", ("2021-01-01",), ("a", "b", "c"), 5])
def test_pair_shape_is_checked(pair: object) -> None:
    with pytest.raises(LabelboxConfigError, match=r"\(start, end\) pair"):
        parse_pair("last_activity", pair)


def test_pair_of_nones_is_no_filter() -> None:
    assert parse_pair("last_activity", (None, None)) is None
    assert parse_pair("last_activity", None) is None
