"""Posting service visits: who may deliver them, for what, when and to whom."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ledger.domain.errors import (
    BeneficiaryDeregistered,
    CaseStateConflict,
    ContractNotActive,
    OutsideContractTerm,
    ServiceNotContracted,
    ServiceNotReferred,
    Subcontracting,
)
from tests.integration.helpers import PURCHASER, World, register_contractor, today


@pytest.fixture
def world(ledger):
    return World.build(ledger)


def refused(world: World, error: type[Exception], case_id: str, **kw) -> None:
    """The visit is refused with the error, and nothing is recorded."""
    head = world.ledger.head()
    with pytest.raises(error):
        world.visit(case_id, **kw)
    assert world.ledger.head() == head


class TestNoSubcontracting:
    def test_an_enrolled_worker_may_deliver(self, world):
        visit_id = world.visit(world.case())
        assert world.ledger.get_visit(PURCHASER, visit_id)["worker_id"] == world.worker

    def test_a_worker_of_another_contractor_is_refused(self, world, ledger):
        other = register_contractor(ledger, name="Another Centre")
        refused(world, Subcontracting, world.case(), worker_id=other.workers[0])

    def test_a_worker_unknown_to_anyone_is_refused(self, world):
        refused(world, Subcontracting, world.case(), worker_id="someone-hired-for-the-day")

    def test_a_removed_worker_is_refused(self, world, ledger):
        case_id = world.case()
        removed = world.org.workers[1]
        ledger.remove_worker(world.contractor, world.org.contractor_id, removed, "left the organisation")
        refused(world, Subcontracting, case_id, worker_id=removed)


class TestWhatMayBeDelivered:
    def test_a_service_not_in_the_contract_is_refused(self, world):
        refused(world, ServiceNotContracted, world.case(), service_code="bathing")

    def test_a_referral_for_a_service_not_in_the_contract_is_refused(self, world, ledger):
        beneficiary_id = world.beneficiary()
        head = ledger.head()
        with pytest.raises(ServiceNotContracted):
            world.case(beneficiary_id, services=["bathing"])
        assert ledger.head() == head

    def test_a_contracted_service_not_in_the_referral_is_refused(self, world):
        refused(world, ServiceNotReferred, world.case(services=["visiting"]), service_code="meals")

    def test_every_referred_service_may_be_delivered(self, world):
        case_id = world.case(services=["visiting", "meals"])
        world.visit(case_id, service_code="visiting")
        world.visit(case_id, service_code="meals")


class TestWhenAndToWhom:
    def test_a_visit_before_the_term_is_refused(self, ledger):
        world = World.build(ledger, start_date=today() - timedelta(days=10), end_date=today() + timedelta(days=300))
        case_id = world.case()
        long_ago = datetime.now(timezone.utc) - timedelta(days=20)
        refused(world, OutsideContractTerm, case_id, when=(long_ago, long_ago + timedelta(hours=1)))

    def test_a_visit_after_the_term_is_refused(self, ledger):
        world = World.build(ledger, start_date=today() - timedelta(days=300), end_date=today() - timedelta(days=2))
        refused(world, OutsideContractTerm, world.case())

    def test_a_visit_to_a_deregistered_beneficiary_is_refused(self, world, ledger):
        beneficiary_id = world.beneficiary()
        case_id = world.case(beneficiary_id)
        ledger.deregister_beneficiary(PURCHASER, beneficiary_id, "deceased", "")
        refused(world, BeneficiaryDeregistered, case_id)

    def test_a_visit_on_a_case_not_yet_accepted_is_refused(self, world):
        refused(world, CaseStateConflict, world.case(accept=False))

    def test_a_visit_on_a_declined_case_is_refused(self, world, ledger):
        case_id = world.case(accept=False)
        ledger.decline_case(world.contractor, case_id, "no worker in that village")
        refused(world, CaseStateConflict, case_id)

    def test_a_visit_on_a_closed_case_is_refused(self, world, ledger):
        case_id = world.case()
        ledger.close_case(world.contractor, case_id, "services complete")
        refused(world, CaseStateConflict, case_id)

    def test_a_visit_under_a_suspended_contract_is_refused(self, world, ledger):
        case_id = world.case()
        ledger.suspend_contract(PURCHASER, world.contract_id, "inquiry")
        refused(world, ContractNotActive, case_id)
