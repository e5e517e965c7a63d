"""HTTP building blocks: fault answers, dropped connections, byte-range file responses."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from labelbox_provider.emulator.faults import FaultRule
from labelbox_provider.emulator.server.errors import RATE_LIMIT_MESSAGE, UPSTREAM_RESET_BODY

__all__ = [
    "HTTP_FAULTS",
    "RAW_SEND",
    "DropConnection",
    "SpanResponse",
    "bearer_ok",
    "fault_response",
    "parse_range",
]

RAW_SEND = "lbx.raw_send"  # scope key holding the server's own `send` (to reach the socket)
HTTP_FAULTS = ("http_429", "http_5xx", "reset", "slow")  # faults any endpoint can answer with
_BLOCK = 64 * 1024  # bytes read from a spool file per send
# Bodies of plain 5xx answers by status (non-JSON, as from a load balancer).
_5XX_BODIES = {
    500: "Internal Server Error",
    502: "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


async def _abort(scope: Scope) -> None:
    send = scope.get(RAW_SEND)
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("cannot reach the transport to drop the connection")
    sock = transport.get_extra_info("socket")
    if sock is not None:  # RST instead of FIN: a real "connection reset by peer"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0)


class DropConnection(Response):
    """Closes the connection without sending any response."""

    def __init__(self) -> None:
        super().__init__(status_code=599)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _abort(scope)


def fault_response(rule: FaultRule) -> Response | None:
    """The answer for an HTTP-level fault (None for `slow`, which only delays)."""
    if rule.kind == "http_429":
        return JSONResponse(
            {"message": rule.message or RATE_LIMIT_MESSAGE},
            status_code=429,
            headers={"Retry-After": f"{rule.retry_after:g}"},
        )
    if rule.kind == "http_5xx":
        status = rule.status or 503
        body = UPSTREAM_RESET_BODY if rule.upstream else _5XX_BODIES.get(status, "Server Error")
        return PlainTextResponse(body, status_code=status)
    if rule.kind == "reset":
        return DropConnection()
    return None


def bearer_ok(request: Request, api_key: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <api_key>``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.strip() == api_key


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """An inclusive (start, end) for a ``Range: bytes=...`` header, None (whole), or "bad".

    >>> parse_range("bytes=10-", 100), parse_range("bytes=-10", 100), parse_range("bytes=5-9", 8)
    ((10, 99), (90, 99), (5, 7))
    >>> parse_range("bytes=100-", 100)
    'bad'
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        return "bad"
    try:
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        return "bad"
    return "bad" if start > end or start >= size else (start, end)


class SpanResponse(Response):
    """Serves bytes ``[start, end]`` of a file, optionally short or cut (faults)."""

    def __init__(
        self,
        path: Path,
        start: int,
        end: int,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str = "application/octet-stream",
        short_by: int = 0,
        cut_after: int | None = None,
    ) -> None:
        super().__init__(status_code=status_code, headers=headers, media_type=media_type)
        self.path, self.start, self.end = path, start, end - short_by
        self.cut_after = cut_after
        self.headers["content-length"] = str(max(end - start + 1 - short_by, 0))
        self.headers["accept-ranges"] = "bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        remaining = self.end - self.start + 1
        if self.cut_after is not None:
            remaining = min(remaining, self.cut_after)
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            while remaining > 0:
                block = handle.read(min(_BLOCK, remaining))
                if not block:
                    break
                remaining -= len(block)
                await send({"type": "http.response.body", "body": block, "more_body": True})
        if self.cut_after is not None:
            await _abort(scope)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
