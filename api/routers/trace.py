"""Tracing a yuan: a tranche down to the visits that earned it and back to its fund; a fund to
every contract and tranche it paid; a beneficiary to every service received. Auditors, the
purchaser and finance read every trace; a contractor only its own tranches and the services it
gave. Each figure names the log position of the event it came from."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CurrentActor
from api.params import Cursor, IdInPath, MinPosition
from api.routers.reads import READ_ERRORS, Limit, ReadSideDep, _fresh, _one, _org
from api.schemas.trace import BeneficiaryTrace, FundTrace, TrancheTrace
from ledger.domain.catalogue import Role as R
from ledger.domain.errors import BeneficiaryNotFound, FundNotFound, TrancheNotFound
from projections import trace_queries

router = APIRouter(prefix="/trace", tags=["trace"])
PROJECTION = "trace"


@router.get(
    "/tranches/{contract_id}/{tranche_id}",
    responses=READ_ERRORS,
    summary="A tranche, the milestone it paid, the visits its fulfilment counted (paged) and the fund it drew on",
    response_model=TrancheTrace,
)
def tranche(
    request: Request,
    contract_id: IdInPath,
    tranche_id: IdInPath,
    by: CurrentActor,
    read_side: ReadSideDep,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 100,
):
    by.require(R.AUDITOR, R.PURCHASER, R.FINANCE, R.CONTRACTOR)
    _fresh(request, read_side, min_position, PROJECTION)
    # Another contractor's tranche is not found either.
    missing = TrancheNotFound("no such tranche")
    return _one(read_side, trace_queries.tranche, missing, contract_id=contract_id, tranche_id=tranche_id, org=_org(by), cursor=cursor, limit=limit)


@router.get("/funds/{fund_id}", responses=READ_ERRORS, summary="A fund: every contract it pays for, each tranche and what it paid", response_model=FundTrace)
def fund(request: Request, fund_id: IdInPath, by: CurrentActor, read_side: ReadSideDep, min_position: MinPosition = None, cursor: Cursor = None, limit: Limit = 50):
    by.require(R.AUDITOR, R.PURCHASER, R.FINANCE)
    _fresh(request, read_side, min_position, PROJECTION)
    return _one(read_side, trace_queries.fund, FundNotFound("no such fund"), fund_id=fund_id, cursor=cursor, limit=limit)


@router.get(
    "/beneficiaries/{beneficiary_id}",
    responses=READ_ERRORS,
    summary="A beneficiary: every service received (paged) and the money attributed to it",
    response_model=BeneficiaryTrace,
)
def beneficiary(
    request: Request,
    beneficiary_id: IdInPath,
    by: CurrentActor,
    read_side: ReadSideDep,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 100,
):
    by.require(R.AUDITOR, R.PURCHASER, R.FINANCE, R.CONTRACTOR)
    _fresh(request, read_side, min_position, PROJECTION)
    missing = BeneficiaryNotFound("no such beneficiary")  # for a contractor: none it served
    return _one(read_side, trace_queries.beneficiary, missing, beneficiary_id=beneficiary_id, org=_org(by), cursor=cursor, limit=limit)
