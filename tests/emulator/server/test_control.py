"""The control endpoint and the in-process Python API (clock, events, truth, request log)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import requests
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import SDK_QUERIES, GraphQLClient, running_emulator
from labelbox_provider.emulator.world import World

pytestmark = pytest.mark.integration


def _auth(emu: EmulatorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def test_state_clock_advance_and_events(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    state = requests.get(emu.control_url + "/state", headers=_auth(emu), timeout=10).json()
    assert [p["id"] for p in state["projects"]] == [p["id"] for p in emu.projects]
    before = datetime.fromisoformat(state["now"])
    body = {"seconds": 3600, "events": {"label_updated": 2}}
    moved = requests.post(emu.control_url + "/clock/advance", json=body, headers=_auth(emu),
                          timeout=10).json()  # fmt: skip
    assert datetime.fromisoformat(moved["now"]) - before == timedelta(hours=1)
    assert [e["kind"] for e in moved["events"]] == ["label_updated", "label_updated"]
    pid = emu.projects[0]["id"]
    event = {"kind": "comment_created", "project_id": pid, "at": moved["now"]}
    made = requests.post(emu.control_url + "/events", json=event, headers=_auth(emu), timeout=10)
    assert made.status_code == 200 and made.json()["project_id"] == pid
    log = requests.get(emu.control_url + "/activity-log", headers=_auth(emu), timeout=10).json()
    assert len(log) == 3
    bad = requests.post(emu.control_url + "/clock/advance", json={"events": {"nope": 1}},
                        headers=_auth(emu), timeout=10)  # fmt: skip
    assert bad.status_code == 400


def test_ground_truth_streams_json_lines(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    pid = emu.projects[0]["id"]
    answer = requests.get(f"{emu.control_url}/ground-truth/{pid}", headers=_auth(emu), timeout=10)
    rows = [json.loads(line) for line in answer.text.splitlines()]
    truth = emu.ground_truth(pid)
    assert [r["label_id"] for r in rows] == [t["label_id"] for t in truth]
    assert len(rows) > 0
    missing = requests.get(f"{emu.control_url}/ground-truth/nope", headers=_auth(emu), timeout=10)
    assert missing.status_code == 404


def test_python_api_advance_moves_what_exports_see(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    pid = emu.projects[0]["id"]
    event = emu.add_event("label_created", project_id=pid)
    assert event["project_id"] == pid
    assert any(t["label_id"] == event["label_id"] for t in emu.ground_truth(pid))
    before = emu.world.now()
    emu.advance(60, {"review_applied": 1})
    assert emu.world.now() - before == timedelta(seconds=60)
    state = requests.get(emu.control_url + "/state", headers=_auth(emu), timeout=10).json()
    assert datetime.fromisoformat(state["now"]) == emu.world.now()


def test_request_log_records_operations_projects_and_exports(
    labelbox_emulator: EmulatorServer,
) -> None:
    emu = labelbox_emulator
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = emu.projects[0]["id"]
    gql.data(SDK_QUERIES["project"], {"param_0": pid})
    gql.data(SDK_QUERIES["v1"].format(filters=""), {"projectId": pid})
    log = requests.get(emu.control_url + "/requests", headers=_auth(emu), timeout=10).json()
    ops = [(e["operation"], e.get("project_id")) for e in log if e["kind"] == "graphql"]
    assert ops == [("GetProjectPyApi", pid), ("GetLabelExportUrlPyApi", pid)]
    created = [e for e in log if e.get("created")]
    assert len(created) == 1 and created[0]["export_id"] == emu.exports_created()[0]
    since = requests.get(emu.control_url + "/requests", params={"since": log[-1]["seq"]},
                         headers=_auth(emu), timeout=10).json()  # fmt: skip
    assert all(e["seq"] > log[-1]["seq"] for e in since)
    assert emu.api_key not in json.dumps(log)


def test_settings_change_at_run_time(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    patch = requests.patch(emu.control_url + "/settings", json={"v1_polls": 3},
                           headers=_auth(emu), timeout=10)  # fmt: skip
    assert patch.json()["v1_polls"] == 3
    gql = GraphQLClient(emu.url, emu.api_key)
    answer = gql.data(SDK_QUERIES["v1"].format(filters=""), {"projectId": emu.projects[0]["id"]})
    assert answer["exportLabels"]["shouldPoll"] is True
    unknown = requests.patch(emu.control_url + "/settings", json={"nope": 1},
                             headers=_auth(emu), timeout=10)  # fmt: skip
    assert unknown.status_code == 400


def test_fixture_factory_and_context_manager(
    labelbox_emulator_factory: Callable[..., EmulatorServer],
) -> None:
    one = labelbox_emulator_factory(seed=1, media_types=("TEXT",))
    two = labelbox_emulator_factory(seed=2, media_types=("TEXT",))
    assert one.base_url != two.base_url
    assert [p["media_type"] for p in one.projects] == ["TEXT"]
    assert one.api_key != two.api_key or one.projects != two.projects
    with running_emulator(media_types=("IMAGE",)) as emu:
        url = emu.url
        assert requests.get(emu.control_url + "/health", timeout=10).status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url, json={"query": "{user{id}}"}, timeout=2)


def test_preset_api_key_and_public_url_are_used() -> None:
    """``api_key`` replaces the seed's key; ``public_url`` is the base of every URL handed out."""
    public = "http://labelbox-emulator:8080"
    with running_emulator(
        media_types=("IMAGE",), labels_per_project=2, api_key="preset-key", public_url=public
    ) as emu:
        assert emu.api_key == "preset-key"
        assert emu.url == public + "/graphql"
        local = emu.bound_base_url + "/graphql"
        pid = emu.projects[0]["id"]
        good = GraphQLClient(local, "preset-key").post(
            SDK_QUERIES["v1"].format(filters=""), {"projectId": pid}
        )
        assert good.status_code == 200 and "errors" not in good.json(), good.text
        seed_key = GraphQLClient(local, World(seed=0).api_key)
        refused = seed_key.post(SDK_QUERIES["v1"].format(filters=""), {"projectId": pid}).json()
        assert refused["errors"][0]["extensions"]["code"] == "AUTHENTICATION_ERROR"
