"""Funds, contractors and their workers, beneficiaries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentActor, Idempotency, LedgerDep
from api.responses import created, found
from api.schemas.common import ERRORS, Created, Reason
from api.schemas.parties import (
    AppropriateFund,
    AssessNeeds,
    Attest,
    ChangeCategory,
    DeclareCeiling,
    Deregister,
    EnrolWorker,
    FindBeneficiary,
    ReassessSelfCare,
    RegisterBeneficiary,
    RegisterContractor,
)
from api.schemas.records import BeneficiaryRecord, ContractorRecord, FundRecord

router = APIRouter(responses=ERRORS)
C201: dict[str, Any] = {"status_code": 201, "response_model": Created}


@router.post("/purchase-ceilings", tags=["funds"], summary="Declare a year's purchase ceiling (3% of last year's subsidies)", **C201)
def declare_ceiling(body: DeclareCeiling, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.declare_purchase_ceiling(by, body.fiscal_year, body.prior_year_subsidy_total, request=idem))


@router.post("/funds", tags=["funds"], summary="Appropriate a fund", **C201)
def appropriate_fund(body: AppropriateFund, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.appropriate_fund(by, body.name, body.source, body.fiscal_year, body.amount, request=idem))


@router.get("/funds/{fund_id}", tags=["funds"], response_model=FundRecord)
def get_fund(fund_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_fund(by, fund_id))


@router.post("/contractors", tags=["contractors"], summary="Register a contractor (承接主体)", **C201)
def register_contractor(body: RegisterContractor, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.register_contractor(by, body.name, body.contractor_type, body.credit_code, body.attestations, request=idem))


@router.post("/contractors/{contractor_id}/attestations", tags=["contractors"], **C201)
def attest(contractor_id: str, body: Attest, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.attest_contractor(by, contractor_id, body.attestations, request=idem))


@router.post("/contractors/{contractor_id}/workers", tags=["contractors"], summary="Enrol a worker", **C201)
def enrol_worker(contractor_id: str, body: EnrolWorker, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.enrol_worker(by, contractor_id, body.name, body.qualification, request=idem))


@router.post("/contractors/{contractor_id}/workers/{worker_id}/removal", tags=["contractors"], **C201)
def remove_worker(contractor_id: str, worker_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.remove_worker(by, contractor_id, worker_id, body.reason, request=idem))


@router.post("/contractors/{contractor_id}/suspension", tags=["contractors"], **C201)
def suspend_contractor(contractor_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.suspend_contractor(by, contractor_id, body.reason, request=idem))


@router.post("/contractors/{contractor_id}/reinstatement", tags=["contractors"], **C201)
def reinstate_contractor(contractor_id: str, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.reinstate_contractor(by, contractor_id, request=idem))


@router.post("/contractors/{contractor_id}/debarment", tags=["contractors"], summary="Debar for 3 years (a setting)", **C201)
def debar_contractor(contractor_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.debar_contractor(by, contractor_id, body.reason, request=idem))


@router.get("/contractors/{contractor_id}", tags=["contractors"], response_model=ContractorRecord)
def get_contractor(contractor_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_contractor(by, contractor_id))


@router.post("/beneficiaries", tags=["beneficiaries"], summary="Register a beneficiary on the roster (新增)", **C201)
def register_beneficiary(body: RegisterBeneficiary, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.register_beneficiary(by, body.national_id, body.name, body.household_id, body.category, body.township, body.village, body.self_care_level, request=idem))


@router.post("/beneficiaries/lookup", tags=["beneficiaries"], summary="Find a beneficiary by national ID (sent in the body, never in a URL)")
def find_beneficiary(body: FindBeneficiary, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.find_beneficiary(by, body.national_id))


@router.post("/beneficiaries/{beneficiary_id}/needs-assessments", tags=["beneficiaries"], **C201)
def assess_needs(beneficiary_id: str, body: AssessNeeds, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.assess_needs(by, beneficiary_id, dict(body.scores), request=idem))


@router.post("/beneficiaries/{beneficiary_id}/category-changes", tags=["beneficiaries"], summary="Raise (调增) or lower (调减) the category", **C201)
def change_category(beneficiary_id: str, body: ChangeCategory, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.change_category(by, beneficiary_id, body.category, body.direction, body.reason, request=idem))


@router.post("/beneficiaries/{beneficiary_id}/self-care-reassessments", tags=["beneficiaries"], **C201)
def reassess_self_care(beneficiary_id: str, body: ReassessSelfCare, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.reassess_self_care(by, beneficiary_id, body.self_care_level, request=idem))


@router.post("/beneficiaries/{beneficiary_id}/deregistration", tags=["beneficiaries"], summary="Deregister (注销) with a reason", **C201)
def deregister(beneficiary_id: str, body: Deregister, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.deregister_beneficiary(by, beneficiary_id, body.reason, body.note, request=idem))


@router.get("/beneficiaries/{beneficiary_id}", tags=["beneficiaries"], response_model=BeneficiaryRecord)
def get_beneficiary(beneficiary_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_beneficiary(by, beneficiary_id))
