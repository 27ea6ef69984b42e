"""The parties: contractors and their workers, and the beneficiaries they serve."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ledger.domain.actors import Actor
from ledger.domain.beneficiaries import Beneficiary, national_id_hash
from ledger.domain.contractors import Contractor
from ledger.domain.errors import BeneficiaryAlreadyRegistered, BeneficiaryNotFound, ContractorAlreadyRegistered, ContractorNotFound
from ledger.usecases.base import READERS, A, C, CommandResult, LedgerUseCases, P, Request, Work


class Parties(LedgerUseCases):
    # --- contractors and their workers ---------------------------------------------------------
    def register_contractor(self, by: Actor, name: str, contractor_type: str, credit_code: str, attestations: list[str], request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contractor = Contractor.register(name, contractor_type, credit_code, attestations, by)
            self._new(contractor, ContractorAlreadyRegistered, f"credit code {credit_code} is already registered")
            return Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def _contractor_for_change(self, by: Actor, contractor_id: str) -> Contractor:
        return self._load(Contractor, contractor_id, ContractorNotFound, by)

    def attest_contractor(self, by: Actor, contractor_id: str, attestations: list[str], request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.attest(attestations, by)
            return Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def enrol_worker(self, by: Actor, contractor_id: str, name: str, qualification: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)

        def work() -> Work:
            contractor = self._contractor_for_change(by, contractor_id)
            worker_id = str(uuid.uuid4())
            contractor.enrol_worker(worker_id, name, qualification, by)
            return Work([contractor], {"contractor_id": contractor.id, "worker_id": worker_id})

        return self._execute(by, request, work)

    def remove_worker(self, by: Actor, contractor_id: str, worker_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P, C)

        def work() -> Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.remove_worker(worker_id, reason, self.policy, by)
            return Work([contractor], {"contractor_id": contractor.id, "worker_id": worker_id})

        return self._execute(by, request, work)

    def suspend_contractor(self, by: Actor, contractor_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.suspend(reason, by)
            return Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def reinstate_contractor(self, by: Actor, contractor_id: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.reinstate(by)
            return Work([contractor], {"contractor_id": contractor.id})

        return self._execute(by, request, work)

    def debar_contractor(self, by: Actor, contractor_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contractor = self._contractor_for_change(by, contractor_id)
            contractor.debar(reason, self.policy, by)
            return Work([contractor], {"contractor_id": contractor.id, "debarred_until": contractor.debarred_until})

        return self._execute(by, request, work)

    def get_contractor(self, by: Actor, contractor_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Contractor, contractor_id, ContractorNotFound, by).as_dict()

    # --- beneficiaries -------------------------------------------------------------------------
    def register_beneficiary(
        self,
        by: Actor,
        national_id: str,
        name: str,
        household_id: str,
        category: str,
        township: str,
        village: str,
        self_care_level: str,
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> Work:
            person = Beneficiary.register(
                national_id=national_id,
                id_hash_key=self.id_hash_key,
                name=name,
                household_id=household_id,
                category=category,
                township=township,
                village=village,
                self_care_level=self_care_level,
                by=by,
            )
            self._new(person, BeneficiaryAlreadyRegistered, "a beneficiary with this national ID number is already registered")
            return Work([person], {"beneficiary_id": person.id})

        return self._execute(by, request, work)

    def find_beneficiary(self, by: Actor, national_id: str) -> dict[str, Any]:
        """Matching by national ID goes through the keyed hash; the number itself is never kept."""
        by.require(P, A)
        # Shape only: a person registered before check digits were verified stays findable by the
        # number as registered (a mistyped number simply finds nobody).
        digest = national_id_hash(national_id, self.id_hash_key, check_digit=False)
        beneficiary_id = Beneficiary.create_id(national_id_hash=digest)
        return self.get_beneficiary(by, str(beneficiary_id))

    def _beneficiary(self, by: Actor, beneficiary_id: str) -> Beneficiary:
        person = self._load(Beneficiary, beneficiary_id, BeneficiaryNotFound)
        if by.is_contractor and not person.served_by(by.organisation_id):
            raise BeneficiaryNotFound(f"no beneficiary {beneficiary_id}")
        return person

    def _change_beneficiary(self, by: Actor, beneficiary_id: str, request: Request | None, change: Callable[[Beneficiary], None]) -> CommandResult:
        by.require(P)

        def work() -> Work:
            person = self._beneficiary(by, beneficiary_id)
            change(person)
            return Work([person], {"beneficiary_id": person.id})

        return self._execute(by, request, work)

    def assess_needs(self, by: Actor, beneficiary_id: str, scores: dict[str, int], request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.assess_needs(scores, by))

    def change_category(self, by: Actor, beneficiary_id: str, category: str, direction: str, reason: str, request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.change_category(category, direction, reason, by))

    def reassess_self_care(self, by: Actor, beneficiary_id: str, self_care_level: str, request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.reassess_self_care(self_care_level, by))

    def deregister_beneficiary(self, by: Actor, beneficiary_id: str, reason: str, note: str, request: Request | None = None) -> CommandResult:
        return self._change_beneficiary(by, beneficiary_id, request, lambda p: p.deregister(reason, note, by))

    def get_beneficiary(self, by: Actor, beneficiary_id: str) -> dict[str, Any]:
        by.require(*READERS)
        d = self._beneficiary(by, beneficiary_id).as_dict()
        d.pop("national_id_hash", None)
        # A person referred to several contractors: each contractor sees its own referrals only.
        d["cases"] = {case: contractor for case, contractor in d["cases"].items() if by.can_see(contractor)}
        return d
