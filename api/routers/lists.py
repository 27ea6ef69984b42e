"""Lists people work from: visits by case, contract, worker, beneficiary or period; a contractor's
inbox of referrals awaiting its answer; cases by status; a contractor's workers. Scoped as every
read is: a contractor sees its own rows, whatever it asks for."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from api.deps import CurrentActor
from api.params import Cursor, Filter, IdInPath, MinPosition, Time, time_query
from api.routers.reads import READ_ERRORS, Limit, ReadSideDep, _fresh, _org, _paged, _period, _query
from api.schemas.lists import CaseRow, CaseStatus, VisitRow, WorkerRow
from api.schemas.reads import Page
from ledger.domain.catalogue import Role as R
from ledger.domain.errors import ContractorNotFound
from projections import lists

router = APIRouter()
Order = Annotated[Literal["asc", "desc"], Query(description="`desc` (default): newest first")]
READERS = (R.PURCHASER, R.CONTRACTOR, R.FINANCE, R.AUDITOR, R.EVALUATOR)


@router.get("/read/visits", tags=["read models"], responses=READ_ERRORS, summary="Visits by case, contract, contractor, worker, beneficiary, service or period", response_model=Page[VisitRow])
def visits(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    case_id: Filter = None,
    contract_id: Filter = None,
    contractor_id: Filter = None,
    worker_id: Filter = None,
    beneficiary_id: Filter = None,
    service_code: Filter = None,
    period_start: Annotated[Time | None, time_query("Visits that started at or after this time")] = None,
    period_end: Annotated[Time | None, time_query("Visits that started before this time")] = None,
    order: Order = "desc",
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(*READERS)
    _period(period_start, period_end)
    _fresh(request, read_side, min_position, "caseload")
    filters = {"case_id": case_id, "contract_id": contract_id, "contractor_id": contractor_id, "worker_id": worker_id, "beneficiary_id": beneficiary_id, "service_code": service_code}
    return _paged(*_query(read_side, lists.visits, org=_org(by), filters=filters, period_start=period_start, period_end=period_end, descending=order == "desc", cursor=cursor, limit=limit))


@router.get("/read/referrals/inbox", tags=["read models"], responses=READ_ERRORS, summary="Referrals awaiting the contractor's answer, newest first", response_model=Page[CaseRow])
def inbox(request: Request, by: CurrentActor, read_side: ReadSideDep, contractor_id: Filter = None, min_position: MinPosition = None, cursor: Cursor = None, limit: Limit = 50):
    """A contractor sees its own; the purchaser and the auditor see every contractor's, or one's."""
    by.require(R.PURCHASER, R.CONTRACTOR, R.AUDITOR)
    _fresh(request, read_side, min_position, "caseload")
    filters = {"status": "referred", "contractor_id": contractor_id}
    return _paged(*_query(read_side, lists.cases, org=_org(by), filters=filters, descending=True, cursor=cursor, limit=limit))


@router.get("/read/cases", tags=["read models"], responses=READ_ERRORS, summary="Cases by status, contractor, contract, beneficiary, township or village", response_model=Page[CaseRow])
def cases(
    request: Request,
    by: CurrentActor,
    read_side: ReadSideDep,
    status: CaseStatus | None = None,
    contractor_id: Filter = None,
    contract_id: Filter = None,
    beneficiary_id: Filter = None,
    township: Filter = None,
    village: Filter = None,
    order: Order = "desc",
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(*READERS)
    _fresh(request, read_side, min_position, "caseload")
    filters = {"status": status, "contractor_id": contractor_id, "contract_id": contract_id, "beneficiary_id": beneficiary_id, "township": township, "village": village}
    return _paged(*_query(read_side, lists.cases, org=_org(by), filters=filters, descending=order == "desc", cursor=cursor, limit=limit))


@router.get(
    "/read/contractors/{contractor_id}/workers",
    tags=["read models"],
    responses=READ_ERRORS,
    summary="A contractor's workers: enrolled or removed, qualification, open cases",
    response_model=Page[WorkerRow],
)
def workers(
    request: Request,
    contractor_id: IdInPath,
    by: CurrentActor,
    read_side: ReadSideDep,
    enrolled: Annotated[bool | None, Query(description="true: enrolled only; false: removed only; default both")] = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
):
    by.require(*READERS)
    _fresh(request, read_side, min_position, "caseload", "rollups")  # figures from both
    answer = _query(read_side, lists.contractor_workers, contractor_id=contractor_id, org=_org(by), enrolled=enrolled, cursor=cursor, limit=limit)
    if answer is None:
        raise ContractorNotFound("no such contractor")
    return _paged(*answer)
