"""Fixtures of the pipeline (and operator) tests: emulator, connection env var, pipelines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.pipeline.run import MirrorPipeline

from tests.emulator_kit import connected_emulator

WORLD = {"media_types": ["IMAGE", "VIDEO"], "labels_per_project": 8}  # small and fast
INITIAL = datetime(2025, 12, 20, tzinfo=UTC)  # before the emulator's history starts


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """A small emulator; ``labelbox_default`` points at it through AIRFLOW_CONN_*."""
    with connected_emulator(monkeypatch, **WORLD) as server:
        yield server


@pytest.fixture
def make_pipeline(emu: EmulatorServer, tmp_path: Path) -> Callable[..., MirrorPipeline]:
    """``make(project_index=0, root=None, **options)``: a pipeline on an emulator project, fast
    polling, its mirror in ``tmp_path`` unless ``root`` is given."""
    from labelbox_provider.hooks.labelbox import LabelboxHook

    def make(project_index: int = 0, root: str | None = None, **options: Any) -> MirrorPipeline:
        defaults: dict[str, Any] = {
            "initial_start": INITIAL,
            "settle_lag": timedelta(minutes=10),
            "lookback": timedelta(hours=1),
            "max_window_span": timedelta(days=10),
            "poll_interval": 0.01,
        }
        project = emu.projects[project_index]["id"]
        root = root or str(tmp_path / "mirror")
        return MirrorPipeline(LabelboxHook(), root, project, **{**defaults, **options})

    return make
