"""Service visits: one aggregate per visit, so posting never contends on a shared stream.

Events that change whether a visit counts towards the contract's delivered volume carry
`volume_delta`, with the contract and service, so the milestone process never loads a visit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, utcnow
from ledger.domain.catalogue import FOLLOW_UP_CHANNELS, ConfirmationChannel, Role, SpotCheckResult
from ledger.domain.errors import BeneficiaryProofMissing, ConfirmationNotAllowed, InvalidInput, InvalidPeriod, VisitStateConflict

CLOCK_SKEW = timedelta(minutes=10)


class Visit(LedgerAggregate):
    @classmethod
    def deliver(
        cls,
        *,
        case_id: str,
        contract_id: str,
        contractor_id: str,
        beneficiary_id: str,
        worker_id: str,
        service_code: str,
        started_at: datetime,
        ended_at: datetime,
        location: str | None,
        notes: str | None,
        evidence_hash: str | None,
        township: str,
        village: str,
        by: Actor,
        visit_id: UUID | None = None,
    ) -> Visit:
        """A new visit; `visit_id` gives it an id derived from a client's own key (bulk posting), so
        the store's version check records it once however often the client sends it."""
        if started_at.tzinfo is None or ended_at.tzinfo is None:
            raise InvalidPeriod("visit times must carry a time zone")
        limits.check_time(started_at, "start")
        limits.check_time(ended_at, "end")
        limits.LOCATION.check_optional(location, "location")
        limits.VISIT_NOTES.check_optional(notes, "notes")
        limits.EVIDENCE_HASH.check_optional(evidence_hash, "evidence hash")
        if ended_at <= started_at:
            raise InvalidPeriod("a visit must end after it starts")
        if ended_at > utcnow() + CLOCK_SKEW:
            raise InvalidPeriod("a visit cannot end in the future")
        fields: dict[str, Any] = dict(
            case_id=case_id,
            contract_id=contract_id,
            contractor_id=contractor_id,
            beneficiary_id=beneficiary_id,
            worker_id=worker_id,
            service_code=service_code,
            started_at=started_at,
            ended_at=ended_at,
            location=location,
            notes=notes,
            evidence_hash=evidence_hash,
            township=township,
            village=village,
            by=by,
        )
        return cls(**fields) if visit_id is None else cls._create(cls.Delivered, id=visit_id, **fields)

    @event("Delivered")
    def __init__(
        self,
        case_id: str,
        contract_id: str,
        contractor_id: str,
        beneficiary_id: str,
        worker_id: str,
        service_code: str,
        started_at: datetime,
        ended_at: datetime,
        location: str | None,
        notes: str | None,
        evidence_hash: str | None,
        township: str,
        village: str,
        by: Actor,
    ) -> None:
        self.case_id = case_id
        self.contract_id = contract_id
        self.contractor_id = contractor_id
        self.beneficiary_id = beneficiary_id
        self.worker_id = worker_id
        self.service_code = service_code
        self.started_at = started_at
        self.ended_at = ended_at
        self.location = location
        self.notes = notes
        self.evidence_hash = evidence_hash
        self.township = township
        self.village = village
        self.confirmation: str | None = None  # confirmed | disputed
        self.voided = False
        self.void_reason: str | None = None
        self.spot_check: str | None = None
        self.counts = True  # counts towards the delivered volume

    @property
    def owner_organisation(self) -> str:
        return self.contractor_id

    def _still_counts_after(self, change: bool) -> int:
        """-1 if this change stops the visit counting, else 0."""
        return -1 if self.counts and change else 0

    def _check_not_voided(self) -> None:
        if self.voided:
            raise VisitStateConflict("the visit was voided")

    def _check_vouched(self, channel: str, proof: str | None, by: Actor) -> tuple[str, str | None]:
        """The beneficiary's word comes through the purchaser's follow-up (回访) or with the
        beneficiary's own proof; a contractor never vouches for its own visit."""
        try:
            how = ConfirmationChannel(channel)
        except ValueError:
            raise InvalidInput(f"unknown confirmation channel {channel!r}") from None
        if proof is not None:
            limits.PROOF.check(proof, "proof")
        if how in FOLLOW_UP_CHANNELS:
            if by.role != Role.PURCHASER.value:
                raise ConfirmationNotAllowed(f"a {how.value} is the purchaser's follow-up (回访); a contractor hands in the beneficiary's own proof")
            return how.value, proof or None
        if not proof or not proof.strip():
            raise BeneficiaryProofMissing(f"{how.value} needs a reference to the beneficiary's own proof")
        if proof == self.evidence_hash:
            raise BeneficiaryProofMissing("the beneficiary's proof must be distinct from the visit's own evidence")
        return how.value, proof

    def confirm(self, channel: str, by: Actor, proof: str | None = None) -> None:
        self._check_not_voided()
        if self.confirmation is not None:
            raise VisitStateConflict(f"the beneficiary already {self.confirmation} this visit")
        channel, proof = self._check_vouched(channel, proof, by)
        self._confirmed(channel=channel, proof=proof, by=by)

    # `proof` defaults to None: events recorded before it existed replay unchanged.
    @event("Confirmed")
    def _confirmed(self, channel: str, by: Actor, proof: str | None = None) -> None:
        self.confirmation = "confirmed"

    def dispute(self, reason: str, channel: str, by: Actor, proof: str | None = None) -> None:
        if by.is_contractor:
            raise ConfirmationNotAllowed("a contractor does not dispute its own visit: it voids it, with a reason")
        limits.REASON.check(reason, "reason")
        self._check_not_voided()
        if self.confirmation == "disputed":
            raise VisitStateConflict("the visit is already disputed")
        channel, proof = self._check_vouched(channel, proof, by)
        self._disputed(
            reason=reason,
            channel=channel,
            proof=proof,
            contract_id=self.contract_id,
            service_code=self.service_code,
            volume_delta=self._still_counts_after(True),
            by=by,
        )

    @event("Disputed")
    def _disputed(self, reason: str, channel: str, contract_id: str, service_code: str, volume_delta: int, by: Actor, proof: str | None = None) -> None:
        self.confirmation = "disputed"
        self.counts = False

    def void(self, reason: str, by: Actor) -> None:
        """A correction is a new event: the visit stays in the record, marked void."""
        self._check_not_voided()
        limits.REASON.check(reason, "reason")
        if not reason.strip():
            raise InvalidInput("a void needs a reason")
        self._voided(
            reason=reason,
            contract_id=self.contract_id,
            service_code=self.service_code,
            volume_delta=self._still_counts_after(True),
            by=by,
        )

    @event("Voided")
    def _voided(self, reason: str, contract_id: str, service_code: str, volume_delta: int, by: Actor) -> None:
        self.voided = True
        self.void_reason = reason
        self.counts = False

    def record_spot_check(self, result: str, note: str, by: Actor) -> None:
        limits.NOTE.check(note, "note")
        try:
            outcome = SpotCheckResult(result)
        except ValueError:
            raise InvalidInput(f"unknown spot-check result {result!r}") from None
        if self.spot_check is not None:
            raise VisitStateConflict(f"the visit was already spot-checked: {self.spot_check}")
        failed = outcome is not SpotCheckResult.VERIFIED
        self._spot_checked(
            result=outcome.value,
            note=note,
            contract_id=self.contract_id,
            service_code=self.service_code,
            volume_delta=self._still_counts_after(failed),
            by=by,
        )

    @event("SpotChecked")
    def _spot_checked(self, result: str, note: str, contract_id: str, service_code: str, volume_delta: int, by: Actor) -> None:
        self.spot_check = result
        if result != SpotCheckResult.VERIFIED.value:
            self.counts = False
