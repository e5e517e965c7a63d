"""The example DAG files: they import without touching the network and have the expected shape."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

DAGS = Path(__file__).resolve().parents[2] / "dags"


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"DAG file {name} opened a network connection at import")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    spec = importlib.util.spec_from_file_location(f"example_{name}", DAGS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "task_ids", "markers"),
    [
        ("labelbox_incremental", {"projects", "mirror"}, "labelbox_incremental"),
        ("labelbox_backfill", {"projects", "backfill_window"}, "labelbox_backfill"),
        ("labelbox_reconcile", {"projects", "reconcile"}, "labelbox_reconcile"),
    ],
)
def test_example_dag_imports_offline_with_doc_markers(name, task_ids, markers, monkeypatch):
    module = _load(name, monkeypatch)
    assert module.dag.dag_id == name
    assert set(module.dag.task_dict) == task_ids
    text = (DAGS / f"{name}.py").read_text()
    assert f"# [START {markers}]" in text and f"# [END {markers}]" in text


def test_backfill_dag_runs_only_when_triggered_with_a_window(monkeypatch):
    module = _load("labelbox_backfill", monkeypatch)
    assert module.dag.timetable.can_be_scheduled is False  # schedule=None
    task = module.dag.task_dict["backfill_window"]
    assert task.partial_kwargs["mode"] == "backfill"
    assert task.partial_kwargs["window_end"] == "{{ params.window_end }}"
