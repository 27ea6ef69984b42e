"""API tokens, for the purchaser: issue one (its secret is in that answer only), list them
(never a secret nor its digest), revoke one (refused from the next request on)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, LedgerDep
from api.params import Cursor, IdInPath, MinPosition
from api.responses import found
from api.routers.reads import READ_ERRORS, Limit, ReadSideDep, _fresh, _query
from api.schemas.common import ERRORS
from api.schemas.reads import Page
from api.schemas.tokens import IssuedToken, IssueToken, Revoked, TokenRow
from ledger.domain.catalogue import Role
from projections import lists

router = APIRouter(responses=ERRORS, tags=["tokens"])


@router.post("/tokens", status_code=201, response_model=IssuedToken, summary="Issue a bearer token (shown once)")
def issue_token(body: IssueToken, by: CurrentActor, ledger: LedgerDep):
    """No Idempotency-Key: a replay would have to show the secret again, which is kept nowhere.
    A retry issues a second token; revoke the one not used."""
    issued = ledger.issue_token(body.role, body.organisation_id, body.subject, by=by)
    return JSONResponse(issued.__dict__, status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/tokens", responses=READ_ERRORS, response_model=Page[TokenRow], summary="Tokens issued, newest first; never a secret")
async def list_tokens(
    request: Request,
    by: CurrentActor,
    ledger: LedgerDep,
    read_side: ReadSideDep,
    order: Annotated[Literal["asc", "desc"], Query(description="`desc` (default): newest first")] = "desc",
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(Role.PURCHASER)

    def read():  # type: ignore[no-untyped-def]
        _fresh(request, read_side, min_position, "audit")  # the audit trail is the list's index
        issues, next_cursor = _query(read_side, lists.token_issues, descending=order == "desc", cursor=cursor, limit=limit)
        states = ledger.describe_tokens(by, [i["token_id"] for i in issues])
        items = [{**states[i["token_id"]], **i} for i in issues if i["token_id"] in states]
        return {"items": items, "next_cursor": next_cursor}

    return found(await run_in_threadpool(read))


@router.post("/tokens/{token_id}/revocation", status_code=201, response_model=Revoked, summary="Revoke a token")
def revoke_token(token_id: IdInPath, by: CurrentActor, ledger: LedgerDep):
    position = ledger.revoke_token(token_id, by=by)
    return JSONResponse({"token_id": token_id, "revoked": True, "position": position}, status_code=201)
