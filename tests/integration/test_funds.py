"""Funds through the application: sources, the purchase ceiling and its 3% cap."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import Forbidden, FundCapExceeded, FundSourceNotAllowed, InvalidInput
from tests.integration.helpers import FINANCE, FISCAL_YEAR, PURCHASER, appropriate_fund, contractor_actor, declare_ceiling


class TestAppropriateFund:
    def test_no_fund_is_appropriated_before_the_ceiling_is_declared(self, ledger):
        with pytest.raises(FundCapExceeded):
            appropriate_fund(ledger, "100.00")
        assert ledger.head() == 0

    @pytest.mark.parametrize("source", ["basic_living", "special_assistance"])
    def test_basic_living_and_special_assistance_money_is_refused(self, ledger, source):
        declare_ceiling(ledger)
        head = ledger.head()
        with pytest.raises(FundSourceNotAllowed):
            appropriate_fund(ledger, "100.00", source=source)
        assert ledger.head() == head

    def test_appropriations_may_take_up_to_3_percent_of_last_years_subsidy_total(self, ledger):
        declare_ceiling(ledger, total="1000000.00")
        appropriate_fund(ledger, "20000.00")
        appropriate_fund(ledger, "10000.00", source="welfare_lottery")
        head = ledger.head()
        with pytest.raises(FundCapExceeded):
            appropriate_fund(ledger, "0.01")
        assert ledger.head() == head

    def test_the_cap_is_per_fiscal_year(self, ledger):
        declare_ceiling(ledger, total="1000000.00", year=FISCAL_YEAR)
        appropriate_fund(ledger, "30000.00", year=FISCAL_YEAR)
        with pytest.raises(FundCapExceeded):
            appropriate_fund(ledger, "1.00", year=FISCAL_YEAR + 1)
        declare_ceiling(ledger, total="1000000.00", year=FISCAL_YEAR + 1)
        fund_id = appropriate_fund(ledger, "30000.00", year=FISCAL_YEAR + 1)
        assert ledger.get_fund(FINANCE, fund_id)["amount"] == Decimal("30000.00")

    def test_a_ceiling_is_declared_once_a_year(self, ledger):
        declare_ceiling(ledger)
        head = ledger.head()
        with pytest.raises(InvalidInput):
            declare_ceiling(ledger, total="99999999.00")
        assert ledger.head() == head

    def test_only_finance_or_the_purchaser_appropriate(self, ledger):
        declare_ceiling(ledger)
        ledger.appropriate_fund(PURCHASER, name="f", source="work_funds", fiscal_year=FISCAL_YEAR, amount=Decimal("1.00"))
        with pytest.raises(Forbidden):
            ledger.appropriate_fund(contractor_actor("x"), name="f", source="work_funds", fiscal_year=FISCAL_YEAR, amount=Decimal("1.00"))
