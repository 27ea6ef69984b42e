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


async def authenticate(
    request: Request,
    ledger: Annotated[Ledger, Depends(get_ledger)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required")
    # A token the aggregate cache holds, while the cache is fresh, is answered here on the event
    # loop; otherwise the lookup (a store read) runs in the thread pool.
    actor = ledger.authenticate_from_cache(credentials.credentials, correlation_id=request.state.request_id)
    if actor is False:
        actor = await run_in_threadpool(ledger.authenticate, credentials.credentials, request.state.request_id)
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
