"""The caseload, a contractor's workers and the contract list read pre-aggregated rows now (issue 8):
on a realistic history they answer exactly what the old queries, which aggregated the whole
visits, cases and lines tables, answered. The old queries are kept below as the reference."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, and_, distinct, func, select

from api.app import create_app
from ledger.domain.rules import Policy
from projections import lists, queries
from projections.paging import page, page_list
from projections.queries import _carer_load, _contract_row, _percent, _share, _utc
from projections.tables import LIVE
from tests.api.history import Driver, History

t = LIVE
GROUPS = ("contractor", "worker", "township", "village")


@pytest.fixture
def history_client(settings) -> Iterator[TestClient]:
    paused = settings.model_copy(update={"projections_in_service": False})
    with TestClient(create_app(paused), raise_server_exceptions=False) as c:
        yield c


def test_the_rewritten_reads_answer_what_the_whole_table_aggregates_answered(history_client: TestClient):
    client = history_client

    def token_for(role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
        issued = client.app.state.ledger.issue_token(role, org, subject or f"{role}-user")  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {issued.token}"}

    h = Driver(client, token_for).build()
    read_side = client.app.state.read_side  # type: ignore[attr-defined]
    read_side.runner.run_until_idle()
    with read_side.engine.connect() as conn:
        compared = check_caseload(conn, h) + check_workers(conn, h) + check_contracts(conn, h)
    assert compared > 300


def _windows(h: History) -> list[dict[str, datetime]]:
    return [
        {"period_start": h.now - timedelta(days=30), "period_end": h.now - timedelta(days=2), "as_of": h.now + timedelta(days=3)},
        {"period_start": h.now - timedelta(days=400), "period_end": h.now + timedelta(days=1), "as_of": h.now},
        {"period_start": h.now - timedelta(days=7, hours=5), "period_end": h.now - timedelta(days=3, minutes=17), "as_of": h.now + timedelta(days=40)},
        {"period_start": h.now + timedelta(days=5), "period_end": h.now + timedelta(days=6), "as_of": h.now - timedelta(days=300)},
    ]


def check_caseload(conn: Connection, h: History) -> int:
    contractors = sorted(h.contractors)
    places = sorted({(c.township, c.village) for c in h.cases.values()})
    scopes: list[dict[str, Any]] = [
        {},
        {"org": contractors[0]},
        {"contractor_id": contractors[-1]},
        {"township": places[0][0]},
        {"township": places[-1][0], "village": places[-1][1]},
        {"org": contractors[0], "township": places[0][0]},
        {"village": places[0][1]},
        {"township": "nowhere"},
    ]
    compared = 0
    for by in GROUPS:
        for window in _windows(h):
            for scope in scopes:
                params = {"org": None, **scope, **window}
                expected = _all(lambda cursor: old_caseload(conn, by=by, cursor=cursor, limit=7, **params))
                got = _all(lambda cursor: queries.caseload(conn, by=by, cursor=cursor, limit=7, **params))
                assert got == expected, (by, scope, window)
                compared += len(expected)
    return compared


def _all(fetch: Any) -> list[dict[str, Any]]:
    """Every page, and the cursors that linked them."""
    items, cursor = [], None
    while True:
        rows, cursor = fetch(cursor)
        items += [*rows, {"cursor": cursor}]
        if cursor is None:
            return items


def check_workers(conn: Connection, h: History) -> int:
    compared = 0
    for contractor_id in sorted(h.contractors):
        for enrolled in (None, True, False):
            for org in (None, contractor_id):
                args = {"org": org, "enrolled": enrolled}
                expected = _all(lambda cursor: old_contractor_workers(conn, contractor_id, cursor=cursor, limit=3, **args))
                got = _all(lambda cursor: lists.contractor_workers(conn, contractor_id, cursor=cursor, limit=3, **args))
                assert got == expected, (contractor_id, args)
                compared += len(expected)
    return compared


def check_contracts(conn: Connection, h: History) -> int:
    compared = 0
    contractors = sorted(h.contractors)
    for sort in ("signed_at", "contract_no", "end_date"):
        for descending in (False, True):
            for scope in ({}, {"org": contractors[0]}, {"status": "active"}, {"contractor_id": contractors[-1]}):
                args = {"org": None, **scope, "sort": sort, "descending": descending}
                expected = _all(lambda cursor: old_contracts(conn, cursor=cursor, limit=2, **args))
                got = _all(lambda cursor: queries.contracts(conn, cursor=cursor, limit=2, **args))
                assert got == expected, args
                compared += len(expected)
    return compared


# --- the old queries, as they were before the rollups: the reference ---------------------------
def old_caseload(
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
    policy = policy or Policy()
    c, v = t.cases, t.visits
    contractor_id = org or contractor_id

    def case_filters(table: Any) -> list[Any]:
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

    in_period = and_(v.c.counts.is_(True), v.c.started_at >= period_start, v.c.started_at < period_end)
    visit_keys = key_of(v)
    stmt = (
        select(
            *visit_keys,
            func.count().filter(in_period).label("visits"),
            func.count(distinct(v.c.beneficiary_id)).filter(in_period).label("served"),
            func.count(distinct(v.c.case_id)).filter(in_period).label("cases"),
            func.max(v.c.started_at).filter(v.c.counts.is_(True)).label("last"),
        )
        .where(*case_filters(v))
        .group_by(*visit_keys)
    )
    for r in conn.execute(stmt):
        target = row(tuple(r[: len(visit_keys)]))
        target.update(visits_in_period=r.visits, beneficiaries_served=r.served, cases_visited_in_period=r.cases, last_visit_at=_utc(r.last))

    if by != "worker":
        case_keys = key_of(c)
        accepted = c.c.status == "accepted"
        stmt = (
            select(
                *case_keys,
                c.c.self_care_level,
                func.count().filter(accepted).label("open"),
                func.count().filter(and_(accepted, c.c.next_visit_due < as_of)).label("overdue"),
            )
            .where(*case_filters(c))
            .group_by(*case_keys, c.c.self_care_level)
        )
        levels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for r in conn.execute(stmt):
            target = row(tuple(r[: len(case_keys)]))
            target["open_cases"] += r.open
            target["overdue_cases"] += r.overdue
            levels[target["key"]][r.self_care_level] += r.open
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


def old_contractor_workers(
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
    k, w, v, c = t.contractors, t.workers, t.visits, t.cases
    if (org and org != contractor_id) or conn.execute(select(k.c.contractor_id).where(k.c.contractor_id == contractor_id)).first() is None:
        return None
    stmt = select(w).where(w.c.contractor_id == contractor_id)
    if enrolled is not None:
        stmt = stmt.where(w.c.enrolled.is_(enrolled))
    rows, next_cursor = page(conn, stmt, w.c.worker_id, w.c.worker_id, descending=False, cursor=cursor, limit=limit)
    # Only for the workers on this page, through the (worker_id, started_at) index.
    figures = {
        r.worker_id: r
        for r in conn.execute(
            select(
                v.c.worker_id,
                func.count().label("visits"),
                func.count(distinct(v.c.case_id)).filter(c.c.status == "accepted").label("open_cases"),
                func.max(v.c.started_at).label("last_visit_at"),
            )
            .join(c, c.c.case_id == v.c.case_id)
            .where(and_(v.c.worker_id.in_([r["worker_id"] for r in rows]), v.c.counts.is_(True)))
            .group_by(v.c.worker_id)
        )
    }
    for r in rows:
        got = figures.get(r["worker_id"])
        r.update(
            enrolled_at=_utc(r["enrolled_at"]),
            removed_at=_utc(r["removed_at"]),
            open_cases=got.open_cases if got else 0,
            visits=got.visits if got else 0,
            last_visit_at=_utc(got.last_visit_at) if got else None,
        )
    return rows, next_cursor


def old_contracts(
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
    totals = select(ln.c.contract_id, func.sum(ln.c.quantity).label("contracted"), func.sum(ln.c.delivered).label("delivered")).group_by(ln.c.contract_id).subquery()
    stmt = select(k, totals.c.contracted, totals.c.delivered).join(totals, totals.c.contract_id == k.c.contract_id)
    contractor_id = org or contractor_id
    for col, value in (("contractor_id", contractor_id), ("fund_id", fund_id), ("status", status)):
        if value:
            stmt = stmt.where(k.c[col] == value)
    rows, next_cursor = page(conn, stmt, k.c[sort], k.c.contract_id, descending=descending, cursor=cursor, limit=limit)
    out = []
    for r in rows:
        item = _contract_row(r)
        done, of = int(r["delivered"] or 0), int(r["contracted"] or 0)
        item.update(contracted=of, delivered=done, share_done=_share(done, of), percent_done=_percent(done, of))
        out.append(item)
    return out, next_cursor
