"""Small aggregates that keep the API honest: tokens, idempotency records and volume tallies."""

from __future__ import annotations

import hashlib
import heapq
import itertools
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
    that follows the log; visits themselves never touch it, so they never contend.

    Besides the counts it keeps which visits count, in log order (service -> visit id -> log
    position), so a fulfilled milestone names the visits behind it; a visit leaves it in O(1)
    when it stops counting. Only services that a pending volume milestone still waits for are
    kept, and a service is forgotten once none does: the map stays within the largest pending
    quantity rather than growing with the contract's visits (which would fill every process's
    memory and every snapshot at province scale)."""

    @staticmethod
    def create_id(contract_id: str, **_: Any):  # type: ignore[override]
        return derived_id("volume-tally", contract_id)

    @event("Opened")
    def __init__(self, contract_id: str, by: Actor) -> None:
        self.contract_id = contract_id
        self.counts: dict[str, int] = {}
        self.counting: dict[str, dict[str, int]] = {}

    def _counting(self) -> dict[str, dict[str, int]]:
        # Snapshots taken before the tally kept its visits have no map: it starts empty.
        return self.__dict__.setdefault("counting", {})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count_for(self, service_code: str | None) -> int:
        return self.total if service_code is None else self.counts.get(service_code, 0)

    def counted_for(self, service_code: str | None, quantity: int) -> list[dict[str, Any]]:
        """The first `quantity` visits that count now (of one service, or of every one), in log
        order: the visits a volume milestone fulfilled now rests on."""
        counting = self._counting()
        lines = counting.values() if service_code is None else [counting.get(service_code, {})]
        merged = heapq.merge(*(line.items() for line in lines), key=lambda item: item[1])
        return [{"visit_id": visit_id, "position": position} for visit_id, position in itertools.islice(merged, quantity)]

    def kept_services(self) -> set[str]:
        return set(self._counting())

    def forget(self, service_codes: list[str], by: Actor) -> None:
        """Drops the kept visits of services no pending milestone waits for any more."""
        if stale := sorted(set(service_codes) & self.kept_services()):
            self._forgot(service_codes=stale, by=by)

    @event("Forgot")
    def _forgot(self, service_codes: list[str], by: Actor) -> None:
        counting = self._counting()
        for code in service_codes:
            counting.pop(code, None)

    def add(self, deltas: dict[str, int], through: int, by: Actor, added: list[list[Any]] | None = None, removed: list[list[Any]] | None = None) -> None:
        """`added`: [service, visit id, position] of visits that began counting; `removed`:
        [service, visit id] of visits that stopped."""
        if any(deltas.values()) or added or removed:
            self._tallied(deltas=deltas, through=through, by=by, added=added or [], removed=removed or [])

    # `added` and `removed` default to None: tallies recorded before them replay as counts only.
    @event("Tallied")
    def _tallied(self, deltas: dict[str, int], through: int, by: Actor, added: list[list[Any]] | None = None, removed: list[list[Any]] | None = None) -> None:
        for code, delta in deltas.items():
            self.counts[code] = self.counts.get(code, 0) + delta
        counting = self._counting()
        # Adds first: a visit that began and stopped counting in one batch ends up absent.
        for code, visit_id, position in added or ():
            counting.setdefault(code, {})[visit_id] = position
        for code, visit_id in removed or ():
            counting.get(code, {}).pop(visit_id, None)
