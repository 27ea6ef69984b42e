"""Who may do what over HTTP: 401 without a valid token, 403 for a role that may not act, and
404 for another organisation's objects, exactly as for objects that do not exist."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ledger.domain.catalogue import NeedIndicator
from tests.api.builders import (
    PANEL,
    SIGNED_BY_BENEFICIARY,
    api_routes,
    beneficiary_body,
    contract_body,
    contractor_body,
    head,
    post,
    scores,
    visit_body,
)


def _refused(r: Any, status: int, error: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["error"] == error, body
    assert body["detail"]
    return body


def _unauthenticated(r: Any) -> None:
    _refused(r, 401, "Unauthenticated")
    assert r.headers["WWW-Authenticate"] == "Bearer"


# --- 401 -------------------------------------------------------------------------------------


def test_a_request_without_a_token_is_unauthenticated(client, world):
    _unauthenticated(client.get(f"/contracts/{world.a.contract_id}"))
    before = head(client)
    _unauthenticated(client.post("/funds", json={"name": "x", "source": "work_funds", "fiscal_year": 2026, "amount": "1.00"}))
    assert head(client) == before


def test_a_malformed_authorization_header_is_unauthenticated(client, world):
    for authorization in ("", "Bearer", "Bearer ", "Token lgr_abc", "Basic dXNlcjpwYXNz", "lgr_abc", "Bearer a b"):
        _unauthenticated(client.get(f"/contracts/{world.a.contract_id}", headers={"Authorization": authorization}))


def test_an_unknown_token_is_unauthenticated(client, world):
    _unauthenticated(client.get(f"/contracts/{world.a.contract_id}", headers={"Authorization": "Bearer lgr_" + "x" * 43}))


def test_a_revoked_token_is_unauthenticated(client, world):
    ledger = client.app.state.ledger
    issued = ledger.issue_token("purchaser", "civil-affairs-bureau", "officer-zhao")
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get(f"/contracts/{world.a.contract_id}", headers=headers).status_code == 200
    ledger.revoke_token(issued.token_id)
    _unauthenticated(client.get(f"/contracts/{world.a.contract_id}", headers=headers))
    before = head(client)
    _unauthenticated(client.post("/beneficiaries", json=beneficiary_body(50), headers=headers))
    assert head(client) == before


# --- 403 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["purchaser", "contractor", "auditor", "evaluator"])
def test_only_finance_releases_tranches(client, world, role):
    contract_id = world.a.contract_id
    # The volume milestone (3 meals) is fulfilled, so finance could release it.
    for hours in (2, 1):
        post(client, "/visits", world.a.token, visit_body(world.a.case_id, world.a.worker_id, hours_ago=hours))
    before = head(client)
    _refused(client.post(f"/contracts/{contract_id}/tranches/t-volume/release", headers=world.role(role)), 403, "Forbidden")
    assert head(client) == before
    tranche = _tranche(client.get(f"/contracts/{contract_id}", headers=world.auditor).json(), "t-volume")
    assert tranche["status"] != "released"
    post(client, f"/contracts/{contract_id}/tranches/t-volume/release", world.finance)


@pytest.mark.parametrize("role", ["purchaser", "contractor", "auditor", "evaluator"])
def test_only_finance_settles(client, world, role):
    before = head(client)
    _refused(client.post(f"/contracts/{world.a.contract_id}/settlement", headers=world.role(role)), 403, "Forbidden")
    assert head(client) == before
    # Finance gets past the role check and meets the business rule instead.
    _refused(client.post(f"/contracts/{world.a.contract_id}/settlement", headers=world.finance), 409, "NotAccepted")


CSV_DAY = b"client_id,case_id,worker_id,service_code,started_at,ended_at\r\n"
ROSTER = b"national_id,name,household_id,category,township,village,self_care_level\r\n"


def _auditor_attempts(world, token_id: str) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """A valid request for every command route: the auditor is refused for its role alone."""
    a, b = world.a, world.b
    contract, tranche = f"/contracts/{a.contract_id}", f"/contracts/{a.contract_id}/tranches/t-volume"
    contractor, beneficiary = f"/contractors/{a.contractor_id}", f"/beneficiaries/{a.beneficiary_id}"
    case, visit, evaluation = f"/cases/{a.case_id}", f"/visits/{a.visit_id}", f"/evaluations/{a.evaluation_id}"
    reason = {"reason": "审计尝试"}
    return {
        "/tokens": ("/tokens", {"role": "auditor", "organisation_id": "audit-bureau", "subject": "auditor-self"}),
        "/tokens/{token_id}/revocation": (f"/tokens/{token_id}/revocation", None),
        "/purchase-ceilings": ("/purchase-ceilings", {"fiscal_year": 2027, "prior_year_subsidy_total": "1000000.00"}),
        "/funds": ("/funds", {"name": "审计经费", "source": "work_funds", "fiscal_year": 2026, "amount": "10.00"}),
        "/contractors": ("/contractors", contractor_body("审计测试", "52330100MJ0000000X")),
        "/contractors/{contractor_id}/attestations": (f"{contractor}/attestations", {"attestations": ["legal_registration"]}),
        "/contractors/{contractor_id}/workers": (f"{contractor}/workers", {"name": "护理员"}),
        "/contractors/{contractor_id}/workers/{worker_id}/removal": (f"{contractor}/workers/{a.worker_id}/removal", reason),
        "/contractors/{contractor_id}/suspension": (f"{contractor}/suspension", reason),
        "/contractors/{contractor_id}/reinstatement": (f"{contractor}/reinstatement", None),
        "/contractors/{contractor_id}/debarment": (f"{contractor}/debarment", reason),
        "/beneficiaries": ("/beneficiaries", beneficiary_body(60)),
        "/beneficiaries/import": ("/beneficiaries/import", ROSTER),
        "/beneficiaries/{beneficiary_id}/needs-assessments": (f"{beneficiary}/needs-assessments", {"scores": {i.value: 5 for i in NeedIndicator}}),
        "/beneficiaries/{beneficiary_id}/category-changes": (
            f"{beneficiary}/category-changes",
            {"category": "extreme_poverty", "direction": "raise", "reason": "审计尝试"},
        ),
        "/beneficiaries/{beneficiary_id}/self-care-reassessments": (f"{beneficiary}/self-care-reassessments", {"self_care_level": "fully_lost"}),
        "/beneficiaries/{beneficiary_id}/deregistration": (f"{beneficiary}/deregistration", {"reason": "deceased"}),
        "/contracts": ("/contracts", contract_body(b.contractor_id, world.fund_id, no="MZ-2026-099")),
        "/contracts/{contract_id}/milestones/{milestone_id}/confirmation": (f"{contract}/milestones/volume/confirmation", None),
        "/contracts/{contract_id}/tranches/{tranche_id}/release": (f"{tranche}/release", None),
        "/contracts/{contract_id}/tranches/{tranche_id}/reduction": (f"{tranche}/reduction", {"amount": "1.00", "reason": "审计尝试"}),
        "/contracts/{contract_id}/tranches/{tranche_id}/withholding": (f"{tranche}/withholding", reason),
        "/contracts/{contract_id}/suspension": (f"{contract}/suspension", reason),
        "/contracts/{contract_id}/resumption": (f"{contract}/resumption", None),
        "/contracts/{contract_id}/termination": (f"{contract}/termination", {"reason": "mutual"}),
        "/contracts/{contract_id}/acceptance": (f"{contract}/acceptance", {"note": ""}),
        "/contracts/{contract_id}/settlement": (f"{contract}/settlement", None),
        "/cases": ("/cases", {"beneficiary_id": b.beneficiary_id, "contract_id": a.contract_id, "services": ["meals"], "channel": "hotline_12349"}),
        "/cases/{case_id}/acceptance": (f"{case}/acceptance", None),
        "/cases/{case_id}/decline": (f"{case}/decline", reason),
        "/cases/{case_id}/withdrawal": (f"{case}/withdrawal", reason),
        "/cases/{case_id}/closure": (f"{case}/closure", reason),
        "/visits": ("/visits", visit_body(a.case_id, a.worker_id)),
        "/visits/batch": ("/visits/batch", {"visits": [{"client_id": "audit-1", **visit_body(a.case_id, a.worker_id)}]}),
        "/visits/batch.csv": ("/visits/batch.csv", CSV_DAY),
        "/visits/{visit_id}/confirmation": (f"{visit}/confirmation", {"channel": "follow_up_call"}),
        "/visits/{visit_id}/dispute": (f"{visit}/dispute", reason),
        "/visits/{visit_id}/void": (f"{visit}/void", reason),
        "/visits/{visit_id}/spot-check": (f"{visit}/spot-check", {"result": "verified", "note": ""}),
        "/evaluations": ("/evaluations", {"contract_id": a.contract_id, "stage": "final", "panel": PANEL}),
        "/evaluations/{evaluation_id}/scores": (f"{evaluation}/scores", scores(80)),
        "/evaluations/{evaluation_id}/conclusion": (f"{evaluation}/conclusion", {"report": ""}),
        "/evaluations/{evaluation_id}/appeal": (f"{evaluation}/appeal", reason),
        "/evaluations/{evaluation_id}/appeal-resolution": (f"{evaluation}/appeal-resolution", {"upheld": False, "note": ""}),
    }


def test_the_auditor_is_refused_every_command_and_nothing_is_recorded(client, world):
    attempts = _auditor_attempts(world, client.app.state.ledger.issue_token("finance", "finance-bureau", "cashier-zhou").token_id)
    # The console's forms post through its own routes, refused by role there (tests/api/test_console.py).
    commands = {path for path, methods in api_routes(client.app) if "POST" in methods and not path.startswith("/console")} - {"/beneficiaries/lookup", "/audit/verify"}
    assert set(attempts) == commands, "every command route is tried"
    before = head(client)
    for route, (path, body) in attempts.items():
        if isinstance(body, bytes):
            r = client.post(path, content=body, headers={**world.auditor, "Content-Type": "text/csv"})
        else:
            r = client.post(path, json=body, headers=world.auditor) if body is not None else client.post(path, headers=world.auditor)
        assert r.status_code == 403, (route, r.status_code, r.text)
        assert r.json()["error"] == "Forbidden", route
    assert head(client) == before
    # Its one POST that is a read (a look-up by national ID, kept out of URLs) is allowed.
    r = client.post("/beneficiaries/lookup", json={"national_id": beneficiary_body(2)["national_id"]}, headers=world.auditor)
    assert r.status_code == 200 and r.json()["id"] == world.b.beneficiary_id
    assert head(client) == before


def test_a_contractor_cannot_register_beneficiaries(client, world):
    before = head(client)
    _refused(client.post("/beneficiaries", json=beneficiary_body(70), headers=world.a.token), 403, "Forbidden")
    assert head(client) == before


def test_a_contractor_cannot_sign_contracts(client, world):
    before = head(client)
    body = contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-070")
    _refused(client.post("/contracts", json=body, headers=world.a.token), 403, "Forbidden")
    assert head(client) == before


def test_a_contractor_cannot_open_evaluations(client, world):
    before = head(client)
    body = {"contract_id": world.a.contract_id, "stage": "final", "third_party": "自评"}
    _refused(client.post("/evaluations", json=body, headers=world.a.token), 403, "Forbidden")
    assert head(client) == before


def test_a_contractor_cannot_spot_check_its_own_visits(client, world):
    before = head(client)
    r = client.post(f"/visits/{world.a.visit_id}/spot-check", json={"result": "verified"}, headers=world.a.token)
    _refused(r, 403, "Forbidden")
    assert head(client) == before
    assert client.get(f"/visits/{world.a.visit_id}", headers=world.auditor).json() == client.get(f"/visits/{world.a.visit_id}", headers=world.a.token).json()
    post(client, f"/visits/{world.a.visit_id}/spot-check", world.purchaser, {"result": "verified"})


def test_a_contractor_cannot_read_funds(client, world):
    _refused(client.get(f"/funds/{world.fund_id}", headers=world.a.token), 403, "Forbidden")
    _refused(client.get(f"/funds/{world.fund_id}/history", headers=world.a.token), 403, "Forbidden")


def test_an_evaluator_cannot_sign_contracts(client, world):
    before = head(client)
    body = contract_body(world.a.contractor_id, world.fund_id, no="MZ-2026-071")
    _refused(client.post("/contracts", json=body, headers=world.evaluator), 403, "Forbidden")
    assert head(client) == before


def test_only_a_contractor_appeals(client, world):
    evaluation = world.a.evaluation_id
    post(client, f"/evaluations/{evaluation}/scores", world.evaluator, scores(70))
    post(client, f"/evaluations/{evaluation}/conclusion", world.evaluator, {"report": "合格"})
    before = head(client)
    for role in ("purchaser", "finance", "auditor", "evaluator"):
        r = client.post(f"/evaluations/{evaluation}/appeal", json={"reason": "代为申诉"}, headers=world.role(role))
        _refused(r, 403, "Forbidden")
    assert head(client) == before
    post(client, f"/evaluations/{evaluation}/appeal", world.a.token, {"reason": "满意度样本过少"})
    assert client.get(f"/evaluations/{evaluation}", headers=world.auditor).json()["status"] == "appealed"


# --- 404 for another organisation's objects ---------------------------------------------------


def _hidden(client, headers, method: str, template: str, other_id: str, error: str, body: dict[str, Any] | None = None) -> None:
    """Another organisation's object answers exactly as an id that does not exist."""
    missing_id = str(uuid.uuid4())
    answers = []
    for object_id in (other_id, missing_id):
        r = client.request(method, template.format(object_id), json=body, headers=headers)
        answers.append(_refused(r, 404, error)["detail"].replace(object_id, "<id>"))
    assert answers[0] == answers[1]


