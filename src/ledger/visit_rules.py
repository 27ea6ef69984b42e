"""The rules a new visit must pass, in one place for POST /visits and for bulk posting.

`load` finds an aggregate or raises the given not-found error (the Ledger's `_load`, or a batch's
cache of what it already loaded), so both paths refuse the same visit with the same error, in
the same order of checks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain.actors import Actor
from ledger.domain.beneficiaries import Beneficiary
from ledger.domain.cases import Case
from ledger.domain.contractors import Contractor
from ledger.domain.contracts import Contract
from ledger.domain.errors import BeneficiaryNotFound, CaseNotFound, ContractNotFound, ContractorNotFound, Subcontracting
from ledger.domain.visits import Visit

# load(aggregate class, id, error if missing, actor whose visibility applies or None)
Load = Callable[..., Any]


def deliver_visit(
    load: Load,
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
    visit_id: UUID | None = None,
) -> Visit:
    """A contractor's visit by its own enrolled worker on an accepted case, or the rule it breaks."""
    case: Case = load(Case, case_id, CaseNotFound, by)
    contract: Contract = load(Contract, case.contract_id, ContractNotFound)
    # A service the contract never bought is the deeper fault than one the case never asked
    # for: checked first, or ServiceNotContracted could never be reported.
    contract.check_service(service_code)
    case.check_open_for(service_code)
    contract.check_active()
    contract.check_within_term(started_at.date())
    contract.check_within_term(ended_at.date())
    contractor: Contractor = load(Contractor, case.contractor_id, ContractorNotFound)
    contractor.check_in_good_standing()
    if not contractor.has_worker(worker_id):
        raise Subcontracting(f"worker {worker_id} is not enrolled at {contractor.name}: no subcontracting")
    beneficiary: Beneficiary = load(Beneficiary, case.beneficiary_id, BeneficiaryNotFound)
    beneficiary.check_active()
    return Visit.deliver(
        case_id=str(case.id),
        contract_id=case.contract_id,
        contractor_id=case.contractor_id,
        beneficiary_id=case.beneficiary_id,
        worker_id=worker_id,
        service_code=service_code,
        started_at=started_at,
        ended_at=ended_at,
        location=location,
        notes=notes,
        evidence_hash=evidence_hash,
        township=case.township,
        village=case.village,
        by=by,
        visit_id=visit_id,
    )
