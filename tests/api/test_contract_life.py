"""The whole life of a contract over HTTP, with a token for each role, on both stores."""

from __future__ import annotations

from decimal import Decimal

from tests.api.builders import PANEL, SIGNED_BY_BENEFICIARY, beneficiary_body, contract_body, contractor_body, post, scores, visit_body


def test_a_contract_lives_from_fund_to_settlement_through_the_api(client, token_for):
    purchaser = token_for("purchaser", "civil-affairs-bureau", "officer-zhang")
    finance = token_for("finance", "finance-bureau", "cashier-li")
    evaluator = token_for("evaluator", None, "panel-chair")
    auditor = token_for("auditor", "audit-bureau", "auditor-wu")

    # Money: a ceiling of 3% of last year's subsidies, then a fund within it.
    ceiling = post(client, "/purchase-ceilings", finance, {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})
    assert ceiling["ceiling"] == "300000.00"
    fund_id = post(client, "/funds", finance, {"name": "2026 工作经费", "source": "work_funds", "fiscal_year": 2026, "amount": "200000.00"})["fund_id"]

    # The contractor, its token and its workers.
    contractor_id = post(client, "/contractors", purchaser, contractor_body("阳光社工", "52330100MJ1234567M"))["contractor_id"]
    contractor = token_for("contractor", contractor_id, "coordinator-chen")
    worker_id = post(client, f"/contractors/{contractor_id}/workers", contractor, {"name": "护理员刘", "qualification": "carer"})["worker_id"]

    # Beneficiaries and a contract.
    people = [post(client, "/beneficiaries", purchaser, beneficiary_body(n))["beneficiary_id"] for n in range(1, 4)]
    signed = post(client, "/contracts", purchaser, contract_body(contractor_id, fund_id, volume=3))
    contract_id = signed["contract_id"]
    assert signed["position"] > ceiling["position"]
    fund = client.get(f"/funds/{fund_id}", headers=auditor).json()
    assert Decimal(fund["committed"]) == Decimal("3500.00") and Decimal(fund["available"]) == Decimal("196500.00")

    # Referrals: two accepted, one declined.
    cases = [post(client, "/cases", purchaser, {"beneficiary_id": p, "contract_id": contract_id, "services": ["meals"], "channel": "village_coordinator"})["case_id"] for p in people]
    post(client, f"/cases/{cases[0]}/acceptance", contractor)
    post(client, f"/cases/{cases[1]}/acceptance", contractor)
    post(client, f"/cases/{cases[2]}/decline", contractor, {"reason": "服务区域外"})

    # Visits; one is voided, so it takes a fourth to reach the volume of 3.
    visits = [post(client, "/visits", contractor, visit_body(cases[i % 2], worker_id, hours_ago=10 - i))["visit_id"] for i in range(2)]
    post(client, f"/visits/{visits[0]}/void", contractor, {"reason": "录入重复"})
    post(client, f"/visits/{visits[1]}/confirmation", contractor, SIGNED_BY_BENEFICIARY)
    contract = client.get(f"/contracts/{contract_id}", headers=finance).json()
    assert _milestone(contract, "volume")["status"] == "pending"
    r = client.post(f"/contracts/{contract_id}/tranches/t-volume/release", headers=finance)
    assert r.status_code == 409 and r.json()["error"] == "MilestoneNotFulfilled"

    post(client, "/visits", contractor, visit_body(cases[0], worker_id, hours_ago=2))
    post(client, "/visits", contractor, visit_body(cases[1], worker_id, hours_ago=1))
    contract = client.get(f"/contracts/{contract_id}", headers=finance).json()
    assert _milestone(contract, "volume")["status"] == "fulfilled"
    assert _milestone(contract, "volume")["basis"] == {"delivered": 3}
    assert contract["delivered"] == {"meals": 3}

    released = post(client, f"/contracts/{contract_id}/tranches/t-volume/release", finance)
    assert released["tranche_id"] == "t-volume"

    # Mid-term evaluation: good grade, tranche paid in full.
    mid = post(client, "/evaluations", purchaser, {"contract_id": contract_id, "stage": "mid_term", "panel": PANEL})["evaluation_id"]
    post(client, f"/evaluations/{mid}/scores", evaluator, scores(85))
    post(client, f"/evaluations/{mid}/conclusion", evaluator, {"report": "中期评估良好"})
    assert client.get(f"/evaluations/{mid}", headers=auditor).json()["grade"] == "good"
    post(client, f"/contracts/{contract_id}/tranches/t-mid/release", finance)

    # Final evaluation: qualified, appealed, raised to good on review; the review is final.
    final = post(client, "/evaluations", purchaser, {"contract_id": contract_id, "stage": "final", "third_party": "省社会工作评估中心"})["evaluation_id"]
    post(client, f"/evaluations/{final}/scores", evaluator, scores(70))
    post(client, f"/evaluations/{final}/conclusion", evaluator, {"report": "合格"})
    post(client, f"/evaluations/{final}/appeal", contractor, {"reason": "满意度调查样本过少"})
    r = client.post(f"/contracts/{contract_id}/tranches/t-final/release", headers=finance)
    assert r.status_code == 409 and r.json()["error"] == "AppealPending"
    r = client.post(f"/contracts/{contract_id}/acceptance", json={"note": ""}, headers=purchaser)
    assert r.status_code == 409 and r.json()["error"] == "AppealPending"
    revised = {"effectiveness": 95, "satisfaction": 95, "social_benefit": 95, "administration": 90, "record_keeping": 90, "progress": 90}
    post(client, f"/evaluations/{final}/appeal-resolution", purchaser, {"upheld": True, "revised_scores": revised, "note": "复核上调"})
    r = client.post(f"/evaluations/{final}/appeal", json={"reason": "again"}, headers=contractor)
    assert r.status_code == 409 and r.json()["error"] == "AppealAlreadyResolved"
    evaluation = client.get(f"/evaluations/{final}", headers=auditor).json()
    assert evaluation["status"] == "final" and evaluation["grade"] == "good"
    post(client, f"/contracts/{contract_id}/tranches/t-final/release", finance)

    # Settlement before acceptance is refused; acceptance fulfils its milestone.
    r = client.post(f"/contracts/{contract_id}/settlement", headers=finance)
    assert r.status_code == 409 and r.json()["error"] == "NotAccepted"
    post(client, f"/contracts/{contract_id}/acceptance", purchaser, {"note": "验收合格"})
    post(client, f"/contracts/{contract_id}/tranches/t-acceptance/release", finance)
    post(client, f"/contracts/{contract_id}/settlement", finance)

    contract = client.get(f"/contracts/{contract_id}", headers=auditor).json()
    assert contract["status"] == "settled"
    assert Decimal(contract["released"]) == Decimal("3500.00")
    assert all(t["status"] == "released" for t in contract["tranches"])
    fund = client.get(f"/funds/{fund_id}", headers=auditor).json()
    assert Decimal(fund["disbursed"]) == Decimal("3500.00")
    assert Decimal(fund["committed"]) == Decimal("3500.00")  # nothing left committed beyond what was paid
    assert Decimal(fund["available"]) == Decimal("196500.00")

    # The contract's own history names who did each step.
    history = client.get(f"/contracts/{contract_id}/history", headers=auditor).json()
    kinds = [h["type"] for h in history]
    assert kinds[0] == "Signed" and kinds[-1] == "Settled"
    assert kinds.count("TrancheReleased") == 4
    by_type = {h["type"]: h["actor"] for h in history}
    assert by_type["Signed"]["actor_id"] == "officer-zhang" and by_type["Signed"]["role"] == "purchaser"
    assert by_type["Settled"]["actor_id"] == "cashier-li"
    assert all(h["actor"]["correlation_id"] for h in history)
    automatic = [h for h in history if h["type"] == "MilestoneFulfilled" and h["data"]["milestone_id"] == "volume"]
    assert automatic[0]["actor"]["role"] == "system"


def _milestone(contract: dict, milestone_id: str) -> dict:
    return next(m for m in contract["milestones"] if m["milestone_id"] == milestone_id)
