"""The FastAPI application, built by a factory from settings; nothing is built at import time."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response

from api.body_limit import BodyLimit
from api.errors import install_error_handlers, internal_error
from api.logs import configure_logging
from api.routers import as_of, audit, contracts, lists, parties, reads, reference, services, trace, visits_bulk
from ledger.bootstrap import build_ledger, build_milestones
from ledger.processes import Follower
from ledger.settings import Settings, get_settings
from projections.chain.audit import TamperEvidence
from projections.readside import ReadSide
from projections.store import make_engine

log = structlog.get_logger("ledger.api")

DESCRIPTION = """
The system of record for social assistance services that a civil-affairs bureau buys from
outside providers (政府购买服务类社会救助). Every referral, visit, tranche and evaluation is an
immutable event; corrections are new events that point at the old ones.

Authenticate with `Authorization: Bearer <token>` (tokens come from `ledger token create`).
Every POST accepts an `Idempotency-Key`: the same key with the same body returns the first
response and records nothing new. Errors are `{"error": CODE, "detail": ...}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.environment, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = build_ledger(settings)
        follower = Follower(
            build_milestones(ledger),
            inline=settings.follow_inline,
            interval=settings.follow_interval_seconds,
            on_error=lambda exc: log.error("milestone_process_failed", error=repr(exc)),
            on_recovered=lambda failures: log.info("milestone_process_recovered", failures=failures),
        )
        engine = make_engine(settings.sqlalchemy_url(), settings.timeouts())
        read_side = ReadSide(
            ledger,
            engine,
            interval=settings.projections_interval_seconds,
        )  # logs its own structured projection_stalled / read_side_unavailable lines
        read_side.prepare()  # alembic upgrade head for the read models
        chain = TamperEvidence(ledger, engine, settings.signing_key_file(), on_error=lambda exc: log.error("chain_failed", error=repr(exc)))
        chain.prepare()
        app.state.ledger, app.state.milestones, app.state.read_side, app.state.chain = ledger, follower, read_side, chain
        follower.start()
        if settings.projections_in_service:
            read_side.start()
            chain.start()
        log.info("ledger_started", store=ledger.factory.__class__.__name__, head=ledger.head(), environment=settings.environment)
        try:
            yield
        finally:
            chain.stop()
            read_side.stop()
            follower.stop()
            engine.dispose()
            ledger.close()
            log.info("ledger_stopped")

    app = FastAPI(title="Service-delivery ledger 服务类社会救助台账", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    # Added before the request log, so it runs inside it: a refused body is logged like any answer.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    @app.middleware("http")
    async def one_log_line_per_request(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        request.state.request_id = request_id[:100]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.state.request_id)
        started = time.perf_counter()
        status = 500
        try:
            try:
                response = await call_next(request)
            except Exception:
                # Nothing expected reaches here (errors.py maps those); still JSON, never plain text.
                log.exception("unexpected_error", method=request.method)
                response = internal_error(request.state.request_id)
            status = response.status_code
            response.headers["X-Request-ID"] = request.state.request_id
            if request.method == "POST" and status < 300:
                request.app.state.read_side.wake()
            return response
        finally:
            actor = getattr(request.state, "actor", None)
            route = request.scope.get("route")
            log.info(
                "request",
                method=request.method,
                # The template, never the path: a path may hold whatever a client typed.
                route=getattr(route, "path", None),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                actor=actor.actor_id if actor else None,
                role=actor.role if actor else None,
                organisation=actor.organisation_id if actor else None,
            )

    for module in (parties, contracts, visits_bulk, services, reads, lists, reference, audit, as_of, trace):
        app.include_router(module.router)
    return app
