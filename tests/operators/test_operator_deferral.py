"""The operator's deferral protocol, driven by hand: execute -> TaskDeferred -> trigger ->
execute_complete (-> TaskDeferred again for the next window) -> summary and Asset events."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred
from airflow.sdk.execution_time.context import OutletEventAccessors
from labelbox_provider.assets import mirror_alias
from labelbox_provider.operators.labelbox import LabelboxIncrementalExportOperator
from labelbox_provider.state.ledger import Ledger

from tests.reliability.kit import fire, step

pytestmark = pytest.mark.integration


def _context(emu: Any) -> dict[str, Any]:
    return {"data_interval_end": emu.world.now(), "outlet_events": OutletEventAccessors()}


@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_deferrable_run_commits_every_window_and_emits_events(emu, tmp_path: Path, fmt):
    project = emu.projects[0]["id"]
    op = LabelboxIncrementalExportOperator(
        task_id="mirror",
        project_id=project,
        destination=str(tmp_path),
        export_format=fmt,
        initial_start=emu.world.now() - timedelta(days=31),
        max_window_span=timedelta(days=12),  # three windows
        poll_interval=0.01,
        deferrable=True,
    )
    context = _context(emu)
    deferrals = 0
    result, deferral = step(op.execute, context)
    while deferral is not None:
        deferrals += 1
        assert deferral.method_name == "execute_complete"
        event = fire(deferral.trigger)
        assert event["status"] == "success"
        result, deferral = step(op.execute_complete, context, event)
    assert deferrals == 3 == len(result["batches"])
    assert result["watermark"] == Ledger(str(tmp_path), project).watermark().isoformat(
        timespec="microseconds"
    ).replace("+00:00", "Z")
    assert emu.api_key not in str(result) and "Signature" not in str(result)
    alias_events = context["outlet_events"][mirror_alias()].asset_alias_events
    assert [e.extra["batch_id"] for e in alias_events] == result["batches"]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(("failed", "", "LabelboxExportFailedError", True), id="server-failed"),
        pytest.param(
            ("error", "LabelboxServerError", "LabelboxServerError", False), id="transient"
        ),
        pytest.param(("timeout", "", "LabelboxExportTimeoutError", False), id="timeout-no-split"),
    ],
)
def test_only_a_server_failure_forgets_the_pending_export(
    emu, tmp_path: Path, case: tuple[str, str, str, bool]
):
    status, error_type, raised, forgotten = case
    op = LabelboxIncrementalExportOperator(
        task_id="mirror",
        project_id=emu.projects[0]["id"],
        destination=str(tmp_path),
        initial_start=emu.world.now() - timedelta(days=2),
        deferrable=True,
    )
    context = _context(emu)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    fired = fire(deferred.value.trigger)
    event = {**fired, "status": status, "error_type": error_type, "message": "boom: quota"}
    if status == "timeout":  # a window too short to split
        op.pipeline.config = replace(op.pipeline.config, min_split_span=timedelta(days=365))
    with pytest.raises(Exception, match="boom: quota") as caught:
        op.execute_complete(context, event)
    assert type(caught.value).__name__ == raised
    pending = op.pipeline.ledger.pending_exports()
    assert (pending == []) is forgotten
    if not forgotten:  # the retry re-attaches to the export this try started
        again = op.pipeline.start_export(op.pipeline.plan(emu.world.now())[0])
        assert again.reattached and again.export_id == fired["export_id"]