def test_a_contractor_cannot_see_another_contractors_contract(client, world):
    _hidden(client, world.a.token, "GET", "/contracts/{}", world.b.contract_id, "ContractNotFound")
    assert client.get(f"/contracts/{world.a.contract_id}", headers=world.a.token).status_code == 200


def test_a_contractor_cannot_see_or_act_on_another_contractors_case(client, world):
    before = head(client)
    a, b = world.a, world.b
    _hidden(client, a.token, "GET", "/cases/{}", b.case_id, "CaseNotFound")
    _hidden(client, a.token, "POST", "/cases/{}/acceptance", b.case_id, "CaseNotFound")
    _hidden(client, a.token, "POST", "/cases/{}/decline", b.case_id, "CaseNotFound", {"reason": "不是我们的"})
    _hidden(client, a.token, "POST", "/cases/{}/closure", b.case_id, "CaseNotFound", {"reason": "不是我们的"})
    # Nor post a visit on it, even with one of its own workers.
    r = client.post("/visits", json=visit_body(b.case_id, a.worker_id), headers=a.token)
    _refused(r, 404, "CaseNotFound")
    assert head(client) == before
    assert client.get(f"/cases/{b.case_id}", headers=b.token).json()["status"] == "accepted"


def test_a_contractor_cannot_see_or_act_on_another_contractors_visit(client, world):
    before = head(client)
    a, b = world.a, world.b
    _hidden(client, a.token, "GET", "/visits/{}", b.visit_id, "VisitNotFound")
    _hidden(client, a.token, "POST", "/visits/{}/confirmation", b.visit_id, "VisitNotFound", SIGNED_BY_BENEFICIARY)
    _hidden(client, a.token, "POST", "/visits/{}/dispute", b.visit_id, "VisitNotFound", {"reason": "不是我们的"})
    _hidden(client, a.token, "POST", "/visits/{}/void", b.visit_id, "VisitNotFound", {"reason": "不是我们的"})
    assert head(client) == before
    assert client.get(f"/visits/{b.visit_id}", headers=b.token).status_code == 200


