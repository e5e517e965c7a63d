"""The deferrable trigger: serialisation round trip and one event per run, over real HTTP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from labelbox_provider.pipeline.types import ExportRef
from labelbox_provider.state.windows import Window
from labelbox_provider.triggers.labelbox import LabelboxExportTrigger

W = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def _events(trigger: LabelboxExportTrigger) -> list[dict]:
    async def collect() -> list[dict]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


@pytest.mark.unit
def test_serialize_round_trip_rebuilds_an_equal_trigger():
    ref = ExportRef(
        project_id="cl1234",
        window=W,
        mode="incremental",
        source_format="v2",
        export_id="task-1",
        batch_id="batch-1",
    ).to_dict()
    trigger = LabelboxExportTrigger(ref, "lbx", 0.5, 123.0, {"queue": []})
    path, kwargs = trigger.serialize()
    assert path == "labelbox_provider.triggers.labelbox.LabelboxExportTrigger"
    rebuilt = LabelboxExportTrigger(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)
    assert kwargs["export"]["export_id"] == "task-1" and kwargs["carry"] == {"queue": []}


@pytest.mark.integration
@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_run_yields_one_success_event_with_ids(emu, make_pipeline, fmt):
    pipe = make_pipeline(export_format=fmt)
    ref = pipe.start_export(Window(emu.world.now() - timedelta(days=3), emu.world.now()))
    events = _events(LabelboxExportTrigger(ref.to_dict(), poll_interval=0.01, carry={"x": 1}))
    assert len(events) == 1
    event = events[0]
    assert event["status"] == "success" and event["export_id"] == ref.export_id
    assert event["batch_id"] == ref.batch_id and event["state"] == {"x": 1}
    assert event["created_at"] and emu.api_key not in str(event)


@pytest.mark.integration
def test_unknown_task_yields_an_error_event_with_the_message(emu):
    ref = ExportRef(
        project_id=emu.projects[0]["id"],
        window=W,
        mode="incremental",
        source_format="v2",
        export_id="no-such-task",
        batch_id="b",
    )
    (event,) = _events(LabelboxExportTrigger(ref.to_dict(), poll_interval=0.01))
    assert event["status"] == "error" and "no-such-task" in event["message"]


@pytest.mark.integration
def test_deadline_yields_a_timeout_event(emu, make_pipeline):
    emu.settings.update({"v2_polls": 1000})
    ref = make_pipeline().start_export(W)
    trigger = LabelboxExportTrigger(ref.to_dict(), poll_interval=0.01, deadline=time.time() + 0.2)
    (event,) = _events(trigger)
    assert event["status"] == "timeout" and ref.export_id in event["message"]
