"""Rules and roles over HTTP: who vouches for a visit, who scores, what a suspended contractor may
still do, and what one contractor sees of a beneficiary another contractor also serves."""

from __future__ import annotations

from typing import Any

from tests.api.builders import SIGNED_BY_BENEFICIARY, head, post, scores, visit_body


def refused(r: Any, status: int, error: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"] == error, r.json()


def confirmation(client, world) -> str | None:
    return client.get(f"/visits/{world.a.visit_id}", headers=world.auditor).json()["confirmation"]


# --- confirmation and dispute ----------------------------------------------------------------


def test_a_contractor_confirms_its_own_visit_only_with_the_beneficiarys_own_proof(client, world):
    before = head(client)
    path = f"/visits/{world.a.visit_id}/confirmation"
    for channel in ("follow_up_call", "home_visit", "hotline_12349"):
        refused(client.post(path, json={"channel": channel}, headers=world.a.token), 403, "ConfirmationNotAllowed")
    refused(client.post(path, json={"channel": "beneficiary_signature"}, headers=world.a.token), 422, "BeneficiaryProofMissing")
    own_evidence = {"channel": "beneficiary_signature", "proof": visit_body(world.a.case_id, world.a.worker_id)["evidence_hash"]}
    refused(client.post(path, json=own_evidence, headers=world.a.token), 422, "BeneficiaryProofMissing")
    refused(client.post(path, json={"channel": "signature"}, headers=world.a.token), 422, "ValidationError")
    assert head(client) == before and confirmation(client, world) is None
    post(client, path, world.a.token, SIGNED_BY_BENEFICIARY)
    assert confirmation(client, world) == "confirmed"


def test_a_contractor_cannot_dispute_its_own_visit_but_voids_it(client, world):
    before = head(client)
    r = client.post(f"/visits/{world.a.visit_id}/dispute", json={"reason": "录入错误", **SIGNED_BY_BENEFICIARY}, headers=world.a.token)
    refused(r, 403, "ConfirmationNotAllowed")
    assert head(client) == before and confirmation(client, world) is None
    post(client, f"/visits/{world.a.visit_id}/void", world.a.token, {"reason": "录入错误"})


def test_the_purchasers_follow_up_confirms_or_disputes_a_visit(client, world):
    post(client, f"/visits/{world.b.visit_id}/confirmation", world.purchaser, {"channel": "home_visit"})
    assert client.get(f"/visits/{world.b.visit_id}", headers=world.auditor).json()["confirmation"] == "confirmed"
    post(client, f"/visits/{world.a.visit_id}/dispute", world.purchaser, {"reason": "回访称未上门"})
    visit = client.get(f"/visits/{world.a.visit_id}", headers=world.auditor).json()
    assert (visit["confirmation"], visit["counts"]) == ("disputed", False)
    (disputed,) = [e for e in client.get(f"/visits/{world.a.visit_id}/history", headers=world.auditor).json() if e["type"] == "Disputed"]
    assert disputed["data"]["channel"] == "follow_up_call" and disputed["actor"]["role"] == "purchaser"


def test_the_confirmation_channels_are_a_labelled_enumeration_in_the_catalogue_and_the_schema(client):
    channels = client.get("/catalogue/enums").json()["confirmation_channel"]
    assert set(channels) == {"follow_up_call", "home_visit", "hotline_12349", "beneficiary_signature"}
    assert channels["home_visit"] == {"zh": "入户回访", "en": "Follow-up home visit by the purchaser"}
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["ConfirmationChannel"]["enum"]) == set(channels)


# --- scores come from the evaluator alone -----------------------------------------------------