def test_a_contractor_cannot_see_or_appeal_another_contractors_evaluation(client, world):
    b = world.b
    post(client, f"/evaluations/{b.evaluation_id}/scores", world.evaluator, scores(55))
    post(client, f"/evaluations/{b.evaluation_id}/conclusion", world.evaluator, {"report": "不合格"})
    before = head(client)
    _hidden(client, world.a.token, "GET", "/evaluations/{}", b.evaluation_id, "EvaluationNotFound")
    _hidden(client, world.a.token, "POST", "/evaluations/{}/appeal", b.evaluation_id, "EvaluationNotFound", {"reason": "代为申诉"})
    assert head(client) == before
    assert client.get(f"/evaluations/{b.evaluation_id}", headers=b.token).json()["status"] == "concluded"


def test_a_contractor_cannot_see_another_contractors_record(client, world):
    _hidden(client, world.a.token, "GET", "/contractors/{}", world.b.contractor_id, "ContractorNotFound")
    assert client.get(f"/contractors/{world.a.contractor_id}", headers=world.a.token).status_code == 200


def test_a_contractor_cannot_enrol_or_remove_another_contractors_workers(client, world):
    before = head(client)
    a, b = world.a, world.b
    _hidden(client, a.token, "POST", "/contractors/{}/workers", b.contractor_id, "ContractorNotFound", {"name": "冒名护理员"})
    r = client.post(f"/contractors/{b.contractor_id}/workers/{b.worker_id}/removal", json={"reason": "挖人"}, headers=a.token)
    _refused(r, 404, "ContractorNotFound")
    assert head(client) == before
    workers = client.get(f"/contractors/{b.contractor_id}", headers=b.token).json()["workers"]
    assert len(workers) == 1 and workers[b.worker_id]["enrolled"]


