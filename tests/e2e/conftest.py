"""Fixtures of the end-to-end tests (the migrated Airflow DB is `airflow_db`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from labelbox_provider.emulator.server import EmulatorServer

from tests.emulator_kit import connect


@pytest.fixture
def labelbox_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """``connect(emu)``: point the ``labelbox_default`` connection at an emulator (env var)."""

    def connect_emulator(emu: EmulatorServer) -> None:
        connect(monkeypatch, emu)

    yield connect_emulator
