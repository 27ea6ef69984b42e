from __future__ import annotations

from pydantic import ConfigDict, Field

from api.schemas.common import Command, Money, Note, Text, describe, members, text, whole
from ledger.domain import limits
from ledger.domain.catalogue import (
    BeneficiaryCategory,
    ContractorType,
    DeregistrationReason,
    FundSource,
    NeedIndicator,
    SelfCareLevel,
)
from ledger.domain.contractors import REQUIRED_ATTESTATIONS

Attestation = text(limits.ATTESTATION)


class DeclareCeiling(Command):
    fiscal_year: whole(limits.FISCAL_YEAR)  # type: ignore[valid-type]
    prior_year_subsidy_total: Money = Field(description="Last year's social-assistance subsidy total, yuan")


class AppropriateFund(Command):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "2026 社会救助工作经费", "source": "work_funds", "fiscal_year": 2026, "amount": "1500000.00"}]})
    name: text(limits.FUND_NAME)  # type: ignore[valid-type]
    source: FundSource = Field(description=describe(FundSource))
    fiscal_year: whole(limits.FISCAL_YEAR)  # type: ignore[valid-type]
    amount: Money


class RegisterContractor(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "阳光社工服务中心",
                    "contractor_type": "social_organisation",
                    "credit_code": "52330100MJ1234567M",
                    "attestations": list(REQUIRED_ATTESTATIONS),
                }
            ]
        }
    )
    name: text(limits.CONTRACTOR_NAME)  # type: ignore[valid-type]
    contractor_type: ContractorType = Field(description=describe(ContractorType))
    credit_code: text(limits.CREDIT_CODE, min_length=1, description="统一社会信用代码 (unified social credit code)")  # type: ignore[valid-type]
    attestations: list[Attestation] = members(  # type: ignore[valid-type]
        limits.ATTESTATIONS, default_factory=list, description="Conditions attested: " + ", ".join(REQUIRED_ATTESTATIONS)
    )


class Attest(Command):
    attestations: list[Attestation] = members(limits.ATTESTATIONS, min_length=1)  # type: ignore[valid-type]


class EnrolWorker(Command):
    name: text(limits.WORKER_NAME)  # type: ignore[valid-type]
    qualification: text(limits.QUALIFICATION) = ""  # type: ignore[valid-type]


class RegisterBeneficiary(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "national_id": "330102195001011236",
                    "name": "王五",
                    "household_id": "HH-0001",
                    "category": "dibao",
                    "township": "城关镇",
                    "village": "东风村",
                    "self_care_level": "partly_lost",
                }
            ]
        }
    )
    national_id: str = Field(min_length=18, max_length=18, description="Kept only as a keyed hash and its last 4 digits")
    name: text(limits.BENEFICIARY_NAME)  # type: ignore[valid-type]
    household_id: text(limits.HOUSEHOLD_ID)  # type: ignore[valid-type]
    category: BeneficiaryCategory = Field(description=describe(BeneficiaryCategory))
    township: text(limits.TOWNSHIP)  # type: ignore[valid-type]
    village: text(limits.VILLAGE)  # type: ignore[valid-type]
    self_care_level: SelfCareLevel = Field(description=describe(SelfCareLevel))


class FindBeneficiary(Command):
    national_id: str = Field(min_length=18, max_length=18)


class AssessNeeds(Command):
    scores: dict[NeedIndicator, whole(limits.NEED_SCORE)] = Field(description="Each of the 10 indicators, 0 to 10: " + describe(NeedIndicator))  # type: ignore[valid-type]


class ChangeCategory(Command):
    category: BeneficiaryCategory = Field(description=describe(BeneficiaryCategory))
    direction: str = Field(pattern="^(raise|lower)$", description="raise (调增) or lower (调减)")
    reason: Text


class ReassessSelfCare(Command):
    self_care_level: SelfCareLevel = Field(description=describe(SelfCareLevel))


class Deregister(Command):
    reason: DeregistrationReason = Field(description=describe(DeregistrationReason))
    note: Note
