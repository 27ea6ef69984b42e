from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from api.schemas.common import SERVICE_CODES_DESCRIPTION, Command, Moment, Note, ServiceCode, Text, describe, members, text, whole
from ledger.domain import limits
from ledger.domain.catalogue import ConfirmationChannel, EvaluationIndicator, EvaluationStage, ReferralChannel, SpotCheckResult

Score = Annotated[
    Decimal,
    Field(ge=0, le=limits.EVALUATION_SCORE_MAX, max_digits=5, decimal_places=limits.EVALUATION_SCORE_PLACES),
]
Proof = text(limits.PROOF)


class Refer(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "beneficiary_id": "00000000-0000-0000-0000-000000000000",
                    "contract_id": "00000000-0000-0000-0000-000000000000",
                    "services": ["meals", "bathing"],
                    "channel": "village_coordinator",
                    "visit_interval_days": 7,
                }
            ]
        }
    )
    beneficiary_id: str
    contract_id: str
    services: list[ServiceCode] = members(limits.REFERRED_SERVICES, description=SERVICE_CODES_DESCRIPTION)  # type: ignore[valid-type]
    channel: ReferralChannel = Field(description=describe(ReferralChannel))
    visit_interval_days: whole(limits.VISIT_INTERVAL_DAYS) = Field(default=30, description="Expected days between visits")  # type: ignore[valid-type]
    note: Note


class RecordVisit(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "00000000-0000-0000-0000-000000000000",
                    "worker_id": "00000000-0000-0000-0000-000000000000",
                    "service_code": "meals",
                    "started_at": "2026-03-01T03:00:00Z",
                    "ended_at": "2026-03-01T03:40:00Z",
                    "location": "东风村12号",
                    "evidence_hash": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        }
    )
    case_id: str
    worker_id: str
    service_code: ServiceCode = Field(description=SERVICE_CODES_DESCRIPTION)  # type: ignore[valid-type]
    started_at: Moment = Field(description="With a time zone; stored in UTC")
    ended_at: Moment
    location: text(limits.LOCATION) | None = None  # type: ignore[valid-type]
    notes: text(limits.VISIT_NOTES) | None = None  # type: ignore[valid-type]
    evidence_hash: text(limits.EVIDENCE_HASH) | None = Field(default=None, description="Hash of a photo, signature or check-in record")  # type: ignore[valid-type]

    @field_validator("started_at", "ended_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return utc(value)  # Moment's bounds keep every accepted time representable in UTC


PROOF_DESCRIPTION = (
    "A reference to the beneficiary's own proof (e.g. the hash of the signed slip), distinct from the visit's "
    "evidence; required with beneficiary_signature. Follow-up channels are the purchaser's (回访) alone."
)


class ConfirmVisit(Command):
    channel: ConfirmationChannel = Field(description=describe(ConfirmationChannel))
    proof: Proof | None = Field(default=None, description=PROOF_DESCRIPTION)  # type: ignore[valid-type]


class DisputeVisit(Command):
    reason: Text
    channel: ConfirmationChannel = Field(default=ConfirmationChannel.FOLLOW_UP_CALL, description=describe(ConfirmationChannel))
    proof: Proof | None = Field(default=None, description=PROOF_DESCRIPTION)  # type: ignore[valid-type]


class SpotCheck(Command):
    result: SpotCheckResult = Field(description=describe(SpotCheckResult))
    note: Note


class PanelMember(Command):
    name: text(limits.PANEL_MEMBER_NAME)  # type: ignore[valid-type]
    accountant_title: str | None = Field(default=None, pattern="^(none|junior|intermediate|senior)$", description="Accountant's title, if any")


class OpenEvaluation(Command):
    contract_id: str
    stage: EvaluationStage = Field(description=describe(EvaluationStage))
    panel: list[PanelMember] = members(limits.PANEL, default_factory=list, description="An odd number of at least 3, one an accountant of intermediate title or higher")
    third_party: text(limits.THIRD_PARTY) | None = Field(default=None, description="A qualified third-party evaluator instead of a panel")  # type: ignore[valid-type]


class ScoreEvaluation(Command):
    scores: dict[EvaluationIndicator, Score] = Field(description=describe(EvaluationIndicator))


class Conclude(Command):
    report: text(limits.REPORT) = ""  # type: ignore[valid-type]


class Appeal(Command):
    reason: Text


class ResolveAppeal(Command):
    upheld: bool
    revised_scores: dict[EvaluationIndicator, Score] | None = Field(default=None, description="Revised scores, if any: " + describe(EvaluationIndicator))
    note: Note


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)
