"""Reads of the trace projection. `org` scopes a contractor to its own contracts and visits."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from projections.base import yuan
from projections.paging import page
from projections.queries import _utc
from projections.tables import LIVE

t = LIVE
ATTRIBUTED_MEANS = (
    "The unit price of the contract line for each visit that still counts toward delivered volume "
    "(not voided, disputed or failed at a spot check). Money is paid per milestone, not per visit: "
    "this is the value the contract puts on the services received, not a payment to the beneficiary."
)
TIMES = {"started_at", "ended_at"}
VISIT_COLUMNS = [c for c in t.trace_visits.c if c.name != "visit_id"]


def _changes(conn: Connection, visit_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    e = t.trace_visit_events
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if visit_ids:
        for row in conn.execute(select(e).where(e.c.visit_id.in_(visit_ids)).order_by(e.c.position)).mappings():
            change = {**row, "recorded_at": _utc(row["recorded_at"])}
            out[change.pop("visit_id")].append(change)
    return out


def _visits(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Visit rows as answered: money in yuan, with every change after the delivery."""
    changes = _changes(conn, [r["visit_id"] for r in rows])
    out = []
    for row in rows:
        visit = {k: _utc(value) if k in TIMES else value for k, value in row.items() if k != "unit_price_fen"}
        out.append({**visit, "unit_price": yuan(row["unit_price_fen"]), "changes": changes[row["visit_id"]]})
    return out


def _tranche(row: Any) -> dict[str, Any]:
    return {
        "tranche_id": row["tranche_id"],
        "milestone_id": row["milestone_id"],
        "amount": yuan(row["amount_fen"]),
        "status": row["status"],
        "released": None if row["released_fen"] is None else yuan(row["released_fen"]),
        "withheld": None if row["withheld_fen"] is None else yuan(row["withheld_fen"]),
        "position": row["position"],
        "recorded_at": _utc(row["recorded_at"]),
    }


def _contract(conn: Connection, contract_id: str, org: str | None) -> Any:
    c = t.trace_contracts
    stmt = select(c.c.contract_id, c.c.contract_no, c.c.contractor_id, c.c.fund_id, c.c.position).where(c.c.contract_id == contract_id)
    if org is not None:
        stmt = stmt.where(c.c.contractor_id == org)
    return conn.execute(stmt).mappings().first()


# --- a tranche down to its visits and back to its fund ----------------------------------------
def tranche(conn: Connection, *, contract_id: str, tranche_id: str, org: str | None, cursor: str | None, limit: int) -> dict[str, Any] | None:
    """None if the contract (or, for a contractor, its own contract) or the tranche is unknown."""
    contract = _contract(conn, contract_id, org)
    if contract is None:
        return None
    tr = conn.execute(select(t.trace_tranches).where(t.trace_tranches.c.contract_id == contract_id, t.trace_tranches.c.tranche_id == tranche_id)).mappings().first()
    if tr is None:
        return None
    ms = t.trace_milestones
    m = conn.execute(select(ms).where(ms.c.contract_id == contract_id, ms.c.milestone_id == tr["milestone_id"])).mappings().one()
    fund = conn.execute(select(t.trace_funds.c.name).where(t.trace_funds.c.fund_id == contract["fund_id"])).scalar()
    d = t.trace_disbursements
    paid = conn.execute(select(d).where(d.c.contract_id == contract_id, d.c.tranche_id == tranche_id)).mappings().first()

    counted, v = t.trace_counted, t.trace_visits
    stmt = select(counted.c.ordinal, counted.c.visit_id, *VISIT_COLUMNS).join(v, v.c.visit_id == counted.c.visit_id)
    stmt = stmt.where(counted.c.contract_id == contract_id, counted.c.milestone_id == m["milestone_id"])
    rows, next_cursor = page(conn, stmt, counted.c.ordinal, counted.c.visit_id, descending=False, cursor=cursor, limit=limit)
    visits = _visits(conn, rows)
    for visit in visits:
        visit["stopped_counting_after_fulfilment"] = any(c["stopped_counting"] and c["position"] > (m["position"] or 0) for c in visit["changes"])
    return {
        "contract": {k: contract[k] for k in ("contract_id", "contract_no", "contractor_id", "position")},
        "tranche": _tranche(tr),
        "milestone": {
            "milestone_id": m["milestone_id"],
            "kind": m["kind"],
            "service_code": m["service_code"],
            "quantity": m["quantity"],
            "basis": None if m["basis"] is None else json.loads(m["basis"]),
            "position": m["position"],
            "counted": m["counted"],
        },
        "visits": {"items": visits, "next_cursor": next_cursor},
        "fund": {
            "fund_id": contract["fund_id"],
            "fund_name": fund,
            "amount": None if paid is None else yuan(paid["amount_fen"]),
            "position": None if paid is None else paid["position"],
            "recorded_at": None if paid is None else _utc(paid["recorded_at"]),
        },
    }


