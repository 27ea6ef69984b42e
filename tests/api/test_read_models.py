"""Acceptance tests of the read side: a realistic history is driven through the HTTP API, and
every read model is checked against an independent tally of what was posted; then scoping,
pagination, rebuilds while live, read-your-writes and lag."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import fields
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from projections.audit import BOOKKEEPING
from projections.runner import NAMES, Rebuilder
from projections.tables import LIVE
from tests.api.builders import post, visit_body
from tests.api.following import FollowingClient
from tests.api.history import Driver, Headers, History, iso, parse, yuan
from tests.api.test_read_side import model_for

GROUPS = ("contractor", "worker", "township", "village")


# --- small helpers ------------------------------------------------------------------------------
def get(client: TestClient, path: str, headers: Headers, **params: Any) -> Any:
    r = client.get(path, headers=headers, params={k: v for k, v in params.items() if v is not None})
    assert r.status_code == 200, (path, params, r.status_code, r.text)
    model = model_for(path)
    if model is not None:  # every answer of the realistic history matches its declared model
        model.model_validate(r.json())
    return r.json()


def pages(client: TestClient, path: str, headers: Headers, *, limit: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item, following next_cursor; and how many pages it took. The audit trail's whole,
    bookkeeping too, unless the caller asks otherwise."""
    if path == "/read/audit":
        params.setdefault("include", "all")
    items: list[dict[str, Any]] = []
    cursor, count = None, 0
    while True:
        page = get(client, path, headers, limit=limit, cursor=cursor, **params)
        assert len(page["items"]) <= limit
        items += page["items"]
        count += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, count
        assert len(page["items"]) == limit


