"""The read routes from outside: every parameter past its bound is a JSON 422 with a stable code,
a position past the head is refused at once, every answer matches the model /openapi.json
declares for it, and /health/ready tells a stalled or unreachable read side apart from a ready one."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import text

from api.schemas.lists import CaseRow, VisitRow, WorkerRow
from api.schemas.reads import (
    AuditEntry,
    CaseloadRow,
    ContractDetail,
    ContractSummary,
    FundDetail,
    FundUsage,
    Page,
    PayableTranche,
    ProjectionsStatus,
    Readiness,
    RedFlag,
)
from ledger.domain.limits import EARLIEST_TIME, LATEST_TIME, QUERY_TEXT
from tests.api.builders import World, post
from tests.schema_faults import narrow_column, widen_column

Headers = dict[str, str]
TEXT_FILTERS = {
    "/read/caseload": ["contractor_id", "township", "village"],
    "/read/contracts": ["contractor_id", "fund_id", "status"],
    "/read/funds": ["source"],
    "/read/audit": ["actor_id", "role", "organisation_id", "aggregate_id", "aggregate_type", "event_type", "correlation_id", "contract_id", "exclude_event_type", "exclude_aggregate_type"],
    "/read/visits": ["case_id", "contract_id", "contractor_id", "worker_id", "beneficiary_id", "service_code"],
    "/read/cases": ["contractor_id", "contract_id", "beneficiary_id", "township", "village"],
    "/read/referrals/inbox": ["contractor_id"],
    "/read/red-flags": ["contractor_id"],
}
TIMES = {"/read/caseload": ["period_start", "period_end", "as_of"], "/read/audit": ["since", "until"], "/read/visits": ["period_start", "period_end"]}
BAD_TIMES = [
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1999-12-31T23:59:59Z",
    "2100-01-01T00:00:00Z",
    "2000-01-01T00:00:00+14:00",  # 1999 in UTC
    "2026-01-01T08:00:00",  # no zone
    "0.5",
    "1700000000",
    "yesterday",
]
BAD_TEXTS = ["", "x\u0000y", "x\u001by", "x" * (QUERY_TEXT.max_length + 1)]


def _refused(client: TestClient, path: str, headers: Headers, params: dict[str, Any], code: str = "ValidationError") -> None:
    r = client.get(path, headers=headers, params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/json", (path, params, r.status_code, r.text)
    assert r.json()["error"] == code, (path, params, r.text)


def test_read_parameters_past_their_bounds_are_refused_with_a_json_422_and_those_within_are_answered(client: TestClient, token_for: Callable[..., Headers]) -> None:
    auditor = token_for("auditor", "audit-bureau")
    checked = 0
    for path, names in TIMES.items():
        for name in names:
            for value in BAD_TIMES:
                _refused(client, path, auditor, {name: value})
                checked += 1
            for value in (EARLIEST_TIME.isoformat(), LATEST_TIME.isoformat().replace("+00:00", "Z"), "2026-01-31T08:00:00+08:00"):
                r = client.get(path, headers=auditor, params={name: value})
                assert r.status_code == 200, (path, name, value, r.text)
                checked += 1
    for path, names in TEXT_FILTERS.items():
        for name in names:
            for value in BAD_TEXTS:
                _refused(client, path, auditor, {name: value})
                checked += 1
            r = client.get(path, headers=auditor, params={name: "\t" + "字" * (QUERY_TEXT.max_length - 1)})
            assert r.status_code == 200 and r.json()["items"] == [], (path, name, r.text)
            checked += 1
    for path in ("/read/contracts/a%00b", "/read/funds/a%1Fb", "/read/contracts/" + "x" * (QUERY_TEXT.max_length + 1), "/read/contractors/a%00b/workers"):
        _refused(client, path, auditor, {})
        checked += 1
    for params in ({"fiscal_year": 3000000000}, {"fiscal_year": 1999}, {"fiscal_year": 2100}, {"min_position": 2**63}, {"min_position": -1}, {"cursor": "x" * 2001}):
        _refused(client, "/read/funds", auditor, params)
        checked += 1
    assert client.get("/read/funds", headers=auditor, params={"fiscal_year": 2099}).status_code == 200
    # A period that starts after it ends is refused, not answered as empty.
    _refused(client, "/read/caseload", auditor, {"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-01-01T00:00:00Z"}, "InvalidPeriod")
    _refused(client, "/read/audit", auditor, {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00+08:00"}, "InvalidPeriod")
    assert client.get("/read/audit", headers=auditor, params={"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}).status_code == 200
    checked += 3
    print(f"checked {checked} parameter values")
    assert checked > 140


def test_a_min_position_past_the_head_is_refused_at_once(client: TestClient, token_for: Callable[..., Headers]) -> None:
    finance = token_for("finance", "finance-bureau")
    position = post(client, "/purchase-ceilings", finance, {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})["position"]
    started = time.monotonic()
    for beyond in (position + 1, 10**12) * 10:
        r = client.get("/read/audit", headers=finance, params={"min_position": beyond})
        assert r.status_code == 422 and r.json()["error"] == "PositionBeyondHead", r.text
    assert time.monotonic() - started < 3  # 20 refusals; each used to hold a worker for 5 s
    assert client.get("/read/audit", headers=finance, params={"min_position": position}).json()["items"][-1]["position"] == position


READ_MODELS: dict[str, type[BaseModel]] = {
    "/read/caseload": Page[CaseloadRow],
    "/read/contracts": Page[ContractSummary],
    "/read/contracts/{contract_id}": ContractDetail,
    "/read/payable-tranches": Page[PayableTranche],
    "/read/funds": Page[FundUsage],
    "/read/funds/{fund_id}": FundDetail,
    "/read/audit": Page[AuditEntry],
    "/read/visits": Page[VisitRow],
    "/read/referrals/inbox": Page[CaseRow],
    "/read/cases": Page[CaseRow],
    "/read/contractors/{contractor_id}/workers": Page[WorkerRow],
    "/projections/status": ProjectionsStatus,
    "/health/ready": Readiness,
    "/read/red-flags": Page[RedFlag],
}


def model_for(path: str) -> type[BaseModel] | None:
    """The declared model of a read route's answer, from a concrete path."""
    for template, model in READ_MODELS.items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            return model
    return None


