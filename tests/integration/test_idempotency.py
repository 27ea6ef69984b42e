"""Idempotency keys: a retried request replays the first response and records nothing new."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.application import Request
from ledger.domain.contractors import REQUIRED_ATTESTATIONS
from ledger.domain.errors import IdempotencyKeyReused
from tests.integration.helpers import FINANCE, PURCHASER, T_MID_TERM, World, credit_code, declare_ceiling, national_id


def register(ledger, request: Request, code: str):
    return ledger.register_contractor(PURCHASER, name="Sunshine Centre", contractor_type="social_organisation", credit_code=code, attestations=list(REQUIRED_ATTESTATIONS), request=request)


class TestIdempotency:
    def test_the_same_key_and_fingerprint_replays_the_first_response(self, ledger):
        code = credit_code()
        first = register(ledger, Request("key-1", "fp-1"), code)
        head = ledger.head()
        again = register(ledger, Request("key-1", "fp-1"), code)
        assert again.replayed is True and first.replayed is False
        assert again.ids == first.ids
        assert again.position == first.position
        assert ledger.head() == head

    def test_a_replay_returns_the_first_position_after_later_commands(self, ledger):
        declare_ceiling(ledger)
        request = Request("fund-key", "fp")
        first = ledger.appropriate_fund(FINANCE, name="f", source="work_funds", fiscal_year=2025, amount=Decimal("100.00"), request=request)
        ledger.appropriate_fund(FINANCE, name="g", source="work_funds", fiscal_year=2025, amount=Decimal("100.00"))
        head = ledger.head()
        again = ledger.appropriate_fund(FINANCE, name="f", source="work_funds", fiscal_year=2025, amount=Decimal("100.00"), request=request)
        assert (again.ids, again.position, again.replayed) == (first.ids, first.position, True)
        assert ledger.head() == head
        assert ledger.get_fund(FINANCE, first.ids["fund_id"])["amount"] == Decimal("100.00")

    def test_a_command_that_creates_random_ids_replays_them(self, ledger):
        world = World.build(ledger)
        request = Request("enrol-1", "fp")
        first = ledger.enrol_worker(world.contractor, world.org.contractor_id, name="New", qualification="nurse", request=request)
        again = ledger.enrol_worker(world.contractor, world.org.contractor_id, name="New", qualification="nurse", request=request)
        assert again.ids["worker_id"] == first.ids["worker_id"]
        assert ledger.get_contractor(PURCHASER, world.org.contractor_id)["enrolled_workers"] == 3

    def test_a_replayed_release_does_not_pay_twice(self, ledger):
        world = World.build(ledger)
        world.evaluation("mid_term", 85)
        request = Request("release-1", "fp")
        first = ledger.release_tranche(FINANCE, world.contract_id, T_MID_TERM, request=request)
        again = ledger.release_tranche(FINANCE, world.contract_id, T_MID_TERM, request=request)
        assert again.replayed and again.position == first.position
        assert world.fund()["disbursed"] == Decimal("1000.00")

    def test_the_same_key_with_another_fingerprint_is_refused(self, ledger):
        register(ledger, Request("key-1", "fp-1"), credit_code())
        head = ledger.head()
        with pytest.raises(IdempotencyKeyReused):
            register(ledger, Request("key-1", "fp-2"), credit_code())
        assert ledger.head() == head

    def test_keys_belong_to_the_actor_that_sent_them(self, ledger):
        other = PURCHASER.__class__("officer-liu", "purchaser", "civil-affairs-bureau", "corr-x")
        first = ledger.register_beneficiary(
            PURCHASER, national_id=national_id(), name="A", household_id="h1", category="dibao", township="t", village="v", self_care_level="self_reliant", request=Request("k", "fp")
        )
        second = ledger.register_beneficiary(
            other, national_id=national_id(), name="B", household_id="h2", category="dibao", township="t", village="v", self_care_level="self_reliant", request=Request("k", "fp")
        )
        assert not second.replayed
        assert second.ids != first.ids
