"""Signing, terminating, accepting and settling contracts through the application."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.domain.base import add_years
from ledger.domain.errors import (
    AppealPending,
    BudgetExceeded,
    ContractNotActive,
    ContractorDebarred,
    ContractorSuspended,
    FinalEvaluationMissing,
    FundInsufficient,
    NotAccepted,
    TermTooLong,
)
from tests.integration.helpers import (
    ACCEPTANCE,
    FINAL,
    FINANCE,
    PURCHASER,
    T_ACCEPTANCE,
    T_FINAL,
    T_MID_TERM,
    T_VOLUME,
    World,
    appropriate_fund,
    declare_ceiling,
    default_tranches,
    register_contractor,
    sign_contract,
    today,
)


@pytest.fixture
def setup(ledger):
    declare_ceiling(ledger)
    return appropriate_fund(ledger, "50000.00"), register_contractor(ledger)


class TestSignContract:
    def test_a_term_of_exactly_three_years_is_signed(self, ledger, setup):
        fund_id, org = setup
        start = today()
        ids = sign_contract(ledger, org.contractor_id, fund_id, start_date=start, end_date=add_years(start, 3))
        assert ledger.get_contract(PURCHASER, ids["contract_id"])["end_date"] == add_years(start, 3)

    def test_a_term_over_three_years_is_refused_and_nothing_is_recorded(self, ledger, setup):
        fund_id, org = setup
        start = today()
        head = ledger.head()
        with pytest.raises(TermTooLong):
            sign_contract(ledger, org.contractor_id, fund_id, start_date=start, end_date=add_years(start, 3) + timedelta(days=1))
        assert ledger.head() == head

    def test_tranches_beyond_the_budget_are_refused(self, ledger, setup):
        fund_id, org = setup
        tranches = default_tranches()
        tranches.append({"tranche_id": "t-bonus", "milestone_id": FINAL, "amount": "0.01"})
        head = ledger.head()
        with pytest.raises(BudgetExceeded):
            sign_contract(ledger, org.contractor_id, fund_id, tranches=tranches)
        assert ledger.head() == head

    def test_a_fund_holding_too_little_is_refused(self, ledger, setup):
        _, org = setup
        small_fund = appropriate_fund(ledger, "6999.99")
        head = ledger.head()
        with pytest.raises(FundInsufficient):
            sign_contract(ledger, org.contractor_id, small_fund)
        assert ledger.head() == head
        assert ledger.get_fund(FINANCE, small_fund)["committed"] == Decimal("0.00")

    def test_signing_commits_the_budget_from_the_fund(self, ledger, setup):
        fund_id, org = setup
        contract_id = sign_contract(ledger, org.contractor_id, fund_id)["contract_id"]
        fund = ledger.get_fund(FINANCE, fund_id)
        assert fund["commitments"] == {contract_id: Decimal("7000.00")}
        assert fund["available"] == Decimal("43000.00")

    def test_a_debarred_contractor_cannot_sign(self, ledger, setup):
        fund_id, org = setup
        ledger.debar_contractor(PURCHASER, org.contractor_id, "fraud elsewhere")
        head = ledger.head()
        with pytest.raises(ContractorDebarred):
            sign_contract(ledger, org.contractor_id, fund_id)
        assert ledger.head() == head

    def test_a_suspended_contractor_cannot_sign_until_reinstated(self, ledger, setup):
        fund_id, org = setup
        ledger.suspend_contractor(PURCHASER, org.contractor_id, "inquiry")
        head = ledger.head()
        with pytest.raises(ContractorSuspended):
            sign_contract(ledger, org.contractor_id, fund_id)
        assert ledger.head() == head
        ledger.reinstate_contractor(PURCHASER, org.contractor_id)
        sign_contract(ledger, org.contractor_id, fund_id)


class TestTerminateContract:
    def test_fraud_debars_the_contractor_for_three_years_and_returns_the_unspent_commitment(self, ledger):
        world = World.build(ledger)
        world.evaluation("mid_term", 85)
        world.release(T_MID_TERM)
        ledger.terminate_contract(PURCHASER, world.contract_id, "fraud", "falsified visit records")

        contract = world.contract()
        assert contract["status"] == "terminated"
        contractor = ledger.get_contractor(PURCHASER, world.org.contractor_id)
        assert contractor["debarred"] is True
        debarred = [e for e in ledger.history(PURCHASER, "contractor", world.org.contractor_id) if e["type"] == "Debarred"]
        assert len(debarred) == 1
        assert contractor["debarred_until"].date() == add_years(debarred[0]["timestamp"].date(), ledger.policy.debarment_years)

        fund = world.fund()
        assert fund["commitments"][world.contract_id] == Decimal("1000.00")
        assert fund["disbursed"] == Decimal("1000.00")
        assert fund["available"] == Decimal("49000.00")

        with pytest.raises(ContractorDebarred):
            sign_contract(ledger, world.org.contractor_id, world.fund_id)

    def test_a_breach_returns_the_commitment_but_does_not_debar(self, ledger):
        world = World.build(ledger)
        ledger.terminate_contract(PURCHASER, world.contract_id, "breach", "missed visits")
        assert ledger.get_contractor(PURCHASER, world.org.contractor_id)["debarred"] is False
        assert world.fund()["available"] == Decimal("50000.00")

    def test_a_terminated_contract_pays_nothing_more(self, ledger):
        world = World.build(ledger)
        world.evaluation("mid_term", 85)
        ledger.terminate_contract(PURCHASER, world.contract_id, "breach", "missed visits")
        with pytest.raises(ContractNotActive):
            world.release(T_MID_TERM)


class TestAcceptContract:
    def test_acceptance_needs_a_concluded_final_evaluation(self, ledger):
        world = World.build(ledger)
        world.evaluation("final", score=None)
        head = ledger.head()
        with pytest.raises(FinalEvaluationMissing):
            ledger.accept_contract(PURCHASER, world.contract_id, "done")
        assert ledger.head() == head

    def test_acceptance_needs_a_passing_final_grade(self, ledger):
        world = World.build(ledger)
        world.evaluation("mid_term", 95)
        world.evaluation("final", 55)
        with pytest.raises(FinalEvaluationMissing):
            ledger.accept_contract(PURCHASER, world.contract_id, "done")

    def test_acceptance_waits_for_a_pending_appeal(self, ledger):
        world = World.build(ledger)
        evaluation_id = world.evaluation("final", 85)
        ledger.appeal_evaluation(world.contractor, evaluation_id, "we deserve excellent")
        head = ledger.head()
        with pytest.raises(AppealPending):
            ledger.accept_contract(PURCHASER, world.contract_id, "done")
        assert ledger.head() == head
        ledger.resolve_appeal(PURCHASER, evaluation_id, upheld=False, revised_scores=None, note="dismissed")
        ledger.accept_contract(PURCHASER, world.contract_id, "done")
        assert world.contract()["status"] == "accepted"
        assert world.milestone(ACCEPTANCE)["status"] == "fulfilled"


class TestSettleContract:
    def test_settlement_needs_acceptance(self, ledger):
        world = World.build(ledger)
        head = ledger.head()
        with pytest.raises(NotAccepted):
            ledger.settle_contract(FINANCE, world.contract_id)
        assert ledger.head() == head

    def test_settlement_returns_what_was_not_paid_to_the_fund(self, ledger):
        world = World.build(ledger)
        world.evaluation("final", 85)
        ledger.accept_contract(PURCHASER, world.contract_id, "done")
        world.release(T_FINAL)
        world.release(T_ACCEPTANCE)
        ledger.withhold_tranche(FINANCE, world.contract_id, T_VOLUME, "volume not delivered")
        ledger.withhold_tranche(FINANCE, world.contract_id, T_MID_TERM, "no mid-term evaluation")
        ledger.settle_contract(FINANCE, world.contract_id)
        assert world.contract()["status"] == "settled"
        fund = world.fund()
        assert fund["disbursed"] == Decimal("4000.00")
        assert fund["commitments"][world.contract_id] == Decimal("4000.00")
        assert fund["available"] == Decimal("46000.00")
