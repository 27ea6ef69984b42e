"""One log line per request, and its X-Request-ID, as a pure ASGI middleware.

Starlette's BaseHTTPMiddleware (`@app.middleware("http")`) runs the rest of the app in a task of
its own and streams the response through memory channels: a cost on every request. This does
the same with a wrapped `send`: the request id goes in the request state and the response
headers, a successful POST wakes the read side, and an exception nobody expected is answered
with the JSON 500 (errors.py maps every expected one)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import internal_error

log = structlog.get_logger("ledger.api")


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (Headers(scope=scope).get("x-request-id") or str(uuid.uuid4()))[:100]
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        method = scope["method"]
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                if method == "POST" and status < 300:
                    read_side = getattr(scope["app"].state, "read_side", None)
                    if read_side is not None:
                        read_side.wake()
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # Nothing expected reaches here (errors.py maps those); still JSON, never plain text.
                log.exception("unexpected_error", method=method)
                if response_started:
                    raise
                await internal_error(request_id)(scope, receive, send_with_id)
        finally:
            actor = state.get("actor")
            route = scope.get("route")
            log.info(
                "request",
                method=method,
                # The template, never the path: a path may hold whatever a client typed.
                route=getattr(route, "path", None),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                actor=actor.actor_id if actor else None,
                role=actor.role if actor else None,
                organisation=actor.organisation_id if actor else None,
            )