def test_every_read_route_declares_its_answer_and_real_answers_match_it(client: TestClient, world: World) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    # The CSV and XLSX exports of the lists (tests/api/test_exports.py) are not JSON read routes.
    read_routes = {path for path, ops in spec["paths"].items() if "get" in ops and (path.startswith("/read/") or path in READ_MODELS) and not path.endswith((".csv", ".xlsx"))}
    assert read_routes == set(READ_MODELS)
    for path in read_routes:
        declared = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        name = declared["$ref"].rsplit("/", 1)[-1]
        assert schemas[name]["properties"] and schemas[name]["additionalProperties"] is False, path
        assert "503" in spec["paths"][path]["get"]["responses"], path

    a, last = world.a, world.a.visit_id
    position = client.get("/health", headers={}).json()["head"]
    fresh = {"min_position": position}
    answers: list[tuple[str, Any]] = []
    for headers in (world.auditor, a.token):
        for group_by in ("contractor", "worker", "township", "village"):
            answers.append(("/read/caseload", client.get("/read/caseload", headers=headers, params={"group_by": group_by, **fresh})))
        answers.append(("/read/contracts", client.get("/read/contracts", headers=headers, params=fresh)))
        answers.append(("/read/contracts/{contract_id}", client.get(f"/read/contracts/{a.contract_id}", headers=headers, params=fresh)))
        answers.append(("/read/payable-tranches", client.get("/read/payable-tranches", headers=headers, params=fresh)))
        answers.append(("/read/audit", client.get("/read/audit", headers=headers, params={"aggregate_id": last, **fresh})))
        answers.append(("/read/red-flags", client.get("/read/red-flags", headers=headers, params=fresh)))
        answers.append(("/read/visits", client.get("/read/visits", headers=headers, params={"contract_id": a.contract_id, **fresh})))
        answers.append(("/read/referrals/inbox", client.get("/read/referrals/inbox", headers=headers, params=fresh)))
        answers.append(("/read/cases", client.get("/read/cases", headers=headers, params=fresh)))
        answers.append(("/read/contractors/{contractor_id}/workers", client.get(f"/read/contractors/{a.contractor_id}/workers", headers=headers, params=fresh)))
    answers.append(("/read/funds", client.get("/read/funds", headers=world.finance, params=fresh)))
    answers.append(("/read/funds/{fund_id}", client.get(f"/read/funds/{world.fund_id}", headers=world.finance, params=fresh)))
    answers.append(("/projections/status", client.get("/projections/status", headers=world.auditor)))
    answers.append(("/health/ready", client.get("/health/ready")))
    for path, r in answers:
        assert r.status_code == 200, (path, r.text)
        READ_MODELS[path].model_validate(r.json())
    assert {path for path, _ in answers} == set(READ_MODELS)
    print(f"validated {len(answers)} answers of {len(READ_MODELS)} routes")


