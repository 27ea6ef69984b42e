"""One table maps every expected error to an HTTP status and a stable code:
{"error": "ContractNotFound", "detail": "..."}. Nothing expected is ever a 500."""

from __future__ import annotations

from typing import Any

import psycopg
import structlog
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.domain.errors import LedgerError

STATUS_BY_KIND = {"not_found": 404, "forbidden": 403, "invalid": 422, "conflict": 409, "unavailable": 503}
RETRY_AFTER = {"Retry-After": "1"}
HTTP_CODES = {400: "MalformedRequest", 404: "NotFound", 405: "MethodNotAllowed", 413: "RequestTooLarge", 415: "UnsupportedMediaType"}

# A store that cannot be reached, or gave up waiting (connect, pool, lock or statement timeout).
UNAVAILABLE: tuple[type[Exception], ...] = (
    persistence.OperationalError,
    persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sa.OperationalError,
    sa.InterfaceError,
    sa.TimeoutError,
)
# A value the database cannot hold (a NUL character, a number out of range): the client's, not an outage.
UNSTORABLE: tuple[type[Exception], ...] = (persistence.DataError, psycopg.DataError, sa.DataError)
# Any other refusal by a store: nothing was recorded, and a retry may well succeed.
STORE_ERRORS: tuple[type[Exception], ...] = (persistence.PersistenceError, psycopg.Error, sa.DBAPIError)
# Wrong SQL is a bug, not an outage: a retry cannot help, so it is a 500 like any other bug.
STORE_BUGS: tuple[type[Exception], ...] = (persistence.ProgrammingError, psycopg.ProgrammingError, sa.ProgrammingError)

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
        headers = RETRY_AFTER if status == 503 else None
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
        code = HTTP_CODES.get(exc.status_code, "HTTPError")
        return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, store_unavailable)
    for kind in UNSTORABLE:
        app.add_exception_handler(kind, unstorable)
    for kind in STORE_ERRORS:
        app.add_exception_handler(kind, store_error)
    for kind in STORE_BUGS:
        app.add_exception_handler(kind, store_bug)


def _cause(exc: BaseException) -> str:
    """The driver's own message, first line only: SQLAlchemy's text would add the statement's
    parameters, which may hold what a client typed."""
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {str(orig).strip().splitlines()[0] if str(orig).strip() else ''}"[:300]


async def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("store_unavailable", error=_cause(exc))
    return JSONResponse(error_body("StoreUnavailable", "the store is unavailable; try again shortly"), status_code=503, headers=RETRY_AFTER)


async def unstorable(request: Request, exc: Exception) -> JSONResponse:
    log.info("request_refused", error="UnstorableValue", status=422, cause=type(exc).__name__)
    detail = "a value cannot be stored (a control character, or a number out of range); nothing was recorded"
    return JSONResponse(error_body("UnstorableValue", detail), status_code=422)


async def store_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("store_error", error=_cause(exc))
    detail = "the store refused the request; nothing was recorded"
    return JSONResponse(error_body("StoreError", detail), status_code=503, headers=RETRY_AFTER)


async def store_bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected_error", error=_cause(exc), exc_info=exc)
    return internal_error(request.state.request_id)


def internal_error(request_id: str) -> JSONResponse:
    """The answer to an exception nobody expected: JSON, with the id to find it in the log."""
    detail = {"message": "an unexpected error; quote the request id when reporting it", "request_id": request_id}
    return JSONResponse(error_body("InternalError", detail), status_code=500)
