"""Permanent errors fail at once, say what to do, are not retried, and keep the watermark.

The hook's default retry budget (300 s, backoff from 1 s) is used: a retried error could not
finish in the 2 s bound, and the emulator's request log shows the failing call was sent once.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.exceptions import LabelboxConfigError, LabelboxProviderError
from labelbox_provider.hooks.labelbox import LabelboxHook
from labelbox_provider.pipeline.run import MirrorPipeline
from labelbox_provider.state.ledger import Ledger
from labelbox_provider.state.windows import Window

from tests.reliability import kit

pytestmark = pytest.mark.integration

CREATE = "exportDataRowsInProjectPyApi"
CASES = [
    pytest.param({"key": "wrong-key"}, "AuthenticationError", "API key", id="bad-key"),
    pytest.param({"project": "cl-no-such-project"}, "NotFoundError", "project id", id="unknown"),
    pytest.param(
        {"fault": {"kind": "graphql_error", "target": CREATE, "code": "INTERNAL_SERVER_ERROR",
                   "status": 426}},
        "PlanLimitError", "upgrade the plan", id="plan-limit",
    ),
    pytest.param(
        {"fault": {"kind": "graphql_error", "target": CREATE, "code": "MALFORMED_REQUEST",
                   "message": "Invalid filter"}},
        "InvalidRequestError", "export filters", id="malformed-filters",
    ),
]  # fmt: skip


def _pipeline(
    emu: EmulatorServer, root: str, *, key: str | None = None, project: str | None = None
) -> MirrorPipeline:
    hook = LabelboxHook.from_credentials(key or emu.api_key, emu.url)  # default retry budget
    return MirrorPipeline(
        hook, root, project or emu.projects[0]["id"], initial_start=kit.initial_start(emu)
    )


@pytest.mark.parametrize(("case", "error", "advice"), CASES)
def test_a_permanent_error_fails_fast_with_advice_and_keeps_the_watermark(
    emulator: EmulatorServer, tmp_path: Any, case: dict[str, Any], error: str, advice: str
) -> None:
    root = str(tmp_path)
    project = case.get("project") or emulator.projects[0]["id"]
    first = Window(kit.initial_start(emulator), kit.initial_start(emulator) + timedelta(days=5))
    if "project" not in case:  # a committed window first: the watermark has a value to keep
        _pipeline(emulator, root).run_windows([first])
    before = Ledger(root, project).watermark()
    emulator.set_faults([case["fault"]] if "fault" in case else [])
    sent = len(emulator.request_log())
    pipe = _pipeline(emulator, root, key=case.get("key"), project=project)
    started = time.monotonic()
    with pytest.raises(LabelboxProviderError) as caught:
        pipe.catch_up(emulator.world.now())
    elapsed = time.monotonic() - started
    assert type(caught.value).__name__.endswith(error)
    assert advice in str(caught.value) and "not retried" in str(caught.value)
    assert elapsed < 2.0, f"{elapsed:.2f}s: was it retried?"  # the capability itself
    failing = [
        e for e in emulator.request_log()[sent:] if e.get("status", 200) != 200 or e.get("fault")
    ]
    assert len(failing) <= 1, failing  # sent once, not retried
    assert Ledger(root, project).watermark() == before
    assert emulator.api_key not in str(caught.value) + json.dumps(
        emulator.request_log()[sent:], default=str
    )


def test_invalid_dates_fail_before_any_request(emulator: EmulatorServer, tmp_path: Any) -> None:
    sent = len(emulator.request_log())
    with pytest.raises(LabelboxConfigError, match="timezone-aware"):
        MirrorPipeline(
            LabelboxHook.from_credentials(emulator.api_key, emulator.url),
            str(tmp_path),
            emulator.projects[0]["id"],
            initial_start=datetime(2026, 1, 1),  # naive: which zone?
        )
    hook = LabelboxHook.from_credentials(emulator.api_key, emulator.url)
    with pytest.raises(LabelboxConfigError):
        hook.create_export_v2(emulator.projects[0]["id"], last_activity=("2026-13-45", None))
    assert len(emulator.request_log()) == sent  # refused before anything was sent
    assert Ledger(str(tmp_path), emulator.projects[0]["id"]).watermark() is None
