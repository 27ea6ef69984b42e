"""What the list routes answer (api/routers/lists.py), as projections/lists.py builds it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.reads import Answer

CaseStatus = Literal["referred", "accepted", "declined", "withdrawn", "closed"]


class VisitRow(Answer):
    visit_id: str
    case_id: str
    contract_id: str
    contractor_id: str
    worker_id: str
    beneficiary_id: str
    service_code: str
    township: str
    village: str
    started_at: datetime
    ended_at: datetime
    counts: bool = Field(description="Still counts towards the contract's delivered volume: not voided, disputed or failed at a spot check")
    confirmation: Literal["confirmed", "disputed"] | None = Field(description="The beneficiary's word on the visit, if given")
    voided: bool
    spot_check: str | None = Field(description="The spot check's result, if the visit was checked")
    delivered_position: int | None = Field(description="The position of the visit's delivery in the global log (null only until a rebuild after migration 0006)")


class CaseRow(Answer):
    case_id: str
    beneficiary_id: str
    contract_id: str
    contractor_id: str
    township: str
    village: str
    self_care_level: str
    channel: str
    services: list[str]
    status: CaseStatus
    visit_interval_days: int
    referred_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
    visit_count: int = Field(description="Visits that still count")
    last_visit_at: datetime | None
    next_visit_due: datetime | None


class WorkerRow(Answer):
    worker_id: str
    contractor_id: str
    name: str
    qualification: str | None
    enrolled: bool = Field(description="False once removed")
    enrolled_at: datetime | None
    removed_at: datetime | None
    open_cases: int = Field(description="Accepted cases in which the worker has a visit that still counts")
    visits: int = Field(description="The worker's visits that still count")
    last_visit_at: datetime | None
