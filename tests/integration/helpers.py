"""A small builder so that each integration test reads as the rule it checks.

`World.build(ledger)` declares a purchase ceiling, appropriates a fund, registers an eligible
contractor with enrolled workers and signs a contract with one milestone of each kind and one
tranche per milestone. Further beneficiaries, cases, visits and evaluations are one call each.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ledger.application import Ledger
from ledger.domain.actors import Actor
from ledger.domain.catalogue import EvaluationIndicator
from ledger.domain.check_digits import with_credit_code_check, with_national_id_check
from ledger.domain.contractors import REQUIRED_ATTESTATIONS

FISCAL_YEAR = 2025

PURCHASER = Actor(actor_id="officer-wang", role="purchaser", organisation_id="civil-affairs-bureau", correlation_id="corr-purchaser")
FINANCE = Actor(actor_id="clerk-li", role="finance", organisation_id="finance-bureau", correlation_id="corr-finance")
AUDITOR = Actor(actor_id="auditor-zhao", role="auditor", organisation_id="audit-bureau", correlation_id="corr-auditor")
EVALUATOR = Actor(actor_id="evaluator-chen", role="evaluator", organisation_id="evaluation-panel", correlation_id="corr-evaluator")

PANEL = [
    {"name": "Accountant Sun", "accountant_title": "intermediate"},
    {"name": "Social worker Zhou"},
    {"name": "Officer Wu"},
]

# Milestones and tranches of the default contract, by readable id.
VOLUME, MID_TERM, FINAL, ACCEPTANCE = "m-volume", "m-mid-term", "m-final", "m-acceptance"
T_VOLUME, T_MID_TERM, T_FINAL, T_ACCEPTANCE = "t-volume", "t-mid-term", "t-final", "t-acceptance"
VOLUME_QUANTITY = 3

_counter = itertools.count(1)


def contractor_actor(contractor_id: Any, actor_id: str = "contractor-staff") -> Actor:
    return Actor(actor_id=actor_id, role="contractor", organisation_id=str(contractor_id), correlation_id="corr-contractor")


def scores(value: int | str) -> dict[str, Any]:
    return {indicator.value: value for indicator in EvaluationIndicator}


def national_id(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    return with_national_id_check(f"11010119{n:09d}")


def credit_code() -> str:
    return with_credit_code_check(f"52110000{uuid.uuid4().hex[:9].upper()}")


def today() -> date:
    return datetime.now(timezone.utc).date()


def recent(hours_ago: int = 3, length: int = 1) -> tuple[datetime, datetime]:
    """A visit that ended a little while ago."""
    start = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    return start, start + timedelta(hours=length)


def default_lines() -> list[dict[str, Any]]:
    return [
        {"service_code": "visiting", "quantity": 100, "unit_price": "50.00"},
        {"service_code": "meals", "quantity": 100, "unit_price": "20.00"},
    ]  # budget 7000.00


def default_milestones() -> list[dict[str, Any]]:
    return [
        {"milestone_id": VOLUME, "kind": "service_volume", "service_code": "visiting", "quantity": VOLUME_QUANTITY},
        {"milestone_id": MID_TERM, "kind": "evaluation_passed", "stage": "mid_term"},
        {"milestone_id": FINAL, "kind": "evaluation_passed", "stage": "final"},
        {"milestone_id": ACCEPTANCE, "kind": "acceptance"},
    ]


def default_tranches() -> list[dict[str, Any]]:
    return [
        {"tranche_id": T_VOLUME, "milestone_id": VOLUME, "amount": "2000.00"},
        {"tranche_id": T_MID_TERM, "milestone_id": MID_TERM, "amount": "1000.00"},
        {"tranche_id": T_FINAL, "milestone_id": FINAL, "amount": "2000.00"},
        {"tranche_id": T_ACCEPTANCE, "milestone_id": ACCEPTANCE, "amount": "2000.00"},
    ]


@dataclass
class Org:
    contractor_id: str
    actor: Actor
    workers: list[str] = field(default_factory=list)


@dataclass
class World:
    ledger: Ledger
    fund_id: str
    org: Org
    contract_id: str

    # --- setting up ----------------------------------------------------------------------------
    @classmethod
    def build(cls, ledger: Ledger, *, workers: int = 2, fund_amount: str = "50000.00", **contract: Any) -> World:
        declare_ceiling(ledger)
        fund_id = appropriate_fund(ledger, fund_amount)
        org = register_contractor(ledger, workers=workers)
        contract_id = sign_contract(ledger, org.contractor_id, fund_id, **contract)["contract_id"]
        return cls(ledger=ledger, fund_id=fund_id, org=org, contract_id=contract_id)

    @property
    def contractor(self) -> Actor:
        return self.org.actor

    @property
    def worker(self) -> str:
        return self.org.workers[0]

    def beneficiary(self, self_care_level: str = "self_reliant", category: str = "dibao", **kw: Any) -> str:
        return register_beneficiary(self.ledger, self_care_level=self_care_level, category=category, **kw)

    def case(self, beneficiary_id: str | None = None, services: list[str] | None = None, accept: bool = True, contract_id: str | None = None, actor: Actor | None = None) -> str:
        beneficiary_id = beneficiary_id or self.beneficiary()
        result = self.ledger.refer_case(
            PURCHASER,
            beneficiary_id=beneficiary_id,
            contract_id=contract_id or self.contract_id,
            services=services or ["visiting"],
            channel="one_door_window",
        )
        case_id = result.ids["case_id"]
        if accept:
            self.ledger.accept_case(actor or self.contractor, case_id)
        return case_id

    def visit(
        self, case_id: str, service_code: str = "visiting", worker_id: str | None = None, when: tuple[datetime, datetime] | None = None, actor: Actor | None = None, evidence_hash: str | None = None
    ) -> str:
        started_at, ended_at = when or recent()
        result = self.ledger.record_visit(
            actor or self.contractor,
            case_id=case_id,
            worker_id=worker_id or self.worker,
            service_code=service_code,
            started_at=started_at,
            ended_at=ended_at,
            location="home",
            notes="visited",
            **({"evidence_hash": evidence_hash} if evidence_hash else {}),
        )
        return result.ids["visit_id"]

    def evaluation(self, stage: str = "final", score: int | str | None = 85, panel: list[dict[str, Any]] | None = None) -> str:
        """Opens an evaluation; with a score, scores every indicator at it and concludes."""
        evaluation_id = self.ledger.open_evaluation(PURCHASER, contract_id=self.contract_id, stage=stage, panel=panel or PANEL).ids["evaluation_id"]
        if score is not None:
            self.ledger.score_evaluation(EVALUATOR, evaluation_id, scores(score))
            self.ledger.conclude_evaluation(EVALUATOR, evaluation_id, report="report")
        return evaluation_id

    # --- reading -------------------------------------------------------------------------------
    def contract(self) -> dict[str, Any]:
        return self.ledger.get_contract(PURCHASER, self.contract_id)

    def fund(self) -> dict[str, Any]:
        return self.ledger.get_fund(PURCHASER, self.fund_id)

    def milestone(self, milestone_id: str) -> dict[str, Any]:
        return next(m for m in self.contract()["milestones"] if m["milestone_id"] == milestone_id)

    def tranche(self, tranche_id: str) -> dict[str, Any]:
        return next(t for t in self.contract()["tranches"] if t["tranche_id"] == tranche_id)

    def release(self, tranche_id: str, actor: Actor = FINANCE) -> Any:
        return self.ledger.release_tranche(actor, self.contract_id, tranche_id)


def declare_ceiling(ledger: Ledger, total: str = "10000000.00", year: int = FISCAL_YEAR) -> None:
    ledger.declare_purchase_ceiling(FINANCE, fiscal_year=year, prior_year_subsidy_total=Decimal(total))


def appropriate_fund(ledger: Ledger, amount: str = "50000.00", source: str = "work_funds", year: int = FISCAL_YEAR) -> str:
    return ledger.appropriate_fund(FINANCE, name="Service purchase fund", source=source, fiscal_year=year, amount=Decimal(amount)).ids["fund_id"]


def register_contractor(ledger: Ledger, *, workers: int = 2, name: str = "Sunshine Social Work Centre", contractor_type: str = "social_organisation") -> Org:
    contractor_id = ledger.register_contractor(PURCHASER, name=name, contractor_type=contractor_type, credit_code=credit_code(), attestations=list(REQUIRED_ATTESTATIONS)).ids["contractor_id"]
    org = Org(contractor_id=contractor_id, actor=contractor_actor(contractor_id))
    for i in range(workers):
        org.workers.append(ledger.enrol_worker(org.actor, contractor_id, name=f"Worker {i + 1}", qualification="social worker").ids["worker_id"])
    return org


def sign_contract(
    ledger: Ledger,
    contractor_id: str,
    fund_id: str,
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    lines: list[dict[str, Any]] | None = None,
    milestones: list[dict[str, Any]] | None = None,
    tranches: list[dict[str, Any]] | None = None,
    contract_no: str | None = None,
) -> dict[str, Any]:
    start_date = start_date or today() - timedelta(days=180)
    return ledger.sign_contract(
        PURCHASER,
        contract_no=contract_no or f"GZ-{uuid.uuid4().hex[:8]}",
        title="Home visiting and meals for low-income households",
        contractor_id=contractor_id,
        fund_id=fund_id,
        procurement_method="open_tender",
        start_date=start_date,
        end_date=end_date or start_date + timedelta(days=365),
        lines=default_lines() if lines is None else lines,
        milestones=default_milestones() if milestones is None else milestones,
        tranches=default_tranches() if tranches is None else tranches,
    ).ids


def register_beneficiary(ledger: Ledger, *, self_care_level: str = "self_reliant", category: str = "dibao", id_number: str | None = None, name: str = "Zhang San") -> str:
    return ledger.register_beneficiary(
        PURCHASER,
        national_id=id_number or national_id(),
        name=name,
        household_id=f"hh-{uuid.uuid4().hex[:6]}",
        category=category,
        township="Xinhua Street",
        village="Hongqi Community",
        self_care_level=self_care_level,
    ).ids["beneficiary_id"]
