"""Through HTTP: a contract and a fund as of a point, and the red flags, each answer matching its
declared response model."""

from __future__ import annotations

from api.schemas.reads import Page, RedFlag
from api.schemas.records import ContractAsOf, FundAsOf
from tests.api.builders import head, post, visit_body


def _tranche(body: dict, tranche_id: str) -> dict:
    return next(t for t in body["tranches"] if t["tranche_id"] == tranche_id)


def test_as_of_just_before_a_release_shows_it_unreleased_and_at_the_release_released(client, world):
    a = world.a
    for hours_ago in (5, 7):  # the volume milestone needs 3 meals
        post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=hours_ago))
    before = head(client)
    release = post(client, f"/contracts/{a.contract_id}/tranches/t-volume/release", world.finance)["position"]

    def contract(position: int) -> dict:
        r = client.get(f"/contracts/{a.contract_id}/as-of", params={"position": position}, headers=world.auditor)
        assert r.status_code == 200, r.text
        return ContractAsOf.model_validate(r.json()).model_dump()

    def fund(position: int) -> dict:
        r = client.get(f"/funds/{world.fund_id}/as-of", params={"position": position}, headers=world.auditor)
        assert r.status_code == 200, r.text
        return FundAsOf.model_validate(r.json()).model_dump()

    then, now = contract(before), contract(release)
    assert _tranche(then, "t-volume")["status"] == "pending" and then["released"] == "0.00"
    assert then["delivered"] == {"meals": 3} and then["as_of_position"] == before
    assert _tranche(now, "t-volume")["status"] == "released" and now["released"] == "1000.00"
    assert fund(before)["disbursed"] == "0.00" and fund(release)["disbursed"] == "1000.00"


def test_as_of_refuses_anything_but_exactly_one_bounded_point(client, world):
    refused = [{}, {"position": 1, "at": "2026-01-31T08:00:00Z"}, {"at": "2026-01-31T08:00:00"}, {"position": -1}, {"position": 2**63}]
    for params in refused:
        r = client.get(f"/contracts/{world.a.contract_id}/as-of", params=params, headers=world.auditor)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"] in ("AsOfPointInvalid", "ValidationError")


def test_as_of_is_scoped_like_the_contract_itself(client, world):
    r = client.get(f"/contracts/{world.a.contract_id}/as-of", params={"position": head(client)}, headers=world.b.token)
    assert (r.status_code, r.json()["error"]) == (404, "ContractNotFound")
    r = client.get(f"/funds/{world.fund_id}/as-of", params={"position": head(client)}, headers=world.a.token)
    assert r.status_code == 403
    r = client.get(f"/contracts/{world.a.contract_id}/as-of", params={"position": 1}, headers=world.auditor)
    assert (r.status_code, r.json()["error"]) == (404, "NotYetRecorded")


def test_the_same_evidence_on_two_contractors_visits_is_a_red_flag_the_later_one_sees(client, world):
    position = head(client)
    r = client.get("/read/red-flags", params={"kind": "shared_evidence_hash", "min_position": position}, headers=world.auditor)
    assert r.status_code == 200, r.text
    (flag,) = Page[RedFlag].model_validate(r.json()).items
    assert flag.subject_id == world.b.visit_id and flag.contractor_id == world.b.contractor_id
    assert [(p.event, p.id) for p in flag.evidence] == [("Visit.Delivered", world.a.visit_id), ("Visit.Delivered", world.b.visit_id)]

    mine = client.get("/read/red-flags", params={"min_position": position}, headers=world.b.token).json()["items"]
    assert [f["flag_id"] for f in mine] == [flag.flag_id]
    assert client.get("/read/red-flags", params={"min_position": position}, headers=world.a.token).json()["items"] == []
    assert client.get("/read/red-flags", params={"contractor_id": world.a.contractor_id}, headers=world.purchaser).json()["items"] == []


def test_red_flags_are_for_auditors_purchasers_and_each_contractor_and_take_known_kinds_only(client, world):
    assert client.get("/read/red-flags", headers=world.finance).status_code == 403
    r = client.get("/read/red-flags", params={"kind": "made_up"}, headers=world.auditor)
    assert (r.status_code, r.json()["error"]) == (422, "ValidationError")
