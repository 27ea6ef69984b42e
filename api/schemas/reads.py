"""What the read routes answer, as projections/queries.py builds it: money as strings of yuan,
times as ISO 8601 strings in UTC, counts as integers. Extra fields are refused, so a test that
validates real answers against these models notices a field the document does not declare."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Yuan = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", description="Yuan with 2 decimal places, as a string", examples=["1200.00"])]
Share = Annotated[str, Field(pattern=r"^\d+(\.\d+)?$", description="A share as a decimal string, e.g. 0.2500")]
ShareDone = Annotated[str, Field(pattern=r"^\d+(\.\d+)?$", description="Delivered over contracted units as a ratio, e.g. 1.5030; percent_done says the same as people read it")]
Percent = Annotated[str, Field(pattern=r"^\d+\.\d{2}$", description="Delivered over contracted units as a percentage with 2 places, e.g. 150.30 (%)", examples=["150.30"])]
Item = TypeVar("Item")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(Answer, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


# --- caseload ---------------------------------------------------------------------------------
class CaseloadRow(Answer):
    """One group's figures; a contractor's row adds its carer load, a worker's its name."""

    key: str = Field(description="The group: contractor id, worker id, township, or township/village")
    open_cases: int
    overdue_cases: int
    beneficiaries_served: int
    visits_in_period: int
    cases_visited_in_period: int
    last_visit_at: datetime | None
    name: str | None = None
    contractor_id: str | None = None
    enrolled: bool | None = None
    enrolled_workers: int | None = None
    open_cases_by_self_care: dict[str, int] | None = None
    carers_needed: Share | None = None
    within_carer_ratio: bool | None = None


# --- contract fulfilment ----------------------------------------------------------------------
class ContractMoney(Answer):
    contract_id: str
    contract_no: str
    title: str
    contractor_id: str
    fund_id: str
    status: str
    start_date: date
    end_date: date
    signed_at: datetime
    budget: Yuan
    committed: Yuan
    released: Yuan
    withheld: Yuan
    remaining: Yuan


class ContractSummary(ContractMoney):
    contracted: int = Field(description="Units contracted over all service lines")
    delivered: int
    share_done: ShareDone
    percent_done: Percent


class ContractLine(Answer):
    service_code: str
    contracted: int
    unit_price: Yuan
    posted: int
    delivered: int
    confirmed: int
    disputed: int
    voided: int
    failed_spot_checks: int
    share_done: ShareDone
    percent_done: Percent


class ContractMilestone(Answer):
    milestone_id: str
    kind: str
    title: str
    service_code: str | None
    quantity: int | None
    stage: str | None
    due_date: date | None
    status: str
    fulfilled_at: datetime | None


class Tranche(Answer):
    contract_id: str
    tranche_id: str
    milestone_id: str
    amount: Yuan
    reduced: Yuan
    released: Yuan
    withheld: Yuan
    status: str
    released_at: datetime | None


class ContractEvaluation(Answer):
    evaluation_id: str
    stage: str
    status: str
    total: str | None
    grade: str | None
    appeal: str | None
    scores: dict[str, str] = Field(description="Indicator code to score, as decimal strings")
    opened_at: datetime


class ContractDetail(ContractMoney):
    lines: list[ContractLine]
    milestones: list[ContractMilestone]
    tranches: list[Tranche]
    evaluations: list[ContractEvaluation]


class PayableTranche(Tranche):
    contract_no: str
    milestone_title: str
    fulfilled_at: datetime | None
    grade: str | None
    payable: Yuan = Field(description="What a release would pay now, after reductions and the grade's share")


# --- funds ------------------------------------------------------------------------------------
class FundUsage(Answer):
    fund_id: str
    name: str
    source: str
    fiscal_year: int
    appropriated: Yuan
    committed: Yuan
    disbursed: Yuan
    available: Yuan


class BreakdownRow(Answer):
    key: str
    contracted: Yuan
    delivered_value: Yuan
    visits: int


class FundBreakdown(Answer):
    township: list[BreakdownRow]
    service_class: list[BreakdownRow]
    category: list[BreakdownRow]


class FundDetail(FundUsage):
    breakdown: FundBreakdown


# --- audit trail ------------------------------------------------------------------------------
class AuditEntry(Answer):
    position: int = Field(description="The event's position in the global log")
    recorded_at: datetime
    actor_id: str | None
    role: str | None
    organisation_id: str | None
    correlation_id: str | None
    aggregate_id: str
    aggregate_type: str
    aggregate_version: int
    event_type: str
    summary: str
    contract_id: str | None = Field(
        description="The contract the event belongs to: a contract's own, or the one its visit, case, evaluation or tally was opened under, or the one a fund's event names"
    )


# --- the read side's own state ----------------------------------------------------------------
ProjectionStateName = Literal["running", "lagging", "stalled"]


class StallReport(Answer):
    """Where and why a projection stopped; it retries by itself at `retry_at`."""

    position: int = Field(description="The position of the event it cannot apply")
    event_type: str
    aggregate_id: str
    error: str = Field(description="The error's class, e.g. StringDataRightTruncation")
    message: str
    since: datetime
    attempts: int
    retry_at: datetime


class ProjectionState(Answer):
    name: str
    state: ProjectionStateName = Field(description="running; lagging beyond the allowed lag; stalled at an event it cannot apply")
    position: int
    lag_events: int
    lag_seconds: float = Field(description="Age of the oldest event not yet applied; 0 when caught up")
    event_time: datetime | None
    stalled: StallReport | None


class ProjectionsStatus(Answer):
    head: int = Field(description="The position of the last event in the log")
    head_time: datetime | None
    projections: list[ProjectionState]


class ProjectionReadiness(Answer):
    name: str
    state: ProjectionStateName
    position: int
    lag_seconds: float


class Readiness(Answer):
    """Ready: the store answers, no projection is stalled, none lags beyond the allowed lag. A 503
    carries the same fields as its `detail`, with the reasons it is not ready."""

    status: Literal["ready", "not_ready"]
    head: int
    reasons: list[str] = Field(description="Why the service is not ready; empty when it is")
    projections: list[ProjectionReadiness]


# --- red flags --------------------------------------------------------------------------------
class Evidence(Answer):
    position: int = Field(description="The event's position in the global log")
    event: str = Field(description="The event's type, e.g. Visit.Delivered")
    id: str = Field(description="The visit, beneficiary or tranche the event is about")


class RedFlag(Answer):
    """A doubtful fact and the events that show it; see projections/flags.py for each kind."""

    flag_id: str
    kind: str
    contractor_id: str | None
    contract_id: str | None
    subject_id: str = Field(description="The visit, worker, contract or contractor flagged")
    raised_position: int = Field(description="The position of the event that raised it")
    raised_at: datetime = Field(description="When the event that raised it was recorded")
    updated_position: int = Field(description="The position of the latest event that added to it")
    detail: dict[str, str | int | None] = Field(description="The figures behind it: counts, amounts in yuan, times")
    evidence: list[Evidence]
