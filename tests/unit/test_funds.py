"""Funds: allowed sources, the purchase ceiling, commitments and disbursements."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import (
    CommitmentExceeded,
    FundCapExceeded,
    FundInsufficient,
    FundSourceNotAllowed,
    InvalidAmount,
    InvalidInput,
)
from ledger.domain.funds import Fund, PurchaseCeiling
from ledger.domain.rules import Policy, money, positive_money
from tests.unit.support import FINANCE, POLICY


def fund(amount: str = "10000.00") -> Fund:
    return Fund.appropriate("Service purchases", "work_funds", 2025, Decimal(amount), FINANCE)


class TestSources:
    @pytest.mark.parametrize("source", ["basic_living", "special_assistance"])
    def test_basic_living_and_special_assistance_money_is_refused(self, source):
        with pytest.raises(FundSourceNotAllowed):
            Fund.appropriate("Wrong money", source, 2025, Decimal("100.00"), FINANCE)

    @pytest.mark.parametrize("source", ["work_funds", "special_funds", "welfare_lottery"])
    def test_work_special_and_lottery_funds_are_allowed(self, source):
        assert Fund.appropriate("Right money", source, 2025, Decimal("100.00"), FINANCE).source == source

    def test_an_unknown_source_is_invalid(self):
        with pytest.raises(InvalidInput):
            Fund.appropriate("?", "donations", 2025, Decimal("100.00"), FINANCE)


class TestPurchaseCeiling:
    def test_the_ceiling_is_three_percent_of_last_years_subsidy_total(self):
        ceiling = PurchaseCeiling.declare(2025, Decimal("1000000.00"), POLICY, FINANCE)
        assert ceiling.ceiling == Decimal("30000.00")

    def test_appropriations_up_to_the_ceiling_are_allowed_and_beyond_it_refused(self):
        ceiling = PurchaseCeiling.declare(2025, Decimal("1000000.00"), POLICY, FINANCE)
        ceiling.take("fund-1", Decimal("20000.00"), FINANCE)
        ceiling.take("fund-2", Decimal("10000.00"), FINANCE)
        with pytest.raises(FundCapExceeded):
            ceiling.take("fund-3", Decimal("0.01"), FINANCE)
        assert ceiling.appropriated == Decimal("30000.00")
        assert ceiling.funds == ["fund-1", "fund-2"]

    def test_the_cap_rate_is_a_policy_setting(self):
        ceiling = PurchaseCeiling.declare(2025, Decimal("1000000.00"), Policy(purchase_cap_rate=Decimal("0.05")), FINANCE)
        assert ceiling.ceiling == Decimal("50000.00")

    def test_the_ceiling_has_one_id_per_fiscal_year(self):
        ceiling = PurchaseCeiling.declare(2025, Decimal("1000000.00"), POLICY, FINANCE)
        assert ceiling.id == PurchaseCeiling.create_id(fiscal_year=2025) != PurchaseCeiling.create_id(fiscal_year=2026)


class TestCommitments:
    def test_a_commitment_beyond_the_uncommitted_money_is_refused(self):
        f = fund("10000.00")
        f.commit("contract-1", Decimal("7000.00"), FINANCE)
        with pytest.raises(FundInsufficient):
            f.commit("contract-2", Decimal("3000.01"), FINANCE)
        assert f.available == Decimal("3000.00")

    def test_a_disbursement_beyond_the_commitment_is_refused(self):
        f = fund()
        f.commit("contract-1", Decimal("5000.00"), FINANCE)
        f.disburse("contract-1", "t-1", Decimal("4000.00"), FINANCE)
        with pytest.raises(CommitmentExceeded):
            f.disburse("contract-1", "t-2", Decimal("1000.01"), FINANCE)
        assert f.disbursed == Decimal("4000.00")

    def test_a_contract_without_a_commitment_cannot_be_paid(self):
        with pytest.raises(CommitmentExceeded):
            fund().disburse("contract-9", "t-1", Decimal("0.01"), FINANCE)

    def test_releasing_a_commitment_returns_the_unspent_money(self):
        f = fund("10000.00")
        f.commit("contract-1", Decimal("7000.00"), FINANCE)
        f.disburse("contract-1", "t-1", Decimal("2000.00"), FINANCE)
        f.release_commitment("contract-1", "terminated", FINANCE)
        assert f.commitments["contract-1"] == Decimal("2000.00")
        assert f.available == Decimal("8000.00")
        assert f.disbursed == Decimal("2000.00")


class TestMoney:
    @pytest.mark.parametrize("value", ["1.001", "NaN", "Infinity", "0.005"])
    def test_money_refuses_more_than_two_decimal_places(self, value):
        with pytest.raises(InvalidAmount):
            money(value)

    def test_money_keeps_two_decimal_places(self):
        assert str(money("12.5")) == "12.50"
        assert str(money(3)) == "3.00"

    @pytest.mark.parametrize("value", ["0", "-1.00"])
    def test_positive_money_refuses_zero_and_less(self, value):
        with pytest.raises(InvalidAmount):
            positive_money(value)

    def test_an_appropriation_must_be_positive(self):
        with pytest.raises(InvalidAmount):
            fund("0.00")
