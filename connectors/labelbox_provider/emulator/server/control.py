"""The control endpoint (``/_emulator/...``): clock, events, ground truth, faults, request log.

Protected by the same ``Authorization: Bearer <api key>`` as the API. All bodies are JSON.

| method + path | what |
|---|---|
| GET  /_emulator/health | ``{"ok": true}`` (no auth; readiness probe) |
| GET  /_emulator/state | clock, projects, settings, number of exports |
| POST /_emulator/clock/advance | ``{"seconds": s, "events": {"label_updated": 3}}`` -> events |
| POST /_emulator/events | ``{"kind", "at", "project_id", "target", "visible_after"}`` -> event |
| GET  /_emulator/ground-truth/{project_id} | JSON lines of the truth (``?visible=1``: as seen) |
| GET  /_emulator/activity-log | ``?project_id=`` the world's activity log |
| GET / PUT /_emulator/faults | the fault rules (PUT replaces them: ``{"rules": [...]}``) |
| GET  /_emulator/fault-counts | faults injected per kind |
| POST /_emulator/reset-counts | zero the fault counters |
| GET  /_emulator/requests | the request log (``?since=<seq>``) |
| GET / PATCH /_emulator/settings | protocol knobs (polls, chunk size, URL TTL, ...) |
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from labelbox_provider.emulator.server.responses import bearer_ok
from labelbox_provider.emulator.server.state import ServerState

__all__ = ["control_routes", "jsonable"]

_END = object()  # end-of-iteration marker
Handler = Callable[[Request], Awaitable[Response]]


def jsonable(value: Any) -> Any:
    """`value` with datetimes as ISO strings and sets as sorted lists (for JSON answers)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return jsonable(vars(value))
    return value


def _guarded(state: ServerState, handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        if not bearer_ok(request, state.world.api_key):
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        try:
            return await handler(request)
        except (ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"message": f"{type(exc).__name__}: {exc}"}, status_code=400)

    return wrapped


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _state_view(state: ServerState) -> dict[str, Any]:
    return {
        "now": state.clock.isoformat(),
        "base_url": state.base_url,
        "projects": [
            {"id": p.id, "name": p.name, "media_type": p.media_type}
            for p in state.projects.values()
        ],
        "settings": state.settings.to_dict(),
        "exports": state.export_count(),
    }


def _truth_lines(state: ServerState, project_id: str, visible: bool) -> Iterator[bytes]:
    with state.world_lock:
        items = state.world.ground_truth(project_id, visible=visible)
    while True:  # lock per item: a streaming body may hop threads between items
        with state.world_lock:
            item = next(items, _END)
        if item is _END:
            return
        yield json.dumps(jsonable(item)).encode() + b"\n"


class _Control:
    """The control handlers, bound to one server state."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def _locked(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.state.world_lock:
            result = fn(*args, **kwargs)
        self.state.refresh()
        return result

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def get_state(self, request: Request) -> Response:
        return JSONResponse(jsonable(_state_view(self.state)))

    async def advance(self, request: Request) -> Response:
        body = await _body(request)
        seconds, events = float(body.get("seconds", 0.0)), body.get("events") or {}
        made = await run_in_threadpool(self._locked, self.state.world.advance, seconds, events)
        return JSONResponse(jsonable({"now": self.state.clock, "events": made}))

    async def add_event(self, request: Request) -> Response:
        body = await _body(request)
        at = datetime.fromisoformat(body["at"]) if body.get("at") else self.state.clock
        kwargs = {k: body[k] for k in ("project_id", "target", "visible_after") if k in body}
        made = await run_in_threadpool(
            self._locked, self.state.world.add_event, body["kind"], at, **kwargs
        )
        return JSONResponse(jsonable(made))

    async def ground_truth(self, request: Request) -> Response:
        project_id = request.path_params["project_id"]
        if project_id not in self.state.projects:
            return JSONResponse({"message": f"unknown project {project_id}"}, status_code=404)
        visible = request.query_params.get("visible", "").lower() in ("1", "true", "yes")
        lines = _truth_lines(self.state, project_id, visible)
        return StreamingResponse(lines, media_type="application/x-ndjson")

    async def activity(self, request: Request) -> Response:
        project_id = request.query_params.get("project_id")
        log = await run_in_threadpool(self._locked, self.state.world.activity_log, project_id)
        return JSONResponse(jsonable(log))

    async def faults(self, request: Request) -> Response:
        if request.method == "PUT":
            body = await _body(request)
            self.state.faults.replace(body.get("rules", []))
        return JSONResponse({"rules": self.state.faults.rules()})

    async def fault_counts(self, request: Request) -> Response:
        return JSONResponse(self.state.faults.counts())

    async def reset_counts(self, request: Request) -> Response:
        self.state.faults.reset_counts()
        return JSONResponse(self.state.faults.counts())

    async def requests_log(self, request: Request) -> Response:
        since = int(request.query_params.get("since", 0))
        return JSONResponse([e for e in self.state.request_log() if e["seq"] > since])

    async def settings(self, request: Request) -> Response:
        if request.method == "PATCH":
            self.state.settings.update(await _body(request))
            self.state.signer.ttl_seconds = self.state.settings.url_ttl_seconds
        return JSONResponse(self.state.settings.to_dict())


def control_routes(state: ServerState) -> list[Route]:
    """Routes of the control endpoint bound to `state`."""
    c = _Control(state)
    guarded: dict[str, tuple[Handler, list[str]]] = {
        "/state": (c.get_state, ["GET"]),
        "/clock/advance": (c.advance, ["POST"]),
        "/events": (c.add_event, ["POST"]),
        "/ground-truth/{project_id}": (c.ground_truth, ["GET"]),
        "/activity-log": (c.activity, ["GET"]),
        "/faults": (c.faults, ["GET", "PUT"]),
        "/fault-counts": (c.fault_counts, ["GET"]),
        "/reset-counts": (c.reset_counts, ["POST"]),
        "/requests": (c.requests_log, ["GET"]),
        "/settings": (c.settings, ["GET", "PATCH"]),
    }
    routes = [Route("/_emulator/health", c.health)]
    for path, (handler, methods) in guarded.items():
        routes.append(Route("/_emulator" + path, _guarded(state, handler), methods=methods))
    return routes