def test_a_contractor_cannot_see_beneficiaries_only_another_contractor_serves(client, world):
    _hidden(client, world.a.token, "GET", "/beneficiaries/{}", world.b.beneficiary_id, "BeneficiaryNotFound")
    # One on the roster but referred to nobody is hidden from every contractor too.
    unserved = post(client, "/beneficiaries", world.purchaser, beneficiary_body(80))["beneficiary_id"]
    _refused(client.get(f"/beneficiaries/{unserved}", headers=world.a.token), 404, "BeneficiaryNotFound")
    assert client.get(f"/beneficiaries/{world.a.beneficiary_id}", headers=world.a.token).status_code == 200


def test_a_contractor_posting_a_visit_by_another_contractors_worker_is_subcontracting(client, world):
    before = head(client)
    r = client.post("/visits", json=visit_body(world.a.case_id, world.b.worker_id), headers=world.a.token)
    _refused(r, 409, "Subcontracting")
    assert head(client) == before


# --- the auditor and histories ----------------------------------------------------------------


def test_the_auditor_reads_everything_of_both_contractors(client, world):
    assert client.get(f"/funds/{world.fund_id}", headers=world.auditor).status_code == 200
    for side in (world.a, world.b):
        for kind, object_id in _objects(side):
            r = client.get(f"/{kind}/{object_id}", headers=world.auditor)
            assert r.status_code == 200, (kind, r.text)
            assert r.json()["id"] == object_id
            r = client.get(f"/{kind}/{object_id}/history", headers=world.auditor)
            assert r.status_code == 200 and r.json(), (kind, r.text)