def test_only_the_evaluator_scores_and_concludes(client, world):
    evaluation = f"/evaluations/{world.a.evaluation_id}"
    others = [world.role(role) for role in ("purchaser", "finance", "auditor", "contractor")]
    before = head(client)
    for headers in others:
        refused(client.post(f"{evaluation}/scores", json=scores(100), headers=headers), 403, "Forbidden")
    post(client, f"{evaluation}/scores", world.evaluator, scores(75))
    for headers in others:
        refused(client.post(f"{evaluation}/conclusion", json={"report": "自评"}, headers=headers), 403, "Forbidden")
    assert head(client) == before + 1
    post(client, f"{evaluation}/conclusion", world.evaluator, {"report": "合格"})
    assert client.get(evaluation, headers=world.auditor).json()["grade"] == "qualified"


def test_the_purchaser_still_opens_evaluations_and_resolves_appeals(client, world):
    evaluation = f"/evaluations/{world.a.evaluation_id}"
    post(client, f"{evaluation}/scores", world.evaluator, scores(55))
    post(client, f"{evaluation}/conclusion", world.evaluator, {"report": "不合格"})
    post(client, f"{evaluation}/appeal", world.a.token, {"reason": "满意度样本过少"})
    post(client, f"{evaluation}/appeal-resolution", world.purchaser, {"upheld": True, "revised_scores": {"satisfaction": 90}, "note": "复核"})
    assert client.get(evaluation, headers=world.auditor).json()["status"] == "final"
    post(client, "/evaluations", world.purchaser, {"contract_id": world.a.contract_id, "stage": "final", "third_party": "省社会工作评估中心"})


# --- a suspended contractor earns nothing ------------------------------------------------------


def test_a_suspended_contractor_cannot_post_visits_or_be_paid_until_reinstated(client, world):
    a = world.a
    post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=2))
    post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=1))  # the volume milestone: 3 meals
    post(client, f"/contractors/{a.contractor_id}/suspension", world.purchaser, {"reason": "台账不实，停业整改"})
    before = head(client)
    refused(client.post("/visits", json=visit_body(a.case_id, a.worker_id), headers=a.token), 409, "ContractorSuspended")
    refused(client.post(f"/contracts/{a.contract_id}/tranches/t-volume/release", headers=world.finance), 409, "ContractorSuspended")
    assert head(client) == before
    assert client.get(f"/contracts/{a.contract_id}", headers=world.auditor).json()["status"] == "active"
    post(client, f"/contractors/{a.contractor_id}/reinstatement", world.purchaser)
    post(client, f"/contracts/{a.contract_id}/tranches/t-volume/release", world.finance)


# --- a beneficiary served by two contractors ----------------------------------------------------


def test_a_contractor_sees_only_its_own_referrals_of_a_beneficiary_both_serve(client, world):
    a, b = world.a, world.b
    referral = {"beneficiary_id": a.beneficiary_id, "contract_id": b.contract_id, "services": ["bathing"], "channel": "hotline_12349"}
    b_case = post(client, "/cases", world.purchaser, referral)["case_id"]
    person = f"/beneficiaries/{a.beneficiary_id}"

    def seen_by(headers: dict[str, str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
        state = client.get(person, headers=headers).json()
        referred = [e["data"] for e in client.get(f"{person}/history", headers=headers).json() if e["type"] == "Referred"]
        return state["cases"], referred

    cases, referred = seen_by(b.token)
    assert cases == {b_case: b.contractor_id}
    assert [(r["case_id"], r["contractor_id"]) for r in referred] == [(b_case, b.contractor_id)]
    cases, referred = seen_by(a.token)
    assert cases == {a.case_id: a.contractor_id}
    assert [(r["case_id"], r["contractor_id"]) for r in referred] == [(a.case_id, a.contractor_id)]
    for other in (world.purchaser, world.auditor):
        cases, referred = seen_by(other)
        assert cases == {a.case_id: a.contractor_id, b_case: b.contractor_id} and len(referred) == 2
    assert a.contractor_id not in client.get(person, headers=b.token).text
    assert a.contractor_id not in client.get(f"{person}/history", headers=b.token).text
