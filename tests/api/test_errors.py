"""Error responses: one shape, {"error": CODE, "detail": ...}; 422 for a bad request shape without
echoing the input, 409 for a business rule, 404 for a malformed id, never a 500; a refused
command records nothing; and the ledger has no routes that edit or delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.builders import SIGNED_BY_BENEFICIARY, api_routes, beneficiary_body, contract_body, contractor_body, head, visit_body


@pytest.fixture(autouse=True)
def never_a_server_error(client):
    """Every response these tests receive is checked: nothing here may be a 500."""
    statuses: list[int] = []
    client.event_hooks["response"].append(lambda response: statuses.append(response.status_code))
    yield
    assert all(s < 500 for s in statuses), statuses


def _invalid(r: Any, *fields: str) -> list[dict[str, Any]]:
    """A 422 of shape: each problem names where it is, what is wrong, and never the input."""
    assert r.status_code == 422, r.text
    body = r.json()
    assert set(body) == {"error", "detail"} and body["error"] == "ValidationError", body
    problems = body["detail"]
    assert isinstance(problems, list) and problems
    for p in problems:
        assert set(p) == {"loc", "msg", "type"}, p
    located = {str(p["loc"][-1]) for p in problems} | {str(part) for p in problems for part in p["loc"]}
    for name in fields:
        assert name in located, (name, problems)
    return problems


def _conflict(r: Any, error: str) -> None:
    assert r.status_code == 409, r.text
    body = r.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]


# --- 422: shape ------------------------------------------------------------------------------


def test_a_bad_national_id_is_refused_without_being_echoed(client, world):
    before = head(client)
    short = "33010219500101123"  # 17 characters
    r = client.post("/beneficiaries", json={**beneficiary_body(40), "national_id": short}, headers=world.purchaser)
    _invalid(r, "national_id")
    assert short not in r.text
    long = "3301021950010112365"
    r = client.post("/beneficiaries", json={**beneficiary_body(40), "national_id": long}, headers=world.purchaser)
    _invalid(r, "national_id")
    assert long[:17] not in r.text
    # Eighteen characters that are no national ID number: the domain refuses it, also silently.
    letters = "33010219500101ABCD"
    r = client.post("/beneficiaries", json={**beneficiary_body(40), "national_id": letters}, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == "InvalidNationalId", r.text
    assert letters not in r.text and "ABCD" not in r.text
    r = client.post("/beneficiaries/lookup", json={"national_id": short}, headers=world.purchaser)
    _invalid(r, "national_id")
    assert short not in r.text
    assert head(client) == before


def test_money_with_three_decimals_is_refused(client, world):
    before = head(client)
    fund = {"name": "经费", "source": "work_funds", "fiscal_year": 2026, "amount": "1000.005"}
    _invalid(client.post("/funds", json=fund, headers=world.finance), "amount")
    contract = contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-301")
    contract["lines"][0]["unit_price"] = "15.001"
    _invalid(client.post("/contracts", json=contract, headers=world.purchaser), "unit_price")
    contract = contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-302")
    contract["tranches"][0]["amount"] = "999.999"
    _invalid(client.post("/contracts", json=contract, headers=world.purchaser), "amount")
    r = client.post(f"/contracts/{world.a.contract_id}/tranches/t-mid/reduction", json={"amount": "0.015", "reason": "扣减"}, headers=world.finance)
    _invalid(r, "amount")
    ceiling = {"fiscal_year": 2027, "prior_year_subsidy_total": "1.123"}
    _invalid(client.post("/purchase-ceilings", json=ceiling, headers=world.finance), "prior_year_subsidy_total")
    # Two decimals, or fewer, are money.
    assert client.post("/funds", json={**fund, "amount": "1000.5"}, headers=world.finance).status_code == 201
    assert head(client) > before


def test_a_visit_time_without_a_time_zone_is_refused(client, world):
    before = head(client)
    body = visit_body(world.a.case_id, world.a.worker_id)
    naive = {**body, "started_at": body["started_at"][:19]}
    assert "+" not in naive["started_at"] and "Z" not in naive["started_at"]
    _invalid(client.post("/visits", json=naive, headers=world.a.token), "started_at")
    both = {**naive, "ended_at": body["ended_at"][:19]}
    _invalid(client.post("/visits", json=both, headers=world.a.token), "started_at", "ended_at")
    assert head(client) == before


def test_a_visit_time_that_cannot_be_told_in_utc_is_refused(client, world):
    before = head(client)
    body = visit_body(world.a.case_id, world.a.worker_id)
    late = {**body, "started_at": "9999-12-31T23:00:00-05:00", "ended_at": "9999-12-31T23:30:00-05:00"}
    _invalid(client.post("/visits", json=late, headers=world.a.token), "started_at", "ended_at")
    early = {**body, "started_at": "0001-01-01T00:10:00+08:00"}
    _invalid(client.post("/visits", json=early, headers=world.a.token), "started_at")
    assert head(client) == before


def test_an_unknown_service_code_is_refused(client, world):
    before = head(client)
    visit = {**visit_body(world.a.case_id, world.a.worker_id), "service_code": "massage"}
    _invalid(client.post("/visits", json=visit, headers=world.a.token), "service_code")
    contract = contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-303")
    contract["lines"][0]["service_code"] = "Meals"
    _invalid(client.post("/contracts", json=contract, headers=world.purchaser), "service_code")
    referral = {"beneficiary_id": world.a.beneficiary_id, "contract_id": world.a.contract_id, "services": ["meals", "助餐服务"], "channel": "hotline_12349"}
    _invalid(client.post("/cases", json=referral, headers=world.purchaser), "services")
    assert head(client) == before


UNKNOWN_ENUM_VALUES = [
    ("/beneficiaries", "category", "wealthy"),
    ("/beneficiaries", "self_care_level", "PARTLY_LOST"),
    ("/funds", "source", "casino"),
    ("/contractors", "contractor_type", "charity"),
    ("/contracts", "procurement_method", "handshake"),
    ("/cases", "channel", "rumour"),
    ("/evaluations", "stage", "yearly"),
]


def test_an_unknown_enum_value_is_refused(client, world):
    bodies = {
        "/beneficiaries": (world.purchaser, beneficiary_body(41)),
        "/funds": (world.finance, {"name": "经费", "source": "work_funds", "fiscal_year": 2026, "amount": "10.00"}),
        "/contractors": (world.purchaser, contractor_body("新机构", "52330100MJ22222221")),
        "/contracts": (world.purchaser, contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-304")),
        "/cases": (world.purchaser, {"beneficiary_id": world.a.beneficiary_id, "contract_id": world.a.contract_id, "services": ["meals"], "channel": "hotline_12349"}),
        "/evaluations": (world.purchaser, {"contract_id": world.a.contract_id, "stage": "final", "third_party": "评估中心"}),
    }
    before = head(client)
    for path, field, value in UNKNOWN_ENUM_VALUES:
        headers, body = bodies[path]
        r = client.post(path, json={**body, field: value}, headers=headers)
        _invalid(r, field)
        assert value not in r.text, (path, field)
    assert head(client) == before


def test_an_unknown_enum_value_in_a_command_on_an_object_is_refused(client, world):
    before = head(client)
    _invalid(client.post(f"/visits/{world.a.visit_id}/spot-check", json={"result": "fine"}, headers=world.purchaser), "result")
    _invalid(client.post(f"/contracts/{world.a.contract_id}/termination", json={"reason": "boredom"}, headers=world.purchaser), "reason")
    _invalid(client.post(f"/beneficiaries/{world.a.beneficiary_id}/deregistration", json={"reason": "left"}, headers=world.purchaser), "reason")
    assert head(client) == before


def test_extra_fields_are_refused(client, world):
    before = head(client)
    _invalid(client.post("/beneficiaries", json={**beneficiary_body(42), "nickname": "老王"}, headers=world.purchaser), "nickname")
    visit = {**visit_body(world.a.case_id, world.a.worker_id), "price": "15.00"}
    _invalid(client.post("/visits", json=visit, headers=world.a.token), "price")
    contract = contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-305")
    contract["lines"][0]["discount"] = "0.10"
    _invalid(client.post("/contracts", json=contract, headers=world.purchaser), "discount")
    _invalid(client.post(f"/cases/{world.a.case_id}/closure", json={"reason": "结案", "force": True}, headers=world.a.token), "force")
    assert head(client) == before


def test_a_body_that_is_not_a_json_object_is_refused(client, world):
    before = head(client)
    headers = {**world.a.token, "Content-Type": "application/json"}
    for raw in (b"{not json", b"[]", b'"visit"', b""):
        r = client.post("/visits", content=raw, headers=headers)
        _invalid(r)
    assert head(client) == before


# --- 409 -------------------------------------------------------------------------------------


def test_refusals_by_business_rules_are_409_with_an_error_and_a_detail(client, world):
    a = world.a
    _conflict(client.post("/contractors", json=contractor_body("同名", "52330100MJ1234567M"), headers=world.purchaser), "ContractorAlreadyRegistered")
    _conflict(client.post("/beneficiaries", json=beneficiary_body(1), headers=world.purchaser), "BeneficiaryAlreadyRegistered")
    fund = {"name": "基本生活", "source": "basic_living", "fiscal_year": 2026, "amount": "10.00"}
    _conflict(client.post("/funds", json=fund, headers=world.finance), "FundSourceNotAllowed")
    _conflict(client.post(f"/contracts/{a.contract_id}/tranches/t-volume/release", headers=world.finance), "MilestoneNotFulfilled")
    _conflict(client.post(f"/contracts/{a.contract_id}/settlement", headers=world.finance), "NotAccepted")
    _conflict(client.post(f"/cases/{a.case_id}/acceptance", headers=a.token), "CaseStateConflict")
    _conflict(client.post("/visits", json=visit_body(a.case_id, a.worker_id, service="cleaning"), headers=a.token), "ServiceNotContracted")
    _conflict(client.post("/visits", json=visit_body(a.case_id, world.b.worker_id), headers=a.token), "Subcontracting")
    _conflict(client.post("/evaluations", json={"contract_id": a.contract_id, "stage": "final", "panel": []}, headers=world.purchaser), "PanelRuleBroken")
    big = contract_body(a.contractor_id, world.fund_id, no="MZ-2026-306")
    big["lines"][0]["quantity"] = 10_000_000  # the most a line may buy
    _conflict(client.post("/contracts", json=big, headers=world.purchaser), "FundInsufficient")


def test_a_refused_command_loses_nothing_already_recorded(client, world):
    a, b = world.a, world.b
    before = _state(client, world)
    refusals = [
        (client.post(f"/contracts/{a.contract_id}/tranches/t-volume/release", headers=world.finance), 409),
        (client.post(f"/contracts/{a.contract_id}/tranches/t-mid/reduction", json={"amount": "5000.00", "reason": "扣减"}, headers=world.finance), 422),
        (client.post(f"/contracts/{b.contract_id}/acceptance", json={"note": ""}, headers=world.purchaser), 409),
        (client.post(f"/contractors/{a.contractor_id}/workers/{a.worker_id}/removal", json={"reason": "离职"}, headers=a.token), 409),
        (client.post(f"/cases/{a.case_id}/acceptance", headers=a.token), 409),
        (client.post(f"/visits/{b.visit_id}/void", json={"reason": "误录"}, headers=a.token), 404),
        (client.post("/visits", json=visit_body(a.case_id, b.worker_id), headers=a.token), 409),
        (client.post(f"/evaluations/{a.evaluation_id}/conclusion", json={"report": ""}, headers=world.evaluator), 422),
        (client.post(f"/evaluations/{a.evaluation_id}/appeal", json={"reason": "申诉"}, headers=a.token), 409),
        (client.post("/contracts", json=contract_body(a.contractor_id, world.fund_id, no="MZ-2026-001") | {"end_date": "2020-01-01"}, headers=world.purchaser), 422),
        (client.post("/funds", json={"name": "超额", "source": "work_funds", "fiscal_year": 2026, "amount": "900000.00"}, headers=world.finance), 409),
        (client.post(f"/contracts/{a.contract_id}/settlement", headers=world.auditor), 403),
    ]
    for r, status in refusals:
        assert r.status_code == status, (status, r.status_code, r.text)
        assert set(r.json()) == {"error", "detail"}
    assert _state(client, world) == before


def _state(client, world) -> dict[str, Any]:
    """Everything the world holds, as the auditor reads it, and the head of the log."""
    paths = [f"/funds/{world.fund_id}"]
    for side in (world.a, world.b):
        paths += [
            f"/contractors/{side.contractor_id}",
            f"/beneficiaries/{side.beneficiary_id}",
            f"/contracts/{side.contract_id}",
            f"/cases/{side.case_id}",
            f"/visits/{side.visit_id}",
            f"/evaluations/{side.evaluation_id}",
            f"/contracts/{side.contract_id}/history",
        ]
    state: dict[str, Any] = {"head": head(client)}
    for path in paths:
        r = client.get(path, headers=world.auditor)
        assert r.status_code == 200, (path, r.text)
        state[path] = r.json()
    return state


# --- 404 -------------------------------------------------------------------------------------


MALFORMED_IDS = ["not-an-id", "12345", "00000000-0000-0000-0000-00000000000g", "%20"]
READS = [
    ("/funds/{}", "FundNotFound"),
    ("/contractors/{}", "ContractorNotFound"),
    ("/beneficiaries/{}", "BeneficiaryNotFound"),
    ("/contracts/{}", "ContractNotFound"),
    ("/cases/{}", "CaseNotFound"),
    ("/visits/{}", "VisitNotFound"),
    ("/evaluations/{}", "EvaluationNotFound"),
    ("/contracts/{}/history", "ContractNotFound"),
    ("/visits/{}/history", "VisitNotFound"),
]


def test_a_malformed_id_in_a_path_is_not_found(client, world):
    for path, error in READS:
        for bad_id in MALFORMED_IDS:
            r = client.get(path.format(bad_id), headers=world.auditor)
            assert r.status_code == 404, (path, bad_id, r.text)
            assert r.json()["error"] == error and r.json()["detail"], (path, bad_id)


def test_a_command_on_a_malformed_id_is_not_found_and_records_nothing(client, world):
    before = head(client)
    cases = [
        (client.post("/cases/not-an-id/acceptance", headers=world.a.token), "CaseNotFound"),
        (client.post("/visits/not-an-id/confirmation", json=SIGNED_BY_BENEFICIARY, headers=world.a.token), "VisitNotFound"),
        (client.post("/evaluations/not-an-id/appeal", json={"reason": "申诉"}, headers=world.a.token), "EvaluationNotFound"),
        (client.post("/contracts/not-an-id/settlement", headers=world.finance), "ContractNotFound"),
        (client.post("/contractors/not-an-id/workers", json={"name": "护理员"}, headers=world.purchaser), "ContractorNotFound"),
        (client.post("/beneficiaries/not-an-id/deregistration", json={"reason": "deceased"}, headers=world.purchaser), "BeneficiaryNotFound"),
        (client.post("/cases", json={"beneficiary_id": "x", "contract_id": world.a.contract_id, "services": ["meals"], "channel": "hotline_12349"}, headers=world.purchaser), "BeneficiaryNotFound"),
        (client.post("/visits", json=visit_body("x", world.a.worker_id), headers=world.a.token), "CaseNotFound"),
    ]
    for r, error in cases:
        assert r.status_code == 404 and r.json()["error"] == error, r.text
    assert head(client) == before


def test_a_path_that_is_no_route_is_not_found(client, world):
    r = client.get("/nowhere", headers=world.auditor)
    assert r.status_code == 404 and r.json() == {"error": "NotFound", "detail": "Not Found"}


# --- no edits, no deletes ----------------------------------------------------------------------


def test_no_route_edits_or_deletes(client):
    routes = api_routes(client.app)
    assert len(routes) > 40
    for path, methods in routes:
        assert methods <= {"GET", "POST", "HEAD"}, (path, methods)


def test_editing_or_deleting_an_existing_path_is_not_allowed(client, world):
    before = head(client)
    paths = [f"/contracts/{world.a.contract_id}", f"/visits/{world.a.visit_id}", "/funds", f"/beneficiaries/{world.a.beneficiary_id}", f"/cases/{world.a.case_id}/acceptance"]
    for path in paths:
        for method in ("PUT", "PATCH", "DELETE"):
            r = client.request(method, path, json={"status": "void"}, headers=world.purchaser)
            assert r.status_code == 405, (method, path, r.text)
            assert r.json()["error"] == "MethodNotAllowed"
            assert method not in r.headers["Allow"]
    assert head(client) == before
