"""Policy settings. Defaults are the values of the seed documents; a city may change them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ledger.domain.catalogue import EvaluationIndicator as I
from ledger.domain.catalogue import Grade, SelfCareLevel
from ledger.domain.errors import InvalidAmount
from ledger.domain.limits import check_yuan


def _default_weights() -> dict[str, int]:
    # Seed 001 annex 3 names the indicators but not their weights: management 60, outcomes 40.
    return {
        I.ADMINISTRATION: 10,
        I.RECORD_KEEPING: 10,
        I.PROGRESS: 10,
        I.QUALITY_SYSTEM: 10,
        I.RISK: 10,
        I.IMPLEMENTATION: 10,
        I.EFFECTIVENESS: 20,
        I.SATISFACTION: 10,
        I.SOCIAL_BENEFIT: 10,
    }


def _default_grade_floors() -> list[tuple[Decimal, str]]:
    return [
        (Decimal(90), Grade.EXCELLENT.value),
        (Decimal(80), Grade.GOOD.value),
        (Decimal(60), Grade.QUALIFIED.value),
        (Decimal(0), Grade.UNQUALIFIED.value),
    ]


def _default_payout_shares() -> dict[str, Decimal]:
    # "评价结果与合同资金支付挂钩" (003): what share of an evaluation-linked tranche is paid.
    return {
        Grade.EXCELLENT.value: Decimal("1.00"),
        Grade.GOOD.value: Decimal("1.00"),
        Grade.QUALIFIED.value: Decimal("0.80"),
        Grade.UNQUALIFIED.value: Decimal("0.00"),
    }


def _default_carer_ratios() -> dict[str, int]:
    # 002 §三(一)4: one carer per 10 / 6 / 3 people by self-care level.
    return {SelfCareLevel.SELF_RELIANT.value: 10, SelfCareLevel.PARTLY_LOST.value: 6, SelfCareLevel.FULLY_LOST.value: 3}


@dataclass(frozen=True)
class Policy:
    max_term_years: int = 3  # 000, 003
    debarment_years: int = 3  # 001 annex 2 §四
    purchase_cap_rate: Decimal = Decimal("0.03")  # 001 §二(四)6
    min_panel_size: int = 3
    evaluation_weights: dict[str, int] = field(default_factory=_default_weights)
    grade_floors: list[tuple[Decimal, str]] = field(default_factory=_default_grade_floors)
    payout_shares: dict[str, Decimal] = field(default_factory=_default_payout_shares)
    carer_ratios: dict[str, int] = field(default_factory=_default_carer_ratios)
    # A local choice, not a seed's number: more visits than this by one worker on one UTC day is
    # a red flag (the read side's `flags` projection; a rebuild applies the value then in force).
    max_visits_per_worker_day: int = 12

    def grade_for(self, total: Decimal) -> str:
        for floor, grade in self.grade_floors:
            if total >= floor:
                return grade
        return Grade.UNQUALIFIED.value

    def passes(self, grade: str) -> bool:
        return self.payout_shares.get(grade, Decimal(0)) > 0

    def carer_load(self, level: str) -> Fraction:
        """The share of one carer that a person of this self-care level needs."""
        return Fraction(1, self.carer_ratios[level])


def money(value: Decimal | str | int) -> Decimal:
    """Yuan with exactly 2 decimal places; refuses more precision rather than rounding it away."""
    amount = Decimal(str(value))
    try:
        exact = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than the decimal context holds
        exact = False
    if not exact:
        raise InvalidAmount(f"{value} is not an amount in yuan with at most 2 decimal places")
    return check_yuan(amount.quantize(Decimal("0.01")))


def positive_money(value: Decimal | str | int) -> Decimal:
    amount = money(value)
    if amount <= 0:
        raise InvalidAmount(f"{value} must be more than zero")
    return amount
