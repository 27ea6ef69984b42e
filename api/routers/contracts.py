"""Contracts, their milestones and payment tranches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentActor, Idempotency, LedgerDep
from api.responses import created, found
from api.schemas.common import ERRORS, Created, Reason
from api.schemas.contracts import Accept, ReduceTranche, SignContract, Terminate
from api.schemas.records import ContractRecord

router = APIRouter(prefix="/contracts", tags=["contracts"], responses=ERRORS)
C201: dict[str, Any] = {"status_code": 201, "response_model": Created}


@router.post("", summary="Sign a contract against a fund (commits its budget)", **C201)
def sign_contract(body: SignContract, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    terms = body.terms()
    return created(ledger.sign_contract(by, **terms, request=idem))


@router.post("/{contract_id}/milestones/{milestone_id}/confirmation", summary="Confirm a date milestone that has fallen due", **C201)
def confirm_milestone(contract_id: str, milestone_id: str, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.confirm_date_milestone(by, contract_id, milestone_id, request=idem))


@router.post("/{contract_id}/tranches/{tranche_id}/release", summary="Release a tranche (finance only)", **C201)
def release_tranche(contract_id: str, tranche_id: str, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.release_tranche(by, contract_id, tranche_id, request=idem))


@router.post("/{contract_id}/tranches/{tranche_id}/reduction", **C201)
def reduce_tranche(contract_id: str, tranche_id: str, body: ReduceTranche, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.reduce_tranche(by, contract_id, tranche_id, body.amount, body.reason, request=idem))


@router.post("/{contract_id}/tranches/{tranche_id}/withholding", **C201)
def withhold_tranche(contract_id: str, tranche_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.withhold_tranche(by, contract_id, tranche_id, body.reason, request=idem))


@router.post("/{contract_id}/suspension", **C201)
def suspend_contract(contract_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.suspend_contract(by, contract_id, body.reason, request=idem))


@router.post("/{contract_id}/resumption", **C201)
def resume_contract(contract_id: str, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.resume_contract(by, contract_id, request=idem))


@router.post("/{contract_id}/termination", summary="Terminate; fraud also debars the contractor", **C201)
def terminate_contract(contract_id: str, body: Terminate, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.terminate_contract(by, contract_id, body.reason, body.note, request=idem))


@router.post("/{contract_id}/acceptance", summary="Accept (验收) after a passed final evaluation", **C201)
def accept_contract(contract_id: str, body: Accept, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.accept_contract(by, contract_id, body.note, request=idem))


@router.post("/{contract_id}/settlement", summary="Settle (结清) after acceptance (finance only)", **C201)
def settle_contract(contract_id: str, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.settle_contract(by, contract_id, request=idem))


@router.get("/{contract_id}", response_model=ContractRecord)
def get_contract(contract_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_contract(by, contract_id))
