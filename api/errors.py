"""One table maps every expected error to an HTTP status and a stable code:
{"error": "ContractNotFound", "detail": "..."}. Nothing expected is ever a 500."""

from __future__ import annotations

from typing import Any

import structlog
from eventsourcing.persistence import OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.domain.errors import LedgerError

STATUS_BY_KIND = {"not_found": 404, "forbidden": 403, "invalid": 422, "conflict": 409, "unavailable": 503}

log = structlog.get_logger("ledger.api")


class Unauthenticated(Exception):
    """Missing, unknown or revoked bearer token."""


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(request: Request, exc: LedgerError) -> JSONResponse:
        status = STATUS_BY_KIND.get(exc.kind, 409)
        log.info("request_refused", error=exc.code, status=status, detail=exc.detail)
        headers = {"Retry-After": "1"} if status == 503 else None
        return JSONResponse(error_body(exc.code, exc.detail), status_code=status, headers=headers)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        log.info("request_refused", error="Unauthenticated", status=401)
        return JSONResponse(
            error_body("Unauthenticated", str(exc) or "a valid bearer token is required"),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_shape(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Inputs are not echoed or logged: they may hold a national ID number.
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        log.info("request_refused", error="ValidationError", status=422, problems=[(p["loc"], p["type"]) for p in problems])
        return JSONResponse(error_body("ValidationError", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def store_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("store_unavailable", error=str(exc))
        return JSONResponse(error_body("StoreUnavailable", "the event store is unavailable; try again"), status_code=503)

    @app.exception_handler(PersistenceError)
    async def store_error(request: Request, exc: PersistenceError) -> JSONResponse:
        log.error("store_error", error=type(exc).__name__)
        return JSONResponse(error_body("StoreError", "the event store refused the request; nothing was recorded"), status_code=503)
