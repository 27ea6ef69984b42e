"""Referrals and cases: the carer ratios decide how many cases a contractor may accept."""

from __future__ import annotations

import pytest

from ledger.domain.errors import BeneficiaryDeregistered, CarerRatioExceeded, CaseStateConflict, Forbidden
from tests.integration.helpers import PURCHASER, World


class TestAcceptCase:
    @pytest.mark.parametrize(("level", "per_carer"), [("self_reliant", 10), ("partly_lost", 6), ("fully_lost", 3)])
    def test_a_contractor_accepts_cases_up_to_its_workers_times_the_ratio(self, ledger, level, per_carer):
        world = World.build(ledger, workers=1)
        for _ in range(per_carer):
            world.case(world.beneficiary(self_care_level=level))
        case_id = world.case(world.beneficiary(self_care_level=level), accept=False)
        head = ledger.head()
        with pytest.raises(CarerRatioExceeded):
            ledger.accept_case(world.contractor, case_id)
        assert ledger.head() == head
        assert ledger.get_case(PURCHASER, case_id)["status"] == "referred"

    def test_enrolling_a_worker_makes_room(self, ledger):
        world = World.build(ledger, workers=1)
        for _ in range(3):
            world.case(world.beneficiary(self_care_level="fully_lost"))
        case_id = world.case(world.beneficiary(self_care_level="fully_lost"), accept=False)
        with pytest.raises(CarerRatioExceeded):
            ledger.accept_case(world.contractor, case_id)
        ledger.enrol_worker(world.contractor, world.org.contractor_id, name="New carer", qualification="nurse")
        ledger.accept_case(world.contractor, case_id)

    @pytest.mark.parametrize("ending", ["close", "withdraw"])
    def test_ending_a_case_frees_capacity(self, ledger, ending):
        world = World.build(ledger, workers=1)
        first = world.case(world.beneficiary(self_care_level="fully_lost"))
        for _ in range(2):
            world.case(world.beneficiary(self_care_level="fully_lost"))
        waiting = world.case(world.beneficiary(self_care_level="fully_lost"), accept=False)
        with pytest.raises(CarerRatioExceeded):
            ledger.accept_case(world.contractor, waiting)
        if ending == "close":
            ledger.close_case(world.contractor, first, "services complete")
        else:
            ledger.withdraw_case(PURCHASER, first, "moved to residential care")
        ledger.accept_case(world.contractor, waiting)
        assert ledger.get_case(PURCHASER, waiting)["status"] == "accepted"

    def test_a_worker_the_caseload_needs_cannot_be_removed(self, ledger):
        world = World.build(ledger, workers=1)
        world.case(world.beneficiary(self_care_level="fully_lost"))
        with pytest.raises(CarerRatioExceeded):
            ledger.remove_worker(world.contractor, world.org.contractor_id, world.worker, "left")

    def test_a_case_is_accepted_once(self, ledger):
        world = World.build(ledger)
        case_id = world.case()
        with pytest.raises(CaseStateConflict):
            ledger.accept_case(world.contractor, case_id)

    def test_only_the_contractor_accepts_a_case(self, ledger):
        world = World.build(ledger)
        case_id = world.case(accept=False)
        with pytest.raises(Forbidden):
            ledger.accept_case(PURCHASER, case_id)

    def test_a_case_for_a_beneficiary_deregistered_since_referral_cannot_be_accepted(self, ledger):
        world = World.build(ledger)
        beneficiary_id = world.beneficiary()
        case_id = world.case(beneficiary_id, accept=False)
        ledger.deregister_beneficiary(PURCHASER, beneficiary_id, "moved_away", "")
        with pytest.raises(BeneficiaryDeregistered):
            ledger.accept_case(world.contractor, case_id)

    def test_a_deregistered_beneficiary_cannot_be_referred(self, ledger):
        world = World.build(ledger)
        beneficiary_id = world.beneficiary()
        ledger.deregister_beneficiary(PURCHASER, beneficiary_id, "deceased", "")
        head = ledger.head()
        with pytest.raises(BeneficiaryDeregistered):
            world.case(beneficiary_id)
        assert ledger.head() == head
