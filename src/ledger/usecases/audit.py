"""The audit trail of one aggregate: its own events, as stored, to whoever may see it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.domain.actors import Actor
from ledger.usecases.base import LedgerUseCases


class Audit(LedgerUseCases):
    if TYPE_CHECKING:
        # The other areas' readers, composed beside this one in the Ledger.
        def get_fund(self, by: Actor, fund_id: str) -> dict[str, Any]: ...
        def get_contractor(self, by: Actor, contractor_id: str) -> dict[str, Any]: ...
        def get_beneficiary(self, by: Actor, beneficiary_id: str) -> dict[str, Any]: ...
        def get_contract(self, by: Actor, contract_id: str) -> dict[str, Any]: ...
        def get_case(self, by: Actor, case_id: str) -> dict[str, Any]: ...
        def get_visit(self, by: Actor, visit_id: str) -> dict[str, Any]: ...
        def get_evaluation(self, by: Actor, evaluation_id: str) -> dict[str, Any]: ...

    def history(self, by: Actor, kind: str, aggregate_id: str) -> list[dict[str, Any]]:
        """An aggregate's own events, read straight from the event store; a contractor is not
        shown an event about another contractor (a beneficiary's referral elsewhere)."""
        getters: dict[str, Callable[[Actor, str], dict[str, Any]]] = {
            "fund": self.get_fund,
            "contractor": self.get_contractor,
            "beneficiary": self.get_beneficiary,
            "contract": self.get_contract,
            "case": self.get_case,
            "visit": self.get_visit,
            "evaluation": self.get_evaluation,
        }
        getters[kind](by, aggregate_id)  # checks existence and visibility
        events = self.events.get(uuid.UUID(str(aggregate_id)))
        return [describe_event(e) for e in events if by.can_see(getattr(e, "contractor_id", by.organisation_id))]


def describe_event(e: Any) -> dict[str, Any]:
    payload = {k: v for k, v in e.__dict__.items() if k not in ("originator_id", "originator_version", "timestamp", "by", "originator_topic")}
    payload.pop("national_id_hash", None)
    by: Actor | None = getattr(e, "by", None)
    return {
        "version": e.originator_version,
        "type": type(e).__name__,
        "timestamp": e.timestamp,
        "actor": by.as_dict() if by else None,
        "data": payload,
    }
