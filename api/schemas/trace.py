"""What the trace routes answer: each figure with the log position of the event it came from
(`position`), so an auditor can check it against the log and the hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.schemas.reads import Answer, Page, Yuan

Position = Field(description="The log position of the event this figure came from")


class VisitChange(Answer):
    """Something that happened to a visit after its delivery."""

    kind: str = Field(description="Confirmed, Disputed, Voided or SpotChecked")
    position: int = Position
    recorded_at: datetime
    channel: str | None
    result: str | None
    note: str | None = Field(description="A void's or dispute's reason, or a spot check's note")
    stopped_counting: bool = Field(description="This change took the visit out of the delivered volume")


class TracedVisit(Answer):
    visit_id: str
    contract_id: str
    contractor_id: str
    case_id: str
    beneficiary_id: str
    worker_id: str
    service_code: str
    started_at: datetime
    ended_at: datetime
    position: int = Field(description="The log position of its delivery")
    unit_price: Yuan = Field(description="The contract line's unit price for this service")
    counts: bool = Field(description="Counts toward the delivered volume now: not voided, disputed or failed at a spot check")
    confirmation: str | None
    voided: bool
    spot_check: str | None
    changes: list[VisitChange]


class CountedVisit(TracedVisit):
    ordinal: int = Field(description="Its place among the visits the fulfilment counted, from 1")
    stopped_counting_after_fulfilment: bool = Field(description="Voided, disputed or failed at a spot check after the milestone was fulfilled")


class TracedContract(Answer):
    contract_id: str
    contract_no: str
    contractor_id: str
    position: int = Field(description="The log position of its signing")


class TracedTranche(Answer):
    tranche_id: str
    milestone_id: str
    amount: Yuan
    status: str = Field(description="pending, released or withheld")
    released: Yuan | None
    withheld: Yuan | None
    position: int | None = Field(description="The log position of its release or withholding; null while pending")
    recorded_at: datetime | None


class TracedMilestone(Answer):
    milestone_id: str
    kind: str
    service_code: str | None
    quantity: int | None
    basis: dict[str, Any] | None
    position: int | None = Field(description="The log position of its fulfilment; null while pending")
    counted: int | None = Field(description="How many visits its fulfilment named; null if it names none (not a volume milestone, or recorded before fulfilments named their visits)")


class TracedDisbursement(Answer):
    fund_id: str
    fund_name: str | None
    amount: Yuan | None = Field(description="What the fund paid for this tranche; null until it did")
    position: int | None = Field(description="The log position of the fund's disbursement; null until paid")
    recorded_at: datetime | None


class TrancheTrace(Answer):
    """A tranche, the milestone it paid, the visits its fulfilment counted (paged), the fund."""

    contract: TracedContract
    tranche: TracedTranche
    milestone: TracedMilestone
    visits: Page[CountedVisit]
    fund: TracedDisbursement


class FundTranche(TracedTranche):
    paid: Yuan | None = Field(description="What the fund disbursed for it; null until it did")
    disbursement_position: int | None


class FundContract(TracedContract):
    paid: Yuan = Field(description="What the fund disbursed to this contract")
    tranches: list[FundTranche]


class FundTrace(Answer):
    """A fund, and every contract it pays for (paged by signing), each tranche and what it paid."""

    fund_id: str
    name: str
    appropriated: Yuan
    position: int = Field(description="The log position of its appropriation")
    paid: Yuan = Field(description="Every disbursement of the fund")
    payments: int
    contracts: Page[FundContract]


class ServiceReceived(TracedVisit):
    contract_no: str
    attributed: Yuan = Field(description="The unit price if the visit counts, else 0.00")


class BeneficiaryTrace(Answer):
    """Every service a beneficiary received (paged in log order) and the money attributed to it."""

    beneficiary_id: str
    position: int = Field(description="The log position of the beneficiary's registration")
    visits: int
    counting: int = Field(description="Visits that count toward delivered volume")
    attributed: Yuan
    attributed_means: str
    services: Page[ServiceReceived]
