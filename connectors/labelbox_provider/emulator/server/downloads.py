"""File downloads: signed export files (v1 JSON, v2 chunks), video frames, mask images.

Export files need no API key but a valid signed URL (expired -> 400 ``ExpiredToken``, forged ->
403 ``SignatureDoesNotMatch``, XML bodies like Cloud Storage). They honour ``Range`` requests
(206 + ``Content-Range``) so a client can resume. Frames and masks need ``Bearer`` auth (401).
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from labelbox_provider.emulator.server.errors import gcs_error
from labelbox_provider.emulator.server.exports import ExportJob, Spool
from labelbox_provider.emulator.server.responses import (
    HTTP_FAULTS,
    SpanResponse,
    bearer_ok,
    fault_response,
    parse_range,
)
from labelbox_provider.emulator.server.state import ServerState

__all__ = ["download_routes"]

_DOWNLOAD_FAULTS = (*HTTP_FAULTS, "truncated", "expired_url")


def _xml(status: int, code: str, message: str, details: str) -> Response:
    return Response(gcs_error(code, message, details), status, media_type="application/xml")


async def _faults(
    state: ServerState, kind: str, log: dict[str, Any]
) -> tuple[Any, Response | None]:
    """(rule, early response) for a download; `slow` sleeps and yields no response."""
    rule = state.faults.decide(["download", f"download:{kind}"], kinds=_DOWNLOAD_FAULTS)
    if rule is None:
        return None, None
    log["fault"] = rule.kind
    if rule.kind == "slow":
        await asyncio.sleep(rule.delay)
    return rule, fault_response(rule)


def _signature_problem(state: ServerState, request: Request, rule: Any) -> Response | None:
    verdict = state.signer.check(request.url.path, dict(request.query_params))
    if verdict == "bad":
        return _xml(
            403,
            "SignatureDoesNotMatch",
            "Access denied.",
            "The request signature we calculated does not match the signature you provided.",
        )
    if verdict == "expired" or (rule is not None and rule.kind == "expired_url"):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return _xml(
            400,
            "ExpiredToken",
            "Invalid argument.",
            f"The provided token has expired. Request signature expired at: {stamp}",
        )
    return None


def _serve(
    request: Request,
    spool: Spool,
    span: tuple[int, int],
    rule: Any,
    media_type: str,
    *,
    log: dict[str, Any],
) -> Response:
    """Serve `span` of the spool, or the part a Range header asks for (relative to `span`)."""
    first, last = span
    length = last - first + 1
    wanted = parse_range(request.headers.get("range"), length)
    if isinstance(wanted, str):
        return Response(status_code=416, headers={"Content-Range": f"bytes */{length}"})
    start, end = (0, length - 1) if wanted is None else wanted
    headers, status = {}, 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{length}"
    short_by, cut_after = 0, None
    n = end - start + 1
    if rule is not None and rule.kind == "truncated":
        if rule.mode == "cut":
            cut_after = n // 2
        else:
            short_by = max(1, n // 3)
    log.update(status=status, bytes=n - short_by, range=[start, end])
    return SpanResponse(
        spool.path,
        first + start,
        first + end,
        status_code=status,
        headers=headers,
        media_type=media_type,
        short_by=short_by,
        cut_after=cut_after,
    )


def _finished_spool(job: ExportJob | None, stream: str) -> Spool | None:
    if job is None or job.status() != "complete":
        return None
    return job.stream(stream)


class _Downloads:
    """The download handlers, bound to one server state."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    async def _checked(
        self, request: Request, kind: str, log: dict[str, Any]
    ) -> tuple[Any, Response | None]:
        """(rule, problem response or None) after faults and the URL signature."""
        rule, early = await _faults(self.state, kind, log)
        problem = early or _signature_problem(self.state, request, rule)
        if problem is not None:
            log["status"] = problem.status_code
        return rule, problem

    async def export_v1(self, request: Request) -> Response:
        export_id = request.path_params["export_id"]
        log = self.state.log(kind="download", download="v1", export_id=export_id, status=None)
        rule, problem = await self._checked(request, "v1", log)
        if problem is not None:
            return problem
        spool = _finished_spool(self.state.job(export_id), "RESULT")
        if spool is None:
            log["status"] = 404
            return _xml(404, "NoSuchKey", "The specified key does not exist.", export_id)
        return _serve(request, spool, (0, spool.size - 1), rule, "application/json", log=log)

    async def export_v2(self, request: Request) -> Response:
        task_id, stream = request.path_params["task_id"], request.path_params["stream"].upper()
        log = self.state.log(kind="download", download="v2", export_id=task_id, status=None)
        rule, problem = await self._checked(request, "v2", log)
        if problem is not None:
            return problem
        spool = _finished_spool(self.state.job(task_id), stream)
        if spool is None or spool.size == 0:
            log["status"] = 404
            return _xml(404, "NoSuchKey", "The specified key does not exist.", task_id)
        query = request.query_params
        first = int(query.get("start", 0))
        last = min(int(query.get("end", spool.size - 1)), spool.size - 1)
        return _serve(request, spool, (first, last), rule, "application/x-ndjson", log=log)

    async def _authorized(
        self, request: Request, kind: str, log: dict[str, Any]
    ) -> Response | None:
        _, early = await _faults(self.state, kind, log)
        if early is None and not (
            bearer_ok(request, self.state.world.api_key) or "token" in request.query_params
        ):
            early = JSONResponse({"message": "Unauthorized"}, status_code=401)
        if early is not None:
            log["status"] = early.status_code
        return early

    async def frames(self, request: Request) -> Response:
        label_id = request.path_params["label_id"]
        log = self.state.log(kind="download", download="frames", label_id=label_id, status=None)
        early = await self._authorized(request, "frames", log)
        if early is not None:
            return early
        body = await run_in_threadpool(_frames_body, self.state, label_id)
        log["status"] = 200 if body is not None else 404
        if body is None:
            return JSONResponse({"message": f"Label {label_id} has no frames"}, status_code=404)
        return Response(body, media_type="application/x-ndjson")

    async def mask(self, request: Request) -> Response:
        log = self.state.log(kind="download", download="mask", path=request.url.path, status=None)
        early = await self._authorized(request, "mask", log)
        if early is not None:
            return early
        log["status"] = 200
        return Response(_PNG, media_type="image/png")


def download_routes(state: ServerState) -> list[Route]:
    """Routes of the download endpoints bound to `state`."""
    handlers = _Downloads(state)
    return [
        Route("/exports/v1/{export_id}.json", handlers.export_v1),
        Route("/exports/v2/{task_id}/{stream}.ndjson", handlers.export_v2),
        Route("/v1/frames/{label_id}", handlers.frames),
        Route("/api/v1/projects/{project_id}/annotations/{feature_id}/mask", handlers.mask),
        Route("/masks/feature/{feature_id}", handlers.mask),
    ]


def _frames_body(state: ServerState, label_id: str) -> bytes | None:
    with state.world_lock:
        lines = state.world.v1_frames(label_id)
    if lines is None:
        return None
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return text.replace("{base_url}", state.base_url).encode()


def _png(width: int = 1, height: int = 1) -> bytes:
    """A tiny grayscale PNG (the emulator's mask image)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


_PNG = _png()
