"""The server's clock follows the wall clock by default; the test fixtures pin a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.emulator.cli import _server_kwargs, build_parser
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.emulator.world.model import FIXED_START

pytestmark = pytest.mark.integration


def test_server_default_is_the_wall_clock() -> None:
    with EmulatorServer(media_types=["IMAGE"], labels_per_project=2) as emu:
        assert emu.world.clock == "wall"
        assert abs(emu.world.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_test_fixtures_pin_the_fixed_clock() -> None:
    with running_emulator(media_types=["IMAGE"], history_days=30) as emu:
        assert emu.world.clock == "fixed"
        assert emu.world.now() == FIXED_START + timedelta(days=30)


def test_cli_defaults_to_wall_and_takes_a_fixed_start() -> None:
    assert _server_kwargs(build_parser().parse_args(["serve"]))["clock"] == "wall"
    args = build_parser().parse_args(["serve", "--clock", "fixed", "--start", "2025-03-01"])
    kwargs = _server_kwargs(args)
    assert kwargs["clock"] == "fixed"
    assert kwargs["start"] == datetime(2025, 3, 1, tzinfo=UTC)


def test_cli_rejects_a_bad_start() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--start", "yesterday"])
