"""The official labelbox SDK, unmodified, against the emulator (run in the SDK venvs).

SDK 3.78.1 (last release with export v1) drives ``Project.export_labels`` and
``label_generator``; SDK 7.17.0 drives ``Project.export`` / ``wait_till_done`` /
``get_buffered_stream``. Each run is a subprocess printing one JSON line; the test compares
what the SDK received with the emulator's world. Neither SDK needs more than
``Client(api_key=..., endpoint=<emulator>/graphql)`` for exports (7.x builds a REST client from
``rest_endpoint`` but never calls it on these paths).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from labelbox_provider.emulator.server import EmulatorServer

pytestmark = pytest.mark.conformance

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SDK3 = REPO / ".venv-sdk3" / "bin" / "python"
SDK7 = REPO / ".venv-sdk7" / "bin" / "python"


def _run(python: Path, script: str, args: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    if not python.exists():
        pytest.fail(f"SDK venv missing: {python.parent.parent}; run `make sdk-venvs` first")
    done = subprocess.run(
        [str(python), str(HERE / script), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"SDK run failed:\n{done.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _with_base(emu: EmulatorServer, records: Any) -> Any:
    return json.loads(json.dumps(list(records)).replace("{base_url}", emu.base_url))


def _project(emu: EmulatorServer, media_type: str) -> str:
    return next(p["id"] for p in emu.projects if p["media_type"] == media_type)


def test_sdk3_export_labels_with_date_filters(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    from labelbox_provider.emulator.world import ExportFilter

    emu = labelbox_emulator_factory(media_types=("IMAGE",), labels_per_project=20, v1_polls=1)
    pid = _project(emu, "IMAGE")
    created = sorted(t["created_at"] for t in emu.ground_truth(pid))
    lo, hi = created[3], created[15]
    kwargs = {
        "start": lo.strftime("%Y-%m-%d %H:%M:%S"),
        "end": hi.strftime("%Y-%m-%d %H:%M:%S"),
        "last_activity_start": "2020-01-01",
        "last_activity_end": "2099-12-31",
    }
    args = {"url": emu.url, "api_key": emu.api_key, "project_id": pid, "mode": "export_labels"}
    got = _run(SDK3, "sdk_v1_script.py", {**args, "kwargs": kwargs})
    assert got["sdk"] == "3.78.1"
    flt = ExportFilter(
        label_created=(lo.replace(microsecond=0), hi.replace(microsecond=0)),
        last_activity=(
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        ),
    )
    expected = _with_base(emu, emu.world.iter_v1(pid, flt))
    assert got["records"] == expected
    assert 0 < len(got["ids"]) < 20
    polls = [e for e in emu.request_log() if e.get("operation") == "GetLabelExportUrlPyApi"]
    assert len(polls) == 2  # shouldPoll once, then the URL
    assert len(emu.exports_created()) == 1


def test_sdk3_survives_a_retried_5xx(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    rule = {"kind": "http_5xx", "target": "GetLabelExportUrlPyApi", "status": 502, "count": 1}
    emu = labelbox_emulator_factory(media_types=("TEXT",), faults=[rule])
    pid = _project(emu, "TEXT")
    args = {"url": emu.url, "api_key": emu.api_key, "project_id": pid, "mode": "export_labels"}
    got = _run(SDK3, "sdk_v1_script.py", args)
    from labelbox_provider.emulator.world import ExportFilter

    assert got["ids"] == [r["ID"] for r in emu.world.iter_v1(pid, ExportFilter())]
    assert emu.fault_counts() == {"http_5xx": 1}


def _require_sdk3_converter() -> None:
    """label_generator needs the SDK's [data] extra; its absence is a set-up error, not a skip."""
    if not SDK3.exists():
        pytest.fail(f"SDK venv missing: {SDK3.parent.parent}; run `make sdk-venvs` first")
    probe = "from labelbox.data.serialization import LBV1Converter"
    done = subprocess.run([str(SDK3), "-c", probe], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(
            "label_generator needs labelbox[data]==3.78.1 in .venv-sdk3 (make sdk-venvs): "
            + done.stderr.strip().splitlines()[-1]
        )


@pytest.mark.parametrize("media_type", ["IMAGE", "VIDEO"])
def test_sdk3_label_generator(
    labelbox_emulator_factory: Callable[..., EmulatorServer], media_type: str
) -> None:
    _require_sdk3_converter()
    emu = labelbox_emulator_factory(media_types=(media_type,), labels_per_project=6)
    pid = _project(emu, media_type)
    args = {"url": emu.url, "api_key": emu.api_key, "project_id": pid, "mode": "label_generator"}
    got = _run(SDK3, "sdk_v1_script.py", args)
    truth = [t for t in emu.ground_truth(pid) if not t["skipped"]]
    assert sorted(got["ids"]) == sorted(t["label_id"] for t in truth)
    assert got["data_types"] == (["VideoData"] if media_type == "VIDEO" else ["ImageData"])


def test_sdk7_streamed_export_honours_filters_in_the_user_timezone(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    from labelbox_provider.emulator.world import ExportFilter, V2Params

    emu = labelbox_emulator_factory(
        media_types=("IMAGE",),
        labels_per_project=20,
        v2_polls=1,
        chunk_size=4096,
        user_timezone="America/New_York",
    )
    pid = _project(emu, "IMAGE")
    activity = sorted(t["data_row_last_activity_at"] for t in emu.ground_truth(pid))
    new_york = ZoneInfo("America/New_York")
    lo = activity[len(activity) // 3].astimezone(new_york).replace(microsecond=0)
    wall = lo.strftime("%Y-%m-%d %H:%M:%S")
    args = {
        "url": emu.url,
        "api_key": emu.api_key,
        "project_id": pid,
        "filters": {"last_activity_at": [wall, None]},
        "params": {"label_details": True, "project_details": True, "performance_details": True},
    }
    got = _run(SDK7, "sdk_v2_script.py", args)
    assert got["sdk"] == "7.17.0" and got["status"] == "COMPLETE"
    params = V2Params(
        include_label_details=True, include_project_details=True, include_performance_details=True
    )
    flt = ExportFilter(last_activity=(lo.astimezone(UTC), None))
    expected = _with_base(emu, emu.world.iter_v2(pid, flt, params))
    assert got["rows"] == expected
    assert got["total_lines"] == len(expected) > 0
    chunks = [e for e in emu.request_log() if e.get("operation") == "GetExportFileFromOffsetPyApi"]
    assert len(chunks) == -(-got["total_size"] // 4096)  # several chunks, split mid-line


def test_sdk7_errors_stream_and_empty_results(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    from labelbox_provider.emulator.world import ExportFilter

    emu = labelbox_emulator_factory(media_types=("TEXT",))
    pid = _project(emu, "TEXT")
    args = {"url": emu.url, "api_key": emu.api_key, "project_id": pid,
            "filters": {"data_row_ids": ["no-such-row"]}}  # fmt: skip
    got = _run(SDK7, "sdk_v2_script.py", args)
    assert got["status"] == "COMPLETE"
    assert got["has_result"] is False and got["rows"] == []
    flt = ExportFilter(data_row_ids=frozenset({"no-such-row"}))
    assert got["errors"] == list(emu.world.v2_errors(pid, flt))
    assert got["has_errors"] is bool(got["errors"])
