"""A contract's or a fund's state as it stood at a log position or a time (exactly one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentActor, LedgerDep
from api.params import IdInPath, Time, time_query
from api.responses import found
from api.schemas.common import ERRORS
from api.schemas.records import ContractAsOf, FundAsOf
from ledger.domain import limits

router = APIRouter(responses=ERRORS)
Position = Annotated[
    int | None,
    Query(ge=limits.POSITION.minimum, le=limits.POSITION.maximum, description="A log position (a command's `position`): the state after the events up to it"),
]
At = Annotated[Time | None, time_query("The state after the events recorded up to this time")]


@router.get("/contracts/{contract_id}/as-of", tags=["contracts"], summary="A contract and its delivered counts as they stood at a position or time", response_model=ContractAsOf)
def contract_as_of(contract_id: IdInPath, by: CurrentActor, ledger: LedgerDep, position: Position = None, at: At = None):
    return found(ledger.contract_as_of(by, contract_id, position=position, at=at))


@router.get("/funds/{fund_id}/as-of", tags=["funds"], summary="A fund's balances as they stood at a position or time", response_model=FundAsOf)
def fund_as_of(fund_id: IdInPath, by: CurrentActor, ledger: LedgerDep, position: Position = None, at: At = None):
    return found(ledger.fund_as_of(by, fund_id, position=position, at=at))
