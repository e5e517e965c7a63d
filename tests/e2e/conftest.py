"""Fixtures of the end-to-end tests (the migrated Airflow DB is `airflow_db`, tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest


@pytest.fixture
def labelbox_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """``connect(emu)``: point the ``labelbox_default`` connection at an emulator (env var)."""

    def connect(emu: object) -> None:
        conn = {"conn_type": "labelbox", "host": emu.url, "password": emu.api_key}  # type: ignore[attr-defined]
        monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", json.dumps(conn))

    yield connect
