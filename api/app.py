"""The FastAPI application, built by a factory from settings; nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from api import exports
from api.body_limit import BodyLimit
from api.console import install_console
from api.docs import install_docs
from api.errors import install_error_handlers
from api.logs import configure_logging
from api.metrics import install_metrics
from api.request_log import RequestLog
from api.routers import as_of, audit, contracts, lists, parties, publish, reads, reference, roster, services, tokens, trace, visits_bulk
from ledger.bootstrap import build_ledger, build_milestones
from ledger.collector import tune_collector
from ledger.processes import Follower
from ledger.settings import Settings, get_settings
from projections.chain.audit import TamperEvidence
from projections.readside import ReadSide
from projections.store import make_engine
from stores.wakeup import waker_for

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
        read_side.prepare(migrate_schema=settings.create_table)  # alembic upgrade head, unless `ledger migrate` does it
        chain = TamperEvidence(ledger, engine, settings.signing_key_file(), on_error=lambda exc: log.error("chain_failed", error=repr(exc)))
        chain.prepare()
        app.state.ledger, app.state.milestones, app.state.read_side, app.state.chain = ledger, follower, read_side, chain
        # Background loops in this process; in a deployment of several processes, none of them.
        loops = []
        if settings.follower_in_service:
            loops.append(follower.loop)
        if settings.projections_in_service:
            loops += [read_side.loop, chain.keeper.loop]
        for loop in loops:
            loop.start()
        waker = None
        if settings.listen_for_notifications:
            waker = waker_for(ledger, settings.database_url, loops, notified_interval=settings.notified_poll_seconds, connect_timeout=settings.postgres_connect_timeout_seconds)
        if waker is not None:
            waker.start()
        app.state.waker = waker
        log.info("ledger_started", store=ledger.factory.__class__.__name__, head=ledger.head(), environment=settings.environment, background=[loop.name for loop in loops])
        try:
            yield
        finally:
            if waker is not None:
                waker.stop()
            chain.stop()
            read_side.stop()
            follower.stop()
            engine.dispose()
            ledger.close()
            log.info("ledger_stopped")

    app = FastAPI(title="Service-delivery ledger 服务类社会救助台账", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    install_metrics(app)  # outside BodyLimit: a refused body is counted too

    # Added last, so it runs outermost: a refused body is logged like any answer.
    app.add_middleware(RequestLog)

    # Exports first: `/trace/beneficiaries/{id}.csv` must not be read as an id ending in .csv.
    app.include_router(exports.router)
    for module in (roster, parties, contracts, visits_bulk, services, reads, lists, reference, audit, as_of, trace, tokens, publish):
        app.include_router(module.router)
    install_docs(app)  # /docs from local assets (/redoc leads there), and /static
    install_console(app)
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn calls in each worker process (`ledger serve --workers N`)."""
    settings = get_settings()
    app = create_app(settings)
    if settings.tune_collector:
        tune_collector()  # this process serves until it stops: see ledger.collector
    return app
