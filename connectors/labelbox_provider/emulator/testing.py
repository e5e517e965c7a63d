"""Test helpers: an in-process emulator context manager and pytest fixtures.

Register with ``pytest_plugins = ["labelbox_provider.emulator.testing"]`` in a ``conftest.py``;
then tests may ask for:

* ``labelbox_emulator`` -- a started `EmulatorServer` on a small world (function scope,
  fast: ``v1_polls=0``, ``v2_polls=0``, no v1 export caching);
* ``labelbox_emulator_factory`` -- ``factory(**options)`` starts more servers with any
  `EmulatorServer` options; all are stopped at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from labelbox_provider.emulator.server.runner import EmulatorServer

__all__ = [
    "SDK_QUERIES",
    "SMALL_WORLD",
    "GraphQLClient",
    "labelbox_emulator",
    "labelbox_emulator_factory",
    "running_emulator",
]

# Options of the default test emulator: a small world and no artificial waiting.
SMALL_WORLD: dict[str, Any] = {
    "seed": 0,  # deterministic world and faults
    "clock": "fixed",  # reproducible: the clock moves only when a test advances it
    "labels_per_project": 12,  # a few labels per project: fast to build and export
    "v1_polls": 0,  # export v1 answers with the URL at the first call
    "v2_polls": 0,  # tasks complete at the first status read
    "v1_cache_seconds": 0.0,  # every v1 export call sees the current world
}


# Query texts of the SDK's export calls (spec sections 2.2, 4.2, 4.5, 4.6), for tests that
# speak the wire protocol directly. `v1` takes the spliced filter text (", filters: {...}").
SDK_QUERIES: dict[str, str] = {
    "v1": "mutation GetLabelExportUrlPyApi($projectId: ID!)\n            {{exportLabels(data:"
    "{{projectId: $projectId{filters}}}) {{downloadUrl createdAt shouldPoll}} }}\n        ",
    "v2_create": "mutation exportDataRowsInProjectPyApi($input: ExportDataRowsInProjectInput!)"
    "{exportDataRowsInProject(input: $input){taskId isStreamable}}",
    "current_user": "query CurrentUserPyApi { user { timezone } }",
    "user": "query GetUserPyApi{user{createdAt email intercomHash isExternalUser isViewer "
    "nickname name picture id updatedAt}}",
    "tasks": "query GetUserCreatedTasksPyApi($param_0: ID!, $param_1: ID!){user(where: "
    "{id: $param_1}){createdTasks(where: {id: $param_0} skip: 0 first: 100){"
    "completionPercentage createdAt errors metadata name result status type id updatedAt}}}",
    "project": "query GetProjectPyApi($param_0: ID!){project(where: {id: $param_0}){"
    "autoAuditNumberOfLabels autoAuditPercentage createdAt dataRowCount description "
    "editorTaskType isBenchmarkEnabled isConsensusEnabled lastActivityTime allowedMediaType "
    "modelSetupComplete name queueMode setupComplete id updatedAt uploadType}}",
    "organization": "query GetOrganizationPyApi{organization{createdAt name id updatedAt}}",
    "header": "query GetExportMetadataHeaderPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!){task(where: $where){exportMetadataHeader(streamType: $streamType)"
    "{totalSize totalLines}}}",
    "chunk": "query GetExportFileFromOffsetPyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!, $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: "
    "$streamType, offset: $offset){offsets {start end} lines {start end} file}}}",
    "chunk_by_line": "query GetExportFileFromLinePyApi($where: WhereUniqueIdInput, $streamType: "
    "TaskStreamType!, $line: UInt64!){task(where: $where){exportFileFromLine(streamType: "
    "$streamType, line: $line){offsets {start end} lines {start end} file}}}",
}


class GraphQLClient:
    """A bare GraphQL-over-HTTP client for tests (``requests``; no retries, no magic)."""

    def __init__(self, url: str, api_key: str | None) -> None:
        import requests

        self.url = url
        self.session = requests.Session()
        if api_key is not None:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def post(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """POST one operation; returns the ``requests.Response``."""
        return self.session.post(
            self.url, json={"query": query, "variables": variables}, timeout=30
        )

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one operation and return its ``data`` (AssertionError on any error)."""
        response = self.post(query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), response.text
        data: dict[str, Any] = body["data"]
        return data

    def v1_filters(
        self,
        label_created: dict[str, str] | None = None,
        last_activity: dict[str, str] | None = None,
    ) -> str:
        """The ``, filters: {...}`` text SDK 3.78.1 splices into the v1 query."""
        parts = []
        for name, spec in (("labelCreatedAt", label_created), ("lastActivityAt", last_activity)):
            if spec is not None:
                inner = ",".join(f'{k}: "{v}"' for k, v in spec.items() if v)
                parts.append(f"{name}: {{{inner}}}")
        return f", filters: {{{','.join(parts)} }}" if parts else ""

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()


@contextmanager
def running_emulator(**options: Any) -> Iterator[EmulatorServer]:
    """Start an emulator (``SMALL_WORLD`` defaults overridden by ``options``); stop it after."""
    server = EmulatorServer(**{**SMALL_WORLD, **options})
    with server:
        yield server


@pytest.fixture
def labelbox_emulator() -> Iterator[EmulatorServer]:
    """A started emulator on a small world, stopped after the test."""
    with running_emulator() as server:
        yield server


@pytest.fixture
def labelbox_emulator_factory() -> Iterator[Callable[..., EmulatorServer]]:
    """``factory(**options) -> EmulatorServer`` (started); every server stops after the test."""
    started: list[EmulatorServer] = []

    def factory(**options: Any) -> EmulatorServer:
        server = EmulatorServer(**{**SMALL_WORLD, **options}).start()
        started.append(server)
        return server

    yield factory
    for server in reversed(started):
        server.stop()
