"""Referrals and cases (a beneficiary referred to a contract's contractor), and the visits its
workers deliver on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.actors import Actor
from ledger.domain.beneficiaries import Beneficiary
from ledger.domain.cases import Case
from ledger.domain.contractors import Contractor
from ledger.domain.contracts import Contract
from ledger.domain.errors import BeneficiaryNotFound, CaseNotFound, ContractNotFound, ContractorNotFound, VisitNotFound
from ledger.domain.visits import Visit
from ledger.usecases.base import READERS, C, CommandResult, LedgerUseCases, P, Request, Work
from ledger.visit_rules import deliver_visit


class CasesAndVisits(LedgerUseCases):
    # --- referrals and cases -------------------------------------------------------------------
    def refer_case(
        self,
        by: Actor,
        *,
        beneficiary_id: str,
        contract_id: str,
        services: list[str],
        channel: str,
        visit_interval_days: int = 30,
        note: str = "",
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> Work:
            person = self._load(Beneficiary, beneficiary_id, BeneficiaryNotFound)
            contract = self._load(Contract, contract_id, ContractNotFound)
            contract.check_active()
            for code in services:
                contract.check_service(code)
            case = Case.refer(
                beneficiary_id=str(person.id),
                contract_id=str(contract.id),
                contractor_id=contract.contractor_id,
                services=services,
                channel=channel,
                visit_interval_days=visit_interval_days,
                self_care_level=person.self_care_level,
                township=person.township,
                village=person.village,
                note=note,
                by=by,
            )
            person.refer(str(case.id), contract.contractor_id, by)
            return Work([case, person], {"case_id": case.id})

        return self._execute(by, request, work)

    def _change_case(self, by: Actor, case_id: str, request: Request | None, change: Callable[[Case], list[Aggregate] | None]) -> CommandResult:
        def work() -> Work:
            case = self._load(Case, case_id, CaseNotFound, by)
            others = change(case) or []
            return Work([case, *others], {"case_id": case.id})

        return self._execute(by, request, work)

    def accept_case(self, by: Actor, case_id: str, request: Request | None = None) -> CommandResult:
        """The contractor takes the case, if its enrolled workers can carry it at the carer ratios."""
        by.require(C)

        def change(case: Case) -> list[Aggregate]:
            contract = self._load(Contract, case.contract_id, ContractNotFound)
            contract.check_active()
            self._load(Beneficiary, case.beneficiary_id, BeneficiaryNotFound).check_active()
            contractor = self._load(Contractor, case.contractor_id, ContractorNotFound)
            contractor.check_in_good_standing()
            case.accept(by)
            contractor.take_case(str(case.id), case.self_care_level, self.policy, by)
            return [contractor]

        return self._change_case(by, case_id, request, change)

    def decline_case(self, by: Actor, case_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(C)
        return self._change_case(by, case_id, request, lambda c: c.decline(reason, by))

    def _release_from_caseload(self, case: Case, by: Actor) -> list[Aggregate]:
        contractor = self._load(Contractor, case.contractor_id, ContractorNotFound)
        contractor.release_case(str(case.id), by)
        return [contractor]

    def withdraw_case(self, by: Actor, case_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def change(case: Case) -> list[Aggregate]:
            case.withdraw(reason, by)
            return self._release_from_caseload(case, by)

        return self._change_case(by, case_id, request, change)

    def close_case(self, by: Actor, case_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)

        def change(case: Case) -> list[Aggregate]:
            case.close(reason, by)
            return self._release_from_caseload(case, by)

        return self._change_case(by, case_id, request, change)

    def get_case(self, by: Actor, case_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Case, case_id, CaseNotFound, by).as_dict()

    # --- visits --------------------------------------------------------------------------------
    def record_visit(
        self,
        by: Actor,
        *,
        case_id: str,
        worker_id: str,
        service_code: str,
        started_at: datetime,
        ended_at: datetime,
        location: str | None = None,
        notes: str | None = None,
        evidence_hash: str | None = None,
        request: Request | None = None,
    ) -> CommandResult:
        """A contractor posts a visit by its own enrolled worker on an accepted case."""
        by.require(C)

        def work() -> Work:
            # Read only, never changed here: the cached objects themselves, uncopied.
            visit = deliver_visit(
                self._load_readonly,
                by,
                case_id=case_id,
                worker_id=worker_id,
                service_code=service_code,
                started_at=started_at,
                ended_at=ended_at,
                location=location,
                notes=notes,
                evidence_hash=evidence_hash,
            )
            return Work([visit], {"visit_id": visit.id})

        return self._execute(by, request, work)

    def _change_visit(self, by: Actor, visit_id: str, request: Request | None, change: Callable[[Visit], None]) -> CommandResult:
        def work() -> Work:
            visit = self._load(Visit, visit_id, VisitNotFound, by)
            change(visit)
            return Work([visit], {"visit_id": visit.id})

        return self._execute(by, request, work)

    def confirm_visit(self, by: Actor, visit_id: str, channel: str, proof: str | None = None, request: Request | None = None) -> CommandResult:
        """By the purchaser's follow-up (回访), or by the contractor with the beneficiary's own proof."""
        by.require(P, C)
        return self._change_visit(by, visit_id, request, lambda v: v.confirm(channel, by, proof))

    def dispute_visit(self, by: Actor, visit_id: str, reason: str, channel: str, proof: str | None = None, request: Request | None = None) -> CommandResult:
        """By the purchaser; a contractor reaches the visit only to be told to void it instead."""
        by.require(P, C)
        return self._change_visit(by, visit_id, request, lambda v: v.dispute(reason, channel, by, proof))

    def void_visit(self, by: Actor, visit_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)
        return self._change_visit(by, visit_id, request, lambda v: v.void(reason, by))

    def spot_check_visit(self, by: Actor, visit_id: str, result: str, note: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_visit(by, visit_id, request, lambda v: v.record_spot_check(result, note, by))

    def get_visit(self, by: Actor, visit_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Visit, visit_id, VisitNotFound, by).as_dict()
