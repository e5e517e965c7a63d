"""Fixtures of the DAG tests that run against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from labelbox_provider.emulator.testing import running_emulator


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A small two-project emulator, with ``labelbox_default`` pointing at it."""
    with running_emulator(media_types=["IMAGE", "TEXT"], labels_per_project=8) as emu:
        conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}
        monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", json.dumps(conn))
        yield emu
