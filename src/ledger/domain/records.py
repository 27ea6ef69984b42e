"""Small aggregates that keep the API honest: tokens, idempotency records and volume tallies."""

from __future__ import annotations

import hashlib
from typing import Any

from eventsourcing.domain import event

from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, derived_id


def token_digest(token: str) -> str:
    # Tokens are 256-bit random strings, so a plain digest is enough to keep them unguessable.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(LedgerAggregate):
    """A bearer token, stored only as its digest; its id derives from the digest for lookup."""

    @staticmethod
    def create_id(digest: str, **_: Any):  # type: ignore[override]
        return derived_id("api-token", digest)

    @event("Issued")
    def __init__(self, digest: str, subject: str, role: str, organisation_id: str | None, by: Actor) -> None:
        self.digest = digest
        self.subject = subject
        self.role = role
        self.organisation_id = organisation_id
        self.revoked = False

    def revoke(self, by: Actor) -> None:
        if not self.revoked:
            self._revoked(by=by)

    @event("Revoked")
    def _revoked(self, by: Actor) -> None:
        self.revoked = True


class IdempotencyRecord(LedgerAggregate):
    """Saved in the same transaction as the events a request produced: the id derives from the
    key, so the store's own version check refuses a second use of it."""

    @staticmethod
    def create_id(scope: str, key: str, **_: Any):  # type: ignore[override]
        return derived_id("idempotency", scope, key)

    @event("Recorded")
    def __init__(self, scope: str, key: str, fingerprint: str, result: dict[str, Any], by: Actor) -> None:
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
        self.result = result


class VolumeTally(LedgerAggregate):
    """Delivered visits counted per service line of one contract, kept by the milestone process
    that follows the log; visits themselves never touch it, so they never contend."""

    @staticmethod
    def create_id(contract_id: str, **_: Any):  # type: ignore[override]
        return derived_id("volume-tally", contract_id)

    @event("Opened")
    def __init__(self, contract_id: str, by: Actor) -> None:
        self.contract_id = contract_id
        self.counts: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count_for(self, service_code: str | None) -> int:
        return self.total if service_code is None else self.counts.get(service_code, 0)

    def add(self, deltas: dict[str, int], through: int, by: Actor) -> None:
        if any(deltas.values()):
            self._tallied(deltas=deltas, through=through, by=by)

    @event("Tallied")
    def _tallied(self, deltas: dict[str, int], through: int, by: Actor) -> None:
        for code, delta in deltas.items():
            self.counts[code] = self.counts.get(code, 0) + delta
