"""Tracing a yuan through the API: a released tranche down to exactly the visits its milestone
counted and back to its fund; a fund to every contract and tranche it paid; a beneficiary to every
service received. Every position is checked against the audit trail, every answer against its
declared model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.schemas.trace import BeneficiaryTrace, FundTrace, TrancheTrace
from tests.api.builders import World, head, post, visit_body

Headers = dict[str, str]
MEAL_PRICE = Decimal("15.00")  # the meals line of builders.contract_body


def traced(client: TestClient, path: str, headers: Headers, model: type[BaseModel], **params: Any) -> dict[str, Any]:
    r = client.get(path, headers=headers, params={"min_position": head(client), **params})
    assert r.status_code == 200, (path, r.text)
    model.model_validate(r.json())
    return r.json()


def positions(client: TestClient, headers: Headers, aggregate_id: str) -> dict[str, list[int]]:
    """Each event type of one aggregate with its log positions, as the audit trail shows them."""
    r = client.get("/read/audit", headers=headers, params={"aggregate_id": aggregate_id, "limit": 1000, "min_position": head(client)})
    assert r.status_code == 200, r.text
    out: dict[str, list[int]] = {}
    for e in r.json()["items"]:
        out.setdefault(e["event_type"], []).append(e["position"])
    return out


def visit(client: TestClient, world: World, side: str = "a") -> str:
    s = getattr(world, side)
    return post(client, "/visits", s.token, visit_body(s.case_id, s.worker_id))["visit_id"]


@pytest.fixture
def released(client: TestClient, world: World) -> dict[str, Any]:
    """Contractor A's volume tranche released: of five meals posted, the second is voided before
    the milestone is reached; the third is voided and the fourth disputed after it."""
    a = world.a
    first, second = a.visit_id, visit(client, world)
    post(client, f"/visits/{second}/void", a.token, {"reason": "posted twice"})
    third, fourth = visit(client, world), visit(client, world)  # the third counting meal: fulfilled
    fifth = visit(client, world)
    post(client, f"/visits/{third}/void", a.token, {"reason": "the beneficiary was in hospital"})
    post(client, f"/visits/{fourth}/dispute", world.purchaser, {"reason": "nobody came", "channel": "follow_up_call"})
    post(client, f"/visits/{first}/spot-check", world.purchaser, {"result": "verified", "note": "unannounced visit"})
    post(client, f"/contracts/{a.contract_id}/tranches/t-volume/release", world.finance)
    return {"visits": [first, second, third, fourth, fifth], "counted": [first, third, fourth]}


def test_a_released_tranche_traces_to_exactly_the_visits_that_fulfilled_its_milestone_and_back_to_its_fund(client: TestClient, world: World, released: dict[str, Any]) -> None:
    a, auditor = world.a, world.auditor
    trace = traced(client, f"/trace/tranches/{a.contract_id}/t-volume", auditor, TrancheTrace)
    contract = positions(client, auditor, a.contract_id)
    fund = positions(client, auditor, world.fund_id)

    assert trace["tranche"] | {"recorded_at": None} == {
        "tranche_id": "t-volume",
        "milestone_id": "volume",
        "amount": "1000.00",
        "status": "released",
        "released": "1000.00",
        "withheld": "0.00",
        "position": contract["Contract.TrancheReleased"][0],
        "recorded_at": None,
    }
    milestone = trace["milestone"]
    assert (milestone["milestone_id"], milestone["basis"], milestone["counted"]) == ("volume", {"delivered": 3}, 3)
    assert milestone["position"] == contract["Contract.MilestoneFulfilled"][0]
    assert trace["fund"] | {"recorded_at": None} == {
        "fund_id": world.fund_id,
        "fund_name": "2026 工作经费",
        "amount": "1000.00",
        "position": fund["Fund.Disbursed"][0],
        "recorded_at": None,
    }
    assert trace["contract"] == {"contract_id": a.contract_id, "contract_no": "MZ-2026-001", "contractor_id": a.contractor_id, "position": contract["Contract.Signed"][0]}

    visits = trace["visits"]["items"]
    assert [v["visit_id"] for v in visits] == released["counted"] and [v["ordinal"] for v in visits] == [1, 2, 3]
    for v in visits:
        assert v["position"] == positions(client, auditor, v["visit_id"])["Visit.Delivered"][0] < milestone["position"]
        assert (v["beneficiary_id"], v["worker_id"], v["case_id"], v["service_code"], v["unit_price"]) == (a.beneficiary_id, a.worker_id, a.case_id, "meals", "15.00")
    first, third, fourth = visits
    assert (first["counts"], first["spot_check"], first["stopped_counting_after_fulfilment"]) == (True, "verified", False)
    assert [(c["kind"], c["result"], c["stopped_counting"]) for c in first["changes"]] == [("SpotChecked", "verified", False)]
    assert (third["voided"], third["counts"], third["stopped_counting_after_fulfilment"]) == (True, False, True)
    assert [(c["kind"], c["note"], c["position"]) for c in third["changes"]] == [("Voided", "the beneficiary was in hospital", positions(client, auditor, third["visit_id"])["Visit.Voided"][0])]
    assert (fourth["confirmation"], fourth["counts"], fourth["stopped_counting_after_fulfilment"]) == ("disputed", False, True)
    assert [(c["kind"], c["channel"]) for c in fourth["changes"]] == [("Disputed", "follow_up_call")]

    paged = traced(client, f"/trace/tranches/{a.contract_id}/t-volume", auditor, TrancheTrace, limit=2)
    rest = traced(client, f"/trace/tranches/{a.contract_id}/t-volume", auditor, TrancheTrace, limit=2, cursor=paged["visits"]["next_cursor"])
    assert [v["visit_id"] for v in paged["visits"]["items"] + rest["visits"]["items"]] == released["counted"]
    assert rest["visits"]["next_cursor"] is None


def test_a_tranche_not_yet_paid_shows_no_disbursement_and_its_pending_milestone_no_visits(client: TestClient, world: World) -> None:
    trace = traced(client, f"/trace/tranches/{world.a.contract_id}/t-final", world.finance, TrancheTrace)
    assert (trace["tranche"]["status"], trace["tranche"]["position"], trace["milestone"]["position"]) == ("pending", None, None)
    assert (trace["fund"]["amount"], trace["fund"]["position"], trace["visits"]["items"]) == (None, None, [])


def test_a_contractor_traces_its_own_tranche_but_not_another_s(client: TestClient, world: World, released: dict[str, Any]) -> None:
    assert traced(client, f"/trace/tranches/{world.a.contract_id}/t-volume", world.a.token, TrancheTrace)["tranche"]["status"] == "released"
    for path in (f"/trace/tranches/{world.a.contract_id}/t-volume", f"/trace/tranches/{world.b.contract_id}/no-such-tranche"):
        r = client.get(path, headers=world.b.token)
        assert r.status_code == 404 and r.json()["error"] == "TrancheNotFound", r.text
        assert world.a.contract_id not in r.text
    r = client.get(f"/trace/funds/{world.fund_id}", headers=world.a.token)
    assert r.status_code == 403, r.text


def test_the_fund_trace_names_every_contract_tranche_and_amount_paid(client: TestClient, world: World, released: dict[str, Any]) -> None:
    b = world.b
    for _ in range(2):
        visit(client, world, "b")
    post(client, f"/contracts/{b.contract_id}/tranches/t-volume/release", world.finance)
    auditor = world.auditor
    trace = traced(client, f"/trace/funds/{world.fund_id}", auditor, FundTrace)
    disbursed = positions(client, auditor, world.fund_id)["Fund.Disbursed"]
    assert (trace["appropriated"], trace["paid"], trace["payments"], trace["position"]) == ("200000.00", "2000.00", 2, positions(client, auditor, world.fund_id)["Fund.Appropriated"][0])
    contracts = trace["contracts"]["items"]
    assert [c["contract_id"] for c in contracts] == [world.a.contract_id, b.contract_id]  # in signing order
    for contract, position in zip(contracts, disbursed):
        assert contract["paid"] == "1000.00"
        assert {t["tranche_id"]: t["paid"] for t in contract["tranches"]} == {"t-volume": "1000.00", "t-mid": None, "t-final": None, "t-acceptance": None}
        volume = next(t for t in contract["tranches"] if t["tranche_id"] == "t-volume")
        assert volume["disbursement_position"] == position
        assert volume["position"] == positions(client, auditor, contract["contract_id"])["Contract.TrancheReleased"][0]

    first = traced(client, f"/trace/funds/{world.fund_id}", auditor, FundTrace, limit=1)
    second = traced(client, f"/trace/funds/{world.fund_id}", auditor, FundTrace, limit=1, cursor=first["contracts"]["next_cursor"])
    assert [c["contract_id"] for c in first["contracts"]["items"] + second["contracts"]["items"]] == [world.a.contract_id, b.contract_id]
    r = client.get("/trace/funds/no-such-fund", headers=auditor)
    assert r.status_code == 404 and r.json()["error"] == "FundNotFound", r.text


def test_the_beneficiary_trace_shows_every_service_received_and_the_money_attributed_to_it(client: TestClient, world: World, released: dict[str, Any]) -> None:
    a = world.a
    trace = traced(client, f"/trace/beneficiaries/{a.beneficiary_id}", world.purchaser, BeneficiaryTrace)
    services = trace["services"]["items"]
    assert [s["visit_id"] for s in services] == released["visits"]  # in log order
    counting = [s["visit_id"] for s in services if s["counts"]]
    first, _, _, _, fifth = released["visits"]
    assert counting == [first, fifth]
    assert [s["attributed"] for s in services] == ["15.00", "0.00", "0.00", "0.00", "15.00"]
    assert (trace["visits"], trace["counting"], trace["attributed"]) == (5, 2, str(2 * MEAL_PRICE))
    assert trace["position"] == positions(client, world.purchaser, a.beneficiary_id)["Beneficiary.Registered"][0]
    assert {s["contract_no"] for s in services} == {"MZ-2026-001"} and "unit price" in trace["attributed_means"]

    own = traced(client, f"/trace/beneficiaries/{a.beneficiary_id}", a.token, BeneficiaryTrace, limit=2)
    assert [s["visit_id"] for s in own["services"]["items"]] == released["visits"][:2] and own["services"]["next_cursor"]
    r = client.get(f"/trace/beneficiaries/{a.beneficiary_id}", headers=world.b.token)
    assert r.status_code == 404 and r.json()["error"] == "BeneficiaryNotFound", r.text


def test_the_trace_routes_declare_their_answers_in_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, name in (
        ("/trace/tranches/{contract_id}/{tranche_id}", "TrancheTrace"),
        ("/trace/funds/{fund_id}", "FundTrace"),
        ("/trace/beneficiaries/{beneficiary_id}", "BeneficiaryTrace"),
    ):
        responses = spec["paths"][path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{name}")
        assert {"404", "503"} <= set(responses)
        assert spec["components"]["schemas"][name]["additionalProperties"] is False
