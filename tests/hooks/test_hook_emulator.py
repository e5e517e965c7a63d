"""The hook against the emulator over real HTTP, with faults injected and counted."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labelbox_provider import exceptions as ex
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import running_emulator
from labelbox_provider.hooks.labelbox import LabelboxHook

from .hook_fakes import set_connection

pytestmark = pytest.mark.integration

CHUNK = 3000  # small chunks: several per export, so resume is visible


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    with running_emulator(chunk_size=CHUNK, labels_per_project=10) as server:
        set_connection(monkeypatch, server.url, server.api_key)
        yield server


def _project(emu: EmulatorServer, media: str) -> str:
    return next(p["id"] for p in emu.projects if p["media_type"] == media)


def _downloads(emu: EmulatorServer, kind: str) -> list[dict[str, Any]]:
    return [
        e for e in emu.request_log() if e.get("kind") == "download" and e.get("download") == kind
    ]


def _v2_ids(hook: LabelboxHook, project: str) -> list[str]:
    task = hook.create_export_v2(project, params={"label_details": True, "project_details": True})
    hook.wait_for_export_task(task, timeout=20, poll_interval=0.01)
    return [r["data_row"]["id"] for r in hook.iter_export_v2(task)]


def test_v2_export_survives_every_transient_fault(emu: EmulatorServer, tmp_path: Path) -> None:
    hook = LabelboxHook()
    project = _project(emu, "IMAGE")
    clean = _v2_ids(hook, project)
    assert len(clean) >= 5
    emu.reset_counts()
    emu.set_faults(
        [
            {
                "kind": "http_429",
                "target": "GetUserCreatedTasksPyApi",
                "count": 2,
                "retry_after": 0.05,
            },
            {
                "kind": "http_5xx",
                "target": "GetExportFileFromOffsetPyApi",
                "count": 1,
                "status": 502,
            },
            {"kind": "reset", "target": "GetExportMetadataHeaderPyApi", "count": 1},
            {
                "kind": "graphql_error",
                "target": "exportDataRowsInProjectPyApi",
                "count": 1,
                "status": 503,
            },
            {"kind": "truncated", "target": "download:v2", "count": 1, "after": 1, "mode": "short"},
            {"kind": "truncated", "target": "download:v2", "count": 1, "after": 2, "mode": "cut"},
            {"kind": "expired_url", "target": "download:v2", "count": 1, "after": 3},
        ]
    )
    task = hook.create_export_v2(project, params={"label_details": True, "project_details": True})
    hook.wait_for_export_task(task, timeout=20, poll_interval=0.01)
    result = hook.download_export_v2(task, tmp_path / "out.ndjson")
    assert result is not None
    ids = [json.loads(line)["data_row"]["id"] for line in result.path.read_bytes().splitlines()]
    assert ids == clean
    assert result.lines == len(clean)
    counts = emu.fault_counts()
    assert counts == {
        "http_429": 2,
        "http_5xx": 1,
        "reset": 1,
        "graphql_error": 1,
        "truncated": 2,
        "expired_url": 1,
    }
    assert result.failed_fetches == 3  # short chunk, cut chunk, expired URL
    gets = [e for e in _downloads(emu, "v2") if e.get("export_id") == task]
    chunks = -(-result.size // CHUNK)
    # resume, not restart: each chunk succeeded once; only the 3 failed ones were fetched again
    assert result.fetches == chunks
    assert len(gets) == chunks + 3
    assert sum(1 for e in gets if e.get("fault")) == 3


def test_v1_export_resumes_and_refreshes_urls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a file large enough that a cut transfer delivers some bytes; the export is cached so a
    # fresh URL names the same file and the download can resume
    with running_emulator(labels_per_project=60, v1_cache_seconds=600) as emu:
        set_connection(monkeypatch, emu.url, emu.api_key)
        _check_v1_resume(emu, LabelboxHook(download_chunk_bytes=8192), tmp_path)


def _check_v1_resume(emu: EmulatorServer, hook: LabelboxHook, tmp_path: Path) -> None:
    project = _project(emu, "IMAGE")
    clean = [r["ID"] for r in hook.label_generator(project)]
    assert len(clean) >= 5
    emu.reset_counts()
    emu.set_faults(
        [
            {"kind": "truncated", "target": "download:v1", "count": 1, "mode": "cut"},
            {"kind": "expired_url", "target": "download:v1", "count": 1},
            {"kind": "http_5xx", "target": "GetLabelExportUrlPyApi", "count": 1, "status": 500},
        ]
    )
    result = hook.download_export_v1(project, tmp_path / "v1.json", poll_interval=0.01)
    from labelbox_provider.io.jsonstream import iter_raw_records

    with open(result.path, "rb") as fp:
        ids = [json.loads(raw)["ID"] for _, raw in iter_raw_records(fp)]
    assert ids == clean
    assert emu.fault_counts() == {"truncated": 1, "expired_url": 1, "http_5xx": 1}
    gets = _downloads(emu, "v1")
    assert result.failed_fetches == 2 and result.fetches == 1
    assert gets[-1]["status"] == 206  # the last GET resumed with Range instead of starting over
    assert 0 < gets[-1]["range"][0] < result.size


def test_final_errors_are_not_retried(emu: EmulatorServer) -> None:
    hook = LabelboxHook()
    project = _project(emu, "IMAGE")
    cases = [
        ({"kind": "graphql_error", "code": "AUTHENTICATION_ERROR"}, ex.LabelboxAuthenticationError),
        ({"kind": "graphql_error", "code": "AUTHORIZATION_ERROR"}, ex.LabelboxAuthorizationError),
        (
            {"kind": "graphql_error", "code": "GRAPHQL_VALIDATION_FAILED"},
            ex.LabelboxInvalidRequestError,
        ),
        ({"kind": "graphql_error", "code": "RESOURCE_NOT_FOUND"}, ex.LabelboxNotFoundError),
        (
            {"kind": "graphql_error", "code": "INTERNAL_SERVER_ERROR", "status": 426},
            ex.LabelboxPlanLimitError,
        ),
    ]
    for rule, kind in cases:
        emu.set_faults([{**rule, "target": "GetProjectPyApi", "count": 5}])
        before = len(emu.request_log())
        with pytest.raises(kind):
            hook.get_project(project)
        assert len(emu.request_log()) - before == 1, rule  # one request, no retry
    emu.set_faults([])
    with pytest.raises(ex.LabelboxNotFoundError):
        hook.get_project("cnotaproject000000000000")


def test_wrong_key_is_a_clear_error(emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, emu.url, "wrong-key-123456")
    ok, message = LabelboxHook().test_connection()
    assert not ok and "Authentication" in message
    with pytest.raises(ex.LabelboxAuthenticationError):
        LabelboxHook().request_export_v1(_project(emu, "IMAGE"))


def test_stuck_and_failed_exports(emu: EmulatorServer) -> None:
    hook = LabelboxHook()
    project = _project(emu, "TEXT")
    emu.set_faults([{"kind": "stuck", "target": "export:v2", "count": 1}])
    task = hook.create_export_v2(project)
    with pytest.raises(ex.LabelboxExportTimeoutError, match="IN_PROGRESS"):
        hook.wait_for_export_task(task, timeout=0.3, poll_interval=0.05)
    emu.set_faults([{"kind": "export_failed", "target": "export:v2", "count": 1}])
    task = hook.create_export_v2(project)
    with pytest.raises(ex.LabelboxExportFailedError, match=task):
        hook.wait_for_export_task(task, timeout=5, poll_interval=0.01)
    emu.set_faults([{"kind": "stuck", "target": "export:v1", "count": 1}])
    with pytest.raises(ex.LabelboxExportTimeoutError):
        hook.download_export_v1(
            project, Path("/nonexistent/never-written.json"), timeout=0.3, poll_interval=0.05
        )
    assert emu.fault_counts().get("stuck") == 2 and emu.fault_counts().get("export_failed") == 1


def test_reattach_to_task_and_async_status(emu: EmulatorServer) -> None:
    project = _project(emu, "IMAGE")
    task = LabelboxHook().create_export_v2(project, last_activity=("2000-01-01", None))
    other = LabelboxHook()  # a fresh hook (another worker) re-attaches by id
    status = asyncio.run(other.aget_export_task(task))
    assert status.task_id == task and status.status in ("IN_PROGRESS", "COMPLETE")
    emu.set_faults(
        [
            {
                "kind": "http_429",
                "target": "GetUserCreatedTasksPyApi",
                "count": 1,
                "retry_after": 0.05,
            }
        ]
    )
    done = other.wait_for_export_task(task, timeout=10, poll_interval=0.01)
    assert done.status == "COMPLETE" and asyncio.run(other.aget_export_task(task)) == done
    assert emu.fault_counts() == {"http_429": 1}
    v1 = asyncio.run(other.arequest_export_v1(project, last_activity_start="2000-01-01"))
    assert v1.project_id == project and v1.download_url_redacted.endswith("?<redacted>")


def test_video_frames_v1_and_v2(emu: EmulatorServer, tmp_path: Path) -> None:
    hook = LabelboxHook()
    video = _project(emu, "VIDEO")
    export = hook.download_export_v1(video, tmp_path / "video.json", poll_interval=0.01)
    emu.set_faults([{"kind": "http_5xx", "target": "download:frames", "count": 2, "status": 503}])
    written = hook.download_v1_frames(export.path, tmp_path / "frames", max_workers=3)
    files = sorted((tmp_path / "frames").glob("*.ndjson"))
    assert written == len(files) > 0
    assert emu.fault_counts() == {"http_5xx": 2}
    first = json.loads(files[0].read_text().splitlines()[0])
    assert first["frameNumber"] >= 1 and "objects" in first
    task = hook.create_export_v2(video)
    hook.wait_for_export_task(task, timeout=10, poll_interval=0.01)
    items = [item for record in hook.iter_export_v2(task) for item in hook.iter_v2_frames(record)]
    assert items and all(isinstance(i.frame_number, int) and i.feature_id for i in items)


def test_no_secret_in_any_log_or_exception(
    emu: EmulatorServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, including urllib3 request lines
    hook = LabelboxHook()
    project = _project(emu, "IMAGE")
    signatures: set[str] = set()
    emu.set_faults(
        [
            {"kind": "expired_url", "target": "download", "count": 2},
            {"kind": "truncated", "target": "download", "count": 2, "mode": "cut"},
            {"kind": "http_429", "target": "graphql", "probability": 0.2, "retry_after": 0.01},
            {"kind": "reset", "target": "graphql", "probability": 0.1},
        ]
    )
    task = hook.create_export_v2(project)
    hook.wait_for_export_task(task, timeout=20, poll_interval=0.01)
    signatures.add(_signature(hook.get_export_chunk(task, 0).url))
    signatures.add(_signature(hook.request_export_v1(project).download_url or ""))
    hook.download_export_v2(task, tmp_path / "a.ndjson")
    hook.download_export_v1(project, tmp_path / "b.json", poll_interval=0.01)
    errors: list[BaseException] = []
    emu.set_faults([{"kind": "expired_url", "target": "download", "probability": 1.0}])
    for call in (
        lambda: LabelboxHook(max_retry_seconds=0.2).download_export_v2(task, tmp_path / "c.ndjson"),
        lambda: LabelboxHook(max_retry_seconds=0.2).download_export_v1(
            project, tmp_path / "d.json"
        ),
    ):
        with pytest.raises(ex.LabelboxRetryBudgetExceeded) as info:
            call()
        errors.append(info.value)
    assert (tmp_path / "c.ndjson.part").exists()  # v2 keeps verified bytes to resume later
    assert not (tmp_path / "d.json.part").exists()  # v1 cleans up
    faults = emu.fault_counts()
    assert faults.get("expired_url", 0) >= 4 and faults.get("truncated") == 2
    out, err = capsys.readouterr()  # Airflow's structlog output lands here
    logs = "\n".join([caplog.text, out, err])
    assert "retry" in logs  # the faults really produced log lines
    texts = [logs, *(f"{e!s} {e!r} {e.__cause__!s}" for e in errors), repr(hook)]
    assert "Signature=" not in logs
    for text in texts:
        assert emu.api_key not in text
        for sig in signatures:
            assert sig not in text


def _signature(url: str) -> str:
    match = re.search(r"Signature=([^&]+)", url)
    assert match, "the emulator's URLs are signed"
    return match.group(1)


def test_from_credentials_needs_no_connection(
    emu: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An explicit key + endpoint works with no AIRFLOW_CONN_* at all, and the key stays hidden."""
    monkeypatch.delenv("AIRFLOW_CONN_LABELBOX_DEFAULT", raising=False)
    hook = LabelboxHook.from_credentials(emu.api_key, emu.url)
    project = hook.get_project(_project(emu, "IMAGE"))
    assert project["id"] == _project(emu, "IMAGE")
    assert emu.api_key not in repr(hook)
    with pytest.raises(ex.LabelboxConfigError, match="no API key"):
        LabelboxHook.from_credentials("", emu.url)
