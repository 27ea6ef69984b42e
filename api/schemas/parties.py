from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas.common import Command, Money, Note, Text, describe
from ledger.domain.catalogue import (
    BeneficiaryCategory,
    ContractorType,
    DeregistrationReason,
    FundSource,
    NeedIndicator,
    SelfCareLevel,
)
from ledger.domain.contractors import REQUIRED_ATTESTATIONS


class DeclareCeiling(Command):
    fiscal_year: int = Field(ge=2000, le=2100)
    prior_year_subsidy_total: Money = Field(description="Last year's social-assistance subsidy total, yuan")


class AppropriateFund(Command):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "2026 社会救助工作经费", "source": "work_funds", "fiscal_year": 2026, "amount": "1500000.00"}]}
    )
    name: Text
    source: FundSource = Field(description=describe(FundSource))
    fiscal_year: int = Field(ge=2000, le=2100)
    amount: Money


class RegisterContractor(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "阳光社工服务中心",
                    "contractor_type": "social_organisation",
                    "credit_code": "52330100MJ1234567X",
                    "attestations": list(REQUIRED_ATTESTATIONS),
                }
            ]
        }
    )
    name: Text
    contractor_type: ContractorType = Field(description=describe(ContractorType))
    credit_code: str = Field(min_length=1, max_length=18, description="统一社会信用代码 (unified social credit code)")
    attestations: list[str] = Field(default_factory=list, description="Conditions attested: " + ", ".join(REQUIRED_ATTESTATIONS))


class Attest(Command):
    attestations: list[str] = Field(min_length=1)


class EnrolWorker(Command):
    name: Text
    qualification: Annotated[str, Field(max_length=200)] = ""


class RegisterBeneficiary(Command):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "national_id": "330102195001011234",
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
    name: Text
    household_id: Text
    category: BeneficiaryCategory = Field(description=describe(BeneficiaryCategory))
    township: Text
    village: Text
    self_care_level: SelfCareLevel = Field(description=describe(SelfCareLevel))


class FindBeneficiary(Command):
    national_id: str = Field(min_length=18, max_length=18)


class AssessNeeds(Command):
    scores: dict[NeedIndicator, Annotated[int, Field(ge=0, le=10)]] = Field(description="Each of the 10 indicators, 0 to 10: " + describe(NeedIndicator))


class ChangeCategory(Command):
    category: BeneficiaryCategory = Field(description=describe(BeneficiaryCategory))
    direction: str = Field(pattern="^(raise|lower)$", description="raise (调增) or lower (调减)")
    reason: Text


class ReassessSelfCare(Command):
    self_care_level: SelfCareLevel = Field(description=describe(SelfCareLevel))


class Deregister(Command):
    reason: DeregistrationReason = Field(description=describe(DeregistrationReason))
    note: Note

