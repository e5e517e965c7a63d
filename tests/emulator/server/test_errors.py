"""Error answers over real HTTP, shaped like the real API's (spec section 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from labelbox_provider.emulator.server import EmulatorServer
from labelbox_provider.emulator.testing import SDK_QUERIES, GraphQLClient

pytestmark = pytest.mark.integration


def _codes(response: requests.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def _v2_input(project_id: str, query: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "input": {
            "filters": {"projectId": project_id, "searchQuery": {"scope": None, "query": query}},
            "params": {},
        }
    }


def test_wrong_or_missing_key_is_an_authentication_error(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    for key in ("wrong-key", None):
        response = GraphQLClient(emu.url, key).post(SDK_QUERIES["organization"])
        assert response.status_code == 200
        assert _codes(response) == ["AUTHENTICATION_ERROR"]
        assert "wrong-key" not in response.text


def test_wrong_key_as_plain_401(labelbox_emulator_factory: Callable[..., EmulatorServer]) -> None:
    emu = labelbox_emulator_factory(auth_mode="http401")
    response = GraphQLClient(emu.url, "wrong").post(SDK_QUERIES["organization"])
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


def test_unknown_project_is_resource_not_found(labelbox_emulator: EmulatorServer) -> None:
    gql = GraphQLClient(labelbox_emulator.url, labelbox_emulator.api_key)
    v1 = gql.post(SDK_QUERIES["v1"].format(filters=""), {"projectId": "nope"})
    assert _codes(v1) == ["RESOURCE_NOT_FOUND"]
    assert v1.json()["data"] == {"exportLabels": None}
    v2 = gql.post(SDK_QUERIES["v2_create"], _v2_input("nope", []))
    assert _codes(v2) == ["RESOURCE_NOT_FOUND"]
    project = gql.post(SDK_QUERIES["project"], {"param_0": "nope"})
    assert _codes(project) == ["RESOURCE_NOT_FOUND"]
    header = gql.post(SDK_QUERIES["header"], {"where": {"id": "nope"}, "streamType": "RESULT"})
    assert _codes(header) == ["RESOURCE_NOT_FOUND"]


def test_bad_filters_are_malformed_requests_with_an_errors_list(
    labelbox_emulator: EmulatorServer,
) -> None:
    emu = labelbox_emulator
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = emu.projects[0]["id"]
    bad_date = SDK_QUERIES["v1"].format(
        filters=', filters: {labelCreatedAt: {start: "2021-13-45"} }'
    )
    v1 = gql.post(bad_date, {"projectId": pid})
    assert _codes(v1) == ["MALFORMED_REQUEST"]
    both = [{"ids": ["a"], "operator": "is", "type": "data_row_id"},
            {"ids": ["k"], "operator": "is", "type": "global_key"}]  # fmt: skip
    v2 = gql.post(SDK_QUERIES["v2_create"], _v2_input(pid, both))
    (error,) = v2.json()["errors"]
    assert error["extensions"]["code"] == "MALFORMED_REQUEST"
    assert error["errors"] == [{"error": error["message"], "projectIds": [pid]}]
    assert emu.exports_created() == []


def test_unknown_operations_and_broken_bodies_fail_to_parse(
    labelbox_emulator: EmulatorServer,
) -> None:
    emu = labelbox_emulator
    gql = GraphQLClient(emu.url, emu.api_key)
    unknown = gql.post("query SomethingElsePyApi { somethingElse { id } }")
    assert (unknown.status_code, _codes(unknown)) == (400, ["GRAPHQL_PARSE_FAILED"])
    broken = gql.post("query Broken { user { id }")
    assert _codes(broken) == ["GRAPHQL_PARSE_FAILED"]
    not_json = gql.session.post(emu.url, data=b"{not json", timeout=10)
    assert _codes(not_json) == ["GRAPHQL_PARSE_FAILED"]


def test_offset_out_of_range_is_a_client_error(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    gql = GraphQLClient(emu.url, emu.api_key)
    pid = next(p["id"] for p in emu.projects if p["media_type"] == "IMAGE")
    task_id = gql.data(SDK_QUERIES["v2_create"], _v2_input(pid, []))["exportDataRowsInProject"]
    gql.data(SDK_QUERIES["tasks"], {"param_0": task_id["taskId"], "param_1": "u"})
    where = {"where": {"id": task_id["taskId"]}, "streamType": "RESULT"}
    size = gql.data(SDK_QUERIES["header"], where)["task"]["exportMetadataHeader"]["totalSize"]
    answer = gql.post(SDK_QUERIES["chunk"], {**where, "offset": str(size)})
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["exception"]["status"] == 400


def test_control_endpoint_needs_the_key(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    assert requests.get(emu.control_url + "/state", timeout=10).status_code == 401
    assert requests.get(emu.control_url + "/health", timeout=10).json() == {"ok": True}


def test_mask_images_need_the_key(labelbox_emulator: EmulatorServer) -> None:
    emu = labelbox_emulator
    url = emu.base_url + "/api/v1/projects/p/annotations/f/mask"
    assert requests.get(url, timeout=10).status_code == 401
    auth = {"Authorization": f"Bearer {emu.api_key}"}
    image = requests.get(url, headers=auth, timeout=10)
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
