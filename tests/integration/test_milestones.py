"""The milestone process: delivered visits, followed through the log, fulfil volume milestones."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from eventsourcing.utils import get_topic

from ledger.domain.records import VolumeTally
from ledger.domain.visits import Visit
from ledger.processes import MilestoneProcess
from tests.integration.helpers import FINANCE, PURCHASER, T_VOLUME, VOLUME, VOLUME_QUANTITY, World


@pytest.fixture
def world(ledger):
    return World.build(ledger)


def tally(world: World) -> dict[str, int]:
    return dict(world.ledger.repository.get(VolumeTally.create_id(contract_id=world.contract_id)).counts)


def deliver(world: World, n: int, service_code: str = "visiting", case_id: str | None = None) -> list[str]:
    case_id = case_id or world.case(services=["visiting", "meals"])
    return [world.visit(case_id, service_code=service_code) for _ in range(n)]


class TestVolumeMilestones:
    def test_delivered_visits_fulfil_the_milestone_once_the_process_runs(self, world, ledger):
        deliver(world, VOLUME_QUANTITY)
        assert world.milestone(VOLUME)["status"] == "pending"
        MilestoneProcess(ledger).run_until_idle()
        milestone = world.milestone(VOLUME)
        assert milestone["status"] == "fulfilled"
        assert milestone["basis"] == {"delivered": VOLUME_QUANTITY}
        world.release(T_VOLUME)
        assert world.fund()["disbursed"] == Decimal("2000.00")

    def test_a_volume_reached_while_the_contract_was_suspended_is_fulfilled_on_resumption(self, world, ledger):
        visits = deliver(world, VOLUME_QUANTITY - 1)
        MilestoneProcess(ledger).run_until_idle()
        case_id = ledger.get_visit(world.contractor, visits[0])["case_id"]
        world.visit(case_id)
        ledger.suspend_contract(PURCHASER, world.contract_id, "inspection")
        MilestoneProcess(ledger).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "pending"
        ledger.resume_contract(PURCHASER, world.contract_id)
        MilestoneProcess(ledger).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "fulfilled"

    def test_fewer_visits_than_the_quantity_fulfil_nothing(self, world, ledger):
        deliver(world, VOLUME_QUANTITY - 1)
        MilestoneProcess(ledger).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "pending"
        assert world.contract()["delivered"] == {"visiting": VOLUME_QUANTITY - 1}

    def test_visits_of_another_service_do_not_count_towards_the_milestone(self, world, ledger):
        case_id = world.case(services=["visiting", "meals"])
        deliver(world, VOLUME_QUANTITY, "meals", case_id)
        deliver(world, VOLUME_QUANTITY - 1, "visiting", case_id)
        MilestoneProcess(ledger).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "pending"
        assert tally(world) == {"meals": VOLUME_QUANTITY, "visiting": VOLUME_QUANTITY - 1}

    @pytest.mark.parametrize("undo", ["void", "dispute", "spot_check_not_found", "spot_check_falsified"])
    def test_voided_disputed_and_failed_visits_do_not_count(self, world, ledger, undo):
        visit_ids = deliver(world, VOLUME_QUANTITY)
        first = visit_ids[0]
        if undo == "void":
            ledger.void_visit(world.contractor, first, "posted by mistake")
        elif undo == "dispute":
            ledger.dispute_visit(PURCHASER, first, "the beneficiary says nobody came", "follow_up_call")
        else:
            ledger.spot_check_visit(PURCHASER, first, undo.removeprefix("spot_check_"), "unannounced visit")
        MilestoneProcess(ledger).run_until_idle()
        assert tally(world) == {"visiting": VOLUME_QUANTITY - 1}
        assert world.milestone(VOLUME)["status"] == "pending"

        deliver(world, 1)
        MilestoneProcess(ledger).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "fulfilled"

    def test_a_verified_or_confirmed_visit_still_counts(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY)
        ledger.spot_check_visit(PURCHASER, visit_ids[0], "verified", "")
        ledger.confirm_visit(PURCHASER, visit_ids[1], "follow_up_call")
        MilestoneProcess(ledger).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "fulfilled"

    def test_a_visit_undone_twice_is_subtracted_once(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY)
        ledger.dispute_visit(PURCHASER, visit_ids[0], "nobody came", "follow_up_call")
        ledger.spot_check_visit(PURCHASER, visit_ids[0], "falsified", "")
        ledger.void_visit(world.contractor, visit_ids[0], "fraud")
        MilestoneProcess(ledger).run_until_idle()
        assert tally(world) == {"visiting": VOLUME_QUANTITY - 1}


class TestNeverCountsTwice:
    def test_running_the_process_again_counts_nothing_new(self, world, ledger):
        deliver(world, 2)
        process = MilestoneProcess(ledger)
        assert process.run_until_idle() == 2
        assert process.run_until_idle() == 0
        assert tally(world) == {"visiting": 2}

    def test_two_processes_following_the_same_log_count_each_visit_once(self, world, ledger):
        deliver(world, 2)
        first, second = MilestoneProcess(ledger), MilestoneProcess(ledger)
        first.run_until_idle()
        second.run_until_idle()
        assert tally(world) == {"visiting": 2}
        deliver(world, 3)
        second.run_until_idle()
        first.run_until_idle()
        assert tally(world) == {"visiting": 5}
        assert first.position() == second.position()

    def test_a_process_in_small_batches_counts_the_same(self, world, ledger):
        visit_ids = deliver(world, 4)
        ledger.void_visit(world.contractor, visit_ids[1], "duplicate")
        MilestoneProcess(ledger, batch_size=1).run_until_idle()
        MilestoneProcess(ledger).run_until_idle()
        assert tally(world) == {"visiting": 3}
        tallied = [e for e in ledger.events.get(VolumeTally.create_id(contract_id=world.contract_id)) if type(e).__name__ == "Tallied"]
        assert sum(sum(e.deltas.values()) for e in tallied) == 3

    def test_the_process_records_its_events_as_the_system(self, world, ledger):
        deliver(world, VOLUME_QUANTITY)
        MilestoneProcess(ledger).run_until_idle()
        fulfilled = [e for e in ledger.history(FINANCE, "contract", world.contract_id) if e["type"] == "MilestoneFulfilled"]
        assert [e["actor"]["role"] for e in fulfilled] == ["system"]
        assert fulfilled[0]["actor"]["correlation_id"].startswith("milestones:")


def delivered_positions(ledger) -> dict[str, int]:
    """Each visit's Delivered event position, read from the log itself."""
    notifications = ledger.recorder.select_notifications(start=1, limit=10_000, topics=[get_topic(Visit.Delivered)])
    return {str(ledger.mapper.to_domain_event(n).originator_id): n.id for n in notifications}


