"""Every fault kind over real HTTP, with the fault counters proving it fired."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import SDK_QUERIES, GraphQLClient

pytestmark = pytest.mark.integration

Factory = Callable[..., EmulatorServer]


def _setup(factory: Factory, rules: list[dict[str, Any]], **options: Any) -> Any:
    emu = factory(faults=rules, **options)
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = next(p["id"] for p in emu.projects if p["media_type"] == "IMAGE")
    return emu, gql, pid


def _v1(gql: GraphQLClient, pid: str) -> requests.Response:
    return gql.post(SDK_QUERIES["v1"].format(filters=""), {"projectId": pid})


def _v2(gql: GraphQLClient, pid: str) -> tuple[str, dict[str, Any]]:
    variables = {"input": {"filters": {"projectId": pid, "searchQuery": {"query": []}}}}
    task_id = gql.data(SDK_QUERIES["v2_create"], variables)["exportDataRowsInProject"]["taskId"]
    tasks = gql.data(SDK_QUERIES["tasks"], {"param_0": task_id, "param_1": "u"})
    return task_id, tasks["user"]["createdTasks"][0]


def _first_chunk(gql: GraphQLClient, task_id: str) -> dict[str, Any]:
    variables = {"where": {"id": task_id}, "streamType": "RESULT", "offset": "0"}
    return dict(gql.data(SDK_QUERIES["chunk"], variables)["task"]["exportFileFromOffset"])


def test_429_with_retry_after_then_normal(labelbox_emulator_factory: Factory) -> None:
    rule = {"kind": "http_429", "target": "GetProjectPyApi", "count": 1, "retry_after": 2}
    emu, gql, pid = _setup(labelbox_emulator_factory, [rule])
    first = gql.post(SDK_QUERIES["project"], {"param_0": pid})
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json()["message"].startswith("You have exceeded")
    assert gql.post(SDK_QUERIES["project"], {"param_0": pid}).status_code == 200
    assert emu.fault_counts() == {"http_429": 1}


@pytest.mark.parametrize(
    ("rule", "status", "needle"),
    [
        pytest.param({"status": 500}, 500, "Internal Server Error", id="500"),
        pytest.param({"status": 502}, 502, "502 Bad Gateway", id="502"),
        pytest.param({"status": 503, "upstream": True}, 503, "upstream connect error", id="envoy"),
    ],
)
def test_5xx_bodies(
    labelbox_emulator_factory: Factory, rule: dict[str, Any], status: int, needle: str
) -> None:
    emu, gql, _ = _setup(labelbox_emulator_factory, [{"kind": "http_5xx", "count": 2, **rule}])
    answers = [gql.post(SDK_QUERIES["organization"]) for _ in range(3)]
    assert [a.status_code for a in answers] == [status, status, 200]
    assert needle in answers[0].text
    assert emu.fault_counts() == {"http_5xx": 2}
    faulted = [e for e in emu.request_log() if e.get("fault") == "http_5xx"]
    assert len(faulted) == 2


def test_connection_reset_on_graphql_and_download(labelbox_emulator_factory: Factory) -> None:
    rules = [{"kind": "reset", "target": "GetOrganizationPyApi", "count": 1},
             {"kind": "reset", "target": "download:v1", "count": 1}]  # fmt: skip
    emu, gql, pid = _setup(labelbox_emulator_factory, rules)
    with pytest.raises(requests.exceptions.ConnectionError):
        gql.post(SDK_QUERIES["organization"])
    url = _v1(gql, pid).json()["data"]["exportLabels"]["downloadUrl"]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=10)
    assert requests.get(url, timeout=10).status_code == 200
    assert emu.fault_counts() == {"reset": 2}


def test_slow_answers_arrive_late_but_complete(labelbox_emulator_factory: Factory) -> None:
    emu, gql, _ = _setup(labelbox_emulator_factory, [{"kind": "slow", "delay": 0.3, "count": 1}])
    began = time.monotonic()
    assert gql.post(SDK_QUERIES["organization"]).status_code == 200
    assert time.monotonic() - began >= 0.3
    assert emu.fault_counts() == {"slow": 1}


def test_plan_limit_graphql_error(labelbox_emulator_factory: Factory) -> None:
    rule = {"kind": "graphql_error", "target": "exportDataRowsInProjectPyApi", "status": 426}
    emu, gql, pid = _setup(labelbox_emulator_factory, [rule])
    variables = {"input": {"filters": {"projectId": pid, "searchQuery": {"query": []}}}}
    (error,) = gql.post(SDK_QUERIES["v2_create"], variables).json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["exception"]["status"] == 426
    assert "LBU limit" in error["message"]
    assert emu.fault_counts() == {"graphql_error": 1}
    assert emu.exports_created() == []


def test_stuck_exports_never_finish(labelbox_emulator_factory: Factory) -> None:
    rules = [{"kind": "stuck", "target": "export:v1"}, {"kind": "stuck", "target": "export:v2"}]
    emu, gql, pid = _setup(labelbox_emulator_factory, rules)
    answers = [_v1(gql, pid).json()["data"]["exportLabels"] for _ in range(3)]
    assert all(a["shouldPoll"] and a["downloadUrl"] is None for a in answers)
    _, task = _v2(gql, pid)
    assert task["status"] == "IN_PROGRESS"
    assert _v2(gql, pid)[1]["status"] == "IN_PROGRESS"
    assert emu.fault_counts() == {"stuck": 3}  # one v1 export (reused while polled), two tasks


def test_failed_exports(labelbox_emulator_factory: Factory) -> None:
    rules = [{"kind": "export_failed", "target": "export"}]
    emu, gql, pid = _setup(labelbox_emulator_factory, rules)
    v1 = _v1(gql, pid).json()["data"]["exportLabels"]
    assert v1["shouldPoll"] is False and v1["downloadUrl"] is None
    _, task = _v2(gql, pid)
    assert task["status"] == "FAILED" and task["result"] is None
    assert emu.fault_counts() == {"export_failed": 2}


def test_truncated_chunk_is_shorter_than_promised(labelbox_emulator_factory: Factory) -> None:
    rule = {"kind": "truncated", "target": "download:v2", "count": 1, "mode": "short"}
    emu, gql, pid = _setup(labelbox_emulator_factory, [rule], chunk_size=500)
    task_id, _ = _v2(gql, pid)
    info = _first_chunk(gql, task_id)
    promised = info["offsets"]["end"] - info["offsets"]["start"] + 1
    short = requests.get(info["file"], timeout=10)
    assert short.status_code == 200 and len(short.content) < promised
    assert len(requests.get(info["file"], timeout=10).content) == promised
    assert emu.fault_counts() == {"truncated": 1}


def test_cut_download_drops_the_connection_mid_body(labelbox_emulator_factory: Factory) -> None:
    rule = {"kind": "truncated", "target": "download:v1", "count": 1, "mode": "cut"}
    emu, gql, pid = _setup(labelbox_emulator_factory, [rule])
    url = _v1(gql, pid).json()["data"]["exportLabels"]["downloadUrl"]
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(url, timeout=10).json()
    assert requests.get(url, timeout=10).json()
    assert emu.fault_counts() == {"truncated": 1}


def test_expired_url_fault(labelbox_emulator_factory: Factory) -> None:
    emu, gql, pid = _setup(labelbox_emulator_factory, [{"kind": "expired_url", "count": 1}])
    url = _v1(gql, pid).json()["data"]["exportLabels"]["downloadUrl"]
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 400 and b"ExpiredToken" in expired.content
    assert requests.get(url, timeout=10).status_code == 200
    assert emu.fault_counts() == {"expired_url": 1}


def test_malformed_records_are_counted_one_by_one(labelbox_emulator_factory: Factory) -> None:
    rule = {"kind": "malformed_record", "target": "record:v1", "probability": 0.5}
    emu, gql, pid = _setup(labelbox_emulator_factory, [rule], labels_per_project=30)
    url = _v1(gql, pid).json()["data"]["exportLabels"]["downloadUrl"]
    served = requests.get(url, timeout=10).json()
    from labelbox_provider.emulator.world import ExportFilter

    text = json.dumps(list(emu.world.iter_v1(pid, ExportFilter())))
    truth = json.loads(text.replace("{base_url}", emu.base_url))
    assert len(served) == len(truth)
    broken = [s for s, t in zip(served, truth, strict=True) if s != t]
    assert 0 < len(broken) < len(served)
    assert emu.fault_counts() == {"malformed_record": len(broken)}
    assert any("ID" not in b or not isinstance(b.get("Label"), dict) for b in broken)


def test_faults_are_set_and_read_through_the_control_endpoint(
    labelbox_emulator: EmulatorServer,
) -> None:
    emu = labelbox_emulator
    auth = {"Authorization": f"Bearer {emu.api_key}"}
    rules = {"rules": [{"kind": "http_5xx", "target": "download:frames", "status": 502}]}
    put = requests.put(emu.control_url + "/faults", json=rules, headers=auth, timeout=10)
    assert put.status_code == 200 and put.json()["rules"][0]["status"] == 502
    frames = requests.get(emu.base_url + "/v1/frames/x", headers=auth, timeout=10)
    assert frames.status_code == 502
    counts = requests.get(emu.control_url + "/fault-counts", headers=auth, timeout=10).json()
    assert counts == {"http_5xx": 1}
    reset = requests.post(emu.control_url + "/reset-counts", headers=auth, timeout=10)
    assert reset.json() == {}
    bad = requests.put(emu.control_url + "/faults", json={"rules": [{"kind": "nope"}]},
                       headers=auth, timeout=10)  # fmt: skip
    assert bad.status_code == 400