# --- a fund to every contract, tranche and amount paid ----------------------------------------
def fund(conn: Connection, *, fund_id: str, cursor: str | None, limit: int) -> dict[str, Any] | None:
    f = conn.execute(select(t.trace_funds).where(t.trace_funds.c.fund_id == fund_id)).mappings().first()
    if f is None:
        return None
    d, c, tr = t.trace_disbursements, t.trace_contracts, t.trace_tranches
    paid, payments = conn.execute(select(func.coalesce(func.sum(d.c.amount_fen), 0), func.count()).where(d.c.fund_id == fund_id)).one()
    stmt = select(c.c.contract_id, c.c.contract_no, c.c.contractor_id, c.c.position).where(c.c.fund_id == fund_id)
    contracts, next_cursor = page(conn, stmt, c.c.position, c.c.contract_id, descending=False, cursor=cursor, limit=limit)
    tranches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    paid_to: dict[str, int] = defaultdict(int)
    if contracts:
        stmt = (
            select(tr, d.c.amount_fen.label("paid_fen"), d.c.position.label("disbursement_position"))
            .outerjoin(d, and_(d.c.contract_id == tr.c.contract_id, d.c.tranche_id == tr.c.tranche_id))
            .where(tr.c.contract_id.in_([x["contract_id"] for x in contracts]))
            .order_by(tr.c.contract_id, tr.c.tranche_id)
        )
        for row in conn.execute(stmt).mappings():
            paid_fen = row["paid_fen"]
            item = {**_tranche(row), "paid": None if paid_fen is None else yuan(paid_fen), "disbursement_position": row["disbursement_position"]}
            tranches[row["contract_id"]].append(item)
            paid_to[row["contract_id"]] += paid_fen or 0
    items = [{**x, "tranches": tranches[x["contract_id"]], "paid": yuan(paid_to[x["contract_id"]])} for x in contracts]
    return {
        "fund_id": f["fund_id"],
        "name": f["name"],
        "appropriated": yuan(f["appropriated_fen"]),
        "position": f["position"],
        "paid": yuan(paid),
        "payments": payments,
        "contracts": {"items": items, "next_cursor": next_cursor},
    }


# --- a beneficiary to every service received and the money attributed to it ------------------
def beneficiary(conn: Connection, *, beneficiary_id: str, org: str | None, cursor: str | None, limit: int) -> dict[str, Any] | None:
    """None if the beneficiary is unknown, or (for a contractor) never served by it."""
    b = conn.execute(select(t.trace_beneficiaries).where(t.trace_beneficiaries.c.beneficiary_id == beneficiary_id)).mappings().first()
    if b is None:
        return None
    v, c = t.trace_visits, t.trace_contracts
    scope = [v.c.beneficiary_id == beneficiary_id] + ([v.c.contractor_id == org] if org is not None else [])
    attributed = case((v.c.counts, v.c.unit_price_fen), else_=0)
    visits, counting, fen_total = conn.execute(select(func.count(), func.coalesce(func.sum(case((v.c.counts, 1), else_=0)), 0), func.coalesce(func.sum(attributed), 0)).where(*scope)).one()
    if org is not None and not visits:
        return None
    stmt = select(v.c.visit_id, *VISIT_COLUMNS, c.c.contract_no).join(c, c.c.contract_id == v.c.contract_id).where(*scope)
    rows, next_cursor = page(conn, stmt, v.c.position, v.c.visit_id, descending=False, cursor=cursor, limit=limit)
    services = [{**s, "attributed": s["unit_price"] if s["counts"] else yuan(0)} for s in _visits(conn, rows)]
    return {
        "beneficiary_id": b["beneficiary_id"],
        "position": b["position"],
        "visits": visits,
        "counting": int(counting),
        "attributed": yuan(int(fen_total)),
        "attributed_means": ATTRIBUTED_MEANS,
        "services": {"items": services, "next_cursor": next_cursor},
    }
