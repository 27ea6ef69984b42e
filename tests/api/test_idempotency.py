"""Idempotency-Key over HTTP: a retry of the same request replays the first response and
records nothing new; a different request under the same key is refused."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.api.builders import SIGNED_BY_BENEFICIARY, head, post, visit_body

FUND = {"name": "2026 专项经费", "source": "special_funds", "fiscal_year": 2026, "amount": "5000.00"}


def _send(client, path, headers, key, body):
    return client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


def _replays(first, again) -> None:
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    one, two = first.json(), again.json()
    assert one.pop("replayed") is False and two.pop("replayed") is True
    assert one == two


def test_the_same_visit_sent_twice_with_a_key_is_recorded_once(client, world):
    body = visit_body(world.a.case_id, world.a.worker_id)
    first = _send(client, "/visits", world.a.token, "visit-001", body)
    before = head(client)
    again = _send(client, "/visits", world.a.token, "visit-001", body)
    _replays(first, again)
    assert head(client) == before
    assert first.json()["position"] <= before
    history = client.get(f"/cases/{world.a.case_id}/history", headers=world.auditor)
    assert history.status_code == 200
    contract = client.get(f"/contracts/{world.a.contract_id}", headers=world.auditor).json()
    assert contract["delivered"] == {"meals": 2}  # the world's visit and this one, once


def test_the_same_fund_sent_twice_with_a_key_is_appropriated_once(client, world):
    first = _send(client, "/funds", world.finance, "fund-2026-special", FUND)
    before = head(client)
    again = _send(client, "/funds", world.finance, "fund-2026-special", FUND)
    _replays(first, again)
    assert head(client) == before
    fund = client.get(f"/funds/{first.json()['fund_id']}", headers=world.auditor).json()
    assert fund["amount"] == "5000.00"


def test_reordered_keys_and_other_whitespace_are_the_same_body(client, world):
    body = visit_body(world.a.case_id, world.a.worker_id)
    first = _send(client, "/visits", world.a.token, "visit-002", body)
    before = head(client)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4, ensure_ascii=False)
    assert reordered != json.dumps(body)
    headers = {**world.a.token, "Idempotency-Key": "visit-002", "Content-Type": "application/json"}
    again = client.post("/visits", content=reordered.encode(), headers=headers)
    _replays(first, again)
    assert head(client) == before


def test_the_same_key_with_a_different_body_is_refused_and_records_nothing(client, world):
    body = visit_body(world.a.case_id, world.a.worker_id)
    first = _send(client, "/visits", world.a.token, "visit-003", body)
    assert first.status_code == 201
    before = head(client)
    for other in ({**body, "service_code": "bathing"}, {**body, "notes": "补记"}):
        r = _send(client, "/visits", world.a.token, "visit-003", other)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "IdempotencyKeyReused" and r.json()["detail"]
    # The same key on another path is another request too.
    r = _send(client, f"/visits/{first.json()['visit_id']}/confirmation", world.a.token, "visit-003", SIGNED_BY_BENEFICIARY)
    assert r.status_code == 409 and r.json()["error"] == "IdempotencyKeyReused", r.text
    assert head(client) == before


def test_the_same_key_from_another_actor_is_another_key(client, world, token_for):
    body = visit_body(world.a.case_id, world.a.worker_id)
    first = _send(client, "/visits", world.a.token, "visit-004", body)
    colleague = token_for("contractor", world.a.contractor_id, "coordinator-2-of-a")
    second = _send(client, "/visits", colleague, "visit-004", body)
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers and second.json()["replayed"] is False
    assert second.json()["visit_id"] != first.json()["visit_id"]
    assert second.json()["position"] > first.json()["position"]
    # Each actor's retry replays its own first response.
    _replays(second, _send(client, "/visits", colleague, "visit-004", body))
    _replays(first, _send(client, "/visits", world.a.token, "visit-004", body))
    # A key another contractor used is no key of contractor B's.
    b_body = visit_body(world.b.case_id, world.b.worker_id)
    r = _send(client, "/visits", world.b.token, "visit-004", b_body)
    assert r.status_code == 201 and r.json()["replayed"] is False


def test_a_key_over_200_characters_is_refused(client, world):
    before = head(client)
    body = visit_body(world.a.case_id, world.a.worker_id)
    r = _send(client, "/visits", world.a.token, "k" * 201, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] and r.json()["detail"]
    assert head(client) == before
    assert _send(client, "/visits", world.a.token, "k" * 200, body).status_code == 201


def test_a_visit_refused_with_a_key_can_be_retried_once_the_cause_is_fixed(client, world):
    body = visit_body(world.a.case_id, world.a.worker_id)
    post(client, f"/contracts/{world.a.contract_id}/suspension", world.purchaser, {"reason": "整改"})
    before = head(client)
    r = _send(client, "/visits", world.a.token, "visit-005", body)
    assert r.status_code == 409 and r.json()["error"] == "ContractNotActive", r.text
    assert head(client) == before
    post(client, f"/contracts/{world.a.contract_id}/resumption", world.purchaser)
    retried = _send(client, "/visits", world.a.token, "visit-005", body)
    assert retried.status_code == 201 and retried.json()["replayed"] is False, retried.text
    _replays(retried, _send(client, "/visits", world.a.token, "visit-005", body))


def test_a_key_whose_request_was_refused_is_still_free_for_a_corrected_body(client, world):
    before = head(client)
    wrong = visit_body(world.a.case_id, world.b.worker_id)
    r = _send(client, "/visits", world.a.token, "visit-006", wrong)
    assert r.status_code == 409 and r.json()["error"] == "Subcontracting", r.text
    assert head(client) == before
    right = visit_body(world.a.case_id, world.a.worker_id)
    r = _send(client, "/visits", world.a.token, "visit-006", right)
    assert r.status_code == 201 and r.json()["replayed"] is False, r.text


def test_a_fund_refused_with_a_key_can_be_retried_once_the_cause_is_fixed(client, world):
    body = {**FUND, "fiscal_year": 2027, "amount": "300000.00"}
    before = head(client)
    r = _send(client, "/funds", world.finance, "fund-2027", body)
    assert r.status_code == 409 and r.json()["error"] == "FundCapExceeded", r.text
    assert head(client) == before
    # The cause is fixed by another command: the year's ceiling is declared.
    post(client, "/purchase-ceilings", world.finance, {"fiscal_year": 2027, "prior_year_subsidy_total": "20000000.00"})
    retried = _send(client, "/funds", world.finance, "fund-2027", body)
    assert retried.status_code == 201 and retried.json()["replayed"] is False, retried.text
    _replays(retried, _send(client, "/funds", world.finance, "fund-2027", body))


def test_concurrent_requests_with_the_same_key_record_one_visit(client, world):
    threads = 8
    body = visit_body(world.a.case_id, world.a.worker_id)
    barrier = threading.Barrier(threads)
    before = head(client)

    def send(_: int):
        barrier.wait()
        return _send(client, "/visits", world.a.token, "visit-concurrent", body)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        responses = list(pool.map(send, range(threads)))

    assert all(r.status_code == 201 for r in responses), [(r.status_code, r.text) for r in responses]
    assert len({r.json()["visit_id"] for r in responses}) == 1
    assert len({r.json()["position"] for r in responses}) == 1
    assert sum(1 for r in responses if r.json()["replayed"] is False) == 1
    assert sum(1 for r in responses if r.headers.get("Idempotent-Replayed") == "true") == threads - 1
    case_visits = [e for e in _visit_events(client, world, responses[0].json()["visit_id"]) if e["type"] == "Delivered"]
    assert len(case_visits) == 1
    # One visit: the world's own and this one count for the contract, never more.
    client.app.state.milestones.catch_up()
    contract = client.get(f"/contracts/{world.a.contract_id}", headers=world.auditor).json()
    assert contract["delivered"] == {"meals": 2}
    assert head(client) > before


def _visit_events(client, world, visit_id):
    r = client.get(f"/visits/{visit_id}/history", headers=world.auditor)
    assert r.status_code == 200, r.text
    return r.json()
