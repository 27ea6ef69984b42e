from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from api.schemas.common import SERVICE_CODES_DESCRIPTION, Command, Day, Money, Note, ServiceCode, Text, describe, members, text, whole
from ledger.domain import limits
from ledger.domain.catalogue import EvaluationStage, MilestoneKind, ProcurementMethod, TerminationReason


class ServiceLine(Command):
    service_code: ServiceCode = Field(description=SERVICE_CODES_DESCRIPTION)  # type: ignore[valid-type]
    quantity: whole(limits.QUANTITY)  # type: ignore[valid-type]
    unit_price: Money


class Milestone(Command):
    milestone_id: text(limits.MILESTONE_ID) | None = Field(default=None, description="Your own id, or one is made")  # type: ignore[valid-type]
    kind: MilestoneKind = Field(description=describe(MilestoneKind))
    title: text(limits.MILESTONE_TITLE) | None = None  # type: ignore[valid-type]
    service_code: ServiceCode | None = Field(default=None, description="service_volume: the line counted; none counts all")  # type: ignore[valid-type]
    quantity: whole(limits.MILESTONE_QUANTITY) | None = Field(default=None, description="service_volume: visits to deliver")  # type: ignore[valid-type]
    stage: EvaluationStage | None = Field(default=None, description="evaluation_passed: " + describe(EvaluationStage))
    due_date: Day | None = Field(default=None, description="date: when it falls due")


class Tranche(Command):
    tranche_id: text(limits.TRANCHE_ID) | None = None  # type: ignore[valid-type]
    milestone_id: text(limits.MILESTONE_ID)  # type: ignore[valid-type]
    amount: Money


class SignContract(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "contract_no": "MZ-2026-001",
                    "title": "城关镇困难群众居家照护服务",
                    "contractor_id": "00000000-0000-0000-0000-000000000000",
                    "fund_id": "00000000-0000-0000-0000-000000000000",
                    "procurement_method": "open_tender",
                    "start_date": "2026-01-01",
                    "end_date": "2026-12-31",
                    "lines": [{"service_code": "meals", "quantity": 1000, "unit_price": "15.00"}],
                    "milestones": [
                        {"milestone_id": "volume-500", "kind": "service_volume", "service_code": "meals", "quantity": 500},
                        {"milestone_id": "final-eval", "kind": "evaluation_passed", "stage": "final"},
                        {"milestone_id": "acceptance", "kind": "acceptance"},
                    ],
                    "tranches": [
                        {"tranche_id": "t1", "milestone_id": "volume-500", "amount": "6000.00"},
                        {"tranche_id": "t2", "milestone_id": "final-eval", "amount": "6000.00"},
                        {"tranche_id": "t3", "milestone_id": "acceptance", "amount": "3000.00"},
                    ],
                }
            ]
        }
    )
    contract_no: text(limits.CONTRACT_NO)  # type: ignore[valid-type]
    title: text(limits.CONTRACT_TITLE)  # type: ignore[valid-type]
    contractor_id: str
    fund_id: str
    procurement_method: ProcurementMethod = Field(description=describe(ProcurementMethod))
    start_date: Day
    end_date: Day
    lines: list[ServiceLine] = members(limits.SERVICE_LINES)
    milestones: list[Milestone] = members(limits.MILESTONES, default_factory=list)
    tranches: list[Tranche] = members(limits.TRANCHES, default_factory=list)
    natural_person_justified: bool = Field(default=False, description="A natural person may contract only where no organisation qualifies")

    def terms(self) -> dict[str, Any]:
        return self.model_dump()


class ReduceTranche(Command):
    amount: Money
    reason: Text


class Terminate(Command):
    reason: TerminationReason = Field(description=describe(TerminationReason))
    note: Note


class Accept(Command):
    note: Note
