"""Tamper evidence over HTTP: a signed checkpoint of the hash chain, and verification of the
stored log against the chain (and against a checkpoint an auditor kept)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.deps import CurrentActor
from api.schemas.audit import Checkpoint, CheckpointBody, Verification
from api.schemas.common import ERRORS
from ledger.domain.catalogue import Role
from projections.chain.audit import TamperEvidence
from projections.chain.signing import Checkpoint as SignedCheckpoint

router = APIRouter(responses=ERRORS, tags=["audit"])
R = Role


def get_chain(request: Request) -> TamperEvidence:
    return request.app.state.chain


Chain = Annotated[TamperEvidence, Depends(get_chain)]


@router.get("/audit/checkpoint", response_model=Checkpoint, summary="The chain's head, signed with the deployment's Ed25519 key")
def checkpoint(by: CurrentActor, chain: Chain):
    by.require(R.AUDITOR, R.PURCHASER, R.FINANCE)
    return chain.checkpoint().as_dict()


@router.get("/audit/verify", response_model=Verification, summary="Recompute the chain from the stored events and compare it with the kept links")
def verify(by: CurrentActor, chain: Chain):
    by.require(R.AUDITOR)
    return chain.verify().as_dict()


@router.post("/audit/verify", response_model=Verification, summary="Verify the log as GET does, and against a checkpoint kept outside the system")
def verify_against(body: CheckpointBody, by: CurrentActor, chain: Chain):
    by.require(R.AUDITOR)
    return chain.verify(SignedCheckpoint.from_dict(body.model_dump())).as_dict()
