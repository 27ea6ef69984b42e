"""Every stored event says who did it (actor, role, organisation, correlation id) and when, in UTC."""

from __future__ import annotations

from datetime import timedelta

from ledger.domain.actors import Actor
from ledger.processes import MilestoneProcess
from tests.integration.helpers import AUDITOR, EVALUATOR, FINANCE, PURCHASER, T_MID_TERM, VOLUME_QUANTITY, World


def busy_world(ledger) -> tuple[World, dict[str, str]]:
    world = World.build(ledger)
    beneficiary_id = world.beneficiary()
    case_id = world.case(beneficiary_id)
    visit_ids = [world.visit(case_id) for _ in range(VOLUME_QUANTITY + 1)]
    ledger.void_visit(world.contractor, visit_ids[0], "duplicate")
    MilestoneProcess(ledger).run_until_idle()
    evaluation_id = world.evaluation("mid_term", 70)
    ledger.appeal_evaluation(world.contractor, evaluation_id, "too low")
    ledger.resolve_appeal(PURCHASER, evaluation_id, upheld=False, revised_scores=None, note="dismissed")
    world.release(T_MID_TERM)
    ids = {
        "fund": world.fund_id,
        "contractor": world.org.contractor_id,
        "beneficiary": beneficiary_id,
        "contract": world.contract_id,
        "case": case_id,
        "visit": visit_ids[0],
        "evaluation": evaluation_id,
    }
    return world, ids


def test_every_stored_event_carries_an_actor_and_a_utc_timestamp(ledger):
    busy_world(ledger)
    notifications = ledger.recorder.select_notifications(start=1, limit=10_000)
    assert len(notifications) == ledger.head()
    for notification in notifications:
        event = ledger.mapper.to_domain_event(notification)
        assert isinstance(event.by, Actor), notification.topic
        assert event.by.actor_id and event.by.role and event.by.correlation_id, notification.topic
        assert event.timestamp.tzinfo is not None and event.timestamp.utcoffset() == timedelta(0), notification.topic


def test_the_history_of_each_object_names_who_did_what(ledger):
    world, ids = busy_world(ledger)
    for kind, aggregate_id in ids.items():
        history = ledger.history(AUDITOR, kind, aggregate_id)
        assert history, kind
        assert [e["version"] for e in history] == list(range(1, len(history) + 1))
        for event in history:
            assert set(event["actor"]) == {"actor_id", "role", "organisation_id", "correlation_id"}, kind
            assert event["timestamp"].utcoffset() == timedelta(0), kind

    contract = ledger.history(AUDITOR, "contract", ids["contract"])
    actors = {e["type"]: e["actor"] for e in contract}
    assert actors["Signed"] == PURCHASER.as_dict()
    assert actors["TrancheReleased"] == FINANCE.as_dict()
    assert actors["EvaluationAppealed"] == world.contractor.as_dict()
    evaluation = {e["type"]: e["actor"] for e in ledger.history(AUDITOR, "evaluation", ids["evaluation"])}
    assert evaluation["Concluded"] == EVALUATOR.as_dict()
    assert evaluation["Appealed"]["organisation_id"] == world.org.contractor_id
    visit = [e["type"] for e in ledger.history(AUDITOR, "visit", ids["visit"])]
    assert visit == ["Delivered", "Voided"]  # a correction is a new event; nothing is rewritten


def test_each_stream_in_the_log_has_contiguous_versions(ledger):
    busy_world(ledger)
    events = [ledger.mapper.to_domain_event(n) for n in ledger.recorder.select_notifications(start=1, limit=10_000)]
    by_aggregate: dict = {}
    for e in events:
        by_aggregate.setdefault(e.originator_id, []).append(e)
    for stream in by_aggregate.values():
        assert [e.originator_version for e in stream] == list(range(1, len(stream) + 1))
