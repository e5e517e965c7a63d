"""Export v1 over real HTTP: polling, filters, caching, the JSON array file, Range, frames."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import SDK_QUERIES, GraphQLClient

pytestmark = pytest.mark.integration


@pytest.fixture
def client(labelbox_emulator: EmulatorServer) -> Iterator[GraphQLClient]:
    gql = GraphQLClient(labelbox_emulator.url, labelbox_emulator.api_key)
    yield gql
    gql.close()


def _project(emu: EmulatorServer, media_type: str = "IMAGE") -> str:
    return next(p["id"] for p in emu.projects if p["media_type"] == media_type)


def _export(gql: GraphQLClient, project_id: str, filters: str = "") -> dict[str, Any]:
    query = SDK_QUERIES["v1"].format(filters=filters)
    return gql.data(query, {"projectId": project_id})["exportLabels"]


def _expected(emu: EmulatorServer, project_id: str, **flt: Any) -> list[dict[str, Any]]:
    from labelbox_provider.emulator.world import ExportFilter

    text = json.dumps(list(emu.world.iter_v1(project_id, ExportFilter(**flt))))
    return list(json.loads(text.replace("{base_url}", emu.base_url)))


def test_polls_then_serves_the_json_array_of_world_records(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emu = labelbox_emulator_factory(v1_polls=2)
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = _project(emu)
    answers = [_export(gql, pid) for _ in range(3)]
    assert [a["shouldPoll"] for a in answers] == [True, True, False]
    assert answers[0]["downloadUrl"] is None
    url = answers[2]["downloadUrl"]
    assert url.startswith(emu.base_url + "/exports/v1/") and "Signature=" in url
    assert answers[2]["createdAt"].endswith("Z")
    response = requests.get(url, timeout=10)  # no API key: signed URL
    assert response.status_code == 200
    assert response.content.startswith(b"[\n") and response.content.endswith(b"]\n")
    assert int(response.headers["content-length"]) == len(response.content)
    records = response.json()
    assert records == _expected(emu, pid)
    assert len(records) > 0
    created = [e for e in emu.request_log() if e.get("created")]
    assert len(created) == 1


def test_label_created_and_last_activity_filters_are_honoured(
    labelbox_emulator: EmulatorServer, client: GraphQLClient
) -> None:
    emu, pid = labelbox_emulator, _project(labelbox_emulator)
    everything = requests.get(_export(client, pid)["downloadUrl"], timeout=10).json()
    created = sorted(r["Created At"] for r in everything)
    middle = created[len(created) // 2]
    cut = datetime.fromisoformat(middle.replace("Z", "+00:00")).astimezone(UTC)
    day_text = cut.strftime("%Y-%m-%d %H:%M:%S")
    filters = client.v1_filters(label_created={"start": day_text})
    served = requests.get(_export(client, pid, filters)["downloadUrl"], timeout=10).json()
    expected = _expected(emu, pid, label_created=(cut.replace(microsecond=0), None))
    assert [r["ID"] for r in served] == [r["ID"] for r in expected]
    assert 0 < len(served) < len(everything)
    assert all(r["Created At"] >= middle[:19] for r in served)
    end_only = client.v1_filters(last_activity={"end": "2000-01-01"})
    empty = requests.get(_export(client, pid, end_only)["downloadUrl"], timeout=10)
    assert empty.content == b"[\n]\n"


def test_empty_and_iso_filter_forms_are_accepted(
    labelbox_emulator: EmulatorServer, client: GraphQLClient
) -> None:
    pid = _project(labelbox_emulator)
    whole = _export(client, pid)
    braces = _export(client, pid, ", filters: {labelCreatedAt: {} }")
    iso = _export(
        client, pid, client.v1_filters(last_activity={"start": "2000-01-01T00:00:00+0100"})
    )
    bodies = [requests.get(a["downloadUrl"], timeout=10).json() for a in (whole, braces, iso)]
    assert bodies[0] == bodies[1] == bodies[2]


def test_same_filters_reuse_the_cached_export(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emu = labelbox_emulator_factory(v1_cache_seconds=1800)
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = _project(emu)
    first, second = _export(gql, pid), _export(gql, pid)
    other = _export(gql, pid, gql.v1_filters(label_created={"start": "2020-01-01"}))
    ids = [
        e["export_id"] for e in emu.request_log() if e.get("operation") == "GetLabelExportUrlPyApi"
    ]
    assert ids[0] == ids[1] != ids[2]
    assert len(emu.exports_created()) == 2
    assert first["downloadUrl"].split("?")[0] == second["downloadUrl"].split("?")[0]
    assert other["downloadUrl"].split("?")[0] != first["downloadUrl"].split("?")[0]


def test_range_requests_resume_a_download(
    labelbox_emulator: EmulatorServer, client: GraphQLClient
) -> None:
    url = _export(client, _project(labelbox_emulator))["downloadUrl"]
    full = requests.get(url, timeout=10).content
    half = len(full) // 2
    head = requests.get(url, headers={"Range": f"bytes=0-{half - 1}"}, timeout=10)
    tail = requests.get(url, headers={"Range": f"bytes={half}-"}, timeout=10)
    assert (head.status_code, tail.status_code) == (206, 206)
    assert tail.headers["content-range"] == f"bytes {half}-{len(full) - 1}/{len(full)}"
    assert head.content + tail.content == full
    past = requests.get(url, headers={"Range": f"bytes={len(full)}-"}, timeout=10)
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(full)}"


def test_signed_url_expires_and_cannot_be_forged(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emu = labelbox_emulator_factory(url_ttl_seconds=0)
    gql = GraphQLClient(emu.url, emu.api_key)
    url = _export(gql, _project(emu))["downloadUrl"]
    time.sleep(1.1)  # expiry has one-second resolution
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 400
    assert b"<Code>ExpiredToken</Code>" in expired.content
    forged = requests.get(url.replace("Signature=", "Signature=x"), timeout=10)
    assert forged.status_code == 403
    assert b"SignatureDoesNotMatch" in forged.content
    unsigned = requests.get(url.split("?")[0], timeout=10)
    assert unsigned.status_code == 403


def test_video_frames_need_the_api_key(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    emu = labelbox_emulator_factory(media_types=("VIDEO",))
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = _project(emu, "VIDEO")
    records = requests.get(_export(gql, pid)["downloadUrl"], timeout=10).json()
    frame_urls = [r["Label"]["frames"] for r in records if r["Label"].get("frames")]
    assert frame_urls, "a video export carries Label.frames URLs"
    url = frame_urls[0]
    assert url.startswith(emu.base_url)
    assert requests.get(url, timeout=10).status_code == 401
    answer = requests.get(url, headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=10)
    assert answer.status_code == 200
    lines = [json.loads(line) for line in answer.text.splitlines()]
    label_id = url.rstrip("/").rsplit("/", 1)[-1]
    expected = emu.world.v1_frames(label_id)
    assert expected is not None
    assert json.loads(json.dumps(expected).replace("{base_url}", emu.base_url)) == lines
    assert all("frameNumber" in line for line in lines)
