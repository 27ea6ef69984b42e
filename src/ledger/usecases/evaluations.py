"""Evaluations of a contract: opened by the purchaser, scored by the panel or a third party, and
appealed by the contractor; each result lands on the contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.actors import Actor
from ledger.domain.contracts import Contract
from ledger.domain.errors import ContractNotFound, EvaluationNotFound
from ledger.domain.evaluations import Evaluation
from ledger.usecases.base import READERS, C, CommandResult, E, LedgerUseCases, P, Request, Work


class Evaluations(LedgerUseCases):
    def open_evaluation(
        self,
        by: Actor,
        *,
        contract_id: str,
        stage: str,
        panel: list[dict[str, Any]],
        third_party: str | None = None,
        request: Request | None = None,
    ) -> CommandResult:
        by.require(P)

        def work() -> Work:
            contract = self._load(Contract, contract_id, ContractNotFound)
            evaluation = Evaluation.open(
                contract_id=str(contract.id),
                contractor_id=contract.contractor_id,
                stage=stage,
                panel=panel,
                third_party=third_party,
                policy=self.policy,
                by=by,
            )
            contract.evaluation_opened(str(evaluation.id), evaluation.stage, by)
            return Work([evaluation, contract], {"evaluation_id": evaluation.id})

        return self._execute(by, request, work)

    def _change_evaluation(self, by: Actor, evaluation_id: str, request: Request | None, change: Callable[[Evaluation], list[Aggregate] | None]) -> CommandResult:
        def work() -> Work:
            evaluation = self._load(Evaluation, evaluation_id, EvaluationNotFound, by)
            others = change(evaluation) or []
            return Work([evaluation, *others], {"evaluation_id": evaluation.id})

        return self._execute(by, request, work)

    def score_evaluation(self, by: Actor, evaluation_id: str, scores: dict[str, Any], request: Request | None = None) -> CommandResult:
        """Only the panel or third party scores: the purchaser, who buys the service, does not."""
        by.require(E)
        return self._change_evaluation(by, evaluation_id, request, lambda ev: ev.score(scores, by))

    def conclude_evaluation(self, by: Actor, evaluation_id: str, report: str, request: Request | None = None) -> CommandResult:
        """The result lands on the contract in the same transaction, fulfilling its milestones."""
        by.require(E)

        def change(evaluation: Evaluation) -> list[Aggregate]:
            total, grade = evaluation.conclude(report, self.policy, by)
            contract = self._load(Contract, evaluation.contract_id, ContractNotFound)
            contract.evaluation_concluded(str(evaluation.id), total, grade, self.policy, by)
            return [contract]

        return self._change_evaluation(by, evaluation_id, request, change)

    def appeal_evaluation(self, by: Actor, evaluation_id: str, reason: str, request: Request | None = None) -> CommandResult:
        by.require(C)

        def change(evaluation: Evaluation) -> list[Aggregate]:
            evaluation.lodge_appeal(reason, by)
            contract = self._load(Contract, evaluation.contract_id, ContractNotFound)
            contract.evaluation_appealed(str(evaluation.id), by)
            return [contract]

        return self._change_evaluation(by, evaluation_id, request, change)

    def resolve_appeal(self, by: Actor, evaluation_id: str, upheld: bool, revised_scores: dict[str, Any] | None, note: str, request: Request | None = None) -> CommandResult:
        """The civil-affairs department's review is final."""
        by.require(P)

        def change(evaluation: Evaluation) -> list[Aggregate]:
            total, grade = evaluation.resolve_appeal(upheld, revised_scores, note, self.policy, by)
            contract = self._load(Contract, evaluation.contract_id, ContractNotFound)
            contract.appeal_resolved(str(evaluation.id), total, grade, self.policy, by)
            return [contract]

        return self._change_evaluation(by, evaluation_id, request, change)

    def get_evaluation(self, by: Actor, evaluation_id: str) -> dict[str, Any]:
        by.require(*READERS)
        return self._load(Evaluation, evaluation_id, EvaluationNotFound, by).as_dict()
