"""The ASGI application: ``POST /graphql`` plus downloads and the control endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from labelbox_provider.emulator.faults import FaultRule
from labelbox_provider.emulator.server.control import control_routes
from labelbox_provider.emulator.server.downloads import download_routes
from labelbox_provider.emulator.server.errors import GraphQLError
from labelbox_provider.emulator.server.graphql_parser import GraphQLSyntaxError, Operation, parse
from labelbox_provider.emulator.server.resolvers import execute
from labelbox_provider.emulator.server.responses import (
    HTTP_FAULTS,
    RAW_SEND,
    bearer_ok,
    fault_response,
)
from labelbox_provider.emulator.server.state import ServerState

__all__ = ["build_app"]

logger = logging.getLogger("labelbox_provider.emulator")
_GRAPHQL_FAULTS = (*HTTP_FAULTS, "graphql_error")


def _error_response(exc: GraphQLError, data: Any = None) -> Response:
    return JSONResponse({"data": data, "errors": [exc.entry()]}, status_code=exc.http_status)


def _fault_graphql_error(rule: FaultRule, op: Operation) -> GraphQLError:
    message = rule.message or (
        "LBU limit exceeded, upgrade to continue" if rule.status == 426 else "Internal error"
    )
    root = op.fields[0].key if op.fields else None
    extra = {}
    if rule.code == "MALFORMED_REQUEST":
        extra = {"errors": [{"error": message, "projectIds": []}]}
    return GraphQLError(rule.code, message, path=root, status=rule.status, extra=extra)


async def _read_operation(request: Request) -> Operation:
    try:
        body = json.loads(await request.body())
        query, variables = body["query"], body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise TypeError("query must be a string and variables an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError.parse_failed(f"Invalid GraphQL request body: {exc}") from exc
    try:
        return parse(query, variables)
    except GraphQLSyntaxError as exc:
        raise GraphQLError.parse_failed(str(exc)) from exc


def _operation_name(op: Operation) -> str:
    return op.name or (op.fields[0].name if op.fields else "anonymous")


async def _apply_fault(state: ServerState, op: Operation, log: dict[str, Any]) -> Response | None:
    rule = state.faults.decide(["graphql", _operation_name(op)], kinds=_GRAPHQL_FAULTS)
    if rule is None:
        return None
    log["fault"] = rule.kind
    if rule.kind == "slow":
        await asyncio.sleep(rule.delay)
        return None
    if rule.kind == "graphql_error":
        return _error_response(_fault_graphql_error(rule, op))
    return fault_response(rule)


def _auth_failure(state: ServerState) -> Response:
    if state.settings.auth_mode == "http401":
        return JSONResponse({"message": "Unauthorized: invalid API key"}, status_code=401)
    return _error_response(GraphQLError.authentication())


def graphql_endpoint(state: ServerState) -> Any:
    """The ``POST /graphql`` handler bound to `state`."""

    async def endpoint(request: Request) -> Response:
        log = state.log(kind="graphql", operation=None, status=None)
        try:
            op = await _read_operation(request)
        except GraphQLError as exc:
            log["status"] = exc.http_status
            return _error_response(exc)
        log["operation"] = _operation_name(op)
        response = await _apply_fault(state, op, log)
        if response is None and not bearer_ok(request, state.world.api_key):
            response = _auth_failure(state)
        if response is None:
            response = await _run(state, op, log)
        log["status"] = response.status_code
        logger.debug("graphql %s -> %s", log["operation"], response.status_code)
        return response

    return endpoint


async def _run(state: ServerState, op: Operation, log: dict[str, Any]) -> Response:
    try:
        data = await run_in_threadpool(execute, state, op, log)
    except GraphQLError as exc:
        nulls = {sel.key: None for sel in op.fields} if exc.http_status == 200 else None
        return _error_response(exc, nulls)
    return JSONResponse({"data": data})


class _KeepSend:
    """Outer ASGI layer: remembers the server's own `send` so a fault can drop the socket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)


def build_app(state: ServerState) -> ASGIApp:
    """The emulator's ASGI application for `state`."""
    endpoint = graphql_endpoint(state)
    routes = [
        Route("/graphql", endpoint, methods=["POST"]),
        Route("/_gql", endpoint, methods=["POST"]),
        *download_routes(state),
        *control_routes(state),
    ]
    return _KeepSend(Starlette(routes=routes))
