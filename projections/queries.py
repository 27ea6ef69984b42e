"""The read side: plain SQL over the tables the projections keep. Never replays aggregates.

`org` scopes a contractor to its own rows; None means every row (the other roles).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, and_, case, distinct, func, or_, select

from ledger.domain.rules import Policy
from projections.audit import BOOKKEEPING
from projections.base import yuan
from projections.paging import page, page_list
from projections.tables import LIVE

t = LIVE
GROUPS = ("contractor", "worker", "township", "village")


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


# --- caseload -------------------------------------------------------------------------------
def caseload(
    conn: Connection,
    *,
    by: str,
    org: str | None,
    period_start: datetime,
    period_end: datetime,
    as_of: datetime,
    township: str | None = None,
    village: str | None = None,
    contractor_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    policy: Policy | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Figures per group from the rollups (cells and open-case counters, a few rows per worker and
    village) plus the visits of the period itself and the overdue cases, through their indexes:
    never the whole history. A group shows if it has any visit (for a worker, or an enrolled
    worker when no place is asked) or, but for workers, any case."""
    policy = policy or Policy()
    v, cell, opened, c = t.visits, t.rollup_cells, t.rollup_open_cases, t.cases
    contractor_id = org or contractor_id

    def filters(table: Any) -> list[Any]:
        f = []
        if contractor_id:
            f.append(table.c.contractor_id == contractor_id)
        if township:
            f.append(table.c.township == township)
        if village:
            f.append(table.c.village == village)
        return f

    key_of = {
        "contractor": lambda tb: [tb.c.contractor_id],
        "worker": lambda tb: [tb.c.worker_id],
        "township": lambda tb: [tb.c.township],
        "village": lambda tb: [tb.c.township, tb.c.village],
    }[by]
    rows: dict[str, dict[str, Any]] = {}

    def row(key_parts: tuple[Any, ...]) -> dict[str, Any]:
        key = "/".join(str(p) for p in key_parts)
        if key not in rows:
            rows[key] = {
                "key": key,
                "open_cases": 0,
                "overdue_cases": 0,
                "beneficiaries_served": 0,
                "visits_in_period": 0,
                "cases_visited_in_period": 0,
                "last_visit_at": None,
            }
        return rows[key]

    keys = key_of(cell)
    for r in conn.execute(select(*keys, func.max(cell.c.last_visit_at).label("last")).where(*filters(cell)).group_by(*keys)):
        row(tuple(r[: len(keys)]))["last_visit_at"] = _utc(r.last)

    # The period's figures: distinct people and cases cannot be summed from counters.
    if by == "worker":
        # A worker's visits of the period, through its (worker_id, started_at) index: a case has many workers.
        keys = key_of(v)
        stmt = (
            select(*keys, func.count().label("visits"), func.count(distinct(v.c.beneficiary_id)).label("served"), func.count(distinct(v.c.case_id)).label("cases"))
            .where(v.c.counts.is_(True), v.c.started_at >= period_start, v.c.started_at < period_end, *filters(v))
            .group_by(*keys)
        )
    else:
        # A visit's contractor, township and village are its case's, for good (a case never moves),
        # so the group's cases are probed one by one for their visits of the period: an index-only
        # count over (case_id, started_at, counts). The cost follows the group's cases and their
        # visits in the index, not a scan of every visit of the period through the table.
        in_period = select(func.count()).where(v.c.case_id == c.c.case_id, v.c.started_at >= period_start, v.c.started_at < period_end, v.c.counts.is_(True)).scalar_subquery()
        # OFFSET 0 keeps PostgreSQL from inlining the probe into each aggregate that reads it.
        probed = select(*key_of(c), c.c.beneficiary_id, in_period.label("n")).where(*filters(c)).offset(0).subquery()
        keys = key_of(probed)
        visited = probed.c.n > 0
        stmt = select(
            *keys,
            func.sum(probed.c.n).label("visits"),
            func.count(distinct(case((visited, probed.c.beneficiary_id)))).label("served"),
            func.count(case((visited, 1))).label("cases"),
        ).group_by(*keys)
    for r in conn.execute(stmt):
        # int(): PostgreSQL sums counts as numeric.
        row(tuple(r[: len(keys)])).update(visits_in_period=int(r.visits or 0), beneficiaries_served=r.served, cases_visited_in_period=r.cases)

    if by != "worker":
        keys = key_of(opened)
        levels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        stmt = select(*keys, opened.c.self_care_level, func.sum(opened.c.open).label("open")).where(*filters(opened)).group_by(*keys, opened.c.self_care_level)
        for r in conn.execute(stmt):
            target = row(tuple(r[: len(keys)]))
            target["open_cases"] += int(r.open)
            levels[target["key"]][r.self_care_level] += int(r.open)
        # Overdue: open cases whose next visit was due before as_of, a range of the (status, next_visit_due) index.
        keys = key_of(c)
        stmt = select(*keys, func.count().label("overdue")).where(c.c.status == "accepted", c.c.next_visit_due < as_of, *filters(c)).group_by(*keys)
        for r in conn.execute(stmt):
            row(tuple(r[: len(keys)]))["overdue_cases"] = r.overdue
        if by == "contractor":
            _carer_load(conn, rows, levels, policy)
    else:
        w = t.workers
        stmt = select(w.c.worker_id, w.c.contractor_id, w.c.name, w.c.enrolled)
        if contractor_id:
            stmt = stmt.where(w.c.contractor_id == contractor_id)
        for r in conn.execute(stmt):
            if r.worker_id in rows or (r.enrolled and not (township or village)):
                row((r.worker_id,)).update(contractor_id=r.contractor_id, name=r.name, enrolled=r.enrolled)
    return page_list(list(rows.values()), "key", cursor, limit)


