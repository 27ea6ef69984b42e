"""Open contracting: each contract, its milestones, payments and evaluation results as an OCDS 1.1.5
release package, for anyone to read without a token (the seed documents require the results be
published; nothing here names a beneficiary or a worker)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from api.params import IdInPath, MinPosition
from api.routers.reads import READ_ERRORS, ReadSideDep, _fresh, _query
from ledger.application import Ledger, to_plain
from ledger.domain.actors import Actor
from ledger.domain.catalogue import Role
from ledger.domain.errors import ContractNotFound
from ledger.settings import Settings
from projections import ocds, queries
from projections.readside import ReadSide

router = APIRouter(prefix="/publish", tags=["open contracting"])
MEDIA_TYPE = "application/json"
# Reads every contract, writes nothing: the publication sees what an auditor sees.
PUBLIC = Actor(actor_id="public:ocds", role=Role.AUDITOR.value, organisation_id=None)
PAGE = 500
ERRORS = {status: body for status, body in READ_ERRORS.items() if status not in (401, 403)}
PACKAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "An OCDS 1.1.5 release package", "content": {MEDIA_TYPE: {"schema": {"type": "object", "required": ["uri", "publisher", "publishedDate", "releases", "version"]}}}}
}


def publisher(settings: Settings) -> ocds.Publisher:
    return ocds.Publisher(
        ocid_prefix=settings.ocds_ocid_prefix,
        name=settings.ocds_publisher_name,
        payer_id=settings.ocds_payer_id,
        payer_name=settings.ocds_payer_name,
        supplier_scheme=settings.ocds_supplier_scheme,
    )


def contract_release(ledger: Ledger, read_side: ReadSide, settings: Settings, contract_id: str) -> dict[str, Any]:
    """The release of one contract from the read model and the application's aggregates."""
    detail = _query(read_side, queries.contract, contract_id=contract_id, org=None)
    if detail is None:
        raise ContractNotFound("no such contract")
    contract = to_plain(ledger.get_contract(PUBLIC, contract_id))
    contractor = to_plain(ledger.get_contractor(PUBLIC, contract["contractor_id"]))
    fund = to_plain(ledger.get_fund(PUBLIC, contract["fund_id"]))
    return ocds.contract_release(publisher(settings), to_plain(detail), contract, contractor, fund)


def every_contract(read_side: ReadSide) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        rows, cursor = _query(read_side, queries.contracts, org=None, cursor=cursor, limit=PAGE)
        ids += [row["contract_id"] for row in rows]
        if cursor is None:
            return ids


def package_chunks(ledger: Ledger, read_side: ReadSide, settings: Settings, contract_ids: list[str], uri: str) -> Iterator[bytes]:
    """The release package of these contracts as JSON, a release at a time; `ledger publish`
    writes the same."""
    releases = (contract_release(ledger, read_side, settings, contract_id) for contract_id in contract_ids)
    return ocds.package_chunks(publisher(settings), releases, datetime.now(timezone.utc), uri)


def _uri(request: Request) -> str:
    return str(request.url.remove_query_params("min_position"))


@router.get("/contracts/{contract_id}.json", responses={**PACKAGE, **ERRORS}, response_class=Response, summary="One contract as an OCDS 1.1.5 release package; no token needed")
def contract(request: Request, contract_id: IdInPath, read_side: ReadSideDep, min_position: MinPosition = None):
    _fresh(request, read_side, min_position, "fulfilment")
    state = request.app.state
    release = contract_release(state.ledger, read_side, state.settings, contract_id)  # a 404 before the answer starts
    return Response(b"".join(ocds.package_chunks(publisher(state.settings), [release], datetime.now(timezone.utc), _uri(request))), media_type=MEDIA_TYPE)


@router.get("/releases.json", responses={**PACKAGE, **ERRORS}, response_class=StreamingResponse, summary="Every contract as an OCDS 1.1.5 release package, streamed; no token needed")
def releases(request: Request, read_side: ReadSideDep, min_position: MinPosition = None):
    _fresh(request, read_side, min_position, "fulfilment")
    state = request.app.state
    return StreamingResponse(package_chunks(state.ledger, read_side, state.settings, every_contract(read_side), _uri(request)), media_type=MEDIA_TYPE)
