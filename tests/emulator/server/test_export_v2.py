"""Export v2 over real HTTP: task creation and polling, header, chunks by offset and line."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import SDK_QUERIES, GraphQLClient

pytestmark = pytest.mark.integration

NO_PARAMS: dict[str, Any] = {"mediaTypeOverride": None}


def _client(emu: EmulatorServer) -> GraphQLClient:
    return GraphQLClient(emu.url, emu.api_key)


def _image_project(emu: EmulatorServer) -> str:
    return next(p["id"] for p in emu.projects if p["media_type"] == "IMAGE")


def _create(
    gql: GraphQLClient,
    project_id: str,
    query: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    variables = {
        "input": {
            "taskName": "t",
            "isStreamableReady": True,
            "filters": {
                "projectId": project_id,
                "searchQuery": {"scope": None, "query": query or []},
            },
            "params": params or NO_PARAMS,
            "streamable": True,
        }
    }
    answer = gql.data(SDK_QUERIES["v2_create"], variables)["exportDataRowsInProject"]
    assert answer["isStreamable"] is True
    return str(answer["taskId"])


def _task(gql: GraphQLClient, task_id: str, user_id: str) -> dict[str, Any]:
    tasks = gql.data(SDK_QUERIES["tasks"], {"param_0": task_id, "param_1": user_id})
    (task,) = tasks["user"]["createdTasks"]
    return dict(task)


def _header(gql: GraphQLClient, task_id: str, stream: str = "RESULT") -> Any:
    variables = {"where": {"id": task_id}, "streamType": stream}
    return gql.data(SDK_QUERIES["header"], variables)["task"]["exportMetadataHeader"]


def _read_all(gql: GraphQLClient, task_id: str, total: int, stream: str = "RESULT") -> bytes:
    """Read a stream chunk by chunk exactly as the SDK does (offset as a string)."""
    out, offset, chunks = b"", 0, []
    while offset < total:
        variables = {"where": {"id": task_id}, "streamType": stream, "offset": str(offset)}
        info = gql.data(SDK_QUERIES["chunk"], variables)["task"]["exportFileFromOffset"]
        body = requests.get(info["file"], timeout=10).content
        assert info["offsets"]["start"] == offset
        assert len(body) == info["offsets"]["end"] - info["offsets"]["start"] + 1
        chunks.append(info)
        out += body
        offset = info["offsets"]["end"] + 1
    assert chunks[-1]["offsets"]["end"] == total - 1
    return out


def _world_lines(emu: EmulatorServer, project_id: str, **flt: Any) -> list[dict[str, Any]]:
    from labelbox_provider.emulator.world import ExportFilter, V2Params

    rows = emu.world.iter_v2(project_id, ExportFilter(**flt), V2Params())
    return [json.loads(json.dumps(r).replace("{base_url}", emu.base_url)) for r in rows]


def test_task_polls_then_chunks_reassemble_the_exact_ndjson(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emu = labelbox_emulator_factory(v2_polls=2, chunk_size=700)
    gql, pid = _client(emu), _image_project(emu)
    user_id = gql.data(SDK_QUERIES["user"])["user"]["id"]
    task_id = _create(gql, pid)
    assert _header(gql, task_id) is None  # no stream before the task completes
    statuses = [_task(gql, task_id, user_id)["status"] for _ in range(3)]
    assert statuses == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETE"]
    header = _header(gql, task_id)
    data = _read_all(gql, task_id, header["totalSize"])
    assert len(data) == header["totalSize"]
    whole = requests.get(_task(gql, task_id, user_id)["result"], timeout=10).content
    assert data == whole
    lines = data.decode().splitlines()
    assert len(lines) == header["totalLines"] > 1
    assert [json.loads(line) for line in lines] == _world_lines(emu, pid)
    assert data.endswith(b"\n") and b'", "' in data  # real files use ", " separators


def test_chunk_line_numbers_are_inclusive_and_absolute(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emu = labelbox_emulator_factory(chunk_size=333)
    gql = _client(emu)
    task_id = _create(gql, _image_project(emu))
    _task(gql, task_id, emu.world.user["id"])
    total = _header(gql, task_id)["totalSize"]
    data = _read_all(gql, task_id, total)
    offset = 0
    while offset < total:
        variables = {"where": {"id": task_id}, "streamType": "RESULT", "offset": str(offset)}
        info = gql.data(SDK_QUERIES["chunk"], variables)["task"]["exportFileFromOffset"]
        start, end = info["offsets"]["start"], info["offsets"]["end"]
        assert info["lines"]["start"] == data[:start].count(b"\n")
        assert info["lines"]["end"] == data[:end].count(b"\n")
        offset = end + 1
    by_line = {"where": {"id": task_id}, "streamType": "RESULT", "line": "2"}
    info = gql.data(SDK_QUERIES["chunk_by_line"], by_line)["task"]["exportFileFromLine"]
    line_start = len(b"".join(data.splitlines(keepends=True)[:2]))
    assert info["offsets"]["start"] == line_start
    assert info["lines"]["start"] == 2
    assert (
        requests.get(info["file"], timeout=10).content
        == data[line_start : info["offsets"]["end"] + 1]
    )


def test_filters_use_the_timezone_and_ids(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    gql, pid = _client(emu), _image_project(emu)
    everything = _world_lines(emu, pid)
    some_ids = [r["data_row"]["id"] for r in everything[:3]]
    query = [
        {
            "type": "data_row_last_activity_at",
            "value": {
                "operator": "BETWEEN",
                "timezone": "America/New_York",
                "value": {"min": "2025-12-31 19:00:00", "max": "2099-01-01 00:00:00"},
            },
        },
        {"ids": some_ids, "operator": "is", "type": "data_row_id"},
    ]
    task_id = _create(gql, pid, query)
    _task(gql, task_id, emu.world.user["id"])
    data = _read_all(gql, task_id, _header(gql, task_id)["totalSize"])
    served = [json.loads(line) for line in data.decode().splitlines()]
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, 5, tzinfo=UTC))
    expected = _world_lines(emu, pid, last_activity=window, data_row_ids=frozenset(some_ids))
    assert served == expected
    assert {r["data_row"]["id"] for r in served} <= set(some_ids)


def test_no_match_gives_no_result_stream_and_params_shape_records(
    labelbox_emulator: EmulatorServer,
) -> None:
    emu = labelbox_emulator
    gql, pid = _client(emu), _image_project(emu)
    nothing = _create(gql, pid, [{"ids": ["nope"], "operator": "is", "type": "data_row_id"}])
    assert _task(gql, nothing, emu.world.user["id"])["status"] == "COMPLETE"
    assert _header(gql, nothing) is None
    detailed = _create(
        gql, pid, params={"includeLabelDetails": True, "includeProjectDetails": True}
    )
    _task(gql, detailed, emu.world.user["id"])
    data = _read_all(gql, detailed, _header(gql, detailed)["totalSize"])
    first = json.loads(data.splitlines()[0])
    project = first["projects"][pid]
    assert "project_details" in project
    assert all("label_details" in label for label in project["labels"])


def test_errors_stream_matches_the_world(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    gql, pid = _client(emu), _image_project(emu)
    task_id = _create(gql, pid)
    task = _task(gql, task_id, emu.world.user["id"])
    from labelbox_provider.emulator.world import ExportFilter

    expected = list(emu.world.v2_errors(pid, ExportFilter()))
    header = _header(gql, task_id, "ERRORS")
    if not expected:
        assert header is None and task["errors"] is None
        return
    data = _read_all(gql, task_id, header["totalSize"], "ERRORS")
    assert [json.loads(line) for line in data.decode().splitlines()] == expected


def test_other_sdk_reads(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    gql, pid = _client(emu), _image_project(emu)
    project = gql.data(SDK_QUERIES["project"], {"param_0": pid})["project"]
    assert project["id"] == pid and project["name"]
    assert set(project) == {
        "autoAuditNumberOfLabels", "autoAuditPercentage", "createdAt", "dataRowCount",
        "description", "editorTaskType", "isBenchmarkEnabled", "isConsensusEnabled",
        "lastActivityTime", "allowedMediaType", "modelSetupComplete", "name", "queueMode",
        "setupComplete", "id", "updatedAt", "uploadType",
    }  # fmt: skip
    org = gql.data(SDK_QUERIES["organization"])["organization"]
    assert org["id"] == emu.world.organization["id"]
    assert gql.data(SDK_QUERIES["current_user"])["user"] == {"timezone": emu.world.user["timezone"]}
    assert gql.data(SDK_QUERIES["user"])["user"]["email"] == emu.world.user["email"]
    missing = gql.data(SDK_QUERIES["tasks"], {"param_0": "nope", "param_1": "x"})
    assert missing["user"]["createdTasks"] == []