def _wait_for(client: TestClient, status: int, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get("/health/ready")
        if r.status_code == status or time.monotonic() > deadline:
            assert r.status_code == status, r.text
            return r
        time.sleep(0.1)


def test_readiness_names_a_stalled_projection_and_recovers_once_the_schema_is_fixed(client: TestClient, token_for: Callable[..., Headers]) -> None:
    finance = token_for("finance", "finance-bureau")
    assert client.get("/health/ready").json()["status"] == "ready"  # no token needed
    engine = client.app.state.read_side.engine  # type: ignore[attr-defined]
    narrow_column(engine, "fund_funds", "name", 20)
    post(client, "/purchase-ceilings", finance, {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})
    made = post(client, "/funds", finance, {"name": "2026 年度政府购买社会救助服务专项工作经费（第一批）", "source": "work_funds", "fiscal_year": 2026, "amount": "1000.00"})
    position = made["position"]

    r = _wait_for(client, 503, 10)
    assert r.json()["error"] == "NotReady" and int(r.headers["Retry-After"]) >= 1
    trail = client.get("/read/audit", headers=finance, params={"aggregate_id": made["fund_id"], "min_position": position}).json()["items"]
    appropriated = next(e["position"] for e in trail if e["event_type"] == "Fund.Appropriated")
    states = {p["name"]: p for p in client.get("/projections/status", headers=finance).json()["projections"]}
    stalled = states["funds"]["stalled"]
    assert states["funds"]["state"] == "stalled" and (stalled["position"], stalled["aggregate_id"]) == (appropriated, made["fund_id"])
    assert r.json()["detail"]["reasons"] == [f"funds is stalled at position {appropriated} (Fund.Appropriated): {stalled['error']}"]
    assert {states[n]["state"] for n in ("audit", "caseload", "fulfilment")} == {"running"}
    started = time.monotonic()
    r = client.get("/read/funds", headers=finance, params={"min_position": position})
    assert r.status_code == 503 and r.json()["error"] == "ProjectionStalled" and time.monotonic() - started < 2, r.text

    widen_column(engine, "fund_funds", "name", 500)
    assert _wait_for(client, 200, 20).json()["reasons"] == []
    funds = client.get("/read/funds", headers=finance, params={"min_position": position}).json()["items"]
    assert [f["fund_id"] for f in funds] == [made["fund_id"]]


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_readiness_answers_within_its_bound_while_the_database_hangs(client: TestClient) -> None:
    assert client.get("/health/ready").status_code == 200
    engine = client.app.state.read_side.engine  # type: ignore[attr-defined]
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE projection_positions IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        for _ in range(3):  # the later calls share the one check that hangs
            started = time.monotonic()
            r = client.get("/health/ready")
            assert r.status_code == 503 and r.json()["error"] == "StoreUnavailable" and r.headers["Retry-After"], r.text
            assert time.monotonic() - started < 3
    finally:
        release.set()
        holder.join(timeout=30)
    assert _wait_for(client, 200, 10).json()["status"] == "ready"
