"""Contract rules: term, budget, milestones, tranches, acceptance and settlement."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.domain.base import add_years
from ledger.domain.contracts import ACCEPTED, FULFILLED, PENDING, RELEASED, SETTLED
from ledger.domain.errors import (
    AppealPending,
    BudgetExceeded,
    ContractNotActive,
    ContractStateConflict,
    FinalEvaluationMissing,
    InvalidContractTerms,
    InvalidPeriod,
    MilestoneNotFulfilled,
    NotAccepted,
    OutsideContractTerm,
    ServiceNotContracted,
    TermTooLong,
    TrancheAlreadyReleased,
    TrancheClosed,
    UnknownServiceItem,
)
from ledger.domain.rules import Policy
from tests.unit.support import END, FINANCE, POLICY, PURCHASER, START, TRANCHES, sign


class TestTerm:
    def test_a_term_of_exactly_three_years_is_allowed(self):
        contract = sign(end_date=add_years(START, 3))
        assert contract.end_date == date(2028, 1, 1)

    def test_a_term_one_day_over_three_years_is_refused(self):
        with pytest.raises(TermTooLong):
            sign(end_date=add_years(START, 3) + timedelta(days=1))

    def test_the_maximum_term_is_a_policy_setting(self):
        with pytest.raises(TermTooLong):
            sign(policy=Policy(max_term_years=1), end_date=date(2026, 6, 1))
        assert sign(policy=Policy(max_term_years=5), end_date=date(2029, 6, 1)).end_date == date(2029, 6, 1)

    def test_a_term_must_end_after_it_starts(self):
        with pytest.raises(InvalidPeriod):
            sign(end_date=START)


class TestTermsOfTheContract:
    def test_the_budget_is_the_sum_of_the_service_lines(self):
        assert sign().budget == Decimal("7000.00")

    def test_tranches_adding_up_to_more_than_the_budget_are_refused(self):
        tranches = [dict(t) for t in TRANCHES]
        tranches[0]["amount"] = "2000.01"
        with pytest.raises(BudgetExceeded):
            sign(tranches=tranches)

    def test_tranches_adding_up_to_exactly_the_budget_are_allowed(self):
        assert sum(t["amount"] for t in sign().tranches.values()) == Decimal("7000.00")

    def test_a_service_outside_the_catalogue_is_refused(self):
        with pytest.raises(UnknownServiceItem):
            sign(lines=[{"service_code": "massage", "quantity": 1, "unit_price": "1.00"}], milestones=[], tranches=[])

    def test_a_volume_milestone_must_count_a_contracted_service(self):
        with pytest.raises(InvalidContractTerms):
            sign(milestones=[{"milestone_id": "m", "kind": "service_volume", "service_code": "bathing", "quantity": 1}], tranches=[])

    def test_a_tranche_must_hang_on_a_known_milestone(self):
        with pytest.raises(InvalidContractTerms):
            sign(tranches=[{"tranche_id": "t", "milestone_id": "nowhere", "amount": "1.00"}])

    def test_a_date_milestone_must_fall_within_the_term(self):
        with pytest.raises(InvalidContractTerms):
            sign(milestones=[{"milestone_id": "m", "kind": "date", "due_date": END + timedelta(days=1)}], tranches=[])


class TestVisitsAgainstTheContract:
    def test_a_service_not_on_a_line_is_not_contracted(self):
        contract = sign()
        contract.check_service("visiting")
        with pytest.raises(ServiceNotContracted):
            contract.check_service("bathing")

    def test_days_outside_the_term_are_refused_and_its_bounds_are_inside(self):
        contract = sign()
        contract.check_within_term(START)
        contract.check_within_term(END)
        with pytest.raises(OutsideContractTerm):
            contract.check_within_term(START - timedelta(days=1))
        with pytest.raises(OutsideContractTerm):
            contract.check_within_term(END + timedelta(days=1))


class TestVolumeAwaited:
    def test_a_pending_volume_milestone_awaits_its_own_service_only(self):
        contract = sign()
        assert (contract.awaits_volume_of("visiting"), contract.awaits_volume_of("meals")) == (True, False)

    def test_a_milestone_over_every_service_awaits_each_of_them(self):
        every = [{"milestone_id": "m-all", "kind": "service_volume", "quantity": 5}]
        contract = sign(milestones=every, tranches=[])
        assert contract.awaits_volume_of("visiting") and contract.awaits_volume_of("meals")

    def test_a_fulfilled_milestone_awaits_nothing_more(self):
        contract = sign()
        contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
        assert not contract.awaits_volume_of("visiting")


class TestTranches:
    def test_a_tranche_cannot_be_released_before_its_milestone(self):
        contract = sign()
        with pytest.raises(MilestoneNotFulfilled):
            contract.release_tranche("t-volume", POLICY, FINANCE)
        assert contract.tranches["t-volume"]["status"] == PENDING

    def test_a_tranche_cannot_be_released_twice(self):
        contract = sign()
        contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
        assert contract.release_tranche("t-volume", POLICY, FINANCE) == Decimal("2000.00")
        with pytest.raises(TrancheAlreadyReleased):
            contract.release_tranche("t-volume", POLICY, FINANCE)
        assert contract.released == Decimal("2000.00")

    def test_a_withheld_tranche_cannot_be_released(self):
        contract = sign()
        contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
        contract.withhold_tranche("t-volume", "poor records", FINANCE)
        with pytest.raises(TrancheClosed):
            contract.release_tranche("t-volume", POLICY, FINANCE)

    def test_a_volume_milestone_needs_the_full_quantity(self):
        contract = sign()
        with pytest.raises(MilestoneNotFulfilled):
            contract.fulfil_volume_milestone("m-volume", 2, FINANCE)
        contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
        assert contract.milestones["m-volume"]["status"] == FULFILLED

    def test_a_reduction_lowers_what_the_tranche_pays(self):
        contract = sign()
        contract.reduce_tranche("t-volume", Decimal("150.00"), "late reports", FINANCE)
        contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
        assert contract.release_tranche("t-volume", POLICY, FINANCE) == Decimal("1850.00")
        assert contract.tranches["t-volume"]["withheld_amount"] == Decimal("150.00")

    def test_a_suspended_contract_pays_nothing(self):
        contract = sign()
        contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
        contract.suspend("investigation", PURCHASER)
        with pytest.raises(ContractNotActive):
            contract.release_tranche("t-volume", POLICY, FINANCE)


class TestEvaluationResults:
    def test_a_passing_grade_fulfils_the_milestones_of_its_stage_only(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "mid_term", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("85.00"), "good", POLICY, PURCHASER)
        assert contract.milestones["m-mid"]["status"] == FULFILLED
        assert contract.milestones["m-final"]["status"] == PENDING

    def test_a_failing_grade_fulfils_nothing(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "mid_term", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("50.00"), "unqualified", POLICY, PURCHASER)
        assert contract.milestones["m-mid"]["status"] == PENDING
        with pytest.raises(MilestoneNotFulfilled):
            contract.release_tranche("t-mid", POLICY, FINANCE)

    def test_a_qualified_grade_pays_80_percent_and_records_the_rest_as_withheld(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "mid_term", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("70.00"), "qualified", POLICY, PURCHASER)
        assert contract.payable("t-mid", POLICY) == Decimal("800.00")
        assert contract.release_tranche("t-mid", POLICY, FINANCE) == Decimal("800.00")
        assert contract.tranches["t-mid"]["released_amount"] == Decimal("800.00")
        assert contract.tranches["t-mid"]["withheld_amount"] == Decimal("200.00")
        assert contract.withheld == Decimal("200.00")

    def test_a_tranche_waits_while_its_evaluation_is_under_appeal(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "mid_term", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("70.00"), "qualified", POLICY, PURCHASER)
        contract.evaluation_appealed("ev-1", PURCHASER)
        with pytest.raises(AppealPending):
            contract.release_tranche("t-mid", POLICY, FINANCE)
        contract.appeal_resolved("ev-1", Decimal("92.00"), "excellent", POLICY, PURCHASER)
        assert contract.release_tranche("t-mid", POLICY, FINANCE) == Decimal("1000.00")


class TestAcceptance:
    def test_acceptance_needs_a_final_evaluation(self):
        contract = sign()
        with pytest.raises(FinalEvaluationMissing):
            contract.accept(POLICY, "done", PURCHASER)

    def test_acceptance_needs_the_final_evaluation_concluded(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "final", PURCHASER)
        with pytest.raises(FinalEvaluationMissing):
            contract.accept(POLICY, "done", PURCHASER)

    def test_acceptance_needs_a_passing_final_grade(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "final", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("40.00"), "unqualified", POLICY, PURCHASER)
        with pytest.raises(FinalEvaluationMissing):
            contract.accept(POLICY, "done", PURCHASER)

    def test_a_passing_mid_term_evaluation_is_not_enough(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "mid_term", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("95.00"), "excellent", POLICY, PURCHASER)
        with pytest.raises(FinalEvaluationMissing):
            contract.accept(POLICY, "done", PURCHASER)

    def test_acceptance_waits_while_the_final_evaluation_is_under_appeal(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "final", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("85.00"), "good", POLICY, PURCHASER)
        contract.evaluation_appealed("ev-1", PURCHASER)
        with pytest.raises(AppealPending):
            contract.accept(POLICY, "done", PURCHASER)
        assert contract.status != ACCEPTED

    def test_acceptance_fulfils_the_acceptance_milestone(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "final", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("85.00"), "good", POLICY, PURCHASER)
        contract.accept(POLICY, "done", PURCHASER)
        assert contract.status == ACCEPTED
        assert contract.milestones["m-accept"]["status"] == FULFILLED


class TestSettlement:
    def test_settlement_needs_acceptance(self):
        contract = sign()
        with pytest.raises(NotAccepted):
            contract.settle(FINANCE)

    def test_settlement_needs_every_tranche_released_or_withheld(self):
        contract = sign()
        contract.evaluation_opened("ev-1", "final", PURCHASER)
        contract.evaluation_concluded("ev-1", Decimal("85.00"), "good", POLICY, PURCHASER)
        contract.accept(POLICY, "done", PURCHASER)
        with pytest.raises(ContractStateConflict):
            contract.settle(FINANCE)
        contract.release_tranche("t-final", POLICY, FINANCE)
        contract.release_tranche("t-accept", POLICY, FINANCE)
        contract.withhold_tranche("t-volume", "volume not delivered", FINANCE)
        contract.withhold_tranche("t-mid", "no mid-term evaluation", FINANCE)
        assert contract.settle(FINANCE) == Decimal("4000.00")
        assert contract.status == SETTLED
        assert contract.tranches["t-final"]["status"] == RELEASED


def test_every_contract_event_records_who_did_it_and_when_in_utc():
    contract = sign()
    contract.fulfil_volume_milestone("m-volume", 3, FINANCE)
    contract.release_tranche("t-volume", POLICY, FINANCE)
    events = contract.collect_events()
    assert [type(e).__name__ for e in events] == ["Signed", "MilestoneFulfilled", "TrancheReleased"]
    for e in events:
        assert e.by in (PURCHASER, FINANCE)
        assert e.timestamp.utcoffset() == timedelta(0)
