"""Lists people work from, over the caseload tables: visits by case, contract, worker, beneficiary
or period; cases by status (a contractor's inbox is its referred cases); a contractor's workers.

`org` scopes a contractor to its own rows, whatever it asks for; None means every row.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from projections.paging import page
from projections.queries import _utc
from projections.tables import LIVE

t = LIVE
VISIT_FILTERS = ("case_id", "contract_id", "contractor_id", "worker_id", "beneficiary_id", "service_code")
CASE_FILTERS = ("status", "contractor_id", "contract_id", "beneficiary_id", "township", "village")


def _where(stmt: Any, table: Any, filters: dict[str, str | None]) -> Any:
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(table.c[name] == value)
    return stmt


def visits(
    conn: Connection,
    *,
    org: str | None,
    filters: dict[str, str | None],
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    descending: bool = True,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Visits whose start falls in [period_start, period_end), newest first by default."""
    v = t.visits
    stmt = _where(select(v), v, {**{k: filters.get(k) for k in VISIT_FILTERS}, "contractor_id": org or filters.get("contractor_id")})
    if period_start is not None:
        stmt = stmt.where(v.c.started_at >= period_start)
    if period_end is not None:
        stmt = stmt.where(v.c.started_at < period_end)
    rows, next_cursor = page(conn, stmt, v.c.started_at, v.c.visit_id, descending=descending, cursor=cursor, limit=limit)
    for r in rows:
        r["started_at"], r["ended_at"] = _utc(r["started_at"]), _utc(r["ended_at"])
    return rows, next_cursor


def cases(
    conn: Connection,
    *,
    org: str | None,
    filters: dict[str, str | None],
    descending: bool = True,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Cases newest referral first by default; a contractor's inbox is its cases still referred."""
    c = t.cases
    stmt = _where(select(c), c, {**{k: filters.get(k) for k in CASE_FILTERS}, "contractor_id": org or filters.get("contractor_id")})
    rows, next_cursor = page(conn, stmt, c.c.referred_at, c.c.case_id, descending=descending, cursor=cursor, limit=limit)
    for r in rows:
        r["services"] = json.loads(r["services"])
        for name in ("referred_at", "accepted_at", "ended_at", "last_visit_at", "next_visit_due"):
            r[name] = _utc(r[name])
    return rows, next_cursor


def contractor_workers(
    conn: Connection,
    contractor_id: str,
    *,
    org: str | None,
    enrolled: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None] | None:
    """A contractor's workers, with the open cases each has visits in; None if there is no such
    contractor, or it is not the asking contractor."""
    k, w, cell, rw = t.contractors, t.workers, t.rollup_cells, t.rollup_workers
    if (org and org != contractor_id) or conn.execute(select(k.c.contractor_id).where(k.c.contractor_id == contractor_id)).first() is None:
        return None
    stmt = select(w).where(w.c.contractor_id == contractor_id)
    if enrolled is not None:
        stmt = stmt.where(w.c.enrolled.is_(enrolled))
    rows, next_cursor = page(conn, stmt, w.c.worker_id, w.c.worker_id, descending=False, cursor=cursor, limit=limit)
    # Only for the workers on this page, from the rollups: a few rows per worker, never its visits.
    page_ids = [r["worker_id"] for r in rows]
    counted = {
        r.worker_id: r
        for r in conn.execute(
            select(cell.c.worker_id, func.sum(cell.c.visits).label("visits"), func.max(cell.c.last_visit_at).label("last_visit_at")).where(cell.c.worker_id.in_(page_ids)).group_by(cell.c.worker_id)
        )
    }
    open_cases = dict(conn.execute(select(rw.c.worker_id, rw.c.open_cases).where(rw.c.worker_id.in_(page_ids))).all())
    figures = {worker_id: {"visits": int(got.visits), "open_cases": open_cases.get(worker_id, 0), "last_visit_at": got.last_visit_at} for worker_id, got in counted.items() if got.visits}
    for r in rows:
        got = figures.get(r["worker_id"])
        r.update(
            enrolled_at=_utc(r["enrolled_at"]),
            removed_at=_utc(r["removed_at"]),
            open_cases=got["open_cases"] if got else 0,
            visits=got["visits"] if got else 0,
            last_visit_at=_utc(got["last_visit_at"]) if got else None,
        )
    return rows, next_cursor


def token_issues(conn: Connection, *, descending: bool = True, cursor: str | None = None, limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
    """The issue of every API token, newest first by default: the audit trail keeps each token's
    first event (with who issued it and when), so it is the index a token list pages over. The
    token's role, holder and revocation come from its aggregate (Ledger.describe_tokens)."""
    a = t.audit_events
    stmt = select(a.c.position, a.c.aggregate_id, a.c.recorded_at, a.c.actor_id).where(a.c.aggregate_type == "ApiToken", a.c.aggregate_version == 1)
    rows, next_cursor = page(conn, stmt, a.c.position, a.c.position, descending=descending, cursor=cursor, limit=limit)
    return [{"token_id": r["aggregate_id"], "issued_at": _utc(r["recorded_at"]), "issued_by": r["actor_id"], "issued_position": r["position"]} for r in rows], next_cursor
