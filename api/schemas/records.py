"""Response bodies of the GET routes outside /read: one aggregate's state, its history, the
catalogue and health. They type the fields a client relies on and allow others, so a new field
in the domain is served before it is documented, never refused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import describe
from ledger.domain.catalogue import SpotCheckResult

Yuan = Annotated[str, Field(description="Yuan, exact, as a decimal string", examples=["1200.00"])]


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Record(Open):
    """An aggregate's current state, folded from its own events."""

    id: str
    type: str = Field(description="The aggregate's kind")
    version: int = Field(description="How many events it has")
    created_on: datetime
    modified_on: datetime


class FundRecord(Record):
    name: str
    source: str
    fiscal_year: int
    amount: Yuan
    committed: Yuan
    disbursed: Yuan
    available: Yuan
    commitments: dict[str, Yuan] = Field(description="Contract id → budget committed")
    disbursements: dict[str, Yuan] = Field(description="Contract id → paid out")


class Worker(Open):
    name: str
    qualification: str | None = None
    enrolled: bool


class ContractorRecord(Record):
    name: str
    contractor_type: str
    credit_code: str
    attestations: list[str]
    workers: dict[str, Worker]
    suspended: bool
    suspension_reason: str | None
    debarred: bool
    debarred_until: datetime | None
    debarment_reason: str | None
    enrolled_workers: int


class BeneficiaryRecord(Record):
    national_id_last4: str = Field(description="Only the last four characters: the number itself is never served")
    name: str
    household_id: str
    category: str
    township: str
    village: str
    self_care_level: str
    needs: dict[str, Any]
    deregistered: bool
    deregistration_reason: str | None
    cases: dict[str, str] = Field(description="Case id → contractor id")


class ContractLine(Open):
    service_code: str
    quantity: int
    unit_price: Yuan


class Milestone(Open):
    milestone_id: str
    kind: str
    title: str
    status: str
    service_code: str | None = None
    quantity: int | None = None
    stage: str | None = None
    due_date: date | None = None


class Tranche(Open):
    tranche_id: str
    milestone_id: str
    amount: Yuan
    status: str
    released_amount: Yuan
    withheld_amount: Yuan
    reductions: list[dict[str, Any]]


class ContractRecord(Record):
    contract_no: str
    title: str
    purchaser_org: str
    contractor_id: str
    fund_id: str
    procurement_method: str
    start_date: date
    end_date: date
    lines: list[ContractLine]
    budget: Yuan
    milestones: list[Milestone]
    tranches: list[Tranche]
    status: str
    status_reason: str | None
    evaluations: dict[str, dict[str, Any]]
    released: Yuan
    withheld: Yuan
    remaining: Yuan
    delivered: dict[str, int] = Field(description="Service code → visits that count")


class CaseRecord(Record):
    beneficiary_id: str
    contract_id: str
    contractor_id: str
    services: list[str]
    channel: str
    visit_interval_days: int | None
    self_care_level: str
    township: str
    village: str
    note: str
    status: str
    status_reason: str | None


class VisitRecord(Record):
    case_id: str
    contract_id: str
    contractor_id: str
    beneficiary_id: str
    worker_id: str
    service_code: str
    started_at: datetime
    ended_at: datetime
    location: str | None
    notes: str | None
    evidence_hash: str | None
    township: str
    village: str
    confirmation: Literal["confirmed", "disputed"] | None = Field(description="The beneficiary's word on the visit, if any")
    voided: bool
    void_reason: str | None
    spot_check: str | None = Field(description="The spot check's result, if any: " + describe(SpotCheckResult))
    counts: bool = Field(description="Whether the visit counts towards its contract's volume")


class EvaluationRecord(Record):
    contract_id: str
    contractor_id: str
    stage: str
    panel: list[dict[str, Any]] | None
    third_party: str | None
    weights: dict[str, int]
    scores: dict[str, Any]
    total: str | None = Field(description="The weighted score, a decimal string, once concluded", examples=["86.50"])
    grade: str | None
    status: str
    appeal: dict[str, Any] | None


class Actor(Open):
    actor_id: str
    role: str
    organisation_id: str | None
    correlation_id: str | None = None


class HistoryEvent(Open):
    version: int
    type: str = Field(description="The event's name")
    timestamp: datetime
    actor: Actor | None = None
    data: dict[str, Any]


class ServiceItem(Open):
    code: str
    number: int | None = Field(description="Its number in the guiding catalogue; none for administrative work")
    class_: str = Field(alias="class")
    kind: str
    zh: str
    en: str


class Label(Open):
    zh: str
    en: str


class Health(Open):
    status: str = Field(examples=["ok"])
    head: int | None = Field(default=None, description="The position of the last event in the log")


class Liveness(Open):
    status: str = Field(examples=["alive"])


class AsOf(Open):
    as_of_position: int | None = Field(description="The log position asked for, if one was")
    as_of_time: datetime | None = Field(description="The time asked for, if one was")


class ContractAsOf(ContractRecord, AsOf):
    """A contract replayed to its last event at or before the point asked for."""


class FundAsOf(FundRecord, AsOf):
    """A fund replayed to its last event at or before the point asked for."""
