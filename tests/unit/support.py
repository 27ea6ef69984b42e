"""Shared values for the domain tests: actors and a contract that reads as the rule under test."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from ledger.domain.actors import Actor
from ledger.domain.catalogue import EvaluationIndicator
from ledger.domain.contracts import Contract
from ledger.domain.rules import Policy
from ledger.domain.visits import Visit

PURCHASER = Actor("officer-wang", "purchaser", "civil-affairs-bureau", "corr-1")
FINANCE = Actor("clerk-li", "finance", "finance-bureau", "corr-2")
CONTRACTOR = Actor("staff-1", "contractor", "contractor-1", "corr-3")
EVALUATOR = Actor("panel-chair", "evaluator", "evaluation-panel", "corr-4")
POLICY = Policy()
START = date(2025, 1, 1)
END = date(2025, 12, 31)
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

LINES = [
    {"service_code": "visiting", "quantity": 100, "unit_price": "50.00"},
    {"service_code": "meals", "quantity": 100, "unit_price": "20.00"},
]
MILESTONES = [
    {"milestone_id": "m-volume", "kind": "service_volume", "service_code": "visiting", "quantity": 3},
    {"milestone_id": "m-mid", "kind": "evaluation_passed", "stage": "mid_term"},
    {"milestone_id": "m-final", "kind": "evaluation_passed", "stage": "final"},
    {"milestone_id": "m-accept", "kind": "acceptance"},
]
TRANCHES = [
    {"tranche_id": "t-volume", "milestone_id": "m-volume", "amount": "2000.00"},
    {"tranche_id": "t-mid", "milestone_id": "m-mid", "amount": "1000.00"},
    {"tranche_id": "t-final", "milestone_id": "m-final", "amount": "2000.00"},
    {"tranche_id": "t-accept", "milestone_id": "m-accept", "amount": "2000.00"},
]


def sign(policy: Policy = POLICY, **overrides: Any) -> Contract:
    terms: dict[str, Any] = dict(
        contract_no="GZ-2025-001",
        title="Home visiting",
        purchaser_org="civil-affairs-bureau",
        contractor_id="contractor-1",
        fund_id="fund-1",
        procurement_method="open_tender",
        start_date=START,
        end_date=END,
        lines=LINES,
        milestones=MILESTONES,
        tranches=TRANCHES,
    )
    terms.update(overrides)
    return Contract.sign(policy=policy, by=PURCHASER, **terms)


def visit(started_at: datetime = T0, ended_at: datetime | None = None, evidence_hash: str | None = None) -> Visit:
    """A delivered visit of contractor-1, its creation already collected."""
    v = Visit.deliver(
        case_id="case-1",
        contract_id="contract-1",
        contractor_id="contractor-1",
        beneficiary_id="person-1",
        worker_id="w0",
        service_code="visiting",
        started_at=started_at,
        ended_at=ended_at or started_at + timedelta(hours=1),
        location="home",
        notes=None,
        evidence_hash=evidence_hash,
        township="Xinhua Street",
        village="Hongqi Community",
        by=CONTRACTOR,
    )
    v.collect_events()
    return v


def scores(value: int | str) -> dict[str, Any]:
    return {indicator.value: value for indicator in EvaluationIndicator}


def event_names(aggregate: Any) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]
