"""The lists people work from, through the HTTP API on each store: a contractor's referral inbox,
the visits of a case, contract, worker, beneficiary or period, cases by status, a contractor's
workers; and an audit trail that names each event's contract and leaves bookkeeping out unless
asked. Every answer is checked against the model the route declares."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel

from api.schemas.lists import CaseRow, VisitRow, WorkerRow
from api.schemas.reads import AuditEntry, Page
from projections.audit import BOOKKEEPING
from tests.api.builders import World, beneficiary_body, post, visit_body

Headers = dict[str, str]
MODELS: dict[str, type[BaseModel]] = {
    "/read/visits": Page[VisitRow],
    "/read/cases": Page[CaseRow],
    "/read/referrals/inbox": Page[CaseRow],
    "/read/audit": Page[AuditEntry],
}


def read(client: TestClient, path: str, headers: Headers, **params: Any) -> dict[str, Any]:
    r = client.get(path, headers=headers, params={k: v for k, v in params.items() if v is not None})
    assert r.status_code == 200, (path, params, r.status_code, r.text)
    model = MODELS.get(path, Page[WorkerRow] if path.endswith("/workers") else None)
    assert model is not None, path
    model.model_validate(r.json())
    return r.json()


def items(client: TestClient, path: str, headers: Headers, **params: Any) -> list[dict[str, Any]]:
    """Every item, following next_cursor."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = read(client, path, headers, cursor=cursor, **params)
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def refer(client: TestClient, world: World, n: int, contract_id: str) -> dict[str, Any]:
    beneficiary_id = post(client, "/beneficiaries", world.purchaser, beneficiary_body(n))["beneficiary_id"]
    referral = {"beneficiary_id": beneficiary_id, "contract_id": contract_id, "services": ["meals"], "channel": "hotline_12349"}
    return {"beneficiary_id": beneficiary_id, **post(client, "/cases", world.purchaser, referral)}


def visit_at(client: TestClient, world: World, case_id: str, end: datetime, service: str = "meals") -> dict[str, Any]:
    body = {**visit_body(case_id, world.a.worker_id, service), "started_at": (end - timedelta(minutes=45)).isoformat(), "ended_at": end.isoformat()}
    return post(client, "/visits", world.a.token, body)


def test_a_contractor_finds_a_new_referral_in_its_inbox_and_the_visits_of_the_case_without_the_audit_trail(client: TestClient, world: World) -> None:
    a, b = world.a, world.b
    referral = refer(client, world, 3, a.contract_id)
    inbox = read(client, "/read/referrals/inbox", a.token, min_position=referral["position"])["items"]
    assert [c["case_id"] for c in inbox] == [referral["case_id"]]
    assert (inbox[0]["status"], inbox[0]["services"], inbox[0]["accepted_at"]) == ("referred", ["meals"], None)
    assert (inbox[0]["beneficiary_id"], inbox[0]["contract_id"], inbox[0]["channel"]) == (referral["beneficiary_id"], a.contract_id, "hotline_12349")
    assert read(client, "/read/referrals/inbox", b.token)["items"] == []  # not another contractor's
    assert read(client, "/read/referrals/inbox", b.token, contractor_id=a.contractor_id)["items"] == []
    assert read(client, "/read/referrals/inbox", world.purchaser, contractor_id=a.contractor_id)["items"] == inbox

    accepted = post(client, f"/cases/{referral['case_id']}/acceptance", a.token)
    assert read(client, "/read/referrals/inbox", a.token, min_position=accepted["position"])["items"] == []
    now = datetime.now(timezone.utc).replace(microsecond=0)
    posted = [visit_at(client, world, referral["case_id"], now - timedelta(hours=h)) for h in (30, 20, 10)]
    listed = read(client, "/read/visits", a.token, case_id=referral["case_id"], min_position=posted[-1]["position"])["items"]
    assert [v["visit_id"] for v in listed] == [p["visit_id"] for p in reversed(posted)]  # newest first
    assert [v["delivered_position"] for v in listed] == [p["position"] for p in reversed(posted)]
    assert {(v["beneficiary_id"], v["worker_id"], v["contract_id"], v["counts"], v["voided"], v["confirmation"]) for v in listed} == {
        (referral["beneficiary_id"], a.worker_id, a.contract_id, True, False, None)
    }
    assert read(client, "/read/visits", b.token, case_id=referral["case_id"])["items"] == []


