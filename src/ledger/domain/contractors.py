"""Contractors (承接主体): the organisations that deliver services, and their enrolled workers."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, add_years, derived_id, utcnow
from ledger.domain.catalogue import ContractorType
from ledger.domain.check_digits import credit_code_check_ok, credit_code_shape_ok
from ledger.domain.errors import (
    CarerRatioExceeded,
    ContractorDebarred,
    ContractorIneligible,
    ContractorSuspended,
    ContractStateConflict,
    CreditCodeCheckFailed,
    InvalidCreditCode,
    InvalidInput,
    WorkerAlreadyEnrolled,
    WorkerNotFound,
)
from ledger.domain.rules import Policy

# Conditions a contractor must attest before it may sign (002 §二(三)).
REQUIRED_ATTESTATIONS = (
    "legal_registration",  # 依法登记成立
    "sound_governance",  # 健全的治理结构和财务制度
    "professional_capacity",  # 具备提供服务所必需的设施、人员和专业能力
    "tax_and_social_security",  # 依法缴纳税收和社会保障资金
    "no_major_violation",  # 无重大违法记录, 信用良好
)


def check_credit_code(code: str) -> None:
    """Shape and check character of a unified social credit code (GB 32100)."""
    if not credit_code_shape_ok(code):
        raise InvalidCreditCode()
    if not credit_code_check_ok(code):
        raise CreditCodeCheckFailed()


class Contractor(LedgerAggregate):
    @staticmethod
    def create_id(credit_code: str, **_: Any):  # type: ignore[override]
        return derived_id("contractor", credit_code)

    @classmethod
    def register(cls, name: str, contractor_type: str, credit_code: str, attestations: list[str], by: Actor) -> Contractor:
        limits.CONTRACTOR_NAME.check(name, "name")
        limits.CREDIT_CODE.check(credit_code, "credit code")
        limits.ATTESTATIONS.check(attestations, "attestations")
        try:
            kind = ContractorType(contractor_type)
        except ValueError:
            raise InvalidInput(f"unknown contractor type {contractor_type!r}") from None
        if kind is not ContractorType.NATURAL_PERSON:
            check_credit_code(credit_code)
        unknown = sorted(set(attestations) - set(REQUIRED_ATTESTATIONS))
        if unknown:
            raise InvalidInput(f"unknown attestations: {', '.join(unknown)}")
        return cls(name=name, contractor_type=kind.value, credit_code=credit_code, attestations=sorted(set(attestations)), by=by)

    @event("Registered")
    def __init__(self, name: str, contractor_type: str, credit_code: str, attestations: list[str], by: Actor) -> None:
        self.name = name
        self.contractor_type = contractor_type
        self.credit_code = credit_code
        self.attestations = attestations
        self.workers: dict[str, dict[str, Any]] = {}
        self.suspended = False
        self.suspension_reason: str | None = None
        self.debarred_until: datetime | None = None
        self.debarment_reason: str | None = None
        # Open cases and the self-care level of each, for the carer ratios.
        self.caseload: dict[str, str] = {}

    @property
    def owner_organisation(self) -> str:
        return str(self.id)

    # --- eligibility ----------------------------------------------------------------------
    def is_debarred(self, at: datetime | None = None) -> bool:
        return self.debarred_until is not None and (at or utcnow()) < self.debarred_until

    def check_in_good_standing(self) -> None:
        """Neither debarred nor suspended: a contractor that is may not earn money."""
        if self.is_debarred():
            raise ContractorDebarred(f"{self.name} is debarred until {self.debarred_until:%Y-%m-%d}")
        if self.suspended:
            raise ContractorSuspended(f"{self.name} is suspended: {self.suspension_reason}")

    def check_eligible(self, *, allow_natural_person: bool) -> None:
        self.check_in_good_standing()
        missing = [a for a in REQUIRED_ATTESTATIONS if a not in self.attestations]
        if missing:
            raise ContractorIneligible(f"{self.name} lacks attestations: {', '.join(missing)}")
        if self.contractor_type == ContractorType.NATURAL_PERSON.value and not allow_natural_person:
            raise ContractorIneligible("a natural person may contract only where no organisation qualifies; say so on the contract")

    def attest(self, attestations: list[str], by: Actor) -> None:
        limits.ATTESTATIONS.check(attestations, "attestations")
        unknown = sorted(set(attestations) - set(REQUIRED_ATTESTATIONS))
        if unknown:
            raise InvalidInput(f"unknown attestations: {', '.join(unknown)}")
        self._attested(attestations=sorted(set(attestations)), by=by)

    @event("Attested")
    def _attested(self, attestations: list[str], by: Actor) -> None:
        self.attestations = sorted(set(self.attestations) | set(attestations))

    def suspend(self, reason: str, by: Actor) -> None:
        limits.REASON.check(reason, "reason")
        if self.suspended:
            raise ContractStateConflict("the contractor is already suspended")
        self._suspended(reason=reason, by=by)

    @event("Suspended")
    def _suspended(self, reason: str, by: Actor) -> None:
        self.suspended = True
        self.suspension_reason = reason

    def reinstate(self, by: Actor) -> None:
        if not self.suspended:
            raise ContractStateConflict("the contractor is not suspended")
        self._reinstated(by=by)

    @event("Reinstated")
    def _reinstated(self, by: Actor) -> None:
        self.suspended = False
        self.suspension_reason = None

    def debar(self, reason: str, policy: Policy, by: Actor, at: datetime | None = None) -> None:
        limits.DEBARMENT_REASON.check(reason, "reason")
        until = add_years((at or utcnow()).date(), policy.debarment_years)
        self._debarred(reason=reason, until=datetime(until.year, until.month, until.day, tzinfo=(at or utcnow()).tzinfo), by=by)

    @event("Debarred")
    def _debarred(self, reason: str, until: datetime, by: Actor) -> None:
        self.debarred_until = until
        self.debarment_reason = reason

    # --- workers --------------------------------------------------------------------------
    def enrol_worker(self, worker_id: str, name: str, qualification: str, by: Actor) -> None:
        limits.WORKER_NAME.check(name, "name")
        limits.QUALIFICATION.check(qualification, "qualification")
        if worker_id in self.workers and self.workers[worker_id]["enrolled"]:
            raise WorkerAlreadyEnrolled(f"worker {worker_id} is already enrolled")
        self._worker_enrolled(worker_id=worker_id, name=name, qualification=qualification, by=by)

    @event("WorkerEnrolled")
    def _worker_enrolled(self, worker_id: str, name: str, qualification: str, by: Actor) -> None:
        self.workers[worker_id] = {"name": name, "qualification": qualification, "enrolled": True}

    def remove_worker(self, worker_id: str, reason: str, policy: Policy, by: Actor) -> None:
        limits.REASON.check(reason, "reason")
        if not self.has_worker(worker_id):
            raise WorkerNotFound(f"no enrolled worker {worker_id}")
        self.check_ratio(len(self.enrolled_workers) - 1, self.caseload_demand(policy), removing=True)
        self._worker_removed(worker_id=worker_id, reason=reason, by=by)

    @event("WorkerRemoved")
    def _worker_removed(self, worker_id: str, reason: str, by: Actor) -> None:
        self.workers[worker_id]["enrolled"] = False

    def has_worker(self, worker_id: str) -> bool:
        return worker_id in self.workers and self.workers[worker_id]["enrolled"]

    @property
    def enrolled_workers(self) -> list[str]:
        return [w for w, info in self.workers.items() if info["enrolled"]]

    # --- carer ratios ---------------------------------------------------------------------
    def caseload_demand(self, policy: Policy) -> Fraction:
        return sum((policy.carer_load(level) for level in self.caseload.values()), Fraction(0))

    def check_ratio(self, workers: int, demand: Fraction, *, removing: bool = False) -> None:
        if demand > workers:
            what = "removing the worker" if removing else "accepting the case"
            raise CarerRatioExceeded(f"{what} would need {float(demand):.2f} carers; {workers} enrolled")

    def take_case(self, case_id: str, self_care_level: str, policy: Policy, by: Actor) -> None:
        demand = self.caseload_demand(policy) + policy.carer_load(self_care_level)
        self.check_ratio(len(self.enrolled_workers), demand)
        self._case_taken(case_id=case_id, self_care_level=self_care_level, by=by)

    @event("CaseTaken")
    def _case_taken(self, case_id: str, self_care_level: str, by: Actor) -> None:
        self.caseload[case_id] = self_care_level

    def release_case(self, case_id: str, by: Actor) -> None:
        if case_id in self.caseload:
            self._case_released(case_id=case_id, by=by)

    @event("CaseReleased")
    def _case_released(self, case_id: str, by: Actor) -> None:
        del self.caseload[case_id]

    def as_dict(self) -> dict[str, Any]:
        d = super().as_dict()
        d["debarred"] = self.is_debarred()
        d["enrolled_workers"] = len(self.enrolled_workers)
        return d
