"""Referrals and cases (转介): a beneficiary referred to a contract for given services."""

from __future__ import annotations

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate
from ledger.domain.catalogue import SERVICES, ReferralChannel
from ledger.domain.errors import CaseStateConflict, InvalidInput, ServiceNotReferred, UnknownServiceItem

REFERRED, ACCEPTED, DECLINED, WITHDRAWN, CLOSED = "referred", "accepted", "declined", "withdrawn", "closed"


class Case(LedgerAggregate):
    @classmethod
    def refer(
        cls,
        *,
        beneficiary_id: str,
        contract_id: str,
        contractor_id: str,
        services: list[str],
        channel: str,
        visit_interval_days: int,
        self_care_level: str,
        township: str,
        village: str,
        note: str,
        by: Actor,
    ) -> Case:
        limits.REFERRED_SERVICES.check(services, "services")
        limits.VISIT_INTERVAL_DAYS.check(visit_interval_days, "visit interval in days")
        limits.NOTE.check(note, "note")
        for code in services:
            if code not in SERVICES:
                raise UnknownServiceItem(f"{code!r} is not in the service catalogue")
        try:
            channel = ReferralChannel(channel).value
        except ValueError:
            raise InvalidInput(f"unknown referral channel {channel!r}") from None
        return cls(
            beneficiary_id=beneficiary_id,
            contract_id=contract_id,
            contractor_id=contractor_id,
            services=sorted(set(services)),
            channel=channel,
            visit_interval_days=visit_interval_days,
            self_care_level=self_care_level,
            township=township,
            village=village,
            note=note,
            by=by,
        )

    @event("Referred")
    def __init__(
        self,
        beneficiary_id: str,
        contract_id: str,
        contractor_id: str,
        services: list[str],
        channel: str,
        visit_interval_days: int,
        self_care_level: str,
        township: str,
        village: str,
        note: str,
        by: Actor,
    ) -> None:
        self.beneficiary_id = beneficiary_id
        self.contract_id = contract_id
        self.contractor_id = contractor_id
        self.services = services
        self.channel = channel
        self.visit_interval_days = visit_interval_days
        self.self_care_level = self_care_level
        self.township = township
        self.village = village
        self.note = note
        self.status = REFERRED
        self.status_reason: str | None = None

    @property
    def owner_organisation(self) -> str:
        return self.contractor_id

    def _require(self, *states: str) -> None:
        if self.status not in states:
            raise CaseStateConflict(f"the case is {self.status}")

    def check_open_for(self, service_code: str) -> None:
        if self.status != ACCEPTED:
            raise CaseStateConflict(f"visits are posted on accepted cases; this one is {self.status}")
        if service_code not in self.services:
            raise ServiceNotReferred(f"{service_code} is not among the referred services: {', '.join(self.services)}")

    def accept(self, by: Actor) -> None:
        self._require(REFERRED)
        self._accepted(by=by)

    @event("Accepted")
    def _accepted(self, by: Actor) -> None:
        self.status = ACCEPTED

    def decline(self, reason: str, by: Actor) -> None:
        self._require(REFERRED)
        limits.REASON.check(reason, "reason")
        if not reason.strip():
            raise InvalidInput("a decline needs a reason")
        self._declined(reason=reason, by=by)

    @event("Declined")
    def _declined(self, reason: str, by: Actor) -> None:
        self.status = DECLINED
        self.status_reason = reason

    def withdraw(self, reason: str, by: Actor) -> None:
        self._require(REFERRED, ACCEPTED)
        limits.REASON.check(reason, "reason")
        self._withdrawn(reason=reason, previous=self.status, by=by)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, previous: str, by: Actor) -> None:
        self.status = WITHDRAWN
        self.status_reason = reason

    def close(self, reason: str, by: Actor) -> None:
        self._require(ACCEPTED)
        limits.REASON.check(reason, "reason")
        self._closed(reason=reason, by=by)

    @event("Closed")
    def _closed(self, reason: str, by: Actor) -> None:
        self.status = CLOSED
        self.status_reason = reason