def every(client: TestClient, path: str, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    return pages(client, path, headers, limit=500 if path != "/read/audit" else 1000, **params)[0]


def log_positions(client: TestClient) -> list[int]:
    """The positions of every event in the global log, read from the event store itself."""
    recorder = client.app.state.ledger.recorder
    out: list[int] = []
    while True:
        batch = recorder.select_notifications(start=out[-1] if out else 0, limit=1000, inclusive_of_start=not out)
        if not batch:
            return out
        out += [n.id for n in batch]


def dump(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every live read-model table, ordered by primary key."""
    out = {}
    with engine.connect() as conn:
        for f in fields(LIVE):
            table = getattr(LIVE, f.name)
            if table is LIVE.positions:
                stmt = select(table.c.name, table.c.position, table.c.event_time).order_by(table.c.name)
            else:
                stmt = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(stmt)]
    return out


# --- the history, once per store, and every check on it ---------------------------------------
@pytest.fixture
def history_client(settings) -> Iterator[TestClient]:
    """The service with its projections paused while the history is posted (thousands of
    commands go faster without the runner competing for the interpreter); the test then runs
    the same runner the service runs before it reads."""
    paused = settings.model_copy(update={"projections_in_service": False})
    with FollowingClient(create_app(paused), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def history_token_for(history_client: TestClient):
    def issue(role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
        issued = history_client.app.state.ledger.issue_token(role, org, subject or f"{role}-user")  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {issued.token}"}

    return issue


def test_read_models_agree_with_a_realistic_history(history_client: TestClient, history_token_for) -> None:
    client = history_client
    h = Driver(client, history_token_for).build()
    assert len(h.visits) > 2000 and len(h.cases) > 200
    client.app.state.read_side.runner.run_until_idle()  # type: ignore[attr-defined]

    check_caseload(client, h)
    check_contracts(client, h)
    check_payable_tranches(client, h)
    check_funds(client, h)
    audit = check_audit(client, h)
    check_lists(client, h, audit)
    check_scoping(client, h, audit)
    check_pagination(client, h, audit)
    check_rebuild_while_live(client, h)


def _caseload_params(h: History) -> dict[str, Any]:
    return {
        "period_start": iso(h.now - timedelta(days=30)),
        "period_end": iso(h.now - timedelta(days=2)),
        "as_of": iso(h.now + timedelta(days=3)),
        "min_position": h.last_position,
    }


def _normalise_caseload(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: {**r, "last_visit_at": parse(r["last_visit_at"])} for r in items}


def check_caseload(client: TestClient, h: History) -> None:
    params = _caseload_params(h)
    window = {k: parse(v) for k, v in params.items() if k != "min_position"}
    for by in GROUPS:
        got = _normalise_caseload(every(client, "/read/caseload", h.auditor, group_by=by, **params))
        expected = h.caseload(by, period_start=window["period_start"], period_end=window["period_end"], as_of=window["as_of"])
        assert got.keys() == expected.keys(), by
        for key in expected:
            assert got[key] == expected[key], (by, key)
        # The history is shaped so that every figure means something.
        if by != "worker":
            assert 0 < sum(r["overdue_cases"] for r in got.values()) < sum(r["open_cases"] for r in got.values())
        assert 0 < sum(r["visits_in_period"] for r in got.values()) < sum(1 for v in h.visits.values() if v.counts)
    workers = _normalise_caseload(every(client, "/read/caseload", h.auditor, group_by="worker", **params))
    assert workers[h.removed_worker]["enrolled"] is False and workers[h.removed_worker]["last_visit_at"] is not None
    contractors = _normalise_caseload(every(client, "/read/caseload", h.auditor, group_by="contractor", **params))
    for contractor_id, row in contractors.items():
        assert Decimal(row["carers_needed"]) <= row["enrolled_workers"]

    # The same instant written in another zone gives the same figures; filters narrow the rows.
    local = {**params, "as_of": (window["as_of"].astimezone(timezone(timedelta(hours=8)))).isoformat()}
    assert _normalise_caseload(every(client, "/read/caseload", h.auditor, group_by="contractor", **local)) == contractors
    township = sorted({c.township for c in h.cases.values()})[0]
    villages = _normalise_caseload(every(client, "/read/caseload", h.auditor, group_by="village", township=township, **params))
    all_villages = h.caseload("village", period_start=window["period_start"], period_end=window["period_end"], as_of=window["as_of"])
    assert villages == {k: v for k, v in all_villages.items() if k.startswith(township + "/")}


def _expected_contract(k: Any) -> dict[str, Any]:
    contracted = sum(line.quantity for line in k.lines.values())
    delivered = sum(line.delivered for line in k.lines.values())
    return {
        "contract_id": k.contract_id,
        "contract_no": k.contract_no,
        "contractor_id": k.contractor_id,
        "fund_id": k.fund_id,
        "status": k.status,
        "start_date": k.start_date.isoformat(),
        "end_date": k.end_date.isoformat(),
        "budget": yuan(k.budget_fen),
        "committed": yuan(k.budget_fen - k.decommitted_fen),
        "released": yuan(k.released_fen),
        "withheld": yuan(k.withheld_fen),
        "remaining": yuan(k.budget_fen - k.released_fen - k.withheld_fen),
        "contracted": contracted,
        "delivered": delivered,
        "share_done": str((Decimal(delivered) / Decimal(contracted)).quantize(Decimal("0.0001"))),
        "percent_done": str((Decimal(delivered * 100) / Decimal(contracted)).quantize(Decimal("0.01"))),
    }


def check_contracts(client: TestClient, h: History) -> None:
    listed = every(client, "/read/contracts", h.auditor, min_position=h.last_position)
    assert [c["contract_id"] for c in listed] == list(h.contracts)  # signed_at ascending: the order they were signed
    for item in listed:
        k = h.contracts[item["contract_id"]]
        assert {key: item[key] for key in _expected_contract(k)} == _expected_contract(k), k.contract_no

        detail = get(client, f"/read/contracts/{k.contract_id}", h.finance, min_position=h.last_position)
        assert {key: detail[key] for key in ("budget", "committed", "released", "withheld", "remaining", "status")} == {
            key: _expected_contract(k)[key] for key in ("budget", "committed", "released", "withheld", "remaining", "status")
        }
        assert detail["lines"] == [
            {
                "service_code": code,
                "contracted": line.quantity,
                "unit_price": yuan(line.price_fen),
                "posted": line.posted,
                "delivered": line.delivered,
                "confirmed": line.confirmed,
                "disputed": line.disputed,
                "voided": line.voided,
                "failed_spot_checks": line.failed,
                "share_done": str((Decimal(line.delivered) / Decimal(line.quantity)).quantize(Decimal("0.0001"))),
                "percent_done": str((Decimal(line.delivered * 100) / Decimal(line.quantity)).quantize(Decimal("0.01"))),
            }
            for code, line in sorted(k.lines.items())
        ], k.contract_no
        assert {m["milestone_id"]: m["status"] for m in detail["milestones"]} == {mid: m["status"] for mid, m in k.milestones.items()}
        for m in detail["milestones"]:
            assert (m["fulfilled_at"] is not None) == (m["status"] == "fulfilled")
        assert [{key: t[key] for key in ("tranche_id", "milestone_id", "amount", "reduced", "released", "withheld", "status")} for t in detail["tranches"]] == [
            {
                "tranche_id": tid,
                "milestone_id": t.milestone_id,
                "amount": yuan(t.amount_fen),
                "reduced": yuan(t.reduced_fen),
                "released": yuan(t.released_fen),
                "withheld": yuan(t.withheld_fen),
                "status": t.status,
            }
            for tid, t in sorted(k.tranches.items())
        ]
        assert [{key: e[key] for key in ("evaluation_id", "stage", "status", "total", "grade", "appeal", "scores")} for e in detail["evaluations"]] == [
            {"evaluation_id": e.evaluation_id, "stage": e.stage, "status": e.status, "total": e.total, "grade": e.grade, "appeal": e.appeal, "scores": e.scores} for e in k.evaluations
        ], k.contract_no

    # The figures that the history was built to produce, spelled out.
    by_no = {c["contract_no"]: c for c in listed}
    assert by_no["MZ-2026-101"]["status"] == "settled" and by_no["MZ-2026-101"]["committed"] == by_no["MZ-2026-101"]["released"] == "18000.00"
    assert by_no["MZ-2026-102"]["released"] == "8300.00" and by_no["MZ-2026-102"]["withheld"] == "1700.00"
    assert by_no["MZ-2026-103"]["status"] == "terminated" and by_no["MZ-2026-103"]["withheld"] == "3000.00"
    assert by_no["MZ-2026-103"]["committed"] == "3000.00"
    evaluations = get(client, f"/read/contracts/{h.settled}", h.auditor)["evaluations"]
    assert [(e["stage"], e["status"], e["total"], e["grade"], e["appeal"]) for e in evaluations] == [
        ("mid_term", "concluded", "85.00", "good", None),
        ("final", "final", "86.00", "good", "upheld"),
    ]
    # Filters.
    assert [c["contract_id"] for c in every(client, "/read/contracts", h.auditor, status="terminated")] == [h.terminated]
    for fund_id in h.funds:
        assert [c["contract_id"] for c in every(client, "/read/contracts", h.auditor, fund_id=fund_id)] == [k.contract_id for k in h.contracts.values() if k.fund_id == fund_id]
    r = client.get("/read/contracts/00000000-0000-0000-0000-000000000000", headers=h.auditor)
    assert r.status_code == 404 and r.json()["error"] == "ContractNotFound"


def check_payable_tranches(client: TestClient, h: History) -> None:
    items = every(client, "/read/payable-tranches", h.finance, min_position=h.last_position)
    assert [(t["contract_id"], t["tranche_id"]) for t in items] == h.payable()
    assert len(items) == 3
    for t in items:
        k = h.contracts[t["contract_id"]]
        assert t["contract_no"] == k.contract_no
        assert t["amount"] == yuan(k.tranches[t["tranche_id"]].amount_fen) and t["status"] == "pending"
        assert t["fulfilled_at"] is not None
    # Filtered as /read/contracts is: by contractor, by fund, by contract number.
    for contractor_id in h.contractors:
        assert [(t["contract_id"], t["tranche_id"]) for t in every(client, "/read/payable-tranches", h.finance, contractor_id=contractor_id)] == h.payable(contractor_id)
    for t in items:
        k = h.contracts[t["contract_id"]]
        by_no = every(client, "/read/payable-tranches", h.finance, contract_no=k.contract_no)
        assert by_no == [i for i in items if i["contract_id"] == k.contract_id]
        assert every(client, "/read/payable-tranches", h.finance, fund_id=k.fund_id) == [i for i in items if h.contracts[i["contract_id"]].fund_id == k.fund_id]
    assert every(client, "/read/payable-tranches", h.finance, contract_no="NO-SUCH-CONTRACT") == []


def check_funds(client: TestClient, h: History) -> None:
    listed = every(client, "/read/funds", h.finance, min_position=h.last_position)
    assert [f["fund_id"] for f in listed] == list(h.funds)
    for item in listed:
        f = h.funds[item["fund_id"]]
        expected = {
            "fund_id": f.fund_id,
            "name": f.name,
            "source": f.source,
            "fiscal_year": f.fiscal_year,
            "appropriated": yuan(f.appropriated_fen),
            "committed": yuan(f.committed_fen),
            "disbursed": yuan(f.disbursed_fen),
            "available": yuan(f.appropriated_fen - f.committed_fen),
        }
        assert item == expected
        detail = get(client, f"/read/funds/{f.fund_id}", h.evaluator, min_position=h.last_position)
        assert {k: detail[k] for k in expected} == expected
        assert detail["breakdown"] == h.fund_breakdown(f.fund_id), f.name
    f1, f2, f3 = h.funds.values()
    assert (yuan(f1.committed_fen), yuan(f1.disbursed_fen)) == ("97450.00", "26300.00")
    assert (yuan(f2.committed_fen), yuan(f2.disbursed_fen)) == ("38600.00", "3000.00")
    assert get(client, f"/read/funds/{f3.fund_id}", h.auditor)["breakdown"] == {"township": [], "service_class": [], "category": []}
    # A category changed half-way: the visits before count under the old category.
    visits_by_category = {row["key"]: row["visits"] for row in get(client, f"/read/funds/{f1.fund_id}", h.auditor)["breakdown"]["category"]}
    assert sum(visits_by_category.values()) == sum(1 for v in h.visits.values() if v.fund_id == f1.fund_id and v.counts)
    # Filters.
    assert [f["fund_id"] for f in every(client, "/read/funds", h.auditor, fiscal_year=2025)] == [f3.fund_id]
    assert [f["fund_id"] for f in every(client, "/read/funds", h.auditor, source="welfare_lottery")] == [f2.fund_id]
    r = client.get("/read/funds/00000000-0000-0000-0000-000000000000", headers=h.auditor)
    assert r.status_code == 404 and r.json()["error"] == "FundNotFound"


def check_audit(client: TestClient, h: History) -> list[dict[str, Any]]:
    rows, count = pages(client, "/read/audit", h.auditor, limit=1000, min_position=h.last_position)
    positions = [r["position"] for r in rows]
    assert count > 1
    assert all(a < b for a, b in zip(positions, positions[1:])), "positions strictly increase"
    head = get(client, "/health", {})["head"]
    assert positions[-1] == head
    assert positions == log_positions(client)  # one audit row for every event in the log, no more
    if client.app.state.read_side.engine.dialect.name == "sqlite":
        assert len(rows) == head  # no gaps on SQLite

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["event_type"] == kind]

    visits = h.visits.values()
    assert len(of_type("Visit.Delivered")) == len(h.visits)
    assert len(of_type("Visit.Voided")) == sum(v.voided for v in visits)
    assert len(of_type("Visit.Disputed")) == sum(v.confirmation == "disputed" for v in visits)
    assert len(of_type("Visit.Confirmed")) == sum("Visit.Confirmed" in v.events for v in visits)
    assert len(of_type("Visit.SpotChecked")) == sum(v.spot_check is not None for v in visits)
    assert len(of_type("Case.Referred")) == len(h.cases)
    assert len(of_type("Beneficiary.Registered")) == len(h.people)
    assert len(of_type("Contract.Signed")) == len(h.contracts)
    assert len(of_type("Contract.TrancheReleased")) == sum(t.status == "released" for k in h.contracts.values() for t in k.tranches.values())
    assert len(of_type("Contract.Settled")) == len(of_type("Contract.Terminated")) == 1
    assert len(of_type("Contractor.WorkerEnrolled")) == len(h.workers)

    # Filters answer exactly the matching rows of the whole trail.
    for kind in ("Visit.Voided", "Contract.TrancheReleased", "Fund.Decommitted", "Contract.MilestoneFulfilled"):
        assert every(client, "/read/audit", h.auditor, event_type=kind) == of_type(kind), kind
    for actor_id in ("cashier-li", "panel-chair", "coordinator-3"):
        got = every(client, "/read/audit", h.auditor, actor_id=actor_id)
        assert got == [r for r in rows if r["actor_id"] == actor_id] and got, actor_id
    assert [r["event_type"] for r in every(client, "/read/audit", h.auditor, actor_id="cashier-li", event_type="Fund.Disbursed")] == ["Fund.Disbursed"] * sum(
        t.released_fen > 0 for k in h.contracts.values() for t in k.tranches.values()
    )
    for role in ("finance", "evaluator", "system"):
        got = every(client, "/read/audit", h.auditor, role=role)
        assert got == [r for r in rows if r["role"] == role] and got, role
    assert {r["role"] for r in rows if r["event_type"] == "Contract.MilestoneFulfilled" and "volume" in r["summary"]} == {"system"}
    changed = max(h.visits.values(), key=lambda v: (len(v.events), v.visit_id))
    trail = every(client, "/read/audit", h.auditor, aggregate_id=changed.visit_id)
    assert [r["event_type"] for r in trail] == changed.events and len(trail) > 1
    assert [r["aggregate_version"] for r in trail] == list(range(1, len(trail) + 1))
    assert {r["aggregate_type"] for r in trail} == {"Visit"}
    since, until = parse(rows[len(rows) // 3]["recorded_at"]), parse(rows[2 * len(rows) // 3]["recorded_at"])
    window = every(client, "/read/audit", h.auditor, since=iso(since), until=iso(until))
    assert window == [r for r in rows if since <= parse(r["recorded_at"]) < until] and window
    assert every(client, "/read/audit", h.auditor, since=iso(since), event_type="Visit.Voided") == [r for r in of_type("Visit.Voided") if parse(r["recorded_at"]) >= since]

    # Readable summaries, and never a national ID number nor its hash.
    national_ids = [p.national_id for p in h.people.values()]
    for r in rows:
        assert r["summary"].startswith(r["event_type"])
        assert "national_id" not in r["summary"] and "hash" not in r["summary"]
        assert not any(nid in r["summary"] for nid in national_ids)
    assert any("name=居民1;" in r["summary"] for r in of_type("Beneficiary.Registered"))
    return rows


def check_lists(client: TestClient, h: History, audit: list[dict[str, Any]]) -> None:
    """The visit and case lists agree with the history, and the trail names each visit's contract."""
    delivered_at = {r["aggregate_id"]: r["position"] for r in audit if r["event_type"] == "Visit.Delivered"}
    listed = every(client, "/read/visits", h.auditor)
    assert [v["visit_id"] for v in listed] == [v.visit_id for v in sorted(h.visits.values(), key=lambda v: (v.started_at, v.visit_id), reverse=True)]
    for row in listed:
        v = h.visits[row["visit_id"]]
        assert (row["case_id"], row["contract_id"], row["worker_id"], row["beneficiary_id"], row["service_code"], parse(row["started_at"])) == (
            v.case_id,
            v.contract_id,
            v.worker_id,
            v.beneficiary_id,
            v.service,
            v.started_at,
        )
        assert (row["counts"], row["confirmation"], row["voided"], row["spot_check"]) == (v.counts, v.confirmation, v.voided, v.spot_check), v.visit_id
        assert row["delivered_position"] == delivered_at[v.visit_id]
    some = next(iter(h.contracts))
    assert every(client, "/read/visits", h.auditor, contract_id=some) == [r for r in listed if r["contract_id"] == some]
    for status in {c.status for c in h.cases.values()}:
        assert {c["case_id"] for c in every(client, "/read/cases", h.auditor, status=status)} == {c.case_id for c in h.cases.values() if c.status == status}, status
    assert all(r["contract_id"] == h.visits[r["aggregate_id"]].contract_id for r in audit if r["aggregate_type"] == "Visit")
    business = every(client, "/read/audit", h.auditor, include="business")
    assert business == [r for r in audit if r["aggregate_type"] not in BOOKKEEPING] and len(business) < len(audit)


def check_scoping(client: TestClient, h: History, audit: list[dict[str, Any]]) -> None:
    params = _caseload_params(h)
    window = {k: parse(v) for k, v in params.items() if k != "min_position"}
    for contractor_id, c in h.contractors.items():
        # Caseload: only its own rows, whatever it asks for.
        for by in GROUPS:
            got = _normalise_caseload(every(client, "/read/caseload", c.token, group_by=by, **params))
            assert got == h.caseload(by, org=contractor_id, period_start=window["period_start"], period_end=window["period_end"], as_of=window["as_of"])
        other = next(o for o in h.contractors if o != contractor_id)
        assert set(_normalise_caseload(every(client, "/read/caseload", c.token, group_by="contractor", contractor_id=other, **params))) == {contractor_id}
        # Contracts and payable tranches.
        own = [k.contract_id for k in h.contracts.values() if k.contractor_id == contractor_id]
        assert [k["contract_id"] for k in every(client, "/read/contracts", c.token)] == own
        assert every(client, "/read/contracts", c.token, contractor_id=other) == every(client, "/read/contracts", c.token)
        foreign = next(k for k in h.contracts.values() if k.contractor_id != contractor_id)
        r = client.get(f"/read/contracts/{foreign.contract_id}", headers=c.token)
        assert r.status_code == 404 and r.json()["error"] == "ContractNotFound"
        assert get(client, f"/read/contracts/{own[0]}", c.token) == get(client, f"/read/contracts/{own[0]}", h.auditor)
        assert [(t["contract_id"], t["tranche_id"]) for t in every(client, "/read/payable-tranches", c.token)] == h.payable(contractor_id)
        # Funds are not the contractor's business.
        for path in ("/read/funds", f"/read/funds/{next(iter(h.funds))}"):
            r = client.get(path, headers=c.token)
            assert r.status_code == 403 and r.json()["error"] == "Forbidden", r.text
        # Audit: the events of its own objects, all of them, and nothing else.
        mine = every(client, "/read/audit", c.token)
        own_ids = {contractor_id, *own}
        own_ids |= {x.case_id for x in h.cases.values() if x.contractor_id == contractor_id}
        own_ids |= {v.visit_id for v in h.visits.values() if v.contractor_id == contractor_id}
        own_ids |= {e.evaluation_id for k in h.contracts.values() if k.contractor_id == contractor_id for e in k.evaluations}
        tallies = {r["aggregate_id"] for r in mine if r["aggregate_type"] == "VolumeTally"}
        assert sum(r["event_type"] == "VolumeTally.Opened" for r in mine) == len(own)
        assert mine == [r for r in audit if r["aggregate_id"] in own_ids | tallies]
        assert {r["aggregate_type"] for r in mine} == {"Contractor", "Contract", "Case", "Visit", "Evaluation", "VolumeTally"}
        assert every(client, "/read/audit", c.token, actor_id="cashier-li") == [r for r in mine if r["actor_id"] == "cashier-li"]
        assert every(client, "/read/audit", c.token, aggregate_id=next(iter(h.people))) == []
    # The auditor sees every contractor's rows.
    assert {r["contractor_id"] for r in every(client, "/read/contracts", h.auditor)} == set(h.contractors)
    assert len(every(client, "/read/payable-tranches", h.auditor)) == len(h.payable())


def check_pagination(client: TestClient, h: History, audit: list[dict[str, Any]]) -> None:
    # The whole trail in small pages, both ways.
    small, count = pages(client, "/read/audit", h.auditor, limit=97)
    assert small == audit and count == -(-len(audit) // 97)
    finance = every(client, "/read/audit", h.auditor, role="finance")
    assert pages(client, "/read/audit", h.auditor, limit=4, role="finance")[0] == finance
    assert pages(client, "/read/audit", h.auditor, limit=5, role="finance", order="desc")[0] == finance[::-1]
    assert get(client, "/read/audit", h.auditor, limit=3, order="desc")["items"] == audit[::-1][:3]

    # Contracts in every sort and order.
    contracts = list(h.contracts.values())
    expected_orders = {
        "signed_at": [k.contract_id for k in contracts],
        "contract_no": [k.contract_id for k in sorted(contracts, key=lambda k: k.contract_no)],
        "end_date": sorted(k.contract_id for k in contracts),  # all end on one day: then by id
    }
    for sort, expected in expected_orders.items():
        for order in ("asc", "desc"):
            whole = every(client, "/read/contracts", h.auditor, sort=sort, order=order)
            assert [c["contract_id"] for c in whole] == (expected if order == "asc" else expected[::-1]), (sort, order)
            paged, count = pages(client, "/read/contracts", h.auditor, limit=2, sort=sort, order=order)
            assert paged == whole and count == 3
    assert pages(client, "/read/contracts", h.auditor, limit=4)[0] == every(client, "/read/contracts", h.auditor)

    # Grouped figures page too; and so do the worklists.
    params = _caseload_params(h)
    for by in ("worker", "village"):
        whole = every(client, "/read/caseload", h.auditor, group_by=by, **params)
        assert pages(client, "/read/caseload", h.auditor, limit=3, group_by=by, **params)[0] == whole
        assert [r["key"] for r in whole] == sorted(r["key"] for r in whole)
    assert pages(client, "/read/payable-tranches", h.finance, limit=1)[0] == every(client, "/read/payable-tranches", h.finance)
    assert pages(client, "/read/funds", h.finance, limit=1)[0] == every(client, "/read/funds", h.finance)

    # A cursor this API never gave out is refused, never a 500.
    def forge(value: object, key: object) -> str:
        return base64.urlsafe_b64encode(json.dumps({"t": "raw", "v": value, "k": key}).encode()).decode()

    garbage = ["garbage", "!!!", base64.urlsafe_b64encode(b"[1, 2]").decode(), base64.urlsafe_b64encode(b'{"t": "dt", "v": "yesterday", "k": 1}').decode()]
    for cursor in garbage:
        for path in ("/read/audit", "/read/contracts", "/read/caseload", "/read/payable-tranches", "/read/funds"):
            r = client.get(path, headers=h.auditor, params={"cursor": cursor, "limit": 2})
            assert r.status_code == 422 and r.json()["error"] == "InvalidInput", (path, cursor, r.status_code, r.text)
    # Well-formed, but of the wrong types for the page's sort and key.
    wrong_types = {
        "/read/audit": [forge("not-a-number", "x"), forge(10**30, 10**30), forge("a\u0000b", 1)],
        "/read/contracts": [forge(1, 2), forge("2026-01-01", "x")],
        "/read/payable-tranches": [forge(1, 2), forge(None, None)],
        "/read/funds": [forge("x", "y")],
        "/read/caseload": [forge(1, 1), forge("x", None)],
    }
    for path, cursors in wrong_types.items():
        for cursor in cursors:
            r = client.get(path, headers=h.auditor, params={"cursor": cursor, "limit": 2})
            assert r.status_code == 422 and r.json()["error"] == "InvalidInput", (path, cursor, r.status_code, r.text)
    nul = base64.urlsafe_b64encode(json.dumps({"t": "raw", "v": "MZ\u0000", "k": "x\u0000"}).encode()).decode()
    r = client.get("/read/contracts", headers=h.auditor, params={"cursor": nul, "sort": "contract_no"})
    assert r.status_code == 422 and r.json()["error"] == "InvalidInput", r.text
    r = client.get("/read/audit", headers=h.auditor, params={"limit": 0})
    assert r.status_code == 422
    r = client.get("/read/contracts", headers=h.auditor, params={"sort": "budget"})
    assert r.status_code == 422


def check_rebuild_while_live(client: TestClient, h: History) -> None:
    read_side = client.app.state.read_side
    engine = read_side.engine
    assert read_side.wait_for(h.last_position, NAMES, 30)
    before = dump(engine)
    assert sum(len(rows) for rows in before.values()) > 5000
    rebuilder = Rebuilder(client.app.state.ledger, engine)
    for name in NAMES:
        assert rebuilder.rebuild(name) >= len(h.visits)
        # The service keeps answering while and after each projection is rebuilt.
        assert get(client, "/read/contracts", h.auditor, min_position=h.last_position)["items"]
    after = dump(engine)
    for table in before:
        assert after[table] == before[table], table


# --- read-your-writes and lag -------------------------------------------------------------------
def test_reads_wait_for_the_read_models_and_report_lag_when_they_run_elsewhere(settings) -> None:
    out_of_service = settings.model_copy(update={"projections_in_service": False, "read_wait_seconds": 0.5})
    with TestClient(create_app(out_of_service), raise_server_exceptions=False) as client:
        ledger = client.app.state.ledger
        runner = client.app.state.read_side.runner

        def token(role: str, org: str | None, subject: str) -> Headers:
            return {"Authorization": f"Bearer {ledger.issue_token(role, org, subject).token}"}

        finance, auditor = token("finance", "finance-bureau", "cashier-li"), token("auditor", "audit-bureau", "auditor-wu")
        post(client, "/purchase-ceilings", finance, {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})
        runner.run_until_idle()
        status = get(client, "/projections/status", auditor)
        assert all(p["lag_events"] == 0 and p["lag_seconds"] == 0 and p["position"] == status["head"] for p in status["projections"])

        made = post(client, "/funds", finance, {"name": "2026 工作经费", "source": "work_funds", "fiscal_year": 2026, "amount": "200000.00"})
        fund_id, position = made["fund_id"], made["position"]
        for path in ("/read/funds", f"/read/funds/{fund_id}", "/read/audit", "/read/contracts", "/read/caseload", "/read/payable-tranches"):
            r = client.get(path, headers=auditor, params={"min_position": position})
            assert r.status_code == 503, (path, r.text)
            assert r.json()["error"] == "ReadModelsBehind" and int(r.headers["Retry-After"]) >= 1
        # Without min_position the reads answer at once, from where the models stand.
        assert get(client, "/read/funds", auditor)["items"] == []
        status = get(client, "/projections/status", auditor)
        assert status["head"] == position == get(client, "/health", {})["head"]
        assert {p["name"] for p in status["projections"]} == set(NAMES)
        for p in status["projections"]:
            assert p["position"] < position and p["lag_events"] >= 2 and p["lag_seconds"] >= 0, p  # the fund and the ceiling's share

        assert runner.run_until_idle() >= 2
        fund = get(client, f"/read/funds/{fund_id}", auditor, min_position=position)
        assert (fund["appropriated"], fund["committed"], fund["available"]) == ("200000.00", "0.00", "200000.00")
        assert [f["fund_id"] for f in get(client, "/read/funds", auditor, min_position=position)["items"]] == [fund_id]
        assert get(client, "/read/audit", auditor, min_position=position, aggregate_id=fund_id)["items"][0]["event_type"] == "Fund.Appropriated"
        status = get(client, "/projections/status", auditor)
        assert all(p["lag_events"] == 0 and p["lag_seconds"] == 0 and p["position"] == position for p in status["projections"])


def test_a_command_is_readable_at_once_with_its_position(client: TestClient, world) -> None:
    a = world.a
    # A visit: the caseload of its worker and the contract's line count it straight away.
    made = post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=1))
    rows = get(client, "/read/caseload", a.token, group_by="worker", min_position=made["position"])["items"]
    assert next(r for r in rows if r["key"] == a.worker_id)["visits_in_period"] == 2
    line = next(ln for ln in get(client, f"/read/contracts/{a.contract_id}", a.token, min_position=made["position"])["lines"] if ln["service_code"] == "meals")
    assert (line["posted"], line["delivered"]) == (2, 2)
    trail = get(client, "/read/audit", world.auditor, aggregate_id=made["visit_id"], min_position=made["position"])["items"]
    assert [r["event_type"] for r in trail] == ["Visit.Delivered"]

    # A void: the next read already leaves the visit out.
    voided = post(client, f"/visits/{made['visit_id']}/void", a.token, {"reason": "录入重复"})
    line = next(ln for ln in get(client, f"/read/contracts/{a.contract_id}", world.finance, min_position=voided["position"])["lines"] if ln["service_code"] == "meals")
    assert (line["posted"], line["delivered"], line["voided"]) == (2, 1, 1)
    fund = get(client, f"/read/funds/{world.fund_id}", world.finance, min_position=voided["position"])
    assert fund["breakdown"]["service_class"] == [{"key": "daily_living", "contracted": "7000.00", "delivered_value": "30.00", "visits": 2}]

    # A new fund is listed at once.
    made = post(client, "/funds", world.finance, {"name": "追加经费", "source": "special_funds", "fiscal_year": 2026, "amount": "1000.00"})
    listed = get(client, "/read/funds", world.auditor, min_position=made["position"])["items"]
    assert made["fund_id"] in [f["fund_id"] for f in listed]


def test_a_contracts_progress_reads_as_a_percentage_beside_its_ratio(client, world):
    position = client.app.state.ledger.head()
    listed = every(client, "/read/contracts", world.purchaser, min_position=position)
    detail = get(client, f"/read/contracts/{world.a.contract_id}", world.purchaser, min_position=position)
    for row in listed + detail["lines"]:
        assert row["percent_done"] == str((Decimal(row["share_done"]) * 100).quantize(Decimal("0.01"))), row
    ours = next(c for c in listed if c["contract_id"] == world.a.contract_id)
    assert (ours["delivered"], ours["contracted"], ours["percent_done"], ours["share_done"]) == (1, 150, "0.67", "0.0067")  # one visit of 150 contracted
