"""Finance's pages: the tranches awaiting release with what each would pay now, and the release
itself behind a confirmation step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from api.console.core import Context, after, page
from ledger.domain.catalogue import Role
from ledger.domain.errors import TrancheNotFound
from projections import queries

router = APIRouter(include_in_schema=False)
R = Role
PAGE = 25


@router.get("/console/tranches")
@page(R.FINANCE, R.PURCHASER, R.AUDITOR)
def tranches(ctx: Context, contractor_id: str | None = None, fund_id: str | None = None, contract_no: str | None = None, cursor: str | None = None, done: str | None = None):
    filters = {"contractor_id": contractor_id or None, "fund_id": fund_id or None, "contract_no": contract_no or None}
    items, next_cursor = ctx.query(queries.payable_tranches, org=None, policy=ctx.ledger.policy, **filters, cursor=cursor, limit=PAGE)
    return ctx.render("tranches.html", items=items, next_cursor=next_cursor, notice=ctx.t("released_ok") if done == "released" else None)


def _payable(ctx: Context, contract_id: str, tranche_id: str) -> dict:
    """The tranche as the payable list shows it, or not found: only a payable tranche is offered."""
    cursor = None
    while True:
        items, cursor = ctx.query(queries.payable_tranches, org=None, policy=ctx.ledger.policy, cursor=cursor, limit=200)
        for item in items:
            if item["contract_id"] == contract_id and item["tranche_id"] == tranche_id:
                return item
        if cursor is None:
            raise TrancheNotFound("no such tranche awaiting release")


@router.get("/console/tranches/{contract_id}/{tranche_id}/release")
@page(R.FINANCE)
def confirm_release(ctx: Context, contract_id: str, tranche_id: str):
    return ctx.render("release.html", tr=_payable(ctx, contract_id, tranche_id))


@router.post("/console/tranches/{contract_id}/{tranche_id}/release")
@page(R.FINANCE)
def release(ctx: Context, contract_id: str, tranche_id: str, csrf: Annotated[str, Form()] = ""):
    result = ctx.ledger.release_tranche(ctx.by, contract_id, tranche_id)
    return after("/console/tranches", result.position, done="released")
