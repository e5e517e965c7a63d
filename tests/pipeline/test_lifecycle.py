"""The export lifecycle: one status mapping, one polling machine, one meaning per ending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from labelbox_provider.exceptions import (
    LabelboxExportFailedError,
    LabelboxExportTimeoutError,
    LabelboxServerError,
)
from labelbox_provider.pipeline import lifecycle
from labelbox_provider.pipeline.lifecycle import Conclusion, ExportEnding, Watch
from labelbox_provider.pipeline.types import ExportRef, ExportState
from labelbox_provider.state.windows import Window

W = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def _ref(fmt: str = "v2") -> ExportRef:
    return ExportRef(
        batch_id="b",
        window=W,
        source_format=fmt,
        mode="incremental",
        export_id="t1",
        project_id="p",
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("fmt", "answer", "status"),
    [
        pytest.param("v2", SimpleNamespace(status="COMPLETE"), "success", id="v2-complete"),
        pytest.param("v2", SimpleNamespace(status="FAILED", errors="x"), "failed", id="v2-failed"),
        pytest.param("v2", SimpleNamespace(status="IN_PROGRESS"), "running", id="v2-running"),
        pytest.param("v1", SimpleNamespace(ready=True), "success", id="v1-ready"),
        pytest.param("v1", SimpleNamespace(ready=False, should_poll=True), "running", id="v1-poll"),
        pytest.param(
            "v1", SimpleNamespace(ready=False, should_poll=False), "failed", id="v1-nourl"
        ),
    ],
)
def test_one_status_mapping_for_both_formats(fmt: str, answer: Any, status: str) -> None:
    assert lifecycle.state_of(_ref(fmt), answer).status == status


@pytest.mark.unit
def test_polling_starts_fast_and_backs_off_to_the_interval() -> None:
    now = [0.0]
    machine = Watch(_ref(), deadline=100.0, poll_interval=10.0, clock=lambda: now[0])
    delays = []
    while machine.observe(ExportState("running")) is None:
        delays.append(machine.delay())
        now[0] += delays[-1]
    assert delays[:6] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert max(delays) == 10.0 and sum(delays) == pytest.approx(100.0)  # never past the deadline


@pytest.mark.unit
@pytest.mark.parametrize(
    ("ending", "error_type", "raised"),
    [
        pytest.param(ExportEnding.FAILED, "", LabelboxExportFailedError, id="failed"),
        pytest.param(ExportEnding.TIMEOUT, "", LabelboxExportTimeoutError, id="timeout"),
        pytest.param(ExportEnding.ERROR, "LabelboxServerError", LabelboxServerError, id="error"),
    ],
)
def test_an_event_round_trip_raises_the_same_error_class(ending, error_type, raised) -> None:
    sent = Conclusion(ending, "boom", error_type=error_type)
    back = Conclusion.from_event(sent.to_event())
    assert back == sent
    assert type(back.error()) is raised and str(back.error()) == "boom"


@pytest.mark.unit
def test_an_unknown_status_is_an_error_not_a_success() -> None:
    assert Conclusion.from_event({"status": "weird"}).ending is ExportEnding.ERROR


@pytest.mark.integration
def test_a_quick_export_costs_well_under_the_poll_interval_plain(emu, make_pipeline) -> None:
    emu.settings.update({"v2_polls": 2})  # two IN_PROGRESS answers, then COMPLETE
    slept: list[float] = []
    pipe = make_pipeline(poll_interval=30.0)
    pipe._sleep = slept.append
    ref = pipe.start_export(Window(emu.world.now() - timedelta(days=3), emu.world.now()))
    assert pipe.watch(ref).ending is ExportEnding.SUCCESS
    assert slept == [0.5, 1.0]  # 1.5 s of waiting, not 2 x 30 s


@pytest.mark.integration
def test_a_quick_export_costs_well_under_the_poll_interval_trigger(emu, make_pipeline) -> None:
    """The trigger's driver (``awatch``, what ``LabelboxExportTrigger.run`` awaits)."""
    from labelbox_provider.hooks.labelbox import LabelboxHook

    emu.settings.update({"v2_polls": 2})
    ref = make_pipeline().start_export(Window(emu.world.now() - timedelta(days=3), emu.world.now()))
    slept: list[float] = []

    async def record(delay: float) -> None:
        slept.append(delay)

    hook = LabelboxHook()
    watch = lifecycle.awatch(hook, ref, deadline=None, poll_interval=30.0, sleep=record)
    assert asyncio.run(watch).ending is ExportEnding.SUCCESS
    assert slept == [0.5, 1.0]
