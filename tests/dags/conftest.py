"""Fixtures of the DAG tests that run against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator_kit import connected_emulator


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A small two-project emulator, with ``labelbox_default`` pointing at it."""
    with connected_emulator(
        monkeypatch, media_types=["IMAGE", "TEXT"], labels_per_project=8
    ) as emu:
        yield emu
