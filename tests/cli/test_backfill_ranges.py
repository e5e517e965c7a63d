"""Pure parts of ``backfill-command``: widening gaps to the runs that cover them."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.cli.backfill import gap_commands, logical_ranges
from labelbox_provider.state.windows import Window

pytestmark = pytest.mark.unit

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)  # any midnight


@pytest.mark.parametrize(
    ("gaps", "period", "expected"),
    [
        pytest.param([(6, 30)], "day", [(0, 24)], id="sub-day-gap-widened-to-its-day"),
        pytest.param([(6, 9), (30, 33)], "day", [(0, 24)], id="neighbouring-days-joined"),
        pytest.param([(6, 9), (80, 82)], "day", [(0, 0), (72, 72)], id="far-gaps-kept-apart"),
        pytest.param([(6, 9)], "hour", [(6, 8)], id="hourly-runs"),
    ],
)
def test_logical_ranges(
    gaps: list[tuple[int, int]], period: str, expected: list[tuple[int, int]]
) -> None:
    hour = timedelta(hours=1)
    windows = [Window(DAY0 + a * hour, DAY0 + b * hour) for a, b in gaps]
    got = logical_ranges(windows, period)
    assert got == [(DAY0 + a * hour, DAY0 + b * hour) for a, b in expected]


def test_gap_commands_carry_conf() -> None:
    w = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    (line,) = gap_commands([w], "d", "day", {"project_id": "p"})
    argv = shlex.split(line)
    assert json.loads(argv[argv.index("--dag-run-conf") + 1]) == {"project_id": "p"}
