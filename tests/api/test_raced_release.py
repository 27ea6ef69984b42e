"""A finance officer's retry that races its own first attempt: the same release, under the same
Idempotency-Key and body, sent by 20 threads at once, pays once and every answer is the first
one's (issue 6, item 6)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.api.builders import post, visit_body

THREADS = 20


def _fulfil_the_volume_milestone(client, world) -> None:
    a = world.a
    for hours_ago in (2, 1):  # the world posted one visit; the milestone asks for three
        post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=hours_ago))
    client.app.state.milestones.catch_up()
    contract = client.get(f"/contracts/{a.contract_id}", headers=world.finance).json()
    volume = next(m for m in contract["milestones"] if m["milestone_id"] == "volume")
    assert volume["status"] == "fulfilled", volume


def test_a_release_raced_twenty_times_under_one_key_pays_once_and_replays_to_every_other_sender(client, world):
    _fulfil_the_volume_milestone(client, world)
    path = f"/contracts/{world.a.contract_id}/tranches/t-volume/release"
    headers = {**world.finance, "Idempotency-Key": "release-t-volume-2026"}
    barrier = threading.Barrier(THREADS)

    def send(_: int):
        barrier.wait()
        return client.post(path, json={}, headers=headers)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        responses = list(pool.map(send, range(THREADS)))

    answers = [(r.status_code, r.json().get("error")) for r in responses]
    assert all(r.status_code == 201 for r in responses), answers
    bodies = [{k: v for k, v in r.json().items() if k != "replayed"} for r in responses]
    assert all(b == bodies[0] for b in bodies), bodies
    assert sum(r.json()["replayed"] is False for r in responses) == 1
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == THREADS - 1
    assert all(r.json()["replayed"] is True for r in replayed)

    events = client.get(f"/contracts/{world.a.contract_id}/history", headers=world.auditor).json()
    released = [e for e in events if e["type"] == "TrancheReleased" and e.get("data", e).get("tranche_id") == "t-volume"]
    assert len(released) == 1, released
    fund = client.get(f"/funds/{world.fund_id}", headers=world.auditor).json()
    assert fund["disbursed"] == "1000.00", fund