def test_visits_are_filtered_by_contract_worker_beneficiary_and_a_half_open_period_and_paged_either_way(client: TestClient, world: World) -> None:
    a = world.a
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    posted = [visit_at(client, world, a.case_id, start + timedelta(hours=6 * i)) for i in range(7)]
    last = posted[-1]["position"]
    ours = items(client, "/read/visits", world.auditor, contract_id=a.contract_id, min_position=last, order="asc")
    assert [v["visit_id"] for v in ours] == [p["visit_id"] for p in posted] + [a.visit_id]  # the world's visit is 3 hours old
    assert items(client, "/read/visits", world.auditor, contract_id=a.contract_id, limit=2) == ours[::-1]
    assert items(client, "/read/visits", world.auditor, contract_id=a.contract_id, limit=3, order="asc") == ours
    for params in ({"worker_id": a.worker_id}, {"beneficiary_id": a.beneficiary_id}, {"contractor_id": a.contractor_id, "service_code": "meals"}):
        assert items(client, "/read/visits", world.auditor, **params) == ours[::-1], params
    assert items(client, "/read/visits", world.auditor, contract_id=a.contract_id, service_code="bathing") == []
    # [period_start, period_end): a visit starting exactly at the end is left out, one at the start kept.
    starts = [datetime.fromisoformat(v["started_at"]) for v in ours]
    window = items(client, "/read/visits", world.auditor, period_start=starts[2].isoformat(), period_end=starts[5].isoformat(), order="asc")
    assert [v["visit_id"] for v in window] == [v["visit_id"] for v in ours[2:5]]
    everyone = items(client, "/read/visits", world.auditor)
    assert {v["visit_id"] for v in everyone} == {v["visit_id"] for v in ours} | {world.b.visit_id}
    r = client.get("/read/visits", headers=world.auditor, params={"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["error"] == "InvalidPeriod"


def test_a_visit_row_shows_its_confirmation_dispute_void_and_spot_check_as_they_happen(client: TestClient, world: World) -> None:
    a = world.a
    now = datetime.now(timezone.utc).replace(microsecond=0)
    confirmed, disputed, voided, checked = (visit_at(client, world, a.case_id, now - timedelta(hours=h))["visit_id"] for h in (9, 8, 7, 6))
    post(client, f"/visits/{confirmed}/confirmation", world.purchaser, {"channel": "follow_up_call"})
    post(client, f"/visits/{disputed}/confirmation", world.purchaser, {"channel": "follow_up_call"})
    post(client, f"/visits/{disputed}/dispute", world.purchaser, {"reason": "服务对象称未上门"})
    post(client, f"/visits/{voided}/void", a.token, {"reason": "重复录入"})
    last = post(client, f"/visits/{checked}/spot-check", world.purchaser, {"result": "not_found", "note": "查无此服务"})["position"]
    rows = {v["visit_id"]: v for v in items(client, "/read/visits", a.token, case_id=a.case_id, min_position=last)}
    state = {k: (rows[k]["confirmation"], rows[k]["voided"], rows[k]["spot_check"], rows[k]["counts"]) for k in (confirmed, disputed, voided, checked)}
    assert state == {
        confirmed: ("confirmed", False, None, True),
        disputed: ("disputed", False, None, False),
        voided: (None, True, None, False),
        checked: (None, False, "not_found", False),
    }


def test_cases_are_listed_by_status_contractor_and_place_and_a_bad_status_is_refused(client: TestClient, world: World) -> None:
    a, b = world.a, world.b
    declined = refer(client, world, 4, a.contract_id)["case_id"]
    waiting = refer(client, world, 5, b.contract_id)["case_id"]
    last = post(client, f"/cases/{declined}/decline", a.token, {"reason": "超出服务区域"})["position"]
    ids = lambda rows: [c["case_id"] for c in rows]  # noqa: E731
    assert ids(items(client, "/read/cases", world.auditor, status="declined", min_position=last)) == [declined]
    assert ids(items(client, "/read/cases", world.auditor, status="referred")) == [waiting]
    assert set(ids(items(client, "/read/cases", world.auditor, status="accepted"))) == {a.case_id, b.case_id}
    assert ids(items(client, "/read/cases", world.auditor, status="accepted", contractor_id=b.contractor_id)) == [b.case_id]
    # Newest referral first, and the same in pages of one; a contractor's own, whatever it asks for.
    assert ids(items(client, "/read/cases", world.auditor)) == [waiting, declined, b.case_id, a.case_id]
    assert ids(items(client, "/read/cases", world.auditor, limit=1, order="asc")) == [a.case_id, b.case_id, declined, waiting]
    assert ids(items(client, "/read/cases", a.token, contractor_id=b.contractor_id)) == [declined, a.case_id]
    assert ids(items(client, "/read/cases", world.auditor, township="城关镇", village="东风村", status="declined")) == [declined]
    assert items(client, "/read/cases", world.auditor, township="别的镇") == []
    accepted = read(client, "/read/cases", a.token, status="accepted")["items"][0]
    assert (accepted["visit_count"], sorted(accepted["services"]), accepted["ended_at"]) == (1, ["bathing", "meals"], None)
    r = client.get("/read/cases", headers=world.auditor, params={"status": "lost"})
    assert r.status_code == 422 and r.json()["error"] == "ValidationError"


def test_a_contractors_workers_show_enrolment_removal_qualification_and_open_cases(client: TestClient, world: World) -> None:
    a = world.a
    second = post(client, f"/contractors/{a.contractor_id}/workers", a.token, {"name": "护理员3", "qualification": "nurse"})["worker_id"]
    last = post(client, f"/contractors/{a.contractor_id}/workers/{second}/removal", a.token, {"reason": "离职"})["position"]
    path = f"/read/contractors/{a.contractor_id}/workers"
    rows = {w["worker_id"]: w for w in items(client, path, a.token, min_position=last)}
    assert set(rows) == {a.worker_id, second}
    first, gone = rows[a.worker_id], rows[second]
    assert (first["enrolled"], first["qualification"], first["removed_at"], first["open_cases"], first["visits"]) == (True, "carer", None, 1, 1)
    assert (gone["enrolled"], gone["qualification"], gone["open_cases"], gone["visits"], gone["last_visit_at"]) == (False, "nurse", 0, 0, None)
    assert datetime.fromisoformat(gone["removed_at"]) >= datetime.fromisoformat(gone["enrolled_at"])
    assert [w["worker_id"] for w in items(client, path, world.auditor, enrolled="false")] == [second]
    assert [w["worker_id"] for w in items(client, path, world.auditor, enrolled="true", limit=1)] == [a.worker_id]
    # Another contractor's workers, and a contractor that does not exist, are not found.
    for headers, contractor_id in ((world.b.token, a.contractor_id), (world.auditor, "00000000-0000-0000-0000-000000000000")):
        r = client.get(f"/read/contractors/{contractor_id}/workers", headers=headers)
        assert r.status_code == 404 and r.json()["error"] == "ContractorNotFound", r.text


def test_the_inbox_is_for_the_purchaser_the_contractor_and_the_auditor_alone(client: TestClient, world: World) -> None:
    for headers in (world.finance, world.evaluator):
        r = client.get("/read/referrals/inbox", headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "Forbidden", r.text


def test_the_audit_trail_names_the_contract_of_every_visit_and_leaves_bookkeeping_out_unless_asked(client: TestClient, world: World) -> None:
    a, b = world.a, world.b
    post(client, f"/visits/{a.visit_id}/confirmation", world.purchaser, {"channel": "follow_up_call"})
    keyed = {**world.purchaser, "Idempotency-Key": "lists-audit-1"}
    last = post(client, f"/visits/{b.visit_id}/confirmation", keyed, {"channel": "follow_up_call"})["position"]

    everything = items(client, "/read/audit", world.auditor, include="all", limit=1000, min_position=last)
    kinds = {r["aggregate_type"] for r in everything}
    assert set(BOOKKEEPING) <= kinds, kinds  # tokens, tallies and the keyed command's record are all there
    business = items(client, "/read/audit", world.auditor, limit=1000)
    assert business == [r for r in everything if r["aggregate_type"] not in BOOKKEEPING] and business
    # Naming a bookkeeping type asks for it.
    assert items(client, "/read/audit", world.auditor, aggregate_type="VolumeTally") == [r for r in everything if r["aggregate_type"] == "VolumeTally"]

    side_of = {a.visit_id: a.contract_id, b.visit_id: b.contract_id}
    visit_rows = [r for r in business if r["aggregate_type"] == "Visit"]
    assert {r["event_type"] for r in visit_rows} == {"Visit.Delivered", "Visit.Confirmed"}
    assert all(r["contract_id"] == side_of[r["aggregate_id"]] for r in visit_rows)
    of_a = items(client, "/read/audit", world.auditor, contract_id=a.contract_id, include="all")
    assert of_a == [r for r in everything if r["contract_id"] == a.contract_id]
    assert {r["event_type"] for r in of_a} >= {"Contract.Signed", "Fund.Committed", "Case.Referred", "Case.Accepted", "Visit.Delivered", "Visit.Confirmed", "Evaluation.Opened", "VolumeTally.Opened"}
    assert {r["aggregate_id"] for r in of_a} & {b.contract_id, b.case_id, b.visit_id, b.evaluation_id} == set()
    assert all(r["contract_id"] is None for r in everything if r["aggregate_type"] in ("Beneficiary", "Contractor", "ApiToken"))

    # Leaving types out, by event type and by aggregate type, several at once.
    left = items(client, "/read/audit", world.auditor, exclude_event_type=["Visit.Delivered", "Contract.Signed"], exclude_aggregate_type=["Evaluation"], limit=1000)
    assert left == [r for r in business if r["event_type"] not in ("Visit.Delivered", "Contract.Signed") and r["aggregate_type"] != "Evaluation"]
    for params in ({"exclude_event_type": [f"T{i}" for i in range(21)]}, {"exclude_aggregate_type": ""}, {"include": "some"}, {"contract_id": "x\u0000"}):
        r = client.get("/read/audit", headers=world.auditor, params=params)
        assert r.status_code == 422 and r.json()["error"] == "ValidationError", (params, r.text)
