"""Contracts: signing (which commits the fund), milestones, tranches paid from the fund, and the
contract's life to termination, acceptance and settlement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.actors import Actor
from ledger.domain.base import utcnow
from ledger.domain.catalogue import TerminationReason
from ledger.domain.contractors import Contractor
from ledger.domain.contracts import Contract
from ledger.domain.errors import ContractNotFound, ContractorNotFound, FundNotFound
from ledger.domain.funds import Fund
from ledger.domain.records import VolumeTally
from ledger.usecases.base import READERS, CommandResult, F, LedgerUseCases, P, Request, Work


class Contracts(LedgerUseCases):
    def sign_contract(
        self,
        by: Actor,
        *,
        contract_no: str,
        title: str,
        contractor_id: str,
        fund_id: str,
        procurement_method: str,
        start_date: date,
        end_date: date,
        lines: list[dict[str, Any]],
        milestones: list[dict[str, Any]],
        tranches: list[dict[str, Any]],
        natural_person_justified: bool = False,
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contractor = self._load(Contractor, contractor_id, ContractorNotFound)
            contractor.check_eligible(allow_natural_person=natural_person_justified)
            fund = self._load(Fund, fund_id, FundNotFound)
            contract = Contract.sign(
                contract_no=contract_no,
                title=title,
                purchaser_org=by.organisation_id or "",
                contractor_id=str(contractor.id),
                fund_id=str(fund.id),
                procurement_method=procurement_method,
                start_date=start_date,
                end_date=end_date,
                lines=lines,
                milestones=milestones,
                tranches=tranches,
                policy=self.policy,
                by=by,
            )
            fund.commit(str(contract.id), contract.budget, by)
            tally = VolumeTally(contract_id=str(contract.id), by=by)
            ids = {
                "contract_id": contract.id,
                "milestone_ids": list(contract.milestones),
                "tranche_ids": list(contract.tranches),
            }
            return Work([contract, fund, tally], ids)

        return self._execute(by, request, work)

    def _change_contract(self, by: Actor, contract_id: str, request: Request | None, change: Callable[[Contract], list[Aggregate] | None], **ids: Any) -> CommandResult:
        def work() -> Work:
            contract = self._load(Contract, contract_id, ContractNotFound, by)
            others = change(contract) or []
            return Work([contract, *others], {"contract_id": contract.id, **ids})

        return self._execute(by, request, work)

    def confirm_date_milestone(self, by: Actor, contract_id: str, milestone_id: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.confirm_date_milestone(milestone_id, utcnow().date(), by), milestone_id=milestone_id)

    def release_tranche(self, by: Actor, contract_id: str, tranche_id: str, request: Request | None = None) -> CommandResult:
        """Pays a tranche whose milestone is fulfilled; contract and fund change together. Nothing
        is paid to a suspended or debarred contractor: the tranche waits for reinstatement, or is
        withheld."""
        by.require(F)

        def change(contract: Contract) -> list[Aggregate]:
            self._load(Contractor, contract.contractor_id, ContractorNotFound).check_in_good_standing()
            amount = contract.release_tranche(tranche_id, self.policy, by)
            fund = self._load(Fund, contract.fund_id, FundNotFound)
            if amount > 0:
                fund.disburse(str(contract.id), tranche_id, amount, by)
            return [fund]

        return self._change_contract(by, contract_id, request, change, tranche_id=tranche_id)

    def reduce_tranche(self, by: Actor, contract_id: str, tranche_id: str, amount: Decimal, reason: str, request: Request | None = None) -> CommandResult:
        by.require(F, P)
        return self._change_contract(by, contract_id, request, lambda c: c.reduce_tranche(tranche_id, amount, reason, by), tranche_id=tranche_id)

    def withhold_tranche(self, by: Actor, contract_id: str, tranche_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(F, P)
        return self._change_contract(by, contract_id, request, lambda c: c.withhold_tranche(tranche_id, reason, by), tranche_id=tranche_id)

    def suspend_contract(self, by: Actor, contract_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.suspend(reason, by))

    def resume_contract(self, by: Actor, contract_id: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.resume(by))

    def terminate_contract(self, by: Actor, contract_id: str, reason: str, note: str, request: Request | None = None) -> CommandResult:
        """Fraud terminates the contract and debars the contractor; the unspent commitment returns to the fund."""
        by.require(P)

        def change(contract: Contract) -> list[Aggregate]:
            contract.terminate(reason, note, by)
            fund = self._load(Fund, contract.fund_id, FundNotFound)
            fund.release_commitment(str(contract.id), f"contract terminated: {reason}", by)
            changed: list[Aggregate] = [fund]
            if reason == TerminationReason.FRAUD.value:
                contractor = self._load(Contractor, contract.contractor_id, ContractorNotFound)
                contractor.debar(f"fraud on contract {contract.contract_no}: {note}", self.policy, by)
                changed.append(contractor)
            return changed

        return self._change_contract(by, contract_id, request, change)

    def accept_contract(self, by: Actor, contract_id: str, note: str, request: Request | None = None) -> CommandResult:
        by.require(P)
        return self._change_contract(by, contract_id, request, lambda c: c.accept(self.policy, note, by))

    def settle_contract(self, by: Actor, contract_id: str, request: Request | None = None) -> CommandResult:
        by.require(F)

        def change(contract: Contract) -> list[Aggregate]:
            contract.settle(by)
            fund = self._load(Fund, contract.fund_id, FundNotFound)
            fund.release_commitment(str(contract.id), "contract settled", by)
            return [fund]

        return self._change_contract(by, contract_id, request, change)

    def get_contract(self, by: Actor, contract_id: str) -> dict[str, Any]:
        by.require(*READERS)
        d = self._load(Contract, contract_id, ContractNotFound, by).as_dict()
        tally: VolumeTally = self.repository.get(VolumeTally.create_id(contract_id=str(d["id"])))
        d["delivered"] = dict(tally.counts)
        return d
