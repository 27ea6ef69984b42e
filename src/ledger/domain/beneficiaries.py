"""Beneficiaries (服务对象): members of low-income households on the village roster (花名册).

A national ID number is never stored in clear: a keyed hash for matching and its last 4 digits.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, derived_id
from ledger.domain.catalogue import (
    CATEGORY_RANK,
    BeneficiaryCategory,
    DeregistrationReason,
    NeedIndicator,
    SelfCareLevel,
)
from ledger.domain.check_digits import national_id_check_ok, national_id_shape_ok
from ledger.domain.errors import (
    BeneficiaryDeregistered,
    CategoryChangeInvalid,
    InvalidInput,
    InvalidNationalId,
    InvalidScores,
    NationalIdCheckFailed,
)

NEED_SCORE_MAX = limits.NEED_SCORE.maximum


def normalise_national_id(national_id: str, *, check_digit: bool = True) -> str:
    """The number upper-cased; refused if misshapen or (unless told not to) its check digit is wrong."""
    value = national_id.strip().upper()
    if not national_id_shape_ok(value):
        raise InvalidNationalId()
    if check_digit and not national_id_check_ok(value):
        raise NationalIdCheckFailed()
    return value


def national_id_hash(national_id: str, key: bytes, *, check_digit: bool = True) -> str:
    return hmac.new(key, normalise_national_id(national_id, check_digit=check_digit).encode(), hashlib.sha256).hexdigest()


def _enum(enum: type, value: str, what: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise InvalidInput(f"unknown {what} {value!r}") from None


class Beneficiary(LedgerAggregate):
    @staticmethod
    def create_id(national_id_hash: str, **_: Any):  # type: ignore[override]
        return derived_id("beneficiary", national_id_hash)

    @classmethod
    def register(
        cls,
        *,
        national_id: str,
        id_hash_key: bytes,
        name: str,
        household_id: str,
        category: str,
        township: str,
        village: str,
        self_care_level: str,
        by: Actor,
    ) -> Beneficiary:
        clear = normalise_national_id(national_id)
        limits.BENEFICIARY_NAME.check(name, "name")
        limits.HOUSEHOLD_ID.check(household_id, "household id")
        limits.TOWNSHIP.check(township, "township")
        limits.VILLAGE.check(village, "village")
        return cls(
            national_id_hash=national_id_hash(clear, id_hash_key),
            national_id_last4=clear[-4:],
            name=name,
            household_id=household_id,
            category=_enum(BeneficiaryCategory, category, "category"),
            township=township,
            village=village,
            self_care_level=_enum(SelfCareLevel, self_care_level, "self-care level"),
            by=by,
        )

    @event("Registered")
    def __init__(
        self,
        national_id_hash: str,
        national_id_last4: str,
        name: str,
        household_id: str,
        category: str,
        township: str,
        village: str,
        self_care_level: str,
        by: Actor,
    ) -> None:
        self.national_id_hash = national_id_hash
        self.national_id_last4 = national_id_last4
        self.name = name
        self.household_id = household_id
        self.category = category
        self.township = township
        self.village = village
        self.self_care_level = self_care_level
        self.needs: dict[str, int] = {}
        self.deregistered = False
        self.deregistration_reason: str | None = None
        # case id -> contractor id, so contractors may read the people they serve
        self.cases: dict[str, str] = {}

    def check_active(self) -> None:
        if self.deregistered:
            raise BeneficiaryDeregistered(f"{self.name} was deregistered: {self.deregistration_reason}")

    def assess_needs(self, scores: dict[str, int], by: Actor) -> None:
        self.check_active()
        expected = {i.value for i in NeedIndicator}
        if set(scores) != expected or any(not 0 <= int(v) <= NEED_SCORE_MAX for v in scores.values()):
            raise InvalidScores(f"score each of the 10 indicators from 0 to {NEED_SCORE_MAX}: {', '.join(sorted(expected))}")
        self._needs_assessed(scores={k: int(v) for k, v in scores.items()}, by=by)

    @event("NeedsAssessed")
    def _needs_assessed(self, scores: dict[str, int], by: Actor) -> None:
        self.needs = scores

    def change_category(self, category: str, direction: str, reason: str, by: Actor) -> None:
        """Raise (调增) moves to a deeper-need category, lower (调减) to a lighter one."""
        limits.REASON.check(reason, "reason")
        self.check_active()
        new = BeneficiaryCategory(_enum(BeneficiaryCategory, category, "category"))
        old = BeneficiaryCategory(self.category)
        if direction == "raise" and not CATEGORY_RANK[new] < CATEGORY_RANK[old]:
            raise CategoryChangeInvalid(f"{new.value} is not a deeper-need category than {old.value}")
        if direction == "lower" and not CATEGORY_RANK[new] > CATEGORY_RANK[old]:
            raise CategoryChangeInvalid(f"{new.value} is not a lighter category than {old.value}")
        if direction not in ("raise", "lower"):
            raise InvalidInput("direction is raise or lower")
        self._category_changed(category=new.value, previous=old.value, direction=direction, reason=reason, by=by)

    @event("CategoryChanged")
    def _category_changed(self, category: str, previous: str, direction: str, reason: str, by: Actor) -> None:
        self.category = category

    def reassess_self_care(self, self_care_level: str, by: Actor) -> None:
        self.check_active()
        self._self_care_reassessed(self_care_level=_enum(SelfCareLevel, self_care_level, "self-care level"), by=by)

    @event("SelfCareReassessed")
    def _self_care_reassessed(self, self_care_level: str, by: Actor) -> None:
        self.self_care_level = self_care_level

    def deregister(self, reason: str, note: str, by: Actor) -> None:
        limits.NOTE.check(note, "note")
        self.check_active()
        self._deregistered(reason=_enum(DeregistrationReason, reason, "deregistration reason"), note=note, by=by)

    @event("Deregistered")
    def _deregistered(self, reason: str, note: str, by: Actor) -> None:
        self.deregistered = True
        self.deregistration_reason = reason

    def refer(self, case_id: str, contractor_id: str, by: Actor) -> None:
        self.check_active()
        self._referred(case_id=case_id, contractor_id=contractor_id, by=by)

    @event("Referred")
    def _referred(self, case_id: str, contractor_id: str, by: Actor) -> None:
        self.cases[case_id] = contractor_id

    def served_by(self, organisation_id: str | None) -> bool:
        return organisation_id is not None and organisation_id in self.cases.values()
