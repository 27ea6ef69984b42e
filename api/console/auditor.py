"""The auditor's pages: a tranche traced to its visits, the audit trail with filters, red flags
and the log's verification; a beneficiary's trace for the purchaser too."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter

from api.console.core import Context, page
from api.console.purchaser import CONTRACT_STATUSES
from ledger.domain.catalogue import Role
from ledger.domain.errors import BeneficiaryNotFound, InvalidInput, TrancheNotFound
from projections import queries, trace_queries
from projections.flags import KINDS as FLAG_KINDS

router = APIRouter(include_in_schema=False)
R = Role
PAGE = 25
ROLES = ("purchaser", "contractor", "finance", "auditor", "evaluator", "system")


def _time(value: str | None, what: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what} is a date such as 2026-03-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@router.get("/console/trace")
@page(R.AUDITOR, R.PURCHASER, R.FINANCE)
def trace_index(ctx: Context, fund_id: str | None = None, contractor_id: str | None = None, status: str | None = None, cursor: str | None = None):
    """Where a trace starts: the tranches of every contract, released or not, filtered as the
    contracts list is."""
    filters = {"contractor_id": contractor_id or None, "fund_id": fund_id or None, "status": status or None}
    contracts, next_cursor = ctx.query(queries.contracts, org=None, **filters, sort="signed_at", descending=True, cursor=cursor, limit=PAGE)
    detailed = [ctx.query(queries.contract, contract_id=c["contract_id"], org=None) for c in contracts]
    statuses = [(s, ctx.label("status", s)) for s in CONTRACT_STATUSES]
    return ctx.render("trace_index.html", contracts=[d for d in detailed if d], next_cursor=next_cursor, statuses=statuses)


@router.get("/console/trace/{contract_id}/{tranche_id}")
@page(R.AUDITOR, R.PURCHASER, R.FINANCE, R.CONTRACTOR)
def trace(ctx: Context, contract_id: str, tranche_id: str, cursor: str | None = None):
    item = ctx.query(trace_queries.tranche, contract_id=contract_id, tranche_id=tranche_id, org=ctx.org, cursor=cursor, limit=PAGE)
    if item is None:
        raise TrancheNotFound("no such tranche")
    return ctx.render("trace.html", tr=item)


@router.get("/console/beneficiaries/{beneficiary_id}")
@page(R.AUDITOR, R.PURCHASER, R.FINANCE)
def beneficiary(ctx: Context, beneficiary_id: str, cursor: str | None = None):
    item = ctx.query(trace_queries.beneficiary, beneficiary_id=beneficiary_id, org=None, cursor=cursor, limit=PAGE)
    if item is None:
        raise BeneficiaryNotFound("no such beneficiary")
    return ctx.render("beneficiary.html", b=item)


@router.get("/console/audit")
@page(R.AUDITOR, R.PURCHASER)
def audit(
    ctx: Context,
    event_type: str | None = None,
    role: str | None = None,
    actor_id: str | None = None,
    aggregate_id: str | None = None,
    contract_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    cursor: str | None = None,
):
    filters = {"event_type": event_type, "role": role, "actor_id": actor_id, "aggregate_id": aggregate_id, "contract_id": contract_id}
    filters = {k: v or None for k, v in filters.items()}
    items, next_cursor = ctx.query(
        queries.audit,
        org=None,
        filters={**{k: None for k in queries.AUDIT_FILTERS}, **filters},
        since=_time(since, "since"),
        until=_time(until, "until"),
        descending=True,
        cursor=cursor,
        limit=PAGE,
        business_only=True,
        exclude_event_types=None,
        exclude_aggregate_types=None,
    )
    roles = [(r, ctx.label("role", r)) for r in ROLES]
    return ctx.render("audit.html", items=items, next_cursor=next_cursor, roles=roles)


@router.get("/console/red-flags")
@page(R.AUDITOR, R.PURCHASER)
def red_flags(ctx: Context, kind: str | None = None, contractor_id: str | None = None, cursor: str | None = None):
    if kind and kind not in FLAG_KINDS:
        raise InvalidInput(f"kind is one of {', '.join(FLAG_KINDS)}")
    items, next_cursor = ctx.query(queries.red_flags, org=None, kind=kind or None, contractor_id=contractor_id or None, cursor=cursor, limit=PAGE)
    kinds = [(k, ctx.label("flag", k)) for k in FLAG_KINDS]
    return ctx.render("red_flags.html", items=items, next_cursor=next_cursor, kinds=kinds)


@router.get("/console/verify")
@page(R.AUDITOR)
def verify(ctx: Context):
    report = ctx.request.app.state.chain.verify().as_dict()
    return ctx.render("verify.html", report=report)
