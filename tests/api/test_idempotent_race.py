"""A finance officer's retry that races its own first attempt is answered with the replay, never
told that someone else released the tranche."""

from __future__ import annotations

import threading
from decimal import Decimal

from tests.api.builders import post, scores

RETRIES = 20


def test_twenty_racing_retries_of_one_keyed_release_all_get_the_first_answer(client, world):
    a = world.a
    post(client, f"/evaluations/{a.evaluation_id}/scores", world.evaluator, scores(90))
    post(client, f"/evaluations/{a.evaluation_id}/conclusion", world.evaluator, {"report": "优秀"})
    path = f"/contracts/{a.contract_id}/tranches/t-mid/release"
    headers = {**world.finance, "Idempotency-Key": "release-MZ-2026-001-mid"}
    barrier = threading.Barrier(RETRIES)
    answers: list[object] = [None] * RETRIES

    def retry(i: int) -> None:
        barrier.wait()
        answers[i] = client.post(path, headers=headers)

    threads = [threading.Thread(target=retry, args=(i,)) for i in range(RETRIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    statuses = [r.status_code for r in answers]  # type: ignore[union-attr]
    assert statuses == [201] * RETRIES, [(r.status_code, r.text) for r in answers if r.status_code != 201]  # type: ignore[union-attr]
    bodies = [r.json() for r in answers]  # type: ignore[union-attr]
    assert sum(not b.pop("replayed") for b in bodies) == 1
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["tranche_id"] == "t-mid"

    contract = [e["type"] for e in client.get(f"/contracts/{a.contract_id}/history", headers=world.auditor).json()]
    assert contract.count("TrancheReleased") == 1
    fund = client.get(f"/funds/{world.fund_id}/history", headers=world.auditor).json()
    assert [e["type"] for e in fund].count("Disbursed") == 1
    assert Decimal(client.get(f"/funds/{world.fund_id}", headers=world.auditor).json()["disbursed"]) == Decimal("1000.00")
