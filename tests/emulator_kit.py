"""An emulator the Airflow connection points at: ``labelbox_default`` through its env var.

``connect(monkeypatch, emu)`` sets ``AIRFLOW_CONN_LABELBOX_DEFAULT`` to the emulator's URL and
API key (undone with ``monkeypatch``); ``connected_emulator(monkeypatch, **world)`` starts an
emulator of ``world`` (``running_emulator``'s options) and connects it, for fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator


def connect(monkeypatch: pytest.MonkeyPatch, emu: EmulatorServer) -> None:
    """Point ``labelbox_default`` at ``emu`` (``AIRFLOW_CONN_LABELBOX_DEFAULT``, JSON)."""
    conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", json.dumps(conn))


@contextmanager
def connected_emulator(monkeypatch: pytest.MonkeyPatch, **world: Any) -> Iterator[EmulatorServer]:
    """A running emulator of ``world``, ``labelbox_default`` pointing at it."""
    with running_emulator(**world) as server:
        connect(monkeypatch, server)
        yield server
