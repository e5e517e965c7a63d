"""Pure parts of ``backfill-command``: one ``airflow dags trigger`` per gap, exactly its window."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.cli.backfill import gap_commands
from labelbox_provider.state.windows import Window

pytestmark = pytest.mark.unit

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)  # any midnight


def test_one_command_per_gap_oldest_first_with_the_exact_window() -> None:
    hour = timedelta(hours=1)
    gaps = [Window(DAY0 + 80 * hour, DAY0 + 82 * hour), Window(DAY0 + 6 * hour, DAY0 + 9 * hour)]
    lines = gap_commands(gaps, "d", {"project_ids": ["p"]})
    confs = [json.loads(shlex.split(line)[-1]) for line in lines]
    assert [shlex.split(line)[:4] for line in lines] == [["airflow", "dags", "trigger", "d"]] * 2
    assert confs == [
        {
            "project_ids": ["p"],
            "window_start": "2024-03-01T06:00:00Z",
            "window_end": "2024-03-01T09:00:00Z",
        },
        {
            "project_ids": ["p"],
            "window_start": "2024-03-04T08:00:00Z",
            "window_end": "2024-03-04T10:00:00Z",
        },
    ]


def test_no_gap_no_command() -> None:
    assert gap_commands([], "d") == []