def _carer_load(conn: Connection, rows: dict[str, dict[str, Any]], levels: dict[str, dict[str, int]], policy: Policy) -> None:
    w, k = t.workers, t.contractors
    workers = dict(conn.execute(select(w.c.contractor_id, func.count()).where(w.c.enrolled.is_(True)).group_by(w.c.contractor_id)).all())
    names = dict(conn.execute(select(k.c.contractor_id, k.c.name)).all())
    for key, target in rows.items():
        demand = sum((Fraction(n, policy.carer_ratios[level]) for level, n in levels.get(key, {}).items()), Fraction(0))
        enrolled = workers.get(key, 0)
        target.update(
            name=names.get(key),
            enrolled_workers=enrolled,
            open_cases_by_self_care=dict(levels.get(key, {})),
            carers_needed=str((Decimal(demand.numerator) / Decimal(demand.denominator)).quantize(Decimal("0.01"))),
            within_carer_ratio=demand <= enrolled,
        )


# --- contract fulfilment ----------------------------------------------------------------------
def _contract_row(r: Any) -> dict[str, Any]:
    remaining = r["budget_fen"] - r["released_fen"] - r["withheld_fen"]
    return {
        "contract_id": r["contract_id"],
        "contract_no": r["contract_no"],
        "title": r["title"],
        "contractor_id": r["contractor_id"],
        "fund_id": r["fund_id"],
        "status": r["status"],
        "start_date": r["start_date"],
        "end_date": r["end_date"],
        "signed_at": _utc(r["signed_at"]),
        "budget": yuan(r["budget_fen"]),
        "committed": yuan(r["committed_fen"]),
        "released": yuan(r["released_fen"]),
        "withheld": yuan(r["withheld_fen"]),
        "remaining": yuan(remaining),
    }


def _share(done: int, of: int) -> str:
    return str((Decimal(done) / Decimal(of)).quantize(Decimal("0.0001"))) if of else "0"


def _percent(done: int, of: int) -> str:
    """The same share as a percentage with 2 places, as people read it: 1503 of 1000 is "150.30"."""
    return str((Decimal(done) * 100 / Decimal(of)).quantize(Decimal("0.01"))) if of else "0.00"


