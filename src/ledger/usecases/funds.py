"""The purchase ceiling of a fiscal year and the funds appropriated under it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ledger.domain.actors import Actor
from ledger.domain.errors import FundCapExceeded, FundNotFound, InvalidInput
from ledger.domain.funds import Fund, PurchaseCeiling
from ledger.usecases.base import A, CommandResult, E, F, LedgerUseCases, P, Request, Work


class Funds(LedgerUseCases):
    def declare_purchase_ceiling(self, by: Actor, fiscal_year: int, prior_year_subsidy_total: Decimal, request: Request | None = None) -> CommandResult:
        by.require(F, P)

        def work() -> Work:
            ceiling = PurchaseCeiling.declare(fiscal_year, prior_year_subsidy_total, self.policy, by)
            self._new(ceiling, InvalidInput, f"the purchase ceiling of {fiscal_year} is already declared")
            return Work([ceiling], {"fiscal_year": fiscal_year, "ceiling": ceiling.ceiling})

        return self._execute(by, request, work)

    def appropriate_fund(self, by: Actor, name: str, source: str, fiscal_year: int, amount: Decimal, request: Request | None = None) -> CommandResult:
        by.require(F, P)

        def work() -> Work:
            fund = Fund.appropriate(name, source, fiscal_year, amount, by)
            try:
                ceiling: PurchaseCeiling = self.repository.get(PurchaseCeiling.create_id(fiscal_year=fiscal_year))
            except AggregateNotFoundError:
                raise FundCapExceeded(f"declare last year's subsidy total for {fiscal_year} first") from None
            ceiling.take(str(fund.id), fund.amount, by)
            return Work([fund, ceiling], {"fund_id": fund.id})

        return self._execute(by, request, work)

    def get_fund(self, by: Actor, fund_id: str) -> dict[str, Any]:
        by.require(P, F, A, E)
        return self._load(Fund, fund_id, FundNotFound).as_dict()
