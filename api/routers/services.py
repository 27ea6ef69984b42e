"""Referrals and cases, service visits, evaluations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentActor, Idempotency, LedgerDep, Milestones
from api.responses import created, found
from api.schemas.common import ERRORS, Created, Reason
from api.schemas.records import CaseRecord, EvaluationRecord, VisitRecord
from api.schemas.services import (
    Appeal,
    Conclude,
    ConfirmVisit,
    DisputeVisit,
    OpenEvaluation,
    RecordVisit,
    Refer,
    ResolveAppeal,
    ScoreEvaluation,
    SpotCheck,
    utc,
)

router = APIRouter(responses=ERRORS)
C201: dict[str, Any] = {"status_code": 201, "response_model": Created}


@router.post("/cases", tags=["cases"], summary="Refer a beneficiary to a contract (转介)", **C201)
def refer(body: Refer, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(
        ledger.refer_case(
            by,
            beneficiary_id=body.beneficiary_id,
            contract_id=body.contract_id,
            services=list(body.services),
            channel=body.channel,
            visit_interval_days=body.visit_interval_days,
            note=body.note,
            request=idem,
        )
    )


@router.post("/cases/{case_id}/acceptance", tags=["cases"], summary="The contractor accepts the case", **C201)
def accept_case(case_id: str, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.accept_case(by, case_id, request=idem))


@router.post("/cases/{case_id}/decline", tags=["cases"], summary="The contractor declines, with a reason", **C201)
def decline_case(case_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.decline_case(by, case_id, body.reason, request=idem))


@router.post("/cases/{case_id}/withdrawal", tags=["cases"], **C201)
def withdraw_case(case_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.withdraw_case(by, case_id, body.reason, request=idem))


@router.post("/cases/{case_id}/closure", tags=["cases"], **C201)
def close_case(case_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.close_case(by, case_id, body.reason, request=idem))


@router.get("/cases/{case_id}", tags=["cases"], response_model=CaseRecord)
def get_case(case_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_case(by, case_id))


def _follow(milestones: Milestones, ledger: LedgerDep) -> None:
    """Wakes the milestone follower, off the request's path (or runs it here, LEDGER_FOLLOW_INLINE)."""
    milestones.after_command()


@router.post("/visits", tags=["visits"], summary="Post a service visit by an enrolled worker", **C201)
def record_visit(body: RecordVisit, by: CurrentActor, ledger: LedgerDep, idem: Idempotency, milestones: Milestones):
    result = ledger.record_visit(
        by,
        case_id=body.case_id,
        worker_id=body.worker_id,
        service_code=body.service_code,
        started_at=utc(body.started_at),
        ended_at=utc(body.ended_at),
        location=body.location,
        notes=body.notes,
        evidence_hash=body.evidence_hash,
        request=idem,
    )
    _follow(milestones, ledger)
    return created(result)


@router.post("/visits/{visit_id}/confirmation", tags=["visits"], summary="The beneficiary confirms the visit: purchaser's follow-up (回访) or the beneficiary's own proof", **C201)
def confirm_visit(visit_id: str, body: ConfirmVisit, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.confirm_visit(by, visit_id, body.channel, body.proof, request=idem))


@router.post("/visits/{visit_id}/dispute", tags=["visits"], summary="The purchaser records the beneficiary's dispute (回访)", **C201)
def dispute_visit(visit_id: str, body: DisputeVisit, by: CurrentActor, ledger: LedgerDep, idem: Idempotency, milestones: Milestones):
    result = ledger.dispute_visit(by, visit_id, body.reason, body.channel, body.proof, request=idem)
    _follow(milestones, ledger)
    return created(result)


@router.post("/visits/{visit_id}/void", tags=["visits"], summary="Void with a reason: a new event, never an edit", **C201)
def void_visit(visit_id: str, body: Reason, by: CurrentActor, ledger: LedgerDep, idem: Idempotency, milestones: Milestones):
    result = ledger.void_visit(by, visit_id, body.reason, request=idem)
    _follow(milestones, ledger)
    return created(result)


@router.post("/visits/{visit_id}/spot-check", tags=["visits"], summary="Record a spot check (随机抽查)", **C201)
def spot_check(visit_id: str, body: SpotCheck, by: CurrentActor, ledger: LedgerDep, idem: Idempotency, milestones: Milestones):
    result = ledger.spot_check_visit(by, visit_id, body.result, body.note, request=idem)
    _follow(milestones, ledger)
    return created(result)


@router.get("/visits/{visit_id}", tags=["visits"], response_model=VisitRecord)
def get_visit(visit_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_visit(by, visit_id))


@router.post("/evaluations", tags=["evaluations"], summary="Open an evaluation with a panel or a third party", **C201)
def open_evaluation(body: OpenEvaluation, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    panel = [m.model_dump() for m in body.panel]
    return created(ledger.open_evaluation(by, contract_id=body.contract_id, stage=body.stage, panel=panel, third_party=body.third_party, request=idem))


@router.post("/evaluations/{evaluation_id}/scores", tags=["evaluations"], **C201)
def score(evaluation_id: str, body: ScoreEvaluation, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.score_evaluation(by, evaluation_id, dict(body.scores), request=idem))


@router.post("/evaluations/{evaluation_id}/conclusion", tags=["evaluations"], summary="Conclude: total, grade, milestones", **C201)
def conclude(evaluation_id: str, body: Conclude, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.conclude_evaluation(by, evaluation_id, body.report, request=idem))


@router.post("/evaluations/{evaluation_id}/appeal", tags=["evaluations"], summary="The contractor appeals (申诉)", **C201)
def appeal(evaluation_id: str, body: Appeal, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    return created(ledger.appeal_evaluation(by, evaluation_id, body.reason, request=idem))


@router.post("/evaluations/{evaluation_id}/appeal-resolution", tags=["evaluations"], summary="Resolve the appeal: final", **C201)
def resolve_appeal(evaluation_id: str, body: ResolveAppeal, by: CurrentActor, ledger: LedgerDep, idem: Idempotency):
    revised = dict(body.revised_scores) if body.revised_scores else None
    return created(ledger.resolve_appeal(by, evaluation_id, body.upheld, revised, body.note, request=idem))


@router.get("/evaluations/{evaluation_id}", tags=["evaluations"], response_model=EvaluationRecord)
def get_evaluation(evaluation_id: str, by: CurrentActor, ledger: LedgerDep):
    return found(ledger.get_evaluation(by, evaluation_id))
