"""The purchaser's pages (finance, auditors and evaluators read some of them too): funds and their
use, contracts and their fulfilment, referrals, beneficiaries, contractors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from fastapi import APIRouter

from api.console.charts import Bar, bar_chart
from api.console.core import Context, page
from ledger.domain.catalogue import FundSource, Role, ServiceClass
from ledger.domain.errors import ContractNotFound, FundNotFound, InvalidInput
from projections import lists, queries, trace_queries

router = APIRouter(include_in_schema=False)
R = Role
PAGE = 25
FUND_READERS = (R.PURCHASER, R.FINANCE, R.AUDITOR, R.EVALUATOR)
CONTRACT_READERS = (R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)
CASE_STATUSES = ("referred", "accepted", "declined", "withdrawn", "closed")
CONTRACT_STATUSES = ("active", "suspended", "accepted", "terminated", "settled")


def _year(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput("the fiscal year is a number such as 2026")
    return int(value)


@router.get("/console/funds")
@page(*FUND_READERS)
def funds(ctx: Context, fiscal_year: str | None = None, source: str | None = None, cursor: str | None = None):
    items, next_cursor = ctx.query(queries.funds, fiscal_year=_year(fiscal_year), source=source or None, cursor=cursor, limit=PAGE)
    charts = []
    for f in items:
        bars = [
            Bar(ctx.t("committed"), Decimal(f["committed"]), ctx.url("/console/contracts", fund_id=f["fund_id"]), "committed"),
            Bar(ctx.t("disbursed"), Decimal(f["disbursed"]), f"/console/funds/{f['fund_id']}#disbursed", "disbursed"),
            Bar(ctx.t("available"), Decimal(f["available"]), f"/console/funds/{f['fund_id']}", "available"),
        ]
        charts.append((f, bar_chart(f"{f['name']} {ctx.t('fund_use')}", bars)))
    sources = [(s.value, ctx.label("source", s.value)) for s in FundSource]
    return ctx.render("funds.html", charts=charts, next_cursor=next_cursor, sources=sources)


@router.get("/console/funds/{fund_id}")
@page(*FUND_READERS)
def fund(ctx: Context, fund_id: str, cursor: str | None = None):
    item = ctx.query(queries.fund, fund_id=fund_id)
    if item is None:
        raise FundNotFound("no such fund")
    traced = ctx.query(trace_queries.fund, fund_id=fund_id, cursor=cursor, limit=PAGE)
    usage = bar_chart(
        ctx.t("fund_use"),
        [
            Bar(ctx.t("appropriated"), Decimal(item["appropriated"]), None, "appropriated"),
            Bar(ctx.t("committed"), Decimal(item["committed"]), ctx.url("/console/contracts", fund_id=fund_id), "committed"),
            Bar(ctx.t("disbursed"), Decimal(item["disbursed"]), "#disbursed", "disbursed"),
            Bar(ctx.t("available"), Decimal(item["available"]), None, "available"),
        ],
    )
    breakdown = item["breakdown"]
    township = bar_chart(
        ctx.t("by_township"),
        [Bar(row["key"], Decimal(row["delivered_value"]), ctx.url("/console/referrals", township=row["key"]), "delivered") for row in breakdown["township"]],
    )
    service_class = bar_chart(
        ctx.t("by_service_class"),
        [Bar(ctx.label("service_class", row["key"]), Decimal(row["delivered_value"]), ctx.url("/console/contracts", fund_id=fund_id), "delivered") for row in breakdown["service_class"]],
    )
    return ctx.render("fund.html", fund=item, usage=usage, township=township, service_class=service_class, traced=traced, classes=[c.value for c in ServiceClass])


@router.get("/console/contracts")
@page(*CONTRACT_READERS)
def contracts(ctx: Context, fund_id: str | None = None, contractor_id: str | None = None, status: str | None = None, cursor: str | None = None):
    items, next_cursor = ctx.query(
        queries.contracts, org=ctx.org, contractor_id=contractor_id or None, fund_id=fund_id or None, status=status or None, sort="signed_at", descending=True, cursor=cursor, limit=PAGE
    )
    statuses = [(s, ctx.label("status", s)) for s in CONTRACT_STATUSES]
    return ctx.render("contracts.html", items=items, next_cursor=next_cursor, statuses=statuses)


@router.get("/console/contracts/{contract_id}")
@page(*CONTRACT_READERS)
def contract(ctx: Context, contract_id: str):
    item = ctx.query(queries.contract, contract_id=contract_id, org=ctx.org)
    if item is None:
        raise ContractNotFound("no such contract")
    return ctx.render("contract.html", c=item)


@router.get("/console/referrals")
@page(R.PURCHASER, R.AUDITOR, R.FINANCE, R.EVALUATOR)
def referrals(
    ctx: Context, status: str | None = None, contractor_id: str | None = None, contract_id: str | None = None, township: str | None = None, village: str | None = None, cursor: str | None = None
):
    if status and status not in CASE_STATUSES:
        raise InvalidInput(f"status is one of {', '.join(CASE_STATUSES)}")
    filters = {"status": status or None, "contractor_id": contractor_id or None, "contract_id": contract_id or None, "township": township or None, "village": village or None}
    items, next_cursor = ctx.query(lists.cases, org=None, filters=filters, descending=True, cursor=cursor, limit=PAGE)
    statuses = [(s, ctx.label("status", s)) for s in CASE_STATUSES]
    return ctx.render("referrals.html", items=items, next_cursor=next_cursor, statuses=statuses)


@router.get("/console/beneficiaries")
@page(R.PURCHASER, R.AUDITOR, R.FINANCE)
def beneficiaries(ctx: Context, township: str | None = None, village: str | None = None, cursor: str | None = None):
    """Beneficiaries as the caseload knows them: each one's cases, with the trace of what each received."""
    filters = {"township": township or None, "village": village or None}
    items, next_cursor = ctx.query(lists.cases, org=None, filters=filters, descending=True, cursor=cursor, limit=PAGE)
    return ctx.render("beneficiaries.html", items=items, next_cursor=next_cursor)


@router.get("/console/contractors")
@page(R.PURCHASER, R.AUDITOR, R.FINANCE, R.EVALUATOR)
def contractors(ctx: Context, cursor: str | None = None):
    now = datetime.now(timezone.utc)
    items, next_cursor = ctx.query(queries.caseload, by="contractor", org=None, period_start=now - timedelta(days=30), period_end=now, as_of=now, cursor=cursor, limit=PAGE, policy=ctx.ledger.policy)
    return ctx.render("contractors.html", items=items, next_cursor=next_cursor)