def contracts(
    conn: Connection,
    *,
    org: str | None,
    contractor_id: str | None = None,
    fund_id: str | None = None,
    status: str | None = None,
    sort: str = "signed_at",
    descending: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    k, ln = t.contracts, t.lines
    # Page the contracts first (through the sort column's index), then sum the lines of that page
    # only: summing every contract's lines before paging grew with the number of contracts.
    stmt = select(k).where(select(ln.c.contract_id).where(ln.c.contract_id == k.c.contract_id).exists())
    contractor_id = org or contractor_id
    for col, value in (("contractor_id", contractor_id), ("fund_id", fund_id), ("status", status)):
        if value:
            stmt = stmt.where(k.c[col] == value)
    rows, next_cursor = page(conn, stmt, k.c[sort], k.c.contract_id, descending=descending, cursor=cursor, limit=limit)
    totals = {
        r.contract_id: r
        for r in conn.execute(
            select(ln.c.contract_id, func.sum(ln.c.quantity).label("contracted"), func.sum(ln.c.delivered).label("delivered"))
            .where(ln.c.contract_id.in_([r["contract_id"] for r in rows]))
            .group_by(ln.c.contract_id)
        )
    }
    out = []
    for r in rows:
        item = _contract_row(r)
        contracted, delivered = int(totals[r["contract_id"]].contracted or 0), int(totals[r["contract_id"]].delivered or 0)
        item.update(contracted=contracted, delivered=delivered, share_done=_share(delivered, contracted), percent_done=_percent(delivered, contracted))
        out.append(item)
    return out, next_cursor


def contract(conn: Connection, contract_id: str, *, org: str | None) -> dict[str, Any] | None:
    k = t.contracts
    r = conn.execute(select(k).where(k.c.contract_id == contract_id)).mappings().first()
    if r is None or (org and r["contractor_id"] != org):
        return None
    item = _contract_row(r)
    item["lines"] = [
        {
            "service_code": line["service_code"],
            "contracted": line["quantity"],
            "unit_price": yuan(line["unit_price_fen"]),
            "posted": line["posted"],
            "delivered": line["delivered"],
            "confirmed": line["confirmed"],
            "disputed": line["disputed"],
            "voided": line["voided"],
            "failed_spot_checks": line["failed_checks"],
            "share_done": _share(line["delivered"], line["quantity"]),
            "percent_done": _percent(line["delivered"], line["quantity"]),
        }
        for line in conn.execute(select(t.lines).where(t.lines.c.contract_id == contract_id).order_by(t.lines.c.service_code)).mappings()
    ]
    item["milestones"] = [
        {**{c: m[c] for c in ("milestone_id", "kind", "title", "service_code", "quantity", "stage", "due_date", "status")}, "fulfilled_at": _utc(m["fulfilled_at"])}
        for m in conn.execute(select(t.milestones).where(t.milestones.c.contract_id == contract_id).order_by(t.milestones.c.milestone_id)).mappings()
    ]
    item["tranches"] = [_tranche(tr) for tr in conn.execute(select(t.tranches).where(t.tranches.c.contract_id == contract_id).order_by(t.tranches.c.tranche_id)).mappings()]
    item["evaluations"] = [
        {
            "evaluation_id": e["evaluation_id"],
            "stage": e["stage"],
            "status": e["status"],
            "total": e["total"],
            "grade": e["grade"],
            "appeal": e["appeal"],
            "scores": json.loads(e["scores"]),
            "opened_at": _utc(e["opened_at"]),
        }
        for e in conn.execute(select(t.evaluations).where(t.evaluations.c.contract_id == contract_id).order_by(t.evaluations.c.opened_at)).mappings()
    ]
    return item


def _tranche(tr: Any) -> dict[str, Any]:
    return {
        "contract_id": tr["contract_id"],
        "tranche_id": tr["tranche_id"],
        "milestone_id": tr["milestone_id"],
        "amount": yuan(tr["amount_fen"]),
        "reduced": yuan(tr["reduced_fen"]),
        "released": yuan(tr["released_fen"]),
        "withheld": yuan(tr["withheld_fen"]),
        "status": tr["status"],
        "released_at": _utc(tr["released_at"]),
    }


def payable_tranches(
    conn: Connection,
    *,
    org: str | None,
    policy: Policy | None = None,
    contractor_id: str | None = None,
    fund_id: str | None = None,
    contract_no: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Finance's worklist: pending tranches whose milestone is fulfilled, on live contracts, with
    what a release would pay now; a tranche whose evaluation is under appeal waits. Filtered by
    contractor, fund or contract number as /read/contracts is; a contractor sees only its own."""
    policy = policy or Policy()
    tr, m, k, ev = t.tranches, t.milestones, t.contracts, t.evaluations
    stmt = (
        select(tr, k.c.contract_no, m.c.title.label("milestone_title"), m.c.fulfilled_at, ev.c.grade, ev.c.appeal)
        .join(m, and_(m.c.contract_id == tr.c.contract_id, m.c.milestone_id == tr.c.milestone_id))
        .join(k, k.c.contract_id == tr.c.contract_id)
        .outerjoin(ev, ev.c.evaluation_id == m.c.evaluation_id)
        .where(tr.c.status == "pending", m.c.status == "fulfilled", k.c.status.in_(("active", "accepted")))
        .where(or_(ev.c.appeal.is_(None), ev.c.appeal != "pending"))
    )
    contractor_id = org or contractor_id
    for col, value in (("contractor_id", contractor_id), ("fund_id", fund_id), ("contract_no", contract_no)):
        if value:
            stmt = stmt.where(k.c[col] == value)
    rows, next_cursor = page(conn, stmt, tr.c.contract_id, tr.c.tranche_id, descending=False, cursor=cursor, limit=limit)
    out = []
    for r in rows:
        payable = Decimal(r["amount_fen"] - r["reduced_fen"])
        if r["grade"] is not None:
            payable = (payable * policy.payout_shares.get(r["grade"], Decimal(0))).quantize(Decimal("1"))
        out.append(
            {
                **_tranche(r),
                "contract_no": r["contract_no"],
                "milestone_title": r["milestone_title"],
                "fulfilled_at": _utc(r["fulfilled_at"]),
                "grade": r["grade"],
                "payable": yuan(int(payable)),
            }
        )
    return out, next_cursor


# --- fund usage ---------------------------------------------------------------------------
def _fund_row(r: Any) -> dict[str, Any]:
    return {
        "fund_id": r["fund_id"],
        "name": r["name"],
        "source": r["source"],
        "fiscal_year": r["fiscal_year"],
        "appropriated": yuan(r["appropriated_fen"]),
        "committed": yuan(r["committed_fen"]),
        "disbursed": yuan(r["disbursed_fen"]),
        "available": yuan(r["appropriated_fen"] - r["committed_fen"]),
    }


def funds(conn: Connection, *, fiscal_year: int | None = None, source: str | None = None, cursor: str | None = None, limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
    f = t.funds
    stmt = select(f)
    if fiscal_year:
        stmt = stmt.where(f.c.fiscal_year == fiscal_year)
    if source:
        stmt = stmt.where(f.c.source == source)
    rows, next_cursor = page(conn, stmt, f.c.appropriated_at, f.c.fund_id, descending=False, cursor=cursor, limit=limit)
    return [_fund_row(r) for r in rows], next_cursor


def fund(conn: Connection, fund_id: str) -> dict[str, Any] | None:
    f, b = t.funds, t.fund_breakdown
    r = conn.execute(select(f).where(f.c.fund_id == fund_id)).mappings().first()
    if r is None:
        return None
    item = _fund_row(r)
    breakdown: dict[str, list[dict[str, Any]]] = {"township": [], "service_class": [], "category": []}
    for row in conn.execute(select(b).where(b.c.fund_id == fund_id).order_by(b.c.dimension, b.c.key)).mappings():
        breakdown[row["dimension"]].append({"key": row["key"], "contracted": yuan(row["contracted_fen"]), "delivered_value": yuan(row["delivered_fen"]), "visits": row["visits"]})
    item["breakdown"] = breakdown
    return item


# --- audit trail --------------------------------------------------------------------------
AUDIT_FILTERS = ("actor_id", "role", "organisation_id", "aggregate_id", "aggregate_type", "event_type", "correlation_id", "contract_id")


def audit(
    conn: Connection,
    *,
    org: str | None,
    filters: dict[str, str | None],
    since: datetime | None = None,
    until: datetime | None = None,
    descending: bool = False,
    cursor: str | None = None,
    limit: int = 100,
    business_only: bool = True,
    exclude_event_types: list[str] | None = None,
    exclude_aggregate_types: list[str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Bookkeeping (BOOKKEEPING) is left out unless business_only is False or the caller names an
    aggregate, or an aggregate or event type: asking for one by name is asking for it."""
    a = t.audit_events
    stmt = select(a)
    for name in AUDIT_FILTERS:
        if filters.get(name):
            stmt = stmt.where(a.c[name] == filters[name])
    if business_only and not any(filters.get(name) for name in ("aggregate_id", "aggregate_type", "event_type")):
        stmt = stmt.where(a.c.aggregate_type.not_in(BOOKKEEPING))
    if exclude_event_types:
        stmt = stmt.where(a.c.event_type.not_in(exclude_event_types))
    if exclude_aggregate_types:
        stmt = stmt.where(a.c.aggregate_type.not_in(exclude_aggregate_types))
    if org:
        stmt = stmt.where(a.c.owner_organisation == org)
    if since:
        stmt = stmt.where(a.c.recorded_at >= since)
    if until:
        stmt = stmt.where(a.c.recorded_at < until)
    rows, next_cursor = page(conn, stmt, a.c.position, a.c.position, descending=descending, cursor=cursor, limit=limit)
    for r in rows:
        r["recorded_at"] = _utc(r["recorded_at"])
        r.pop("owner_organisation", None)
    return rows, next_cursor


# --- red flags --------------------------------------------------------------------------------
def red_flags(conn: Connection, *, org: str | None, kind: str | None = None, contractor_id: str | None = None, cursor: str | None = None, limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
    """Flags in the order they were raised; a contractor sees its own."""
    f = t.flags
    stmt = select(f)
    if kind:
        stmt = stmt.where(f.c.kind == kind)
    if org or contractor_id:
        stmt = stmt.where(f.c.contractor_id == (org or contractor_id))
    rows, next_cursor = page(conn, stmt, f.c.raised_position, f.c.flag_id, descending=False, cursor=cursor, limit=limit)
    for r in rows:
        r["raised_at"] = _utc(r["raised_at"])
        r["detail"] = json.loads(r["detail"])
        r["evidence"] = json.loads(r["evidence"])
    return rows, next_cursor
