"""The catalogue and enumerations with their labels, each aggregate's own history, health."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import CurrentActor, LedgerDep
from api.responses import found
from api.schemas.common import ERRORS
from ledger.domain.catalogue import ENUMS, SERVICES

router = APIRouter(responses=ERRORS)
Kind = Literal["funds", "contractors", "beneficiaries", "contracts", "cases", "visits", "evaluations"]
SINGULAR = {"funds": "fund", "contractors": "contractor", "beneficiaries": "beneficiary", "contracts": "contract", "cases": "case", "visits": "visit", "evaluations": "evaluation"}


@router.get("/catalogue/services", tags=["catalogue"], summary="Service items with zh-CN and English labels")
def services():
    return found(
        [
            {"code": i.code, "number": i.number, "class": i.service_class.value, "kind": i.kind.value, "zh": i.zh, "en": i.en}
            for i in SERVICES.values()
        ]
    )


@router.get("/catalogue/enums", tags=["catalogue"], summary="Every enumeration's codes with zh-CN and English labels")
def enums():
    return found({name: enum.labels() for name, enum in ENUMS.items()})


@router.get("/{kind}/{aggregate_id}/history", tags=["history"], summary="An object's own events, straight from the event store")
def history(kind: Kind, aggregate_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.history(by, SINGULAR[kind], aggregate_id))


@router.get("/health", tags=["health"], include_in_schema=True)
def health(ledger: LedgerDep):
    return {"status": "ok", "head": ledger.head()}
