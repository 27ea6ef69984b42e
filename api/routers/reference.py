"""The catalogue and enumerations with their labels, each aggregate's own history, health."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import CurrentActor, LedgerDep
from api.responses import found
from api.schemas.common import ERRORS
from api.schemas.records import Health, HistoryEvent, Label, Liveness, ServiceItem
from ledger.domain.catalogue import ENUMS, SERVICES

router = APIRouter(responses=ERRORS)
Kind = Literal["funds", "contractors", "beneficiaries", "contracts", "cases", "visits", "evaluations"]
SINGULAR = {"funds": "fund", "contractors": "contractor", "beneficiaries": "beneficiary", "contracts": "contract", "cases": "case", "visits": "visit", "evaluations": "evaluation"}


@router.get("/catalogue/services", tags=["catalogue"], summary="Service items with zh-CN and English labels", response_model=list[ServiceItem])
def services():
    return found([{"code": i.code, "number": i.number, "class": i.service_class.value, "kind": i.kind.value, "zh": i.zh, "en": i.en} for i in SERVICES.values()])


@router.get(
    "/catalogue/enums",
    tags=["catalogue"],
    summary="Every enumeration's codes with zh-CN and English labels",
    response_model=dict[str, dict[str, Label]],
)
def enums():
    return found({name: enum.labels() for name, enum in ENUMS.items()})


@router.get(
    "/{kind}/{aggregate_id}/history",
    tags=["history"],
    summary="An object's own events, straight from the event store",
    response_model=list[HistoryEvent],
)
def history(kind: Kind, aggregate_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.history(by, SINGULAR[kind], aggregate_id))


@router.get("/health", tags=["health"], summary="The event store answers: 200 with the head, or 503", response_model=Health)
def health(ledger: LedgerDep):
    # In an outage this fails within the pool's wait and errors.py answers 503 with Retry-After.
    return {"status": "ok", "head": ledger.head()}


@router.get("/health/live", tags=["health"], summary="The process answers, whatever the stores do", response_model=Liveness)
async def live():
    return {"status": "alive"}
