"""Funds: money appropriated for service purchases, committed to contracts and disbursed."""

from __future__ import annotations

from decimal import Decimal

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, derived_id
from ledger.domain.catalogue import FORBIDDEN_FUND_SOURCES, FundSource
from ledger.domain.errors import (
    CommitmentExceeded,
    FundCapExceeded,
    FundInsufficient,
    FundSourceNotAllowed,
    InvalidInput,
)
from ledger.domain.rules import Policy, money, positive_money


class PurchaseCeiling(LedgerAggregate):
    """The cap on a fiscal year's service purchases: a share of last year's subsidy total."""

    @staticmethod
    def create_id(fiscal_year: int, **_: object):  # type: ignore[override]
        return derived_id("purchase-ceiling", fiscal_year)

    @classmethod
    def declare(cls, fiscal_year: int, prior_year_subsidy_total: Decimal, policy: Policy, by: Actor) -> PurchaseCeiling:
        limits.FISCAL_YEAR.check(fiscal_year, "fiscal year")
        total = positive_money(prior_year_subsidy_total)
        ceiling = (total * policy.purchase_cap_rate).quantize(Decimal("0.01"))
        return cls(fiscal_year=fiscal_year, prior_year_subsidy_total=total, ceiling=ceiling, by=by)

    @event("Declared")
    def __init__(self, fiscal_year: int, prior_year_subsidy_total: Decimal, ceiling: Decimal, by: Actor) -> None:
        self.fiscal_year = fiscal_year
        self.prior_year_subsidy_total = prior_year_subsidy_total
        self.ceiling = ceiling
        self.appropriated = Decimal("0.00")
        self.funds: list[str] = []

    def take(self, fund_id: str, amount: Decimal, by: Actor) -> None:
        if self.appropriated + amount > self.ceiling:
            raise FundCapExceeded(f"fiscal year {self.fiscal_year}: {self.appropriated} already appropriated, {amount} more would exceed the ceiling of {self.ceiling}")
        self._taken(fund_id=fund_id, amount=amount, by=by)

    @event("Taken")
    def _taken(self, fund_id: str, amount: Decimal, by: Actor) -> None:
        self.appropriated += amount
        self.funds.append(fund_id)


class Fund(LedgerAggregate):
    @classmethod
    def appropriate(cls, name: str, source: str, fiscal_year: int, amount: Decimal, by: Actor) -> Fund:
        limits.FUND_NAME.check(name, "fund name")
        limits.FISCAL_YEAR.check(fiscal_year, "fiscal year")
        try:
            src = FundSource(source)
        except ValueError:
            raise InvalidInput(f"unknown fund source {source!r}") from None
        if src in FORBIDDEN_FUND_SOURCES:
            raise FundSourceNotAllowed(f"{src.label.en} may never pay for purchased services")  # type: ignore[attr-defined]
        return cls(name=name, source=src.value, fiscal_year=fiscal_year, amount=positive_money(amount), by=by)

    @event("Appropriated")
    def __init__(self, name: str, source: str, fiscal_year: int, amount: Decimal, by: Actor) -> None:
        self.name = name
        self.source = source
        self.fiscal_year = fiscal_year
        self.amount = amount
        self.commitments: dict[str, Decimal] = {}
        self.disbursements: dict[str, Decimal] = {}

    @property
    def committed(self) -> Decimal:
        return sum(self.commitments.values(), Decimal("0.00"))

    @property
    def disbursed(self) -> Decimal:
        return sum(self.disbursements.values(), Decimal("0.00"))

    @property
    def available(self) -> Decimal:
        """Appropriated money not yet committed to any contract."""
        return self.amount - self.committed

    def commit(self, contract_id: str, amount: Decimal, by: Actor) -> None:
        amount = positive_money(amount)
        if amount > self.available:
            raise FundInsufficient(f"fund holds {self.available} uncommitted; the contract needs {amount}")
        self._committed(contract_id=contract_id, amount=amount, by=by)

    @event("Committed")
    def _committed(self, contract_id: str, amount: Decimal, by: Actor) -> None:
        self.commitments[contract_id] = self.commitments.get(contract_id, Decimal("0.00")) + amount

    def disburse(self, contract_id: str, tranche_id: str, amount: Decimal, by: Actor) -> None:
        amount = money(amount)
        committed = self.commitments.get(contract_id, Decimal("0.00"))
        paid = self.disbursements.get(contract_id, Decimal("0.00"))
        if paid + amount > committed:
            raise CommitmentExceeded(f"contract {contract_id}: {paid} paid of {committed} committed; {amount} more is too much")
        self._disbursed(contract_id=contract_id, tranche_id=tranche_id, amount=amount, by=by)

    @event("Disbursed")
    def _disbursed(self, contract_id: str, tranche_id: str, amount: Decimal, by: Actor) -> None:
        self.disbursements[contract_id] = self.disbursements.get(contract_id, Decimal("0.00")) + amount

    def release_commitment(self, contract_id: str, reason: str, by: Actor) -> None:
        """On settlement or termination the unspent commitment returns to the fund."""
        remainder = self.commitments.get(contract_id, Decimal("0.00")) - self.disbursements.get(contract_id, Decimal("0.00"))
        if remainder > 0:
            self._decommitted(contract_id=contract_id, amount=remainder, reason=reason, by=by)

    @event("Decommitted")
    def _decommitted(self, contract_id: str, amount: Decimal, reason: str, by: Actor) -> None:
        self.commitments[contract_id] -= amount

    def as_dict(self) -> dict:
        d = super().as_dict()
        d.update(committed=self.committed, disbursed=self.disbursed, available=self.available)
        return d
