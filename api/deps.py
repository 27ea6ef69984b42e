"""Typed dependencies: the ledger, the authenticated actor and the idempotency request."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import Unauthenticated
from ledger.application import Ledger
from ledger.application import Request as IdempotentRequest
from ledger.domain.actors import Actor
from ledger.domain.limits import IDEMPOTENCY_KEY
from ledger.processes import Follower

bearer = HTTPBearer(auto_error=False, description="A token from `ledger token create`")
MAX_KEY_LENGTH = IDEMPOTENCY_KEY.max_length


# The dependencies are `async def` where they never wait on I/O: a plain `def` dependency costs a
# hop to the thread pool and back on every request.
async def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger


async def get_milestones(request: Request) -> Follower:
    return request.app.state.milestones


def _console_export_token(request: Request) -> str | None:
    """A console session may download the exports its pages link to (/console/exports/...): a GET
    of a `.csv` or `.xlsx` route only (a read a page on another site cannot see; SameSite keeps
    the cookie off its requests anyway), never another route or method: the API stays bearer-only."""
    signer = getattr(request.app.state, "console_signer", None)
    path = request.url.path
    if signer is None or request.method != "GET" or not path.startswith("/console/exports/") or not path.endswith((".csv", ".xlsx")):
        return None
    from api.console.session import SESSION_COOKIE

    return signer.token_of(request.cookies.get(SESSION_COOKIE))


async def authenticate(
    request: Request,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    token = credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else _console_export_token(request)
    if token is None:
        raise Unauthenticated("a bearer token is required")
    # A token the aggregate cache holds, while the cache is fresh, is answered here on the event
    # loop; otherwise the lookup (a store read) runs in the thread pool.
    actor = ledger.authenticate_from_cache(token, correlation_id=request.state.request_id)
    if actor is False:
        actor = await run_in_threadpool(ledger.authenticate, token, request.state.request_id)
    if actor is None:
        raise Unauthenticated("the token is unknown or revoked")
    request.state.actor = actor
    return actor


async def idempotency(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=MAX_KEY_LENGTH,
            description=f"Retry-safe key of 1 to {MAX_KEY_LENGTH} characters: the same key and body returns the first response",
        ),
    ] = None,
) -> IdempotentRequest | None:
    if key is None:
        return None
    IDEMPOTENCY_KEY.check(key, "an Idempotency-Key")  # the header's schema checks the length; this, control characters
    raw = await request.body()
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")) if raw else ""
    except ValueError:
        body = raw.decode("utf-8", "replace")
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n{body}".encode()).hexdigest()
    return IdempotentRequest(key=key, fingerprint=fingerprint)


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
CurrentActor = Annotated[Actor, Depends(authenticate)]
Idempotency = Annotated[IdempotentRequest | None, Depends(idempotency)]
Milestones = Annotated[Follower, Depends(get_milestones)]
