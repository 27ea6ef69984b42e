"""Red flags: each kind planted in a real history is raised with the events that show it, an
honest history raises none, and a rebuild gives the same flags."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

import pytest

from ledger.bootstrap import build_ledger
from ledger.processes import MilestoneProcess
from projections import queries
from projections.runner import ProjectionRunner, Rebuilder
from projections.store import make_engine, migrate
from tests.integration.helpers import PURCHASER, World

DAY_LIMIT = 3
SMALL_LINE = {"lines": [{"service_code": "visiting", "quantity": 10, "unit_price": "50.00"}],
              "milestones": [{"milestone_id": "m", "kind": "service_volume", "service_code": "visiting", "quantity": 3}],
              "tranches": [{"tranche_id": "t", "milestone_id": "m", "amount": "150.00"}]}  # fmt: skip


@pytest.fixture
def ledger(settings):
    app = build_ledger(settings.model_copy(update={"max_visits_per_worker_day": DAY_LIMIT}))
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def flags(ledger, settings):
    """Runs the projections to the head and returns the flags, by kind."""
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    runner = ProjectionRunner(ledger, engine)
    runner.ensure_positions()

    def read(org: str | None = None) -> dict[str, list[dict[str, Any]]]:
        MilestoneProcess(ledger).run_until_idle()
        runner.run_until_idle()
        with engine.connect() as conn:
            items, _ = queries.red_flags(conn, org=org, limit=500)
        found: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            found.setdefault(item["kind"], []).append(item)
        return found

    yield read
    engine.dispose()


def at(hour: int, days_ago: int = 1, minutes: int = 50) -> tuple[datetime, datetime]:
    start = datetime.combine(datetime.now(timezone.utc).date() - timedelta(days=days_ago), time(hour), tzinfo=timezone.utc)
    return start, start + timedelta(minutes=minutes)


def post(world: World, case_id: str, when: tuple[datetime, datetime], evidence_hash: str | None = None, worker: int = 0) -> tuple[str, int]:
    result = world.ledger.record_visit(
        world.contractor, case_id=case_id, worker_id=world.org.workers[worker], service_code="visiting",
        started_at=when[0], ended_at=when[1], evidence_hash=evidence_hash,
    )  # fmt: skip
    return result.ids["visit_id"], result.position


def named(flag: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["event"], p["id"]) for p in flag["evidence"]]


def topic_at(ledger: Any, position: int) -> str:
    return ledger.recorder.select_notifications(start=position, limit=1)[0].topic


def confirm(world: World, visit_id: str) -> None:
    world.ledger.confirm_visit(PURCHASER, visit_id, "follow_up_call")


def test_an_honest_history_raises_no_flag(ledger, flags):
    world = World.build(ledger, **SMALL_LINE)
    case_id = world.case()
    for hour, worker in ((8, 0), (9, 0), (8, 1)):
        visit_id, _ = post(world, case_id, at(hour), evidence_hash=f"photo-{hour}-{worker}", worker=worker)
        confirm(world, visit_id)
    MilestoneProcess(ledger).run_until_idle()
    world.release("t")
    assert flags() == {}


def test_a_visit_that_started_after_its_beneficiary_was_deregistered_is_flagged(ledger, flags):
    world = World.build(ledger)
    beneficiary_id = world.beneficiary()
    case_id = world.case(beneficiary_id)
    soon = datetime.now(timezone.utc) + timedelta(minutes=3)  # within the clock skew a visit may claim
    visit_id, visit_position = post(world, case_id, (soon, soon + timedelta(minutes=5)))
    gone = ledger.deregister_beneficiary(PURCHASER, beneficiary_id, "deceased", "reported by the village").position

    (flag,) = flags()["deregistered_beneficiary"]
    assert flag["subject_id"] == visit_id and flag["raised_position"] == gone
    assert [(p["position"], p["event"], p["id"]) for p in flag["evidence"]] == [
        (gone, "Beneficiary.Deregistered", beneficiary_id),
        (visit_position, "Visit.Delivered", visit_id),
    ]


def test_one_workers_overlapping_visits_are_flagged_naming_both(ledger, flags):
    world = World.build(ledger)
    first, _ = post(world, world.case(), at(8, minutes=60))
    second, position = post(world, world.case(), at(8, minutes=30))
    post(world, world.case(), at(8, minutes=30), worker=1)  # another worker at the same time is fine

    (flag,) = flags()["overlapping_visits"]
    assert flag["subject_id"] == second and flag["raised_position"] == position
    assert named(flag) == [("Visit.Delivered", first), ("Visit.Delivered", second)]


def test_a_visit_inside_its_workers_long_visit_is_flagged_however_many_shorter_visits_came_between(ledger, flags):
    # The overlap lookup reads only visits that started within the worker's longest visit
    # before the new one: the window must reach back to the long visit, not to the last one.
    world = World.build(ledger, **SMALL_LINE)
    case_id = world.case()
    long_visit, _ = post(world, case_id, at(1, days_ago=3, minutes=10 * 60))  # 01:00-11:00
    for days_ago in (2, 1):
        post(world, case_id, at(8, days_ago=days_ago, minutes=20))
    assert "overlapping_visits" not in flags()  # stored: the next visit's lookup reads the table
    inside, position = post(world, case_id, at(10, days_ago=3, minutes=20))  # 10:00-10:20, 9 h after its start

    (flag,) = flags()["overlapping_visits"]
    assert flag["subject_id"] == inside and flag["raised_position"] == position
    assert named(flag) == [("Visit.Delivered", long_visit), ("Visit.Delivered", inside)]


def test_more_visits_a_day_than_the_setting_allows_are_flagged_with_every_visit_of_that_day(ledger, flags):
    world = World.build(ledger)
    case_id = world.case()
    visits = [post(world, case_id, at(hour))[0] for hour in range(8, 8 + DAY_LIMIT)]
    assert "worker_day_limit" not in flags()
    visits.append(post(world, case_id, at(8 + DAY_LIMIT))[0])

    (flag,) = flags()["worker_day_limit"]
    assert flag["subject_id"] == world.worker
    assert flag["detail"]["visits"] == DAY_LIMIT + 1 and flag["detail"]["limit"] == DAY_LIMIT
    assert [i for _, i in named(flag)] == visits


def test_delivery_past_a_lines_contracted_quantity_is_flagged_naming_the_visits_beyond_it(ledger, flags):
    world = World.build(ledger, lines=[{"service_code": "visiting", "quantity": 2, "unit_price": "50.00"}], milestones=[], tranches=[])
    case_id = world.case()
    post(world, case_id, at(8))
    post(world, case_id, at(9))
    assert "over_contracted_quantity" not in flags()
    third, position = post(world, case_id, at(10))

    (flag,) = flags()["over_contracted_quantity"]
    assert flag["contract_id"] == world.contract_id and flag["raised_position"] == position
    assert flag["detail"] == {"service_code": "visiting", "quantity": 2, "delivered": 3}
    assert named(flag) == [("Visit.Delivered", third)]


def test_the_same_evidence_hash_on_two_visits_is_flagged(ledger, flags):
    world = World.build(ledger)
    first, _ = post(world, world.case(), at(8), evidence_hash="sha256:photo-1")
    post(world, world.case(), at(9), evidence_hash="sha256:photo-2")
    second, _ = post(world, world.case(), at(10), evidence_hash="sha256:photo-1")

    (flag,) = flags()["shared_evidence_hash"]
    assert flag["subject_id"] == second
    assert named(flag) == [("Visit.Delivered", first), ("Visit.Delivered", second)]


def test_disputes_and_failed_spot_checks_are_summed_per_contractor_each_named(ledger, flags):
    world = World.build(ledger)
    case_id = world.case()
    disputed, checked, verified = (post(world, case_id, at(hour))[0] for hour in (8, 9, 10))
    ledger.dispute_visit(PURCHASER, disputed, "nobody came", "follow_up_call")
    ledger.spot_check_visit(PURCHASER, checked, "not_found", "no trace of the visit")
    ledger.spot_check_visit(PURCHASER, verified, "verified", "all in order")

    (flag,) = flags()["disputes_and_failed_checks"]
    assert flag["subject_id"] == world.org.contractor_id
    assert flag["detail"] == {"disputed": 1, "failed_checks": 1}
    assert named(flag) == [("Visit.Disputed", disputed), ("Visit.SpotChecked", checked)]
    assert flags(org=world.org.contractor_id)["disputes_and_failed_checks"] == [flag]
    assert flags(org="another-contractor") == {}


def test_money_released_above_the_value_of_confirmed_visits_is_flagged(ledger, flags):
    world = World.build(ledger, **SMALL_LINE)
    case_id = world.case()
    visits = [post(world, case_id, at(hour))[0] for hour in (8, 9, 10)]
    confirm(world, visits[0])  # 50.00 confirmed of the 150.00 the tranche pays
    MilestoneProcess(ledger).run_until_idle()
    release = world.release("t").position

    (flag,) = flags()["paid_above_confirmed"]
    assert flag["contract_id"] == world.contract_id
    assert flag["detail"] == {"released": "150.00", "confirmed_value": "50.00"}
    assert named(flag) == [("Contract.TrancheReleased", "t")]
    assert flag["raised_position"] <= release  # the release saves the contract, then the fund
    assert topic_at(ledger, flag["raised_position"]).endswith("Contract.TrancheReleased")


def test_a_rebuild_raises_the_same_flags(ledger, flags, settings):
    world = World.build(ledger)
    first, _ = post(world, world.case(), at(8), evidence_hash="same")
    post(world, world.case(), at(8), evidence_hash="same")
    ledger.dispute_visit(PURCHASER, first, "nobody came", "follow_up_call")
    live = flags()
    engine = make_engine(settings.sqlalchemy_url())
    try:
        Rebuilder(ledger, engine).rebuild("flags")
    finally:
        engine.dispose()
    assert flags() == live and set(live) == {"overlapping_visits", "shared_evidence_hash", "disputes_and_failed_checks"}
