"""Tamper evidence over HTTP: the chain kept beside the read models, signed checkpoints for the
auditor, purchaser and finance, and verification for the auditor that names an altered row."""

from __future__ import annotations

import time

from projections.chain.signing import Checkpoint
from tests.api.builders import head, post, visit_body
from tests.integration.tampering import EventsTable


def _chained(client, timeout: float = 5.0) -> dict:
    """Waits for the service's chain to reach the log's head; returns a checkpoint of it."""
    deadline = time.monotonic() + timeout
    target = head(client)
    auditor = client.app.state.ledger.issue_token("auditor", "audit-bureau", "auditor-chain")
    headers = {"Authorization": f"Bearer {auditor.token}"}
    while True:
        checkpoint = client.get("/audit/checkpoint", headers=headers).json()
        if checkpoint["position"] >= target:
            return checkpoint
        assert time.monotonic() < deadline, f"the chain stayed at {checkpoint['position']}, the log is at {target}"
        time.sleep(0.05)


def test_the_chain_reaches_a_new_visit_within_seconds_of_its_answer(client, world):
    post(client, "/visits", world.a.token, visit_body(world.a.case_id, world.a.worker_id, hours_ago=5))
    checkpoint = _chained(client)
    assert checkpoint["position"] >= checkpoint["event_count"] > 0  # positions may have gaps
    assert Checkpoint.from_dict(checkpoint).signature_valid()


def test_a_checkpoint_is_signed_for_the_auditor_purchaser_and_finance_and_refused_to_others(client, world):
    for role in ("auditor", "purchaser", "finance"):
        r = client.get("/audit/checkpoint", headers=world.role(role))
        assert r.status_code == 200, (role, r.text)
        body = r.json()
        assert (body["algorithm"], body["hash_algorithm"]) == ("Ed25519", "SHA-256")
        assert Checkpoint.from_dict(body).signature_valid()
    for role in ("contractor", "evaluator"):
        r = client.get("/audit/checkpoint", headers=world.role(role))
        assert (r.status_code, r.json()["error"]) == (403, "Forbidden"), role


def test_an_auditor_is_told_which_position_was_altered_with_and_without_a_checkpoint(client, world):
    checkpoint = _chained(client)
    assert client.get("/audit/verify", headers=world.auditor).json()["intact"] is True
    assert client.get("/audit/verify", headers=world.purchaser).status_code == 403

    state = client.app.state
    events = EventsTable(state.ledger, state.read_side.engine)
    target = events.positions()[5]
    events.update(target, "topic", events.altered(events.row(target), "topic"))

    report = client.get("/audit/verify", headers=world.auditor).json()
    assert (report["intact"], report["first_bad_position"], report["problem"]) == (False, target, "altered")
    r = client.post("/audit/verify", json=checkpoint, headers=world.auditor)
    assert r.status_code == 200, r.text
    assert (r.json()["first_bad_position"], r.json()["problem"]) == (target, "altered")
    r = client.post("/audit/verify", json={"position": 1, "head_hash": "nothex"}, headers=world.auditor)
    assert r.status_code == 422 and "error" in r.json()  # not a checkpoint
