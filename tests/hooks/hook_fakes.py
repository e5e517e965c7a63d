"""A scripted fake of the HTTP transport (a requests adapter) for the hook's unit tests.

It fakes the wire, never the hook: the hook's real session, retry loop and parsing run.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

Answer = tuple[int, dict[str, str], bytes]
KEY = "fake-api-key-0123456789"
FAST_EXTRAS = {
    "max_retry_seconds": 5,  # keep failing tests short
    "backoff_initial": 0.01,  # tiny backoff: tests must take seconds, not minutes
    "backoff_max": 0.05,
    "max_retry_after": 0.2,
    "poll_interval": 0.01,
}


def set_connection(monkeypatch: pytest.MonkeyPatch, host: str, key: str, **extra: object) -> None:
    """Point ``labelbox_default`` at ``host`` through ``AIRFLOW_CONN_LABELBOX_DEFAULT`` (JSON)."""
    extras = {**FAST_EXTRAS, **extra}
    conn = {"conn_type": "labelbox", "host": host, "password": key, "extra": extras}
    monkeypatch.setenv("AIRFLOW_CONN_LABELBOX_DEFAULT", json.dumps(conn))


SIG = "SIGNATURE-abcdef123456"


class _BreakingStream(io.RawIOBase):
    """A body that yields ``data`` then breaks the connection."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        if not chunk:
            raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
        buffer[: len(chunk)] = chunk
        return len(chunk)


class FakeAPI(BaseAdapter):
    """Routes GraphQL posts by operation name and GETs by URL path to handler callables."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[str, Callable[[dict[str, Any]], Answer]] = {}
        self.files: dict[str, Callable[[requests.PreparedRequest], Answer | Exception]] = {}
        self.calls: list[tuple[str, str, Any]] = []  # (kind, name/path, variables/headers)

    def on(self, operation: str, handler: Callable[[dict[str, Any]], Answer]) -> None:
        self.ops[operation] = handler

    def on_file(
        self, path: str, handler: Callable[[requests.PreparedRequest], Answer | Exception]
    ) -> None:
        self.files[path] = handler

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if request.method == "POST":
            payload = json.loads(request.body or b"{}")
            match = re.search(r"(?:query|mutation)\s+(\w+)", payload["query"])
            name = match.group(1) if match else "?"
            self.calls.append(("graphql", name, payload.get("variables")))
            answer: Answer | Exception = self.ops[name](payload.get("variables") or {})
        else:
            path = url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
            self.calls.append(("get", "/" + path, dict(request.headers)))
            answer = self.files["/" + path](request)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return self._response(request, status, headers, body)

    @staticmethod
    def _response(
        request: requests.PreparedRequest,
        status: int,
        headers: dict[str, str],
        body: bytes | _BreakingStream,
    ) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp.reason = {200: "OK", 206: "Partial Content"}.get(status, "Err")
        resp.headers.update(headers)
        resp.raw = body if isinstance(body, _BreakingStream) else io.BytesIO(body)
        resp.url = request.url or ""
        resp.request = request
        return resp

    def close(self) -> None:
        pass

    def graphql_calls(self, name: str) -> list[Any]:
        return [v for kind, n, v in self.calls if kind == "graphql" and n == name]

    def gets(self, path: str) -> list[Any]:
        return [h for kind, p, h in self.calls if kind == "get" and p == path]


def data(obj: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return status, headers or {}, json.dumps({"data": obj}).encode()


def breaking(prefix: bytes) -> Any:
    """An answer body that sends ``prefix`` then drops the connection."""
    return _BreakingStream(prefix)


def file_url(path: str) -> str:
    return f"http://files.test{path}?Expires=1&Signature={SIG}"


def chunk_answers(payload: bytes, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, len(payload), size):
        yield start, min(start + size, len(payload)) - 1