def test_histories_follow_the_same_scoping(client, world):
    errors = {
        "contractors": "ContractorNotFound",
        "beneficiaries": "BeneficiaryNotFound",
        "contracts": "ContractNotFound",
        "cases": "CaseNotFound",
        "visits": "VisitNotFound",
        "evaluations": "EvaluationNotFound",
    }
    for kind, object_id in _objects(world.b):
        _hidden(client, world.a.token, "GET", f"/{kind}/{{}}/history", object_id, errors[kind])
        assert client.get(f"/{kind}/{object_id}/history", headers=world.b.token).status_code == 200, kind
    for kind, object_id in _objects(world.a):
        history = client.get(f"/{kind}/{object_id}/history", headers=world.a.token)
        assert history.status_code == 200, (kind, history.text)
        assert [e["version"] for e in history.json()] == list(range(1, len(history.json()) + 1))
    # A history is read as its own kind: a case's id is no contract.
    _refused(client.get(f"/contracts/{world.a.case_id}/history", headers=world.auditor), 404, "ContractNotFound")


def _objects(side) -> list[tuple[str, str]]:
    return [
        ("contractors", side.contractor_id),
        ("beneficiaries", side.beneficiary_id),
        ("contracts", side.contract_id),
        ("cases", side.case_id),
        ("visits", side.visit_id),
        ("evaluations", side.evaluation_id),
    ]


def _tranche(contract: dict[str, Any], tranche_id: str) -> dict[str, Any]:
    return next(t for t in contract["tranches"] if t["tranche_id"] == tranche_id)