def counted(world: World) -> list[dict[str, object]] | None:
    fulfilled = [e for e in world.ledger.events.get(uuid.UUID(world.contract_id)) if type(e).__name__ == "MilestoneFulfilled"]
    assert len(fulfilled) == 1
    return fulfilled[0].counted


class TestCountedVisits:
    def test_the_fulfilment_names_the_visits_that_counted_in_log_order_up_to_the_quantity(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY + 2)
        ledger.void_visit(world.contractor, visit_ids[1], "posted twice")
        MilestoneProcess(ledger).run_until_idle()
        expected = [visit_ids[0], *visit_ids[2 : VOLUME_QUANTITY + 1]]
        positions = delivered_positions(ledger)
        assert counted(world) == [{"visit_id": v, "position": positions[v]} for v in expected]

    def test_a_visit_voided_after_the_fulfilment_stays_named_by_it(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY + 1)
        ledger.void_visit(world.contractor, visit_ids[1], "posted twice")
        MilestoneProcess(ledger, batch_size=1).run_until_idle()  # reaches the volume before the void
        assert [c["visit_id"] for c in counted(world)] == visit_ids[:VOLUME_QUANTITY]

    def test_a_visit_that_stops_counting_before_the_volume_is_reached_is_replaced_by_the_next(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY - 1)
        MilestoneProcess(ledger).run_until_idle()
        ledger.dispute_visit(PURCHASER, visit_ids[0], "nobody came", "follow_up_call")
        MilestoneProcess(ledger).run_until_idle()
        later = deliver(world, 2)
        MilestoneProcess(ledger).run_until_idle()
        assert [c["visit_id"] for c in counted(world)] == [visit_ids[1], *later]

    def test_the_tally_keeps_its_counting_visits_across_a_snapshot(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY - 1)
        MilestoneProcess(ledger, batch_size=1).run_until_idle()
        tally_id = VolumeTally.create_id(contract_id=world.contract_id)
        ledger.take_snapshot(tally_id)
        deliver(world, 1)
        MilestoneProcess(ledger).run_until_idle()
        assert [c["visit_id"] for c in counted(world)][: VOLUME_QUANTITY - 1] == visit_ids


def kept(world: World) -> dict[str, int]:
    """How many visits of each service the tally keeps by name."""
    t = world.ledger.repository.get(VolumeTally.create_id(contract_id=world.contract_id))
    return {code: len(visits) for code, visits in t.counting.items()}


class TestWhatTheTallyKeeps:
    def test_visits_of_a_service_no_milestone_waits_for_are_counted_but_not_kept(self, world, ledger):
        deliver(world, 3, service_code="meals")
        deliver(world, 2)
        MilestoneProcess(ledger).run_until_idle()
        assert tally(world) == {"meals": 3, "visiting": 2}
        assert kept(world) == {"visiting": 2}

    def test_a_service_is_forgotten_once_its_last_milestone_is_fulfilled_and_stays_counted(self, world, ledger):
        deliver(world, VOLUME_QUANTITY + 3)
        MilestoneProcess(ledger, batch_size=7).run_until_idle()
        assert world.milestone(VOLUME)["status"] == "fulfilled" and len(counted(world) or []) == VOLUME_QUANTITY
        deliver(world, 2)
        MilestoneProcess(ledger).run_until_idle()
        assert tally(world) == {"visiting": VOLUME_QUANTITY + 5}
        assert kept(world) == {}
        forgot = [e for e in ledger.events.get(VolumeTally.create_id(contract_id=world.contract_id)) if type(e).__name__ == "Forgot"]
        assert [e.service_codes for e in forgot] == [["visiting"]]

    def test_a_void_of_a_forgotten_visit_still_lowers_the_count(self, world, ledger):
        visit_ids = deliver(world, VOLUME_QUANTITY + 1)
        MilestoneProcess(ledger).run_until_idle()
        ledger.void_visit(world.contractor, visit_ids[0], "posted twice")
        MilestoneProcess(ledger).run_until_idle()
        assert tally(world) == {"visiting": VOLUME_QUANTITY} and kept(world) == {}
