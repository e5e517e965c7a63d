"""Fixtures shared by the reliability tests (their helpers are in ``kit``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator

from tests.reliability import kit


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    """A fresh tiny emulator of ``kit.WORLD`` per test (empty export cache and counters)."""
    with running_emulator(**kit.WORLD) as server:
        yield server


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Fault-free current tables of each format (the same world as the ``emulator``'s)."""
    return kit.reference_tables(tmp_path_factory, kit.WORLD)
