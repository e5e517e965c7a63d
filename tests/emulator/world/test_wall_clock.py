"""The world's two clocks: fixed (reproducible, the default of ``World``) and wall."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.emulator.world.model import FIXED_START, World

pytestmark = pytest.mark.unit


def test_fixed_clock_starts_at_the_end_of_a_fixed_history_and_stands_still() -> None:
    w = World(seed=1, labels_per_project=3, history_days=30)
    assert w.now() == FIXED_START + timedelta(days=30)
    time.sleep(0.02)
    assert w.now() == FIXED_START + timedelta(days=30)


def test_wall_clock_starts_now_and_runs_with_real_time() -> None:
    before = datetime.now(UTC)
    w = World(seed=1, labels_per_project=3, clock="wall", history_days=2)
    first = w.now()
    assert before - timedelta(seconds=1) <= first <= datetime.now(UTC) + timedelta(seconds=1)
    time.sleep(0.05)
    assert w.now() >= first + timedelta(milliseconds=40)


def test_wall_clock_advance_jumps_ahead_and_keeps_running() -> None:
    w = World(seed=1, labels_per_project=3, clock="wall", history_days=2)
    made = w.advance(3600, events={"label_updated": 2})
    ahead = w.now() - datetime.now(UTC)
    assert timedelta(minutes=59) < ahead <= timedelta(hours=1, seconds=1)
    assert all(e["at"] <= w.now() for e in made)
    made = w.advance(0, events={"label_created": 1})  # at "now": on the wall clock + offset
    assert made[0]["at"] <= w.now()


def test_unknown_clock_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="clock must be one of"):
        World(seed=1, clock="sundial")
